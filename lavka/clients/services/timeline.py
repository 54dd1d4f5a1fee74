"""Writes of the timeline: touchpoints, tasks, reminders, the calendar feed secret.

Every write keeps the client's denormalised fields right in the same transaction:
`last_contact_at` is the latest touchpoint that is not a note; `next_step_at` and
`next_step_title` are the earliest open task's due time and title.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.clients.models import Client, Employment, Task, Touchpoint
from lavka.clients.permissions import can_edit_client
from lavka.core.errors import NotFound, NotPermitted, ValidationFailed
from lavka.identity.access import Action as AccessAction
from lavka.identity.access import Area, can_access

FUTURE_TOLERANCE = dt.timedelta(days=1)
TOUCHPOINT_FIELDS = (
    "kind",
    "channel",
    "direction",
    "occurred_at",
    "duration_minutes",
    "outcome",
    "subject",
    "body",
    "person",
    "related",
)


def _can_read_client(user: Any, client: Client) -> bool:
    return can_access(
        user,
        area=Area.CLIENTS,
        action=AccessAction.READ,
        owner_id=client.owner_id,
        team_id=client.team_id,
    )


def _lock_client(*, actor: Any, client_id: int, action: str) -> Client:
    """The client row, locked; NotFound if the actor may not read it, NotPermitted if
    they may read but not write it."""
    client = Client.objects.select_for_update().filter(pk=client_id).first()
    if client is None or not _can_read_client(actor, client):
        raise NotFound(resource="client", id=client_id)
    if not can_edit_client(actor, client):
        raise NotPermitted(action=action, resource="client")
    return client


def client_timeline_refresh(*, client: Client) -> None:
    """Recompute last contact and next step from the timeline (the caller holds the
    client's row lock). Written with an UPDATE so the client's version does not move:
    a logged call must not make someone's open edit form stale."""
    last = (
        Touchpoint.objects.filter(client_id=client.pk)
        .exclude(kind=Touchpoint.Kind.NOTE)
        .aggregate(at=Max("occurred_at"))["at"]
    )
    nxt = (
        Task.objects.filter(client_id=client.pk, completed_at__isnull=True)
        .order_by("due_at", "id")
        .values("due_at", "title")
        .first()
    )
    client.last_contact_at = last
    client.next_step_at = nxt["due_at"] if nxt else None
    client.next_step_title = nxt["title"] if nxt else ""
    Client.all_objects.filter(pk=client.pk).update(
        last_contact_at=client.last_contact_at,
        next_step_at=client.next_step_at,
        next_step_title=client.next_step_title,
    )


def _clean_touchpoint(*, client: Client, data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in Touchpoint.Kind.values:
        errors["kind"] = [_("Choose the kind of touchpoint.")]
    if data.get("direction", "") not in Touchpoint.Direction.values:
        errors["direction"] = [_("Choose inbound or outbound.")]
    if data.get("outcome", "") not in Touchpoint.Outcome.values:
        errors["outcome"] = [_("Choose an outcome from the list.")]
    occurred_at = data.get("occurred_at")
    if occurred_at is None:
        data["occurred_at"] = now
    elif timezone.is_naive(occurred_at):
        errors["occurred_at"] = [_("Give the time with its time zone.")]
    elif occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = [
            _("A touchpoint cannot be more than a day in the future; plan a task instead.")
        ]
    duration = data.get("duration_minutes")
    if duration is not None and not 0 <= duration <= 24 * 60:
        errors["duration_minutes"] = [_("Enter a duration between 0 and 1440 minutes.")]
    for name, limit in (("subject", 300), ("channel", 40), ("related", 64)):
        data[name] = (data.get(name) or "").strip()
        if len(data[name]) > limit:
            errors[name] = [_("At most %(limit)d characters.") % {"limit": limit}]
    data["body"] = (data.get("body") or "").strip()
    if not data["subject"] and not data["body"] and not data.get("outcome"):
        errors.setdefault("subject", []).append(
            _("Say what it was about: a subject, a text or an outcome.")
        )
    person = data.get("person")
    if (
        person is not None
        and not Employment.objects.filter(person=person, organisation_id=client.pk).exists()
    ):
        errors["person"] = [_("This person does not work at this client.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return data


def _check_participants(participants: Iterable[Any], client: Client) -> list[Any]:
    people = list(participants)
    bad = [u for u in people if not u.is_active or not _can_read_client(u, client)]
    if bad:
        raise ValidationFailed(
            fields={"participants": [_("Participants must be active users who see this client.")]}
        )
    return people


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _touchpoint_audit(touchpoint: Touchpoint) -> dict[str, Any]:
    """The touchpoint as the client's history shows it: {"id", "label"}."""
    parts = [str(touchpoint.get_kind_display()), _when(touchpoint.occurred_at)]
    if touchpoint.outcome:
        parts.append(str(touchpoint.get_outcome_display()))
    if touchpoint.subject:
        parts.append(touchpoint.subject)
    return {"id": touchpoint.pk, "label": " · ".join(parts)[:200]}


@transaction.atomic
def touchpoint_log(
    *,
    actor: Any,
    client: Client,
    kind: str,
    occurred_at: dt.datetime | None = None,
    channel: str = "",
    direction: str = "",
    duration_minutes: int | None = None,
    outcome: str = "",
    subject: str = "",
    body: str = "",
    participants: Iterable[Any] = (),
    person: Any = None,
    related: str = "",
    now: dt.datetime | None = None,
) -> Touchpoint:
    """Log a contact with `client` (the actor must be able to edit it); updates the
    client's last contact, audits, publishes `touchpoint.logged`."""
    now = now or timezone.now()
    locked = _lock_client(actor=actor, client_id=client.pk, action="log")
    data = _clean_touchpoint(
        client=locked,
        now=now,
        data={
            "kind": kind,
            "occurred_at": occurred_at,
            "channel": channel,
            "direction": direction or "",
            "duration_minutes": duration_minutes,
            "outcome": outcome or "",
            "subject": subject,
            "body": body,
            "person": person,
            "related": related,
        },
    )
    people = _check_participants(participants, locked)
    touchpoint = Touchpoint.objects.create(client=locked, created_by=actor, created_at=now, **data)
    if people:
        touchpoint.participants.set(people)
    client_timeline_refresh(client=locked)
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"touchpoints": [None, _touchpoint_audit(touchpoint)]},
    )
    outbox_publish(
        kind="touchpoint.logged",
        payload={
            "touchpoint_id": touchpoint.pk,
            "client_id": locked.pk,
            "kind": touchpoint.kind,
            "actor_id": actor.pk,
        },
    )
    _sync_client(client, locked)
    return touchpoint


def _sync_client(given: Client, locked: Client) -> None:
    """Keep the caller's client object in step with what was written."""
    given.last_contact_at = locked.last_contact_at
    given.next_step_at = locked.next_step_at
    given.next_step_title = locked.next_step_title


def _lock_touchpoint_for_change(*, actor: Any, touchpoint: Touchpoint, action: str) -> Touchpoint:
    locked = Touchpoint.objects.select_for_update().filter(pk=touchpoint.pk).first()
    if locked is None:
        raise NotFound(resource="touchpoint", id=touchpoint.pk)
    client = Client.objects.select_for_update().filter(pk=locked.client_id).first()
    if client is None or not _can_read_client(actor, client):
        raise NotFound(resource="touchpoint", id=touchpoint.pk)
    if locked.created_by_id != actor.pk and not can_edit_client(actor, client):
        raise NotPermitted(action=action, resource="touchpoint")
    locked.client = client
    return locked


@transaction.atomic
def touchpoint_update(
    *, actor: Any, touchpoint: Touchpoint, now: dt.datetime | None = None, **changes: Any
) -> Touchpoint:
    """Change a touchpoint (its author or whoever may edit the client)."""
    now = now or timezone.now()
    unknown = set(changes) - set(TOUCHPOINT_FIELDS) - {"participants"}
    if unknown:
        raise ValidationFailed(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    locked = _lock_touchpoint_for_change(actor=actor, touchpoint=touchpoint, action="update")
    before = _touchpoint_audit(locked)
    data = {name: changes.get(name, getattr(locked, name)) for name in TOUCHPOINT_FIELDS}
    data = _clean_touchpoint(client=locked.client, data=data, now=now)
    people = (
        _check_participants(changes["participants"], locked.client)
        if "participants" in changes
        else None
    )
    for name, value in data.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(TOUCHPOINT_FIELDS))
    if people is not None:
        locked.participants.set(people)
    client_timeline_refresh(client=locked.client)
    audit_record(
        action=Action.UPDATE,
        subject=locked.client,
        actor=actor,
        changes={"touchpoints": [before, _touchpoint_audit(locked)]},
    )
    return locked


@transaction.atomic
def touchpoint_delete(*, actor: Any, touchpoint: Touchpoint) -> None:
    """Remove a touchpoint (its author or whoever may edit the client)."""
    locked = _lock_touchpoint_for_change(actor=actor, touchpoint=touchpoint, action="delete")
    before = _touchpoint_audit(locked)
    client = locked.client
    Task.objects.filter(result_id=locked.pk).update(result=None)
    locked.delete()
    client_timeline_refresh(client=client)
    audit_record(
        action=Action.UPDATE, subject=client, actor=actor, changes={"touchpoints": [before, None]}
    )


def _task_audit(task: Task) -> dict[str, Any]:
    """The task as the client's history shows it: {"id", "label"}."""
    if task.completed_at is not None:
        state = _("done %(when)s") % {"when": _when(task.completed_at)}
    else:
        state = _("due %(when)s") % {"when": _when(task.due_at)}
    label = f"{task.title} · {state} · {task.assignee}"
    return {"id": task.pk, "label": label[:200]}


def _check_assignee(assignee: Any, client: Client | None) -> None:
    if assignee is None:
        raise ValidationFailed(fields={"assignee": [_("Choose who will do it.")]})
    if not assignee.is_active or (client is not None and not _can_read_client(assignee, client)):
        raise ValidationFailed(
            fields={"assignee": [_("The assignee must be an active user who sees this client.")]}
        )


@transaction.atomic
def task_create(
    *,
    actor: Any,
    client: Client,
    title: str,
    due_at: dt.datetime,
    assignee: Any = None,
    kind: str = Touchpoint.Kind.CALL,
    remind_at: dt.datetime | None = None,
    description: str = "",
    duration_minutes: int | None = None,
) -> Task:
    """Plan a next step for `client`. The assignee (default: the actor) must be an
    active user who can read the client; `remind_at` must not be after `due_at`."""
    locked = _lock_client(actor=actor, client_id=client.pk, action="plan")
    assignee = assignee if assignee is not None else actor
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Say what needs to be done.")]
    elif len(title) > 200:
        errors["title"] = [_("At most %(limit)d characters.") % {"limit": 200}]
    if kind not in Touchpoint.Kind.values:
        errors["kind"] = [_("Choose the kind of task.")]
    if due_at is None:
        errors["due_at"] = [_("Give a due date and time.")]
    elif remind_at is not None and remind_at > due_at:
        errors["remind_at"] = [_("The reminder must come before the due time.")]
    if duration_minutes is not None and not 0 <= duration_minutes <= 24 * 60:
        errors["duration_minutes"] = [_("Enter a duration between 0 and 1440 minutes.")]
    try:
        _check_assignee(assignee, locked)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    task = Task.objects.create(
        client=locked,
        title=title,
        kind=kind,
        due_at=due_at,
        assignee=assignee,
        remind_at=remind_at,
        description=(description or "").strip(),
        duration_minutes=duration_minutes,
        created_by=actor,
    )
    client_timeline_refresh(client=locked)
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"tasks": [None, _task_audit(task)]},
    )
    outbox_publish(
        kind="task.created",
        payload={
            "task_id": task.pk,
            "client_id": locked.pk,
            "assignee_id": assignee.pk,
            "actor_id": actor.pk,
        },
    )
    _sync_client(client, locked)
    return task


