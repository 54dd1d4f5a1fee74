"""Reads of the timeline: touchpoints, tasks, who is out of touch, the calendar feed.

Touchpoints and tasks are visible exactly when their client is; a task without a
client is visible to its assignee and its author.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import DateTimeField, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from lavka.clients.models import Client, Task, Tier, Touchpoint
from lavka.clients.selectors.core import clients_visible_to
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, can_access

TIMELINE_SIZE = 50
CALENDAR_PAST_DAYS = 30


def touchpoints_visible_to(viewer: Any) -> QuerySet[Touchpoint]:
    """Every touchpoint `viewer` may read: those of the clients they may read."""
    return Touchpoint.objects.filter(client_id__in=clients_visible_to(viewer).values("pk"))


def touchpoint_get(*, viewer: Any, touchpoint_id: int) -> Touchpoint:
    try:
        return touchpoints_visible_to(viewer).select_related("client").get(pk=touchpoint_id)
    except (Touchpoint.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="touchpoint", id=touchpoint_id) from None


def _client_readable(viewer: Any, client: Client) -> bool:
    """What clients_visible_to(viewer) says of `client`, from the access policy and
    the client in hand, without a query."""
    return client.deleted_at is None and can_access(
        viewer,
        area=Area.CLIENTS,
        action=Action.READ,
        owner_id=client.owner_id,
        team_id=client.team_id,
    )


def touchpoint_list(
    *, viewer: Any, client: Client, with_participants: bool = True
) -> QuerySet[Touchpoint]:
    """The client's touchpoints, newest first, with who/person (and, unless told
    otherwise, participants) loaded: a fixed number of queries whatever the page size.
    NotFound if the client is not the viewer's."""
    if not _client_readable(viewer, client):
        raise NotFound(resource="client", id=client.pk)
    # The client is the viewer's, and so are its touchpoints (touchpoints_visible_to).
    touchpoints = (
        Touchpoint.objects.filter(client_id=client.pk)
        .select_related("created_by", "person")
        .order_by("-occurred_at", "-id")
    )
    return touchpoints.prefetch_related("participants") if with_participants else touchpoints


def tasks_visible_to(viewer: Any) -> QuerySet[Task]:
    """Tasks of the clients `viewer` may read, and their own tasks without a client."""
    return Task.objects.filter(
        Q(client_id__in=clients_visible_to(viewer).values("pk"))
        | Q(client__isnull=True, assignee_id=viewer.pk)
        | Q(client__isnull=True, created_by_id=viewer.pk)
    )


def task_get(*, viewer: Any, task_id: int) -> Task:
    try:
        return tasks_visible_to(viewer).select_related("client", "assignee").get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="task", id=task_id) from None


def task_list(
    *,
    viewer: Any,
    client: Client | None = None,
    assignee_id: int | None = None,
    status: str = "open",
) -> QuerySet[Task]:
    """Tasks ordered by due time. `status`: "open", "done" or "all"."""
    if client is None:
        tasks = tasks_visible_to(viewer).select_related("client", "assignee")
    elif _client_readable(viewer, client):
        # The client's tasks are the viewer's (tasks_visible_to) when the client is.
        tasks = Task.objects.filter(client_id=client.pk).select_related("client", "assignee")
    else:
        return Task.objects.none()
    if assignee_id is not None:
        tasks = tasks.filter(assignee_id=assignee_id)
    if status == "open":
        tasks = tasks.filter(completed_at__isnull=True)
    elif status == "done":
        tasks = tasks.filter(completed_at__isnull=False)
    return tasks.order_by("due_at", "id")


def clients_out_of_touch(viewer: Any, *, now: dt.datetime | None = None) -> QuerySet[Client]:
    """Clients the viewer may read whose last contact (or creation, if never contacted)
    is further back than their tier's contact norm. One SQL query over clients.

    Tiers are a short managed list, so each tier with a norm becomes one condition
    `tier = t AND COALESCE(last_contact_at, created_at) < now - norm`; the database
    compares every client with its own tier's threshold, on SQLite and PostgreSQL alike.
    """
    now = now or timezone.now()
    condition = Q(pk__in=[])
    for tier_id, norm in Tier.objects.filter(contact_norm_days__isnull=False).values_list(
        "pk", "contact_norm_days"
    ):
        condition |= Q(tier_id=tier_id, contact_ref__lt=now - dt.timedelta(days=norm or 0))
    return (
        clients_visible_to(viewer)
        .annotate(
            contact_ref=Coalesce("last_contact_at", "created_at", output_field=DateTimeField())
        )
        .filter(condition)
        .order_by("contact_ref", "id")
    )


