"""Reads of users, teams, roles and tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lavka.core.errors import NotFound
from lavka.identity.models import ApiToken, Role, Team, User
from lavka.identity.permissions import can_manage_users


def users_visible_to(viewer: Any) -> QuerySet[User]:
    """Everyone in the company can see colleagues' names (to assign and mention);
    only administrators see inactive accounts."""
    users = User.objects.select_related("team", "role")
    if not getattr(viewer, "is_authenticated", False):
        return users.none()
    if can_manage_users(viewer):
        return users
    return users.filter(is_active=True)


def user_get(*, viewer: Any, user_id: int) -> User:
    try:
        return users_visible_to(viewer).get(pk=user_id)
    except User.DoesNotExist:
        raise NotFound(resource="user", id=user_id) from None


def teams_visible_to(viewer: Any) -> QuerySet[Team]:
    if not getattr(viewer, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.select_related("parent")


def team_get(*, viewer: Any, team_id: int) -> Team:
    try:
        return teams_visible_to(viewer).get(pk=team_id)
    except Team.DoesNotExist:
        raise NotFound(resource="team", id=team_id) from None


def roles_visible_to(viewer: Any) -> QuerySet[Role]:
    if not getattr(viewer, "is_authenticated", False):
        return Role.objects.none()
    return Role.objects.all()


def role_get(*, viewer: Any, role_id: int) -> Role:
    try:
        return roles_visible_to(viewer).get(pk=role_id)
    except Role.DoesNotExist:
        raise NotFound(resource="role", id=role_id) from None


def api_tokens_visible_to(viewer: Any) -> QuerySet[ApiToken]:
    """A user sees their own tokens; administrators see everyone's."""
    if not getattr(viewer, "is_authenticated", False):
        return ApiToken.objects.none()
    tokens = ApiToken.objects.select_related("user")
    return tokens if can_manage_users(viewer) else tokens.filter(user=viewer)


def api_token_get(*, viewer: Any, token_id: int) -> ApiToken:
    try:
        return api_tokens_visible_to(viewer).get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise NotFound(resource="api_token", id=token_id) from None