def _lock_task(*, actor: Any, task: Task, action: str) -> tuple[Task, Client | None]:
    """The task and its client, both locked. Its assignee or whoever may edit the
    client may change it; others who may read it get NotPermitted."""
    locked = Task.objects.select_for_update().filter(pk=task.pk).first()
    if locked is None:
        raise NotFound(resource="task", id=task.pk)
    client = None
    if locked.client_id is not None:
        client = Client.objects.select_for_update().filter(pk=locked.client_id).first()
        if client is None or not _can_read_client(actor, client):
            raise NotFound(resource="task", id=task.pk)
        if locked.assignee_id != actor.pk and not can_edit_client(actor, client):
            raise NotPermitted(action=action, resource="task")
    elif actor.pk not in (locked.assignee_id, locked.created_by_id):
        raise NotFound(resource="task", id=task.pk)
    return locked, client


@transaction.atomic
def task_complete(
    *,
    actor: Any,
    task: Task,
    result: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Mark a task done. With `result` (touchpoint_log's arguments, e.g. {"kind": "call",
    "outcome": "reached", "subject": ...}) also logs the touchpoint it led to and links
    it as the task's result."""
    now = now or timezone.now()
    locked, client = _lock_task(actor=actor, task=task, action="complete")
    if locked.completed_at is not None:
        return locked
    before = _task_audit(locked)
    if result is not None and client is not None:
        touchpoint = touchpoint_log(actor=actor, client=client, now=now, **result)
        locked.result = touchpoint
    locked.completed_at = now
    locked.completed_by = actor
    locked.save(update_fields=["completed_at", "completed_by", "result"])
    if client is not None:
        client_timeline_refresh(client=client)
    audit_record(
        action=Action.UPDATE,
        subject=client if client is not None else locked,
        actor=actor,
        changes={"tasks": [before, _task_audit(locked)]},
    )
    outbox_publish(
        kind="task.completed",
        payload={
            "task_id": locked.pk,
            "client_id": locked.client_id,
            "result_id": locked.result_id,
            "actor_id": actor.pk,
        },
    )
    _copy_task(task, locked)
    return locked


