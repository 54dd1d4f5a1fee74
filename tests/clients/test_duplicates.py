"""Duplicate detection: each rule with its score and reasons, the batch scan, dismiss."""

from __future__ import annotations

import pytest

from lavka.clients.models import DuplicateCandidate
from lavka.clients.selectors.duplicates import duplicate_list, name_block, name_key
from lavka.clients.services import client_create, client_update
from lavka.clients.services.blocks import contact_point_add
from lavka.clients.services.duplicates import (
    duplicate_dismiss,
    duplicates_check,
    duplicates_for,
    duplicates_scan,
)
from lavka.core.errors import NotPermitted


def found(matches):
    return [(m.client.name, m.score, m.reasons) for m in matches]


def test_name_key_drops_legal_forms_and_transliterates():
    assert name_key("ООО «Ромашка»") == "romashka"
    assert name_key("Romashka LLC") == "romashka"
    assert name_block("ЗАО Щукин и партнёры") == "shch"


def test_same_email_is_a_duplicate_scoring_95(org):
    client_create(actor=org.rep, name="Альфа", email="a@example.org")

    matches = duplicates_for(fields={"name": "Бета", "email": "A@Example.org "})

    assert found(matches) == [("Альфа", 95, ["email"])]


def test_same_phone_in_another_format_is_a_duplicate_scoring_90(org):
    client_create(actor=org.rep, name="Альфа", phone="+74951234567")

    matches = duplicates_for(fields={"name": "Бета", "phone": "8 (495) 123-45-67"})

    assert found(matches) == [("Альфа", 90, ["phone"])]


def test_a_second_phone_in_the_contact_block_counts_too(org):
    alpha = client_create(actor=org.rep, name="Альфа", phone="+74951234567")
    contact_point_add(actor=org.rep, client=alpha, kind="phone", value="+7 916 765-43-21")

    matches = duplicates_for(fields={"name": "Бета", "phone": "8 916 765 43 21"})

    assert found(matches) == [("Альфа", 90, ["phone"])]


