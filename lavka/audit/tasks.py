"""Background delivery of outbox events."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lavka.audit import outbox
from lavka.audit.models import OutboxEvent


def _deliver(event_id: int) -> bool:
    try:
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update()
                .filter(pk=event_id, dispatched_at__isnull=True)
                .first()
            )
            if event is None:
                return False  # already delivered: safe to call twice
            for handler in outbox.handlers_for(event.kind):
                handler(dict(event.payload, _event_id=event.pk, _kind=event.kind))
            event.dispatched_at = timezone.now()
            event.attempts += 1
            event.save(update_fields=["dispatched_at", "attempts"])
            return True
    except Exception as exc:
        OutboxEvent.objects.filter(pk=event_id).update(
            attempts=F("attempts") + 1, last_error=repr(exc)[:2000]
        )
        raise


@db_task(retries=5, retry_delay=10)
def outbox_dispatch(event_id: int) -> bool:
    return _deliver(event_id)


@db_periodic_task(crontab(minute="*/5"))
def outbox_sweep() -> int:
    """Deliver events whose after-commit dispatch was lost (e.g. the worker was down)."""
    cutoff = timezone.now() - dt.timedelta(minutes=1)
    pending = list(
        OutboxEvent.objects.filter(
            dispatched_at__isnull=True, created_at__lt=cutoff, attempts__lt=10
        )
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )
    delivered = 0
    for event_id in pending:
        try:
            delivered += _deliver(event_id)
        except Exception:  # noqa: S112 - recorded on the event; the next sweep retries
            continue
    return delivered
