from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from lavka.notifications.selectors import unread_count
from lavka.web.navigation import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}
    section = getattr(request, "nav_section", "")
    if not section and request.resolver_match is not None:
        section = request.resolver_match.namespace or request.resolver_match.url_name or ""
        if section == "area":
            section = request.resolver_match.kwargs.get("key", "")
    return {
        "nav_items": nav_for(user, section),
        "unread_notifications": unread_count(viewer=user),
    }
