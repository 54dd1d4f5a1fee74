"""Who may manage users, teams, roles and tokens. Pure functions."""

from __future__ import annotations

from typing import Any

from lavka.identity.access import Capability, has_capability


def can_manage_users(actor: Any) -> bool:
    return has_capability(actor, Capability.MANAGE_USERS)


def can_manage_roles(actor: Any) -> bool:
    return has_capability(actor, Capability.MANAGE_ROLES)


def can_use_api(actor: Any) -> bool:
    return has_capability(actor, Capability.USE_API)


def can_manage_token(actor: Any, token_user_id: int) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and (
        actor.pk == token_user_id or can_manage_users(actor)
    )
