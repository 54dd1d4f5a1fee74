from __future__ import annotations

from typing import Any

from django.utils import timezone

from lavka.notifications.models import Notification


def notify(
    *,
    recipient: Any,
    title: str,
    body: str = "",
    url: str = "",
    level: str = Notification.Level.INFO,
) -> Notification:
    """Tell one user something. Not audited: notifications are messages, not records."""
    return Notification.objects.create(
        recipient=recipient, title=title[:200], body=body, url=url, level=level
    )


def notifications_mark_read(*, viewer: Any, notification_ids: list[int] | None = None) -> int:
    """Mark the viewer's notifications read (all of them when no ids are given)."""
    unread = Notification.objects.filter(recipient=viewer, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
