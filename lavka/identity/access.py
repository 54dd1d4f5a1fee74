"""The record-level access policy, used by every domain app.

A record has an owner (a user) and a team. A user's role grants, per area of the
CRM, a scope for reading and one for writing:

    none < own < team < team_and_below < all

`own` is records the user owns; `team` adds records of the user's team;
`team_and_below` adds records of every team under it in the hierarchy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from lavka.identity.models import User


class Scope(models.TextChoices):
    NONE = "none", _("none")
    OWN = "own", _("own records")
    TEAM = "team", _("own team")
    TEAM_AND_BELOW = "team_and_below", _("own team and teams below")
    ALL = "all", _("all records")


SCOPE_ORDER = [Scope.NONE, Scope.OWN, Scope.TEAM, Scope.TEAM_AND_BELOW, Scope.ALL]


class Area(models.TextChoices):
    """Areas of the CRM, matching the left navigation."""

    CLIENTS = "clients", _("Clients")
    SALES = "sales", _("Sales")
    KEY_ACCOUNTS = "keyaccounts", _("Key accounts")
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service")
    ANALYTICS = "analytics", _("Analytics")
    AUTOMATION = "automation", _("Automation")


class Action(models.TextChoices):
    READ = "read", _("read")
    WRITE = "write", _("write")


class Capability(models.TextChoices):
    """Permissions that are not about records."""

    MANAGE_USERS = "manage_users", _("Manage users and teams")
    MANAGE_ROLES = "manage_roles", _("Edit roles and their permissions")
    VIEW_AUDIT = "view_audit", _("View the audit log")
    MANAGE_TRASH = "manage_trash", _("Restore records from the trash")
    MANAGE_SETTINGS = "manage_settings", _("Change settings")
    USE_API = "use_api", _("Use the API with personal tokens")


def scope_for(user: User | Any, area: str, action: str) -> str:
    """The scope `user` has for `action` in `area`; `none` for the anonymous or inactive."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope.NONE
    role = user.role
    if role is None:
        return Scope.NONE
    grant = (role.grants or {}).get(area, {})
    scope = grant.get(action, Scope.NONE)
    if action == Action.WRITE:
        # Whoever may write a record may also read it.
        return scope
    write_scope = grant.get(Action.WRITE, Scope.NONE)
    return max(scope, write_scope, key=SCOPE_ORDER.index)


def team_ids_at_and_below(user: User | Any) -> list[int]:
    """`user.team_ids_at_and_below()`, in one query instead of two when the user's team
    came with the user (the auth backend loads it): its path is then known."""
    if getattr(user, "_team_ids_below", None) is None and user.team_id is not None:
        team = user._state.fields_cache.get("team")
        if team is not None and team.path:
            from lavka.identity.models import Team

            user._team_ids_below = list(
                Team.objects.filter(path__startswith=team.path).values_list("pk", flat=True)
            )
    ids: list[int] = user.team_ids_at_and_below()
    return ids


def team_ids_prime(users: list[Any]) -> None:
    """Fill the team-tree cache of many users with one query (for example, before
    asking `can_access` of every user in a list): what each user's own
    `team_ids_at_and_below()` would find."""
    pending = [u for u in users if getattr(u, "_team_ids_below", None) is None]
    if not pending:
        return
    from lavka.identity.models import Team

    teams = list(Team.objects.values_list("pk", "path"))
    paths = dict(teams)
    for user in pending:
        path = paths.get(user.team_id) if user.team_id is not None else None
        if user.team_id is None:
            user._team_ids_below = []
        elif path:
            user._team_ids_below = [pk for pk, p in teams if p.startswith(path)]
        else:
            user._team_ids_below = [user.team_id]


def record_filter(
    user: User | Any,
    area: str,
    action: str = Action.READ,
    *,
    owner_field: str = "owner",
    team_field: str = "team",
) -> Q | None:
    """A filter for the records `user` may `action` in `area`; None means all of them."""
    scope = scope_for(user, area, action)
    if scope == Scope.ALL:
        return None
    if scope == Scope.NONE:
        return Q(pk__in=[])
    allowed = Q(**{f"{owner_field}_id": user.pk})
    if scope == Scope.TEAM and user.team_id:
        allowed |= Q(**{f"{team_field}_id": user.team_id})
    elif scope == Scope.TEAM_AND_BELOW and user.team_id:
        allowed |= Q(**{f"{team_field}_id__in": team_ids_at_and_below(user)})
    return allowed


def scope_queryset(
    queryset: models.QuerySet,
    user: User | Any,
    area: str,
    action: str = Action.READ,
    **fields: str,
) -> models.QuerySet:
    condition = record_filter(user, area, action, **fields)
    return queryset if condition is None else queryset.filter(condition)


def can_access(
    user: User | Any,
    *,
    area: str,
    action: str,
    owner_id: int | None,
    team_id: int | None,
) -> bool:
    """Whether `user` may `action` a record with this owner and team (pure, no queries
    beyond the viewer's own team tree, which is cached on the user)."""
    scope = scope_for(user, area, action)
    if scope == Scope.ALL:
        return True
    if scope == Scope.NONE:
        return False
    if owner_id is not None and owner_id == user.pk:
        return True
    if scope == Scope.TEAM:
        return team_id is not None and team_id == user.team_id
    if scope == Scope.TEAM_AND_BELOW:
        return team_id is not None and team_id in team_ids_at_and_below(user)
    return False


def has_capability(user: User | Any, capability: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.role is None:
        return False
    return capability in (user.role.capabilities or [])