def _copy_task(given: Task, locked: Task) -> None:
    for name in ("completed_at", "completed_by_id", "result_id", "assignee_id", "reminded_at"):
        setattr(given, name, getattr(locked, name))


@transaction.atomic
def task_reopen(*, actor: Any, task: Task) -> Task:
    """Undo a completion (the logged result, if any, stays on the timeline)."""
    locked, client = _lock_task(actor=actor, task=task, action="reopen")
    if locked.completed_at is None:
        return locked
    before = _task_audit(locked)
    locked.completed_at = None
    locked.completed_by = None
    locked.save(update_fields=["completed_at", "completed_by"])
    if client is not None:
        client_timeline_refresh(client=client)
    audit_record(
        action=Action.UPDATE,
        subject=client if client is not None else locked,
        actor=actor,
        changes={"tasks": [before, _task_audit(locked)]},
    )
    _copy_task(task, locked)
    return locked


@transaction.atomic
def task_reassign(*, actor: Any, task: Task, assignee: Any) -> Task:
    """Give a task to someone else: an active user who can read the client. The
    reminder is sent again to the new assignee if it was already sent."""
    locked, client = _lock_task(actor=actor, task=task, action="reassign")
    if client is not None and not can_edit_client(actor, client):
        raise NotPermitted(action="reassign", resource="task")
    _check_assignee(assignee, client)
    if assignee.pk == locked.assignee_id:
        return locked
    before = _task_audit(locked)
    locked.assignee = assignee
    locked.reminded_at = None
    locked.save(update_fields=["assignee", "reminded_at"])
    audit_record(
        action=Action.UPDATE,
        subject=client if client is not None else locked,
        actor=actor,
        changes={"tasks": [before, _task_audit(locked)]},
    )
    _copy_task(task, locked)
    return locked


