"""The left navigation: the areas of the CRM. Later work fills the placeholders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lavka.identity.access import Action, Area, Capability, Scope, has_capability, scope_for


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any
    url_name: str
    icon: str
    area: str | None = None
    capability: str | None = None


NAV = [
    NavItem("home", _("Home"), "home", "home"),
    NavItem("clients", _("Clients"), "clients:list", "users", area=Area.CLIENTS),
    NavItem("sales", _("Sales"), "sales:board", "trending-up", area=Area.SALES),
    NavItem("keyaccounts", _("Key accounts"), "keyaccounts:list", "star", area=Area.KEY_ACCOUNTS),
    NavItem("marketing", _("Marketing"), "area", "megaphone", area=Area.MARKETING),
    NavItem("service", _("Service"), "area", "life-buoy", area=Area.SERVICE),
    NavItem("analytics", _("Analytics"), "analytics:dashboard", "bar-chart", area=Area.ANALYTICS),
    NavItem("automation", _("Automation"), "area", "zap", area=Area.AUTOMATION),
    NavItem("settings", _("Settings"), "settings:index", "settings"),
]


def nav_for(user: Any, current: str) -> list[dict[str, Any]]:
    items = []
    for item in NAV:
        if item.area and scope_for(user, item.area, Action.READ) == Scope.NONE:
            continue
        if item.capability and not has_capability(user, item.capability):
            continue
        url = (
            reverse("area", args=[item.key]) if item.url_name == "area" else reverse(item.url_name)
        )
        items.append(
            {
                "key": item.key,
                "label": item.label,
                "url": url,
                "icon": item.icon,
                "active": item.key == current,
            }
        )
    return items


SETTINGS_CAPABILITIES = [
    Capability.MANAGE_USERS,
    Capability.MANAGE_ROLES,
    Capability.VIEW_AUDIT,
    Capability.MANAGE_TRASH,
]