@dataclass(frozen=True)
class ContactStatus:
    """How long since the client was last in touch, against its tier's norm."""

    days_since: int | None
    norm_days: int | None
    is_overdue: bool
    never_contacted: bool


def client_contact_status(client: Client, *, now: dt.datetime | None = None) -> ContactStatus:
    now = now or timezone.now()
    reference = client.last_contact_at or client.created_at
    norm = client.tier.contact_norm_days if client.tier_id and client.tier else None
    days = (now - reference).days if reference else None
    overdue = bool(norm is not None and reference and now - reference > dt.timedelta(days=norm))
    return ContactStatus(
        days_since=days if client.last_contact_at else None,
        norm_days=norm,
        is_overdue=overdue,
        never_contacted=client.last_contact_at is None,
    )


def calendar_user_get(*, token: str) -> Any:
    """The active user whose calendar feed this secret opens; NotFound otherwise."""
    from django.contrib.auth import get_user_model

    user = (
        get_user_model()
        .objects.select_related("role", "team")
        .filter(calendar_token=token, is_active=True)
        .first()
        if token
        else None
    )
    if user is None:
        raise NotFound(resource="calendar", id=None)
    return user


def calendar_items(
    *, user: Any, now: dt.datetime | None = None
) -> tuple[list[Task], list[Touchpoint]]:
    """What the user's calendar feed carries: their open tasks, and the meetings and
    visits they take part in from 30 days ago on (only of clients they may read)."""
    now = now or timezone.now()
    tasks = list(
        task_list(viewer=user, assignee_id=user.pk, status="open").order_by("due_at", "id")
    )
    meetings = list(
        touchpoints_visible_to(user)
        .filter(
            kind__in=[Touchpoint.Kind.MEETING, Touchpoint.Kind.VISIT],
            participants=user,
            occurred_at__gte=now - dt.timedelta(days=CALENDAR_PAST_DAYS),
        )
        .select_related("client")
        .order_by("occurred_at", "id")
        .distinct()
    )
    return tasks, meetings


# --- iCalendar (RFC 5545), written by hand -------------------------------------------

ICAL_DEFAULT_MINUTES = 30


def ical_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def ical_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1): continuation lines start with
    one space, and a multi-byte UTF-8 character is never split."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def ical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_feed(*, user: Any, now: dt.datetime | None = None, host: str = "lavka") -> str:
    """The user's calendar as an iCalendar document: open tasks and meetings/visits as
    VEVENTs (Google Calendar and Outlook ignore VTODOs in subscribed feeds). UIDs are
    stable per item (`task-42@lavka`, `touchpoint-7@lavka`)."""
    now = now or timezone.now()
    tasks, meetings = calendar_items(user=user, now=now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Lavka//Lavka CRM//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Lavka",
    ]
    stamp = ical_time(now)
    for task in tasks:
        minutes = task.duration_minutes or ICAL_DEFAULT_MINUTES
        description = task.description
        if task.client is not None:
            description = f"{task.client.name}\n{description}".strip()
        lines += [
            "BEGIN:VEVENT",
            f"UID:task-{task.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{ical_time(task.due_at)}",
            f"DTEND:{ical_time(task.due_at + dt.timedelta(minutes=minutes))}",
            f"SUMMARY:{ical_escape(task.title)}",
        ]
        if description:
            lines.append(f"DESCRIPTION:{ical_escape(description)}")
        lines += ["CATEGORIES:TASK", "STATUS:CONFIRMED", "TRANSP:TRANSPARENT", "END:VEVENT"]
    for meeting in meetings:
        minutes = meeting.duration_minutes or ICAL_DEFAULT_MINUTES
        summary = meeting.subject or meeting.get_kind_display()
        lines += [
            "BEGIN:VEVENT",
            f"UID:touchpoint-{meeting.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{ical_time(meeting.occurred_at)}",
            f"DTEND:{ical_time(meeting.occurred_at + dt.timedelta(minutes=minutes))}",
            f"SUMMARY:{ical_escape(f'{summary} · {meeting.client.name}')}",
        ]
        if meeting.body:
            lines.append(f"DESCRIPTION:{ical_escape(meeting.body)}")
        lines += ["STATUS:CONFIRMED", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + "\r\n" for line in lines)
