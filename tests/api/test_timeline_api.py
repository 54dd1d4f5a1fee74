from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from lavka.clients.models import Task, Touchpoint
from lavka.clients.services.timeline import calendar_token_rotate, task_create, touchpoint_log
from tests.api.test_clients_api import bearer
from tests.factories import ClientFactory

UTC = dt.UTC


@pytest.fixture
def http():
    return HttpClient()


def test_logging_a_touchpoint_returns_it_and_the_list_is_newest_first_and_paginated(org, http):
    client = ClientFactory(owner=org.rep)
    auth = bearer(org.rep)
    for day in (1, 2):
        touchpoint_log(
            actor=org.rep,
            client=client,
            kind="email",
            subject=f"Mail {day}",
            occurred_at=dt.datetime(2026, 1, day, tzinfo=UTC),
        )

    created = http.post(
        f"/api/v1/clients/{client.pk}/touchpoints",
        data={
            "kind": "call",
            "direction": "out",
            "outcome": "reached",
            "subject": "Prices",
            "occurred_at": "2026-01-03T10:00:00Z",
            "duration_minutes": 5,
            "participant_ids": [org.rep.pk],
        },
        content_type="application/json",
        **auth,
    )
    page = http.get(f"/api/v1/clients/{client.pk}/touchpoints?limit=2", **auth).json()

    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["subject"], body["participant_ids"]) == (
        "call",
        "Prices",
        [org.rep.pk],
    )
    assert body["occurred_at"] == "2026-01-03T10:00:00Z"
    assert page["count"] == 3
    assert [t["subject"] for t in page["items"]] == ["Prices", "Mail 2"]
    assert page["next"].endswith(f"/api/v1/clients/{client.pk}/touchpoints?limit=2&offset=2")


