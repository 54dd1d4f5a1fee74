from __future__ import annotations

import pytest

from lavka.audit import outbox, trash
from lavka.audit.models import AuditEvent, AuditLogIsAppendOnly, OutboxEvent
from lavka.audit.selectors import audit_event_list, audit_events_visible_to
from lavka.clients.models import Client, Person
from lavka.clients.services import client_create, client_delete
from lavka.clients.services.blocks import person_create, person_remove
from lavka.core.errors import NotFound, NotPermitted
from tests.factories import ClientFactory

received: list[dict] = []


def collect(payload):
    received.append(payload)


def test_create_records_who_what_and_every_field(org):
    client = client_create(actor=org.rep, name="ООО Ромашка", email="INFO@romashka.ru")

    event = AuditEvent.objects.for_record(client).get()
    assert event.action == "create"
    assert event.actor == org.rep
    assert event.object_repr == "ООО Ромашка"
    assert event.changes["name"] == [None, "ООО Ромашка"]
    assert event.changes["email"] == [None, "info@romashka.ru"]
    assert event.changes["owner"] == [None, {"id": org.rep.pk, "label": str(org.rep)}]


def test_audit_events_cannot_be_changed_or_deleted(org):
    client_create(actor=org.rep, name="A")
    event = AuditEvent.objects.get()

    event.object_repr = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().update(object_repr="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().object_repr == "A"


def test_only_auditors_see_the_audit_log(org):
    client_create(actor=org.rep, name="A")

    assert audit_events_visible_to(org.admin).count() == 1
    assert audit_events_visible_to(org.manager).count() == 0
    assert audit_events_visible_to(org.rep).count() == 0


def test_audit_list_filters_by_actor_action_and_model(org):
    mine = client_create(actor=org.rep, name="A")
    client_create(actor=org.manager, name="B")
    client_delete(actor=org.rep, client=mine)

    by_rep = audit_event_list(viewer=org.admin, actor_id=org.rep.pk)
    deletes = audit_event_list(viewer=org.admin, action="delete")
    clients = audit_event_list(viewer=org.admin, model="clients.client", object_id=str(mine.pk))

    assert sorted(e.action for e in by_rep) == ["create", "delete"]
    assert [e.object_repr for e in deletes] == ["A"]
    assert sorted(e.action for e in clients) == ["create", "delete"]


def test_deleted_client_goes_to_trash_and_an_administrator_restores_it(org):
    client = ClientFactory(owner=org.rep, name="Gone")
    client_delete(actor=org.rep, client=client)

    assert not Client.objects.filter(pk=client.pk).exists()
    assert list(trash.trash_items_visible_to(org.admin, key="clients.client")) == [
        Client.all_objects.get(pk=client.pk)
    ]

    trash.trash_restore(actor=org.admin, key="clients.client", object_id=client.pk)

    assert Client.objects.get(pk=client.pk).deleted_at is None
    assert list(AuditEvent.objects.for_record(client).values_list("action", flat=True)) == [
        "restore",
        "delete",
    ]


def test_people_contracts_and_files_go_to_the_trash_too_and_come_back_whole(org):
    client = ClientFactory(owner=org.rep, name="Ромашка")
    person = person_create(
        actor=org.rep, organisation=client, first_name="Анна", last_name="Петрова", job_title="CFO"
    )
    person_remove(actor=org.rep, person=person)

    assert {kind.key for kind in trash.kinds()} >= {
        "clients.client",
        "clients.person",
        "clients.contract",
        "clients.attachment",
    }
    assert [str(p) for p in trash.trash_items_visible_to(org.admin, key="clients.person")] == [
        "Анна Петрова"
    ]
    trash.trash_restore(actor=org.admin, key="clients.person", object_id=person.pk)

    assert Person.objects.get(pk=person.pk).employments.get().organisation == client


def test_a_non_administrator_cannot_see_or_restore_the_trash(org):
    client = ClientFactory(owner=org.rep, name="Gone")
    client_delete(actor=org.rep, client=client)

    assert trash.trash_items_visible_to(org.rep, key="clients.client").count() == 0
    with pytest.raises(NotPermitted):
        trash.trash_restore(actor=org.rep, key="clients.client", object_id=client.pk)
    assert Client.all_objects.get(pk=client.pk).deleted_at is not None


def test_restoring_a_record_not_in_the_trash_is_not_found(org):
    client = ClientFactory(owner=org.rep)

    with pytest.raises(NotFound):
        trash.trash_restore(actor=org.admin, key="clients.client", object_id=client.pk)


@pytest.mark.django_db(transaction=True)
def test_outbox_events_reach_subscribers_after_commit_once(org):
    received.clear()
    outbox.subscribe("client.created", "tests.audit.test_services.collect")
    try:
        client = client_create(actor=org.rep, name="Subscribed")
    finally:
        outbox.unsubscribe("client.created", "tests.audit.test_services.collect")

    assert [p["client_id"] for p in received] == [client.pk]
    event = OutboxEvent.objects.get(kind="client.created")
    assert event.dispatched_at is not None

    from lavka.audit.tasks import _deliver

    assert _deliver(event.pk) is False  # delivered already: a retry does nothing
    assert len(received) == 1


@pytest.mark.django_db(transaction=True)
def test_no_outbox_delivery_when_the_transaction_rolls_back(org):
    from django.db import transaction

    received.clear()
    outbox.subscribe("client.created", "tests.audit.test_services.collect")
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            client_create(actor=org.rep, name="Rolled back")
            raise RuntimeError("boom")
    finally:
        outbox.unsubscribe("client.created", "tests.audit.test_services.collect")

    assert received == []
    assert not OutboxEvent.objects.exists()
    assert not AuditEvent.objects.filter(object_repr="Rolled back").exists()
