from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from lavka.notifications.selectors import unread_count
from lavka.web.navigation import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """The page shell's navigation and unread count. Both are callables that the
    template engine calls on first use and that remember their answer: an htmx
    fragment (a list's rows, search results) never shows the shell and so costs no
    query for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}

    @cache
    def nav_items() -> list[dict[str, Any]]:
        section = getattr(request, "nav_section", "")
        if not section and request.resolver_match is not None:
            section = request.resolver_match.namespace or request.resolver_match.url_name or ""
            if section == "area":
                section = request.resolver_match.kwargs.get("key", "")
        return nav_for(user, section)

    @cache
    def unread_notifications() -> int:
        return unread_count(viewer=user)

    return {"nav_items": nav_items, "unread_notifications": unread_notifications}
