from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.clients.models import Client, Employment, Person, Task, Tier, Touchpoint
from lavka.clients.selectors.timeline import (
    calendar_feed,
    calendar_user_get,
    client_contact_status,
    clients_out_of_touch,
    ical_fold,
    touchpoint_list,
)
from lavka.clients.services.timeline import (
    calendar_token_rotate,
    task_complete,
    task_create,
    task_reassign,
    task_reminders_send,
    task_reopen,
    touchpoint_delete,
    touchpoint_log,
    touchpoint_update,
)
from lavka.core.errors import NotFound, NotPermitted, ValidationFailed
from lavka.notifications.models import Notification
from tests.factories import ClientFactory, UserFactory, role

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def tier(code: str) -> Tier:
    return Tier.objects.get(code=code)


# --- touchpoints and the denormalised client fields ---------------------------------


def test_logging_a_call_sets_last_contact_audits_and_publishes(org):
    client = ClientFactory(owner=org.rep)

    touchpoint = touchpoint_log(
        actor=org.rep,
        client=client,
        kind="call",
        direction="out",
        occurred_at=at(9, 15),
        duration_minutes=12,
        outcome="reached",
        subject="Prices for spring",
        participants=[org.rep],
        now=NOW,
    )

    client.refresh_from_db()
    assert client.last_contact_at == at(9, 15)
    assert touchpoint.created_by == org.rep
    assert list(touchpoint.participants.all()) == [org.rep]
    event = AuditEvent.objects.filter(object_id=str(client.pk)).latest("id")
    assert event.changes["touchpoints"] == [
        None,
        {"id": touchpoint.pk, "label": "Call · 2026-03-09 15:00 · Reached · Prices for spring"},
    ]
    assert OutboxEvent.objects.filter(kind="touchpoint.logged").count() == 1


def test_a_note_does_not_count_as_contact_and_the_latest_real_contact_wins(org):
    client = ClientFactory(owner=org.rep)
    touchpoint_log(
        actor=org.rep, client=client, kind="email", occurred_at=at(5), subject="A", now=NOW
    )
    touchpoint_log(
        actor=org.rep, client=client, kind="meeting", occurred_at=at(8), subject="B", now=NOW
    )
    touchpoint_log(
        actor=org.rep, client=client, kind="call", occurred_at=at(2), subject="C", now=NOW
    )

    touchpoint_log(
        actor=org.rep, client=client, kind="note", occurred_at=at(9), subject="D", now=NOW
    )

    client.refresh_from_db()
    assert client.last_contact_at == at(8)


def test_deleting_the_latest_touchpoint_moves_last_contact_back_and_to_none(org):
    client = ClientFactory(owner=org.rep)
    older = touchpoint_log(
        actor=org.rep, client=client, kind="call", occurred_at=at(3), subject="x", now=NOW
    )
    newer = touchpoint_log(
        actor=org.rep, client=client, kind="call", occurred_at=at(7), subject="y", now=NOW
    )

    touchpoint_delete(actor=org.rep, touchpoint=newer)
    client.refresh_from_db()
    after_first = client.last_contact_at
    touchpoint_delete(actor=org.rep, touchpoint=older)
    client.refresh_from_db()

    assert after_first == at(3)
    assert client.last_contact_at is None
    assert Touchpoint.objects.count() == 0


def test_updating_a_touchpoint_time_recomputes_last_contact(org):
    client = ClientFactory(owner=org.rep)
    touchpoint = touchpoint_log(
        actor=org.rep, client=client, kind="call", occurred_at=at(3), subject="x", now=NOW
    )

    touchpoint_update(actor=org.rep, touchpoint=touchpoint, occurred_at=at(6), now=NOW)

    client.refresh_from_db()
    assert client.last_contact_at == at(6)


def test_logging_keeps_the_clients_version(org):
    client = ClientFactory(owner=org.rep)
    version = Client.objects.get(pk=client.pk).version

    touchpoint_log(
        actor=org.rep, client=client, kind="call", subject="x", now=NOW, occurred_at=at(9)
    )

    assert Client.objects.get(pk=client.pk).version == version


def test_a_touchpoint_more_than_a_day_ahead_is_refused_and_nothing_is_written(org):
    client = ClientFactory(owner=org.rep)

    with pytest.raises(ValidationFailed) as caught:
        touchpoint_log(
            actor=org.rep,
            client=client,
            kind="call",
            subject="x",
            occurred_at=NOW + dt.timedelta(days=1, minutes=1),
            now=NOW,
        )

    assert list(caught.value.fields) == ["occurred_at"]
    assert Touchpoint.objects.count() == 0