def test_a_touchpoint_in_the_future_gets_422_with_the_field(org, http):
    client = ClientFactory(owner=org.rep)

    response = http.post(
        f"/api/v1/clients/{client.pk}/touchpoints",
        data={"kind": "call", "subject": "x", "occurred_at": "2099-01-01T10:00:00Z"},
        content_type="application/json",
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert list(response.json()["fields"]) == ["occurred_at"]
    assert Touchpoint.objects.count() == 0


def test_another_teams_client_is_404_for_touchpoints_and_tasks_and_nothing_changes(org, http):
    theirs = ClientFactory(owner=org.spb_rep)
    task = task_create(
        actor=org.spb_rep, client=theirs, title="Theirs", due_at=dt.datetime(2026, 1, 5, tzinfo=UTC)
    )
    auth = bearer(org.rep)
    events = AuditEvent.objects.count()

    responses = [
        http.get(f"/api/v1/clients/{theirs.pk}/touchpoints", **auth),
        http.post(
            f"/api/v1/clients/{theirs.pk}/touchpoints",
            data={"kind": "call", "subject": "x"},
            content_type="application/json",
            **auth,
        ),
        http.get(f"/api/v1/clients/{theirs.pk}/tasks", **auth),
        http.post(
            f"/api/v1/clients/{theirs.pk}/tasks",
            data={"title": "x", "due_at": "2026-01-05T10:00:00Z"},
            content_type="application/json",
            **auth,
        ),
        http.post(f"/api/v1/tasks/{task.pk}/complete", content_type="application/json", **auth),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert responses[0].json() == {"code": "not_found", "detail": "Not found.", "fields": {}}
    task.refresh_from_db()
    assert task.completed_at is None
    assert Touchpoint.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_create_list_and_complete_tasks_and_filter_my_open_ones(org, http):
    client = ClientFactory(owner=org.rep)
    auth = bearer(org.rep)
    task_create(
        actor=org.rep,
        client=client,
        title="For colleague",
        due_at=dt.datetime(2026, 1, 4, tzinfo=UTC),
        assignee=org.colleague,
    )

    created = http.post(
        f"/api/v1/clients/{client.pk}/tasks",
        data={
            "title": "Call back",
            "due_at": "2026-01-05T09:00:00Z",
            "remind_at": "2026-01-05T08:45:00Z",
        },
        content_type="application/json",
        **auth,
    )
    task_id = created.json()["id"]
    mine_open = http.get("/api/v1/tasks?assignee=me&status=open", **auth).json()
    completed = http.post(
        f"/api/v1/tasks/{task_id}/complete",
        data={"result": {"kind": "call", "outcome": "reached", "subject": "Talked"}},
        content_type="application/json",
        **auth,
    )
    mine_after = http.get("/api/v1/tasks?assignee=me&status=open", **auth).json()
    client_tasks = http.get(f"/api/v1/clients/{client.pk}/tasks?status=all", **auth).json()

    assert created.status_code == 201
    assert created.json()["assignee_id"] == org.rep.pk
    assert [t["title"] for t in mine_open["items"]] == ["Call back"]
    assert completed.status_code == 200
    assert completed.json()["completed_at"] is not None
    result = Touchpoint.objects.get(pk=completed.json()["result_id"])
    assert result.subject == "Talked"
    assert mine_after["count"] == 0
    assert [t["title"] for t in client_tasks["items"]] == ["For colleague", "Call back"]


def test_an_assignee_from_another_team_is_refused(org, http):
    client = ClientFactory(owner=org.rep)

    response = http.post(
        f"/api/v1/clients/{client.pk}/tasks",
        data={"title": "x", "due_at": "2026-01-05T09:00:00Z", "assignee_id": org.spb_rep.pk},
        content_type="application/json",
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["assignee"]
    assert Task.objects.count() == 0


# --- the calendar feed (web, no login) ---------------------------------------------


def test_the_calendar_feed_needs_no_login_and_a_rotated_token_is_404(org, http):
    client = ClientFactory(owner=org.rep)
    task = task_create(
        actor=org.rep, client=client, title="Call", due_at=dt.datetime(2026, 1, 5, tzinfo=UTC)
    )
    old = calendar_token_rotate(actor=org.rep)

    first = http.get(f"/calendar/{old}.ics")
    new = calendar_token_rotate(actor=org.rep)
    stale = http.get(f"/calendar/{old}.ics")
    fresh = http.get(f"/calendar/{new}.ics")
    unknown = http.get("/calendar/nope.ics")

    assert first.status_code == 200
    assert first["Content-Type"] == "text/calendar; charset=utf-8"
    assert f"UID:task-{task.pk}@lavka\r\n".encode() in first.content
    assert first.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert (stale.status_code, fresh.status_code, unknown.status_code) == (404, 200, 404)


def test_the_calendar_page_shows_the_feed_url_and_makes_a_new_one(org, http):
    http.force_login(org.rep)

    empty = http.get("/calendar/")
    http.post("/calendar/")
    org.rep.refresh_from_db()
    shown = http.get("/calendar/")

    assert b'data-testid="no-feed"' in empty.content
    assert f"/calendar/{org.rep.calendar_token}.ics".encode() in shown.content


def test_the_card_timeline_section_takes_the_same_queries_for_3_or_60_touchpoints(org, http):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = ClientFactory(owner=org.rep)
    http.force_login(org.rep)
    for day in range(1, 4):
        touchpoint_log(
            actor=org.rep,
            client=client,
            kind="call",
            subject=f"d{day}",
            occurred_at=dt.datetime(2026, 1, day, tzinfo=UTC),
            participants=[org.rep],
        )
    with CaptureQueriesContext(connection) as few:
        small = http.get(f"/clients/{client.pk}/timeline/")
    for n in range(57):
        touchpoint_log(
            actor=org.rep,
            client=client,
            kind="email",
            subject=f"m{n}",
            occurred_at=dt.datetime(2026, 2, 1, tzinfo=UTC),
            participants=[org.rep],
        )
    with CaptureQueriesContext(connection) as many:
        large = http.get(f"/clients/{client.pk}/timeline/")

    assert small.status_code == large.status_code == 200
    assert large.content.count(b'data-testid="touchpoint"') == 50
    assert len(many) == len(few)


def test_logging_from_the_card_returns_the_section_with_the_new_entry_first(org, http):
    client = ClientFactory(owner=org.rep)
    touchpoint_log(
        actor=org.rep,
        client=client,
        kind="email",
        subject="Older",
        occurred_at=dt.datetime(2026, 1, 1, tzinfo=UTC),
    )
    http.force_login(org.rep)

    response = http.post(
        f"/clients/{client.pk}/touchpoints/",
        {"kind": "call", "direction": "out", "outcome": "reached", "subject": "Newest"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Newest") < html.index("Older")
    assert 'class="timeline-item is-new"' in html


def test_a_colleague_who_only_reads_gets_403_when_logging_and_nothing_changes(org, http):
    client = ClientFactory(owner=org.rep)
    http.force_login(org.colleague)

    response = http.post(f"/clients/{client.pk}/touchpoints/", {"kind": "call", "subject": "x"})

    assert response.status_code == 403
    assert Touchpoint.objects.count() == 0