def test_adding_a_phone_another_client_has_records_a_candidate(
    org, django_capture_on_commit_callbacks
):
    alpha = client_create(actor=org.rep, name="Альфа", phone="+74951234567")
    beta = client_create(actor=org.rep, name="Бета", email="b@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        contact_point_add(actor=org.rep, client=beta, kind="phone", value="8 495 123-45-67")

    pair = DuplicateCandidate.objects.get()
    assert {pair.a_id, pair.b_id} == {alpha.pk, beta.pk}
    assert (pair.score, pair.reasons) == (90, ["phone"])


def test_the_scan_pairs_clients_sharing_a_secondary_email(org):
    alpha = client_create(actor=org.rep, name="Альфа", email="a@example.org")
    beta = client_create(actor=org.rep, name="Бета", email="b@example.org")
    client_create(actor=org.rep, name="Гамма", email="c@example.org")
    contact_point_add(actor=org.rep, client=alpha, kind="email", value="sales@example.org")
    contact_point_add(actor=org.rep, client=beta, kind="email", value="Sales@Example.org")
    DuplicateCandidate.objects.all().delete()

    duplicates_scan(actor=org.rep)

    pair = DuplicateCandidate.objects.get()
    assert {pair.a_id, pair.b_id} == {alpha.pk, beta.pk}
    assert (pair.score, pair.reasons) == (95, ["email"])


def test_same_inn_is_a_duplicate_scoring_100(org):
    client_create(actor=org.rep, name="Альфа", inn="7707083893")

    matches = duplicates_for(fields={"name": "Бета", "inn": "7707083893"})

    assert found(matches) == [("Альфа", 100, ["inn"])]


def test_similar_name_across_alphabets_and_legal_forms_is_a_duplicate(org):
    client_create(actor=org.rep, name="ООО «Ромашка»")

    matches = duplicates_for(fields={"name": "Romashka LLC"})

    assert found(matches) == [("ООО «Ромашка»", 100, ["name"])]


def test_a_typo_in_the_name_scores_by_similarity(org):
    client_create(actor=org.rep, name="Ромашка")

    matches = duplicates_for(fields={"name": "Ромашко"})

    assert found(matches) == [("Ромашка", 88, ["name"])]


def test_several_rules_add_five_each(org):
    client_create(actor=org.rep, name="Ромашка", email="a@example.org", phone="+74951234567")

    matches = duplicates_for(
        fields={"name": "Ромашка", "email": "a@example.org", "phone": "+74951234567"}
    )

    assert found(matches) == [("Ромашка", 100, ["email", "phone", "name"])]


def test_different_clients_are_not_duplicates(org):
    client_create(actor=org.rep, name="Ромашка", email="a@example.org")

    assert duplicates_for(fields={"name": "Василёк", "email": "b@example.org"}) == []


def test_the_client_itself_is_excluded(org):
    client = client_create(actor=org.rep, name="Ромашка")

    assert duplicates_for(fields={"name": "Ромашка"}, exclude_id=client.pk) == []


def test_a_viewer_is_only_warned_about_clients_they_can_see(org):
    client_create(actor=org.spb_rep, name="Ромашка")

    assert duplicates_for(fields={"name": "Ромашка"}, viewer=org.rep) == []


def test_check_after_save_records_an_open_pair(org):
    first = client_create(actor=org.rep, name="Ромашка")
    second = client_create(actor=org.rep, name="Romashka")

    assert duplicates_check(client_id=second.pk) == 1
    pair = DuplicateCandidate.objects.get()
    assert (pair.a_id, pair.b_id, pair.score, pair.reasons, pair.status) == (
        first.pk,
        second.pk,
        100,
        ["name"],
        "open",
    )


def test_creating_and_editing_a_client_records_pairs_after_commit(
    org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_create(actor=org.rep, name="Альфа", email="x@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        other = client_create(actor=org.rep, name="Бета")
    assert DuplicateCandidate.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        client_update(actor=org.rep, client=other, email="x@example.org")

    assert list(DuplicateCandidate.objects.values_list("score", "reasons")) == [(95, ["email"])]


def test_scan_finds_pairs_by_each_key_and_is_idempotent(org):
    a = client_create(actor=org.rep, name="Ромашка", inn="7707083893")
    b = client_create(actor=org.rep, name="Лютик", inn="7707083893")
    c = client_create(actor=org.rep, name="Romashka Inc")
    client_create(actor=org.rep, name="Василёк")

    first = duplicates_scan(actor=org.admin)
    second = duplicates_scan(actor=org.admin)

    pairs = sorted(DuplicateCandidate.objects.values_list("a_id", "b_id", "score", "reasons"))
    assert pairs == [(a.pk, b.pk, 100, ["inn"]), (a.pk, c.pk, 100, ["name"])]
    assert (first["found"], first["new"], second["new"]) == (2, 2, 0)


def test_scan_only_covers_clients_the_actor_can_see(org):
    client_create(actor=org.spb_rep, name="Ромашка")
    client_create(actor=org.spb_rep, name="Romashka")

    result = duplicates_scan(actor=org.rep)

    assert result["found"] == 0
    assert DuplicateCandidate.objects.count() == 0


def test_dismissed_pair_is_not_proposed_again(org):
    client_create(actor=org.rep, name="Ромашка")
    client_create(actor=org.rep, name="Romashka")
    duplicates_scan(actor=org.rep)
    pair = DuplicateCandidate.objects.get()

    duplicate_dismiss(actor=org.rep, candidate=pair)
    duplicates_scan(actor=org.rep)

    pair.refresh_from_db()
    assert (pair.status, pair.resolved_by) == ("dismissed", org.rep)
    assert list(duplicate_list(viewer=org.rep)) == []


def test_dismiss_needs_edit_permission_on_both(org):
    client_create(actor=org.rep, name="Ромашка")
    client_create(actor=org.colleague, name="Romashka")
    duplicates_scan(actor=org.admin)
    pair = DuplicateCandidate.objects.get()

    with pytest.raises(NotPermitted):
        duplicate_dismiss(actor=org.rep, candidate=pair)

    pair.refresh_from_db()
    assert pair.status == "open"


def test_pairs_are_listed_only_when_both_clients_are_visible(org):
    client_create(actor=org.rep, name="Ромашка")
    client_create(actor=org.spb_rep, name="Romashka")
    duplicates_scan(actor=org.admin)

    assert duplicate_list(viewer=org.rep).count() == 0
    assert duplicate_list(viewer=org.admin).count() == 1
