"""Reads of the audit log: administrators (the view_audit capability) see all of it;
anyone else sees the history of a record only through a record they can already read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from lavka.audit.models import AuditEvent

PERM = "lavka.view_audit"


def audit_events_visible_to(viewer: Any) -> QuerySet[AuditEvent]:
    if not getattr(viewer, "is_authenticated", False) or not viewer.has_perm(PERM):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor", "content_type")


def audit_events_for_record(*, viewer: Any, record: models.Model) -> QuerySet[AuditEvent]:
    """The history of `record`. The caller got `record` through a *_visible_to selector,
    so whoever may read the record may read its history."""
    if not getattr(viewer, "is_authenticated", False):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor").filter(
        content_type=ContentType.objects.get_for_model(record.__class__), object_id=str(record.pk)
    )


def audit_event_list(
    *,
    viewer: Any,
    actor_id: int | None = None,
    action: str = "",
    model: str = "",
    object_id: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    events = audit_events_visible_to(viewer)
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    if model and "." in model:
        app_label, model_name = model.split(".", 1)
        events = events.filter(content_type__app_label=app_label, content_type__model=model_name)
    if object_id:
        events = events.filter(object_id=object_id)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events


def audited_models() -> list[ContentType]:
    ids = (
        AuditEvent.objects.exclude(content_type=None)
        .values_list("content_type", flat=True)
        .distinct()
    )
    return list(ContentType.objects.filter(pk__in=list(ids)).order_by("app_label", "model"))
