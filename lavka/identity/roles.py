"""The built-in roles, their default grants, and their translated names."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from lavka.identity.access import Area, Capability, Scope

ADMINISTRATOR = "administrator"
SALES_MANAGER = "sales_manager"
SALES_REP = "sales_rep"
MARKETER = "marketer"
SERVICE_AGENT = "service_agent"
ANALYST = "analyst"

BUILTIN_NAMES: dict[str, Any] = {
    ADMINISTRATOR: _("Administrator"),
    SALES_MANAGER: _("Sales manager"),
    SALES_REP: _("Sales rep"),
    MARKETER: _("Marketer"),
    SERVICE_AGENT: _("Service agent"),
    ANALYST: _("Analyst"),
}


def builtin_role_name(code: str) -> str | None:
    name = BUILTIN_NAMES.get(code)
    return str(name) if name is not None else None


def _g(read: str, write: str) -> dict[str, str]:
    return {"read": str(read), "write": str(write)}


ALL = [str(area) for area in Area]

DEFAULT_ROLES: dict[str, dict[str, Any]] = {
    ADMINISTRATOR: {
        "grants": {area: _g(Scope.ALL, Scope.ALL) for area in ALL},
        "capabilities": [str(c) for c in Capability],
    },
    SALES_MANAGER: {
        "grants": {
            Area.CLIENTS: _g(Scope.TEAM_AND_BELOW, Scope.TEAM_AND_BELOW),
            Area.SALES: _g(Scope.TEAM_AND_BELOW, Scope.TEAM_AND_BELOW),
            Area.KEY_ACCOUNTS: _g(Scope.TEAM_AND_BELOW, Scope.TEAM_AND_BELOW),
            Area.MARKETING: _g(Scope.ALL, Scope.NONE),
            Area.SERVICE: _g(Scope.TEAM_AND_BELOW, Scope.NONE),
            Area.ANALYTICS: _g(Scope.TEAM_AND_BELOW, Scope.NONE),
            Area.AUTOMATION: _g(Scope.NONE, Scope.NONE),
        },
        "capabilities": [Capability.USE_API],
    },
    SALES_REP: {
        "grants": {
            Area.CLIENTS: _g(Scope.TEAM, Scope.OWN),
            Area.SALES: _g(Scope.OWN, Scope.OWN),
            Area.KEY_ACCOUNTS: _g(Scope.OWN, Scope.OWN),
            Area.MARKETING: _g(Scope.NONE, Scope.NONE),
            Area.SERVICE: _g(Scope.OWN, Scope.NONE),
            Area.ANALYTICS: _g(Scope.OWN, Scope.NONE),
            Area.AUTOMATION: _g(Scope.NONE, Scope.NONE),
        },
        "capabilities": [Capability.USE_API],
    },
    MARKETER: {
        "grants": {
            Area.CLIENTS: _g(Scope.ALL, Scope.NONE),
            Area.SALES: _g(Scope.NONE, Scope.NONE),
            Area.KEY_ACCOUNTS: _g(Scope.NONE, Scope.NONE),
            Area.MARKETING: _g(Scope.ALL, Scope.ALL),
            Area.SERVICE: _g(Scope.NONE, Scope.NONE),
            Area.ANALYTICS: _g(Scope.ALL, Scope.NONE),
            Area.AUTOMATION: _g(Scope.ALL, Scope.TEAM),
        },
        "capabilities": [Capability.USE_API],
    },
    SERVICE_AGENT: {
        "grants": {
            Area.CLIENTS: _g(Scope.ALL, Scope.OWN),
            Area.SALES: _g(Scope.NONE, Scope.NONE),
            Area.KEY_ACCOUNTS: _g(Scope.NONE, Scope.NONE),
            Area.MARKETING: _g(Scope.NONE, Scope.NONE),
            Area.SERVICE: _g(Scope.ALL, Scope.TEAM),
            Area.ANALYTICS: _g(Scope.NONE, Scope.NONE),
            Area.AUTOMATION: _g(Scope.NONE, Scope.NONE),
        },
        "capabilities": [Capability.USE_API],
    },
    ANALYST: {
        "grants": {
            Area.CLIENTS: _g(Scope.ALL, Scope.NONE),
            Area.SALES: _g(Scope.ALL, Scope.NONE),
            Area.KEY_ACCOUNTS: _g(Scope.ALL, Scope.NONE),
            Area.MARKETING: _g(Scope.ALL, Scope.NONE),
            Area.SERVICE: _g(Scope.ALL, Scope.NONE),
            Area.ANALYTICS: _g(Scope.ALL, Scope.ALL),
            Area.AUTOMATION: _g(Scope.ALL, Scope.NONE),
        },
        "capabilities": [Capability.USE_API],
    },
}


def default_grants(code: str) -> dict[str, dict[str, str]]:
    return {str(area): dict(grant) for area, grant in DEFAULT_ROLES[code]["grants"].items()}


def default_capabilities(code: str) -> list[str]:
    return [str(c) for c in DEFAULT_ROLES[code]["capabilities"]]
