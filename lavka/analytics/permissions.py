"""Who may do what in analytics: the access policy applied to the analytics area.

Reading scores follows the analytics read scope over the client's owner and team (a
rep sees the scores of their own clients, an analyst all). A recompute covers the
whole base, so it needs the analytics write scope (analysts) or the "manage settings"
capability (administrators); so does changing the analytics settings.
"""

from __future__ import annotations

from typing import Any

from lavka.identity.access import Action, Area, Capability, Scope, has_capability, scope_for


def can_read_analytics(actor: Any) -> bool:
    return scope_for(actor, Area.ANALYTICS, Action.READ) != Scope.NONE


def can_recompute(actor: Any) -> bool:
    return scope_for(actor, Area.ANALYTICS, Action.WRITE) != Scope.NONE or has_capability(
        actor, Capability.MANAGE_SETTINGS
    )


def can_change_analytics_settings(actor: Any) -> bool:
    return can_recompute(actor)
