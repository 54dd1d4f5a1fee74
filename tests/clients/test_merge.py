"""Merging two clients keeps every row of both; undo puts everything back exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from lavka.audit.models import AuditEvent
from lavka.clients.models import (
    Address,
    Attachment,
    Client,
    ClientMerge,
    Consent,
    ContactPoint,
    Contract,
    DuplicateCandidate,
    Employment,
    ImportantDate,
    Person,
    Task,
    TierChange,
    Touchpoint,
)
from lavka.clients.selectors.duplicates import client_history
from lavka.clients.services import client_create
from lavka.clients.services.merge import MergeAlreadyUndone, client_merge, client_merge_undo
from lavka.core.errors import NotPermitted, ValidationFailed


def fill(client, actor, tag):
    """Give a client one of everything that hangs off it."""
    Touchpoint.objects.create(client=client, kind="call", subject=f"call {tag}", created_by=actor)
    Touchpoint.objects.create(client=client, kind="note", subject=f"note {tag}", created_by=actor)
    Task.objects.create(
        client=client,
        title=f"task {tag}",
        assignee=actor,
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    contract = Contract.objects.create(client=client, number=f"C-{tag}")
    Attachment.objects.create(
        client=client,
        contract=contract,
        name=f"{tag}.pdf",
        size=3,
        content_type="application/pdf",
        token=f"tok-{tag}",
        file=ContentFile(b"pdf", name=f"{tag}.pdf"),
    )
    Address.objects.create(client=client, city=f"city {tag}")
    Consent.objects.create(client=client, channel="email", granted=True)
    ImportantDate.objects.create(client=client, kind="birthday", month=5, day=1)
    person = Person.objects.create(first_name=tag, owner=actor, team=actor.team)
    Employment.objects.create(person=person, organisation=client)


def counts(*clients):
    ids = [c.pk for c in clients]
    return {
        "touchpoints": Touchpoint.objects.filter(client_id__in=ids).count(),
        "tasks": Task.objects.filter(client_id__in=ids).count(),
        "contracts": Contract.all_objects.filter(client_id__in=ids).count(),
        "attachments": Attachment.all_objects.filter(client_id__in=ids).count(),
        "addresses": Address.objects.filter(client_id__in=ids).count(),
        "consents": Consent.objects.filter(client_id__in=ids).count(),
        "dates": ImportantDate.objects.filter(client_id__in=ids).count(),
        "employments": Employment.objects.filter(organisation_id__in=ids).count(),
        "tier_changes": TierChange.objects.filter(client_id__in=ids).count(),
    }


@pytest.fixture
def pair(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    survivor = client_create(
        actor=org.rep,
        name="Ромашка",
        email="a@example.org",
        phone="+74951234567",
        city="Москва",
        tags=["vip"],
    )
    merged = client_create(
        actor=org.rep,
        name="Romashka LLC",
        email="b@example.org",
        phone="+74951234567",
        city="Тверь",
        inn="7707083893",
        tags=["north"],
    )
    fill(survivor, org.rep, "s")
    fill(merged, org.rep, "m")
    return survivor, merged


def test_merge_moves_every_row_to_the_survivor(org, pair):
    survivor, merged = pair
    before = counts(survivor, merged)

    client_merge(actor=org.rep, survivor=survivor, merged=merged, choices={"inn": "merged"})

    assert counts(survivor) == before
    assert counts(merged) == dict.fromkeys(before, 0)


def test_merge_takes_the_chosen_fields_and_keeps_the_rest(org, pair):
    survivor, merged = pair

    client_merge(
        actor=org.rep,
        survivor=survivor,
        merged=merged,
        choices={"inn": "merged", "city": "merged", "name": "survivor"},
    )

    survivor.refresh_from_db()
    assert (survivor.name, survivor.city, survivor.inn, survivor.email) == (
        "Ромашка",
        "Тверь",
        "7707083893",
        "a@example.org",
    )
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["north", "vip"]
    assert "7707083893" in survivor.search_text and "b@example.org" in survivor.search_text


def test_merge_deduplicates_contact_points(org, pair):
    survivor, merged = pair

    client_merge(actor=org.rep, survivor=survivor, merged=merged)

    values = sorted(ContactPoint.objects.filter(client=survivor).values_list("value", flat=True))
    assert values == ["+74951234567", "a@example.org", "b@example.org"]


def test_merge_soft_deletes_the_merged_client_and_audits_both(org, pair):
    survivor, merged = pair

    merge = client_merge(actor=org.rep, survivor=survivor, merged=merged)

    merged = Client.all_objects.get(pk=merged.pk)
    assert merged.deleted_at is not None
    events = AuditEvent.objects.filter(action="merge").order_by("id")
    assert [(e.object_id, e.meta["merge_id"]) for e in events] == [
        (str(survivor.pk), merge.pk),
        (str(merged.pk), merge.pk),
    ]
    assert events[0].changes["merged_from"] == [None, {"id": merged.pk, "label": "Romashka LLC"}]


def test_the_survivors_history_includes_the_merged_clients_entries(org, pair):
    survivor, merged = pair
    merged_events = AuditEvent.objects.filter(object_id=str(merged.pk)).count()
    survivor_events = AuditEvent.objects.filter(object_id=str(survivor.pk)).count()

    client_merge(actor=org.rep, survivor=survivor, merged=merged)

    history = client_history(viewer=org.rep, client=survivor)
    # Both histories, plus the merge on each and the merged client's move to the trash.
    assert history.count() == merged_events + survivor_events + 3


def test_merge_marks_their_duplicate_pair_merged(org, pair):
    survivor, merged = pair
    candidate = DuplicateCandidate.objects.create(a=survivor, b=merged, score=90, reasons=["phone"])

    client_merge(actor=org.rep, survivor=survivor, merged=merged)

    candidate.refresh_from_db()
    assert candidate.status == "merged"


def test_undo_restores_both_clients_exactly(org, pair):
    survivor, merged = pair
    candidate = DuplicateCandidate.objects.create(a=survivor, b=merged, score=90, reasons=["phone"])
    survivor_counts, merged_counts = counts(survivor), counts(merged)
    fields = ["name", "city", "inn", "email", "phone", "owner_id", "tier_id", "custom"]
    survivor_fields = {f: getattr(survivor, f) for f in fields}
    merged_contacts = sorted(
        ContactPoint.objects.filter(client=merged).values_list("value", "is_primary")
    )
    merge = client_merge(
        actor=org.rep, survivor=survivor, merged=merged, choices={"city": "merged", "inn": "merged"}
    )

    client_merge_undo(actor=org.rep, merge=merge)

    survivor.refresh_from_db()
    merged = Client.objects.get(pk=merged.pk)
    assert {f: getattr(survivor, f) for f in fields} == survivor_fields
    assert (counts(survivor), counts(merged)) == (survivor_counts, merged_counts)
    assert (
        sorted(ContactPoint.objects.filter(client=merged).values_list("value", "is_primary"))
        == merged_contacts
    )
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["vip"]
    assert "7707083893" not in survivor.search_text
    candidate.refresh_from_db()
    assert candidate.status == "open"
    merge.refresh_from_db()
    assert merge.undone_by == org.rep


def test_undo_twice_is_refused(org, pair):
    survivor, merged = pair
    merge = client_merge(actor=org.rep, survivor=survivor, merged=merged)
    client_merge_undo(actor=org.rep, merge=merge)

    with pytest.raises(MergeAlreadyUndone):
        client_merge_undo(actor=org.rep, merge=merge)


def test_merge_needs_edit_permission_on_both(org, pair):
    survivor, _merged = pair
    other = client_create(actor=org.colleague, name="Чужая Ромашка")

    with pytest.raises(NotPermitted):
        client_merge(actor=org.rep, survivor=survivor, merged=other)

    assert Client.objects.filter(pk=other.pk).exists()
    assert ClientMerge.objects.count() == 0
    assert counts(other)["touchpoints"] == 0


def test_undo_needs_edit_permission_on_both(org, pair):
    survivor, merged = pair
    merge = client_merge(actor=org.rep, survivor=survivor, merged=merged)

    with pytest.raises(NotPermitted):
        client_merge_undo(actor=org.colleague, merge=merge)

    merge.refresh_from_db()
    assert merge.undone_at is None
    assert not Client.objects.filter(pk=merged.pk).exists()


def test_merge_with_itself_or_unknown_field_is_refused(org, pair):
    survivor, merged = pair

    with pytest.raises(ValidationFailed):
        client_merge(actor=org.rep, survivor=survivor, merged=survivor)
    with pytest.raises(ValidationFailed) as error:
        client_merge(actor=org.rep, survivor=survivor, merged=merged, choices={"id": "merged"})

    assert error.value.fields == {"id": ["Unknown field."]}
    assert ClientMerge.objects.count() == 0
