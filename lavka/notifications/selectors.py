from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lavka.notifications.models import Notification


def notifications_visible_to(viewer: Any) -> QuerySet[Notification]:
    if not getattr(viewer, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=viewer)


def unread_count(*, viewer: Any) -> int:
    return notifications_visible_to(viewer).filter(read_at__isnull=True).count()
