"""Writing the audit log and the outbox. Called by every service that writes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from lavka.audit.context import current_meta
from lavka.audit.models import AuditEvent, OutboxEvent

Action = AuditEvent.Action


def to_jsonable(value: Any) -> Any:
    """A value as it is stored in `changes`: plain JSON, readable by a person."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values of `obj` for a later `diff`. A foreign key is kept as
    {"id": pk, "label": str(related)} so that history reads as names, not numbers."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_one or field.one_to_one:
            related_id = getattr(obj, field.attname)  # type: ignore[union-attr]
            values[name] = (
                None
                if related_id is None
                else {"id": related_id, "label": str(getattr(obj, name))[:200]}
            )
            continue
        values[name] = to_jsonable(getattr(obj, getattr(field, "attname", name)))
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value changed."""
    return {
        key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)
    }


def audit_record(
    *,
    action: str,
    subject: models.Model | None,
    actor: Any,
    changes: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    merged_meta = {**current_meta(), **(meta or {})}
    return AuditEvent.objects.create(
        action=action,
        actor=actor_obj,
        actor_repr=(
            actor_obj.get_username() if actor_obj else str(merged_meta.get("via", "system"))
        ),
        content_type=ContentType.objects.get_for_model(subject.__class__)
        if subject is not None
        else None,
        object_id=str(subject.pk) if subject is not None else "",
        object_repr=str(subject)[:300] if subject is not None else "",
        changes=to_jsonable(dict(changes or {})),
        meta=to_jsonable(merged_meta),
    )


def outbox_publish(*, kind: str, payload: Mapping[str, Any]) -> OutboxEvent:
    """Record a domain event; subscribers get it after the transaction commits."""
    event = OutboxEvent.objects.create(kind=kind, payload=to_jsonable(dict(payload)))

    def _dispatch() -> None:
        from lavka.audit.tasks import outbox_dispatch

        outbox_dispatch(event.pk)

    transaction.on_commit(_dispatch)
    return event