def test_a_touchpoint_within_a_day_ahead_is_accepted(org):
    client = ClientFactory(owner=org.rep)

    touchpoint = touchpoint_log(
        actor=org.rep,
        client=client,
        kind="meeting",
        subject="x",
        occurred_at=NOW + dt.timedelta(hours=23),
        now=NOW,
    )

    assert touchpoint.occurred_at == NOW + dt.timedelta(hours=23)


def test_the_person_must_work_at_the_client(org):
    client = ClientFactory(owner=org.rep)
    elsewhere = ClientFactory(owner=org.rep)
    anna = Person.objects.create(
        first_name="Anna", last_name="Petrova", owner=org.rep, team=org.moscow
    )
    Employment.objects.create(person=anna, organisation=elsewhere)

    with pytest.raises(ValidationFailed) as caught:
        touchpoint_log(actor=org.rep, client=client, kind="call", subject="x", person=anna, now=NOW)

    assert list(caught.value.fields) == ["person"]


def test_rep_of_another_team_gets_not_found_and_nothing_changes(org):
    client = ClientFactory(owner=org.rep)
    events = AuditEvent.objects.count()

    with pytest.raises(NotFound):
        touchpoint_log(actor=org.spb_rep, client=client, kind="call", subject="x", now=NOW)
    with pytest.raises(NotFound):
        task_create(actor=org.spb_rep, client=client, title="Call", due_at=at(12))

    client.refresh_from_db()
    assert client.last_contact_at is None
    assert client.next_step_at is None
    assert Touchpoint.objects.count() == Task.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_colleague_who_may_only_read_cannot_log_nor_change_anothers_touchpoint(org):
    client = ClientFactory(owner=org.rep)
    touchpoint = touchpoint_log(
        actor=org.rep, client=client, kind="call", subject="Mine", occurred_at=at(9), now=NOW
    )

    with pytest.raises(NotPermitted):
        touchpoint_log(actor=org.colleague, client=client, kind="call", subject="x", now=NOW)
    with pytest.raises(NotPermitted):
        touchpoint_update(actor=org.colleague, touchpoint=touchpoint, subject="Theirs", now=NOW)
    with pytest.raises(NotPermitted):
        touchpoint_delete(actor=org.colleague, touchpoint=touchpoint)

    touchpoint.refresh_from_db()
    assert touchpoint.subject == "Mine"
    assert Touchpoint.objects.count() == 1


def test_the_author_may_change_their_touchpoint_after_losing_write_access(org):
    client = ClientFactory(owner=org.manager)
    touchpoint = touchpoint_log(
        actor=org.manager, client=client, kind="call", subject="x", occurred_at=at(9), now=NOW
    )
    Client.objects.filter(pk=client.pk).update(owner=org.colleague)

    touchpoint_update(actor=org.manager, touchpoint=touchpoint, subject="fixed", now=NOW)

    touchpoint.refresh_from_db()
    assert touchpoint.subject == "fixed"


# --- tasks -------------------------------------------------------------------------


def test_next_step_is_the_earliest_open_task_through_create_complete_and_reopen(org):
    client = ClientFactory(owner=org.rep)
    later = task_create(actor=org.rep, client=client, title="Send contract", due_at=at(20))
    sooner = task_create(actor=org.rep, client=client, title="Call back", due_at=at(12))
    client.refresh_from_db()
    first = (client.next_step_at, client.next_step_title)

    task_complete(actor=org.rep, task=sooner, now=NOW)
    client.refresh_from_db()
    second = (client.next_step_at, client.next_step_title)
    task_complete(actor=org.rep, task=later, now=NOW)
    client.refresh_from_db()
    third = (client.next_step_at, client.next_step_title)
    task_reopen(actor=org.rep, task=sooner)
    client.refresh_from_db()

    assert first == (at(12), "Call back")
    assert second == (at(20), "Send contract")
    assert third == (None, "")
    assert (client.next_step_at, client.next_step_title) == (at(12), "Call back")
    assert OutboxEvent.objects.filter(kind="task.created").count() == 2
    assert OutboxEvent.objects.filter(kind="task.completed").count() == 2


def test_completing_with_a_result_logs_the_touchpoint_and_links_it(org):
    client = ClientFactory(owner=org.rep)
    task = task_create(actor=org.rep, client=client, title="Call back", due_at=at(10))

    done = task_complete(
        actor=org.rep,
        task=task,
        result={
            "kind": "call",
            "outcome": "reached",
            "subject": "Agreed on a visit",
            "occurred_at": at(10, 9),
        },
        now=NOW,
    )

    task.refresh_from_db()
    client.refresh_from_db()
    assert task.completed_at == NOW
    assert task.completed_by == org.rep
    assert task.result == done.result
    assert task.result.subject == "Agreed on a visit"
    assert client.last_contact_at == at(10, 9)
    assert client.next_step_at is None