def task_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Notify assignees of open tasks whose reminder time has come and which have not
    been reminded yet; mark them reminded. Idempotent: each task's claim is a
    conditional UPDATE, so two runs (or two workers) never send one reminder twice.
    Returns how many were sent."""
    from lavka.notifications.services import notify

    now = now or timezone.now()
    due = list(
        Task.objects.filter(completed_at__isnull=True, reminded_at__isnull=True, remind_at__lte=now)
        .select_related("assignee", "client")
        .order_by("remind_at", "id")[:1000]
    )
    sent = 0
    for task in due:
        with transaction.atomic():
            claimed = Task.objects.filter(pk=task.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if not claimed or not task.assignee.is_active:
                continue
            when = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
            notify(
                recipient=task.assignee,
                title=_("Reminder: %(title)s") % {"title": task.title},
                body=(f"{task.client.name} · {when}" if task.client is not None else when),
                url=f"/clients/{task.client_id}/" if task.client_id else "/tasks/",
            )
            sent += 1
    return sent


@transaction.atomic
def calendar_token_rotate(*, actor: Any) -> str:
    """Give the actor a new secret calendar feed URL; the old one stops working."""
    user_model = get_user_model()
    locked = user_model.objects.select_for_update().get(pk=actor.pk)
    had = bool(locked.calendar_token)
    locked.calendar_token = secrets.token_urlsafe(32)
    locked.save(update_fields=["calendar_token"])
    actor.calendar_token = locked.calendar_token
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"calendar_token": ["(secret)" if had else None, "(new secret)"]},
    )
    return str(locked.calendar_token)