def test_the_assignee_must_be_an_active_user_who_can_read_the_client(org):
    client = ClientFactory(owner=org.rep)
    org.colleague.is_active = False
    org.colleague.save()

    with pytest.raises(ValidationFailed) as other_team:
        task_create(actor=org.rep, client=client, title="x", due_at=at(12), assignee=org.spb_rep)
    with pytest.raises(ValidationFailed) as inactive:
        task_create(actor=org.rep, client=client, title="x", due_at=at(12), assignee=org.colleague)

    assert list(other_team.value.fields) == list(inactive.value.fields) == ["assignee"]
    assert Task.objects.count() == 0


def test_the_reminder_cannot_come_after_the_due_time(org):
    client = ClientFactory(owner=org.rep)

    with pytest.raises(ValidationFailed) as caught:
        task_create(actor=org.rep, client=client, title="x", due_at=at(12), remind_at=at(13))

    assert list(caught.value.fields) == ["remind_at"]


def test_the_assignee_defaults_to_the_actor_and_may_complete_a_task_on_a_client_they_only_read(org):
    client = ClientFactory(owner=org.rep)
    task = task_create(
        actor=org.rep, client=client, title="Ask", due_at=at(12), assignee=org.colleague
    )

    task_complete(actor=org.colleague, task=task, now=NOW)

    task.refresh_from_db()
    assert task.completed_by == org.colleague
    assert task_create(actor=org.rep, client=client, title="y", due_at=at(13)).assignee == org.rep


def test_reassigning_gives_the_task_to_someone_else_and_resets_the_reminder(org):
    client = ClientFactory(owner=org.rep)
    task = task_create(actor=org.rep, client=client, title="x", due_at=at(12), remind_at=at(11))
    Task.objects.filter(pk=task.pk).update(reminded_at=at(11))

    task_reassign(actor=org.rep, task=task, assignee=org.colleague)

    task.refresh_from_db()
    assert task.assignee == org.colleague
    assert task.reminded_at is None


# --- out of touch -------------------------------------------------------------------


def test_out_of_touch_compares_each_client_with_its_own_tiers_norm(org):
    def make(name, tier_code, last_contact=None, created=None):
        client = ClientFactory(
            owner=org.rep, name=name, tier=tier(tier_code) if tier_code else None
        )
        Client.objects.filter(pk=client.pk).update(
            last_contact_at=last_contact, created_at=created or NOW - dt.timedelta(days=1)
        )
        return client

    days = dt.timedelta(days=1)
    vip_late = make("VIP late", "vip", last_contact=NOW - 15 * days)
    make("VIP fine", "vip", last_contact=NOW - 13 * days)
    make("Affiliated fine", "affiliated", last_contact=NOW - 15 * days)
    aff_late = make("Affiliated late", "affiliated", last_contact=NOW - 31 * days)
    make("Mass fine", "mass", last_contact=NOW - 31 * days)
    mass_never = make("Mass never", "mass", created=NOW - 91 * days)
    make("Mass new", "mass", created=NOW - 10 * days)
    make("No tier", None, last_contact=NOW - 400 * days)
    ClientFactory(owner=org.spb_rep, name="Not mine", tier=tier("vip"))

    found = list(clients_out_of_touch(org.rep, now=NOW).values_list("pk", flat=True))

    assert found == [mass_never.pk, aff_late.pk, vip_late.pk]


def test_out_of_touch_is_one_query(org):
    ClientFactory(owner=org.rep, tier=tier("vip"))

    with CaptureQueriesContext(connection) as queries:
        list(clients_out_of_touch(org.rep, now=NOW))

    assert len(queries) == 2  # the tiers' norms, then the clients


def test_contact_status_on_the_card(org):
    client = ClientFactory(owner=org.rep, tier=tier("vip"))
    client.last_contact_at = NOW - dt.timedelta(days=20)

    status = client_contact_status(client, now=NOW)

    assert (status.days_since, status.norm_days, status.is_overdue) == (20, 14, True)


# --- the timeline section loads in a fixed number of queries -----------------------


def test_the_timeline_reads_the_latest_fifty_in_a_fixed_number_of_queries(org):
    client = ClientFactory(owner=org.rep)
    for day in range(1, 4):
        touchpoint_log(
            actor=org.rep,
            client=client,
            kind="call",
            subject=f"d{day}",
            occurred_at=at(day),
            participants=[org.rep],
            now=NOW,
        )

    with CaptureQueriesContext(connection) as queries:
        rows = list(touchpoint_list(viewer=org.rep, client=client)[:50])
        names = [(t.created_by.username, [u.username for u in t.participants.all()]) for t in rows]

    assert [t.subject for t in rows] == ["d3", "d2", "d1"]
    assert names == [("rep", ["rep"])] * 3
    assert len(queries) == 2  # the touchpoints with their authors, and the participants


# --- reminders ----------------------------------------------------------------------


def test_reminders_are_sent_once_when_their_time_has_come(org):
    client = ClientFactory(owner=org.rep, name="Romashka")
    due = task_create(
        actor=org.rep, client=client, title="Call Anna", due_at=at(10, 15), remind_at=at(10, 9)
    )
    task_create(actor=org.rep, client=client, title="Later", due_at=at(11), remind_at=at(10, 13))
    done = task_create(actor=org.rep, client=client, title="Done", due_at=at(10), remind_at=at(9))
    task_complete(actor=org.rep, task=done, now=NOW)

    first = task_reminders_send(now=NOW)
    second = task_reminders_send(now=NOW + dt.timedelta(minutes=1))

    assert (first, second) == (1, 0)
    due.refresh_from_db()
    assert due.reminded_at == NOW
    notes = list(Notification.objects.filter(recipient=org.rep))
    assert [(n.title, n.url) for n in notes] == [("Reminder: Call Anna", f"/clients/{client.pk}/")]


# --- calendar -----------------------------------------------------------------------


def test_ical_folding_never_splits_a_character_and_keeps_lines_at_75_octets():
    line = "SUMMARY:" + "Ж" * 80

    folded = ical_fold(line).split("\r\n")

    assert [len(part.encode()) for part in folded] == [74, 75, 21]
    assert "".join(p[1:] if i else p for i, p in enumerate(folded)) == line


def test_the_calendar_feed_is_exact_rfc5545(org):
    client = ClientFactory(owner=org.rep, name="Ромашка")
    task = task_create(
        actor=org.rep,
        client=client,
        title="Позвонить Анне Петровне, обсудить поставку; условия оплаты и скидку на весну",
        due_at=at(12, 9, 30),
        description="Первая строка\nвторая",
    )

    text = calendar_feed(user=org.rep, now=NOW)

    summary = (
        "SUMMARY:Позвонить Анне Петровне\\, обсудить поставку\\; условия оплаты и скидку на весну"
    )
    expected = (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//Lavka//Lavka CRM//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        "X-WR-CALNAME:Lavka\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:task-{task.pk}@lavka\r\n"
        "DTSTAMP:20260310T120000Z\r\n"
        "DTSTART:20260312T093000Z\r\n"
        "DTEND:20260312T100000Z\r\n"
        f"{ical_fold(summary)}\r\n"
        "DESCRIPTION:Ромашка\\nПервая строка\\nвторая\r\n"
        "CATEGORIES:TASK\r\n"
        "STATUS:CONFIRMED\r\n"
        "TRANSP:TRANSPARENT\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    assert text == expected
    assert ical_fold(summary) == (
        "SUMMARY:Позвонить Анне Петровне\\, обсудить п\r\n"
        " оставку\\; условия оплаты и скидку на весн\r\n"
        " у"
    )
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_the_calendar_carries_meetings_the_user_takes_part_in_from_30_days_ago(org):
    client = ClientFactory(owner=org.rep)
    recent = touchpoint_log(
        actor=org.rep,
        client=client,
        kind="meeting",
        subject="Visit plan",
        occurred_at=NOW - dt.timedelta(days=29),
        participants=[org.rep],
        now=NOW,
    )
    touchpoint_log(
        actor=org.rep,
        client=client,
        kind="meeting",
        subject="Old",
        occurred_at=NOW - dt.timedelta(days=31),
        participants=[org.rep],
        now=NOW,
    )
    touchpoint_log(
        actor=org.rep,
        client=client,
        kind="call",
        subject="A call",
        occurred_at=NOW - dt.timedelta(days=1),
        participants=[org.rep],
        now=NOW,
    )
    touchpoint_log(
        actor=org.rep,
        client=client,
        kind="visit",
        subject="Without me",
        occurred_at=NOW - dt.timedelta(days=1),
        now=NOW,
    )

    text = calendar_feed(user=org.rep, now=NOW)

    assert text.count("BEGIN:VEVENT") == 1
    assert f"UID:touchpoint-{recent.pk}@lavka" in text


def test_rotating_the_calendar_token_makes_the_old_one_stop_working(org):
    first = calendar_token_rotate(actor=org.rep)
    second = calendar_token_rotate(actor=org.rep)

    assert calendar_user_get(token=second) == org.rep
    assert first != second
    assert len(second) >= 40
    with pytest.raises(NotFound):
        calendar_user_get(token=first)
    with pytest.raises(NotFound):
        calendar_user_get(token="")


def test_an_inactive_users_feed_is_not_found(db):
    user = UserFactory(role=role("sales_rep"))
    token = calendar_token_rotate(actor=user)
    user.is_active = False
    user.save()

    with pytest.raises(NotFound):
        calendar_user_get(token=token)
