"""Writes for users, teams, roles, API tokens and logins. Each checks permission and
records an audit event in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, snapshot
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.identity.access import SCOPE_ORDER, Area, Capability, Scope
from lavka.identity.errors import LastAdministrator, LoginLocked, TeamCycle
from lavka.identity.models import ApiToken, LoginAttempt, Role, Team, User
from lavka.identity.permissions import can_manage_roles, can_manage_token, can_manage_users
from lavka.identity.roles import ADMINISTRATOR

USER_FIELDS = [
    "username",
    "email",
    "first_name",
    "last_name",
    "team",
    "role",
    "is_active",
    "language",
    "time_zone",
]


# --- logins -------------------------------------------------------------------------


def login_check_allowed(*, username: str, ip: str | None) -> None:
    """Raise LoginLocked when this username, or this address, failed too often lately."""
    since = timezone.now() - dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    failures = LoginAttempt.objects.filter(at__gte=since, succeeded=False)
    limit = settings.LOGIN_FAILURE_LIMIT
    if failures.filter(username=username.strip().lower()).count() >= limit:
        raise LoginLocked()
    if ip and failures.filter(ip=ip).count() >= limit * 4:
        raise LoginLocked()


@transaction.atomic
def login_record(*, username: str, ip: str | None, user: User | None) -> None:
    """Record a login attempt: succeeded when `user` is given."""
    LoginAttempt.objects.create(
        username=username.strip().lower(), ip=ip, succeeded=user is not None
    )
    if user is not None:
        # A successful login clears the username's failure count.
        LoginAttempt.objects.filter(username=username.strip().lower(), succeeded=False).delete()
        audit_record(action=Action.LOGIN, subject=user, actor=user, meta={"ip": ip})
    else:
        audit_record(
            action=Action.LOGIN_FAILED,
            subject=None,
            actor=None,
            meta={"ip": ip, "username": username[:150]},
        )


def logout_record(*, user: User, ip: str | None) -> None:
    audit_record(action=Action.LOGOUT, subject=user, actor=user, meta={"ip": ip})


# --- users --------------------------------------------------------------------------


def _validate_user_fields(fields: dict[str, Any], *, user: User | None = None) -> None:
    errors: dict[str, list[str]] = {}
    username = fields.get("username")
    if username is not None:
        if not str(username).strip():
            errors["username"] = [_("Enter a username.")]
        else:
            clash = User.objects.filter(username__iexact=str(username).strip())
            if user is not None:
                clash = clash.exclude(pk=user.pk)
            if clash.exists():
                errors["username"] = [_("This username is taken.")]
    email = fields.get("email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    if errors:
        raise ValidationFailed(fields=errors)


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"password": list(exc.messages)}) from None


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    role: Role | None = None,
    password: str | None = None,
    language: str = "",
    time_zone: str = "",
) -> User:
    """Create a user. Without a password the account cannot log in until the user
    sets one through the password-reset letter."""
    if actor is not None and not can_manage_users(actor):
        raise NotPermitted(action="create", resource="user")
    fields = {"username": username, "email": email}
    _validate_user_fields(fields)
    user = User(
        username=username.strip(),
        email=email.strip().lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        team=team,
        role=role,
        language=language,
        time_zone=time_zone,
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(
        action=Action.CREATE,
        subject=user,
        actor=actor,
        changes=diff({}, snapshot(user, USER_FIELDS)),
    )
    return user


def _administrators_left(excluding: User) -> int:
    return (
        User.objects.filter(is_active=True, role__code=ADMINISTRATOR)
        .exclude(pk=excluding.pk)
        .count()
    )


@transaction.atomic
def user_update(*, actor: Any, user: User, **changes: Any) -> User:
    """Change a user's profile fields. Users may change their own name, email,
    language and time zone; everything else needs the manage-users capability."""
    allowed_self = {"first_name", "last_name", "email", "language", "time_zone"}
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ValidationFailed(fields={k: [_("Unknown field.")] for k in unknown})
    is_self = getattr(actor, "pk", None) == user.pk
    if not can_manage_users(actor) and not (is_self and set(changes) <= allowed_self):
        raise NotPermitted(action="update", resource="user")
    user = User.objects.select_for_update().get(pk=user.pk)
    _validate_user_fields(changes, user=user)
    before = snapshot(user, USER_FIELDS)
    losing_admin = (
        user.role is not None
        and user.role.code == ADMINISTRATOR
        and (
            changes.get("is_active") is False
            or ("role" in changes and getattr(changes["role"], "code", None) != ADMINISTRATOR)
        )
    )
    if losing_admin and user.is_active and _administrators_left(user) == 0:
        raise LastAdministrator()
    for name, value in changes.items():
        if isinstance(value, str) and name != "time_zone":
            value = value.strip()
        if name == "email":
            value = value.lower()
        setattr(user, name, value)
    changed = diff(before, snapshot(user, USER_FIELDS))
    if changed:
        user.save(update_fields=[*changed.keys()])
        audit_record(action=Action.UPDATE, subject=user, actor=actor, changes=changed)
    return user


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str, via_reset: bool = False) -> User:
    """Set a new password: the user themself (or through a reset link), or an administrator."""
    if not via_reset and getattr(actor, "pk", None) != user.pk and not can_manage_users(actor):
        raise NotPermitted(action="set_password", resource="user")
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        action=Action.PASSWORD_RESET if via_reset else Action.PASSWORD_CHANGE,
        subject=user,
        actor=actor if actor is not None else user,
    )
    return user


# --- teams --------------------------------------------------------------------------


def _path_for(team: Team) -> str:
    return f"{team.parent.path if team.parent else '/'}{team.pk}/"


@transaction.atomic
def team_create(*, actor: Any, name: str, parent: Team | None = None) -> Team:
    if actor is not None and not can_manage_users(actor):
        raise NotPermitted(action="create", resource="team")
    name = name.strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("Enter a name.")]})
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed(fields={"name": [_("A team with this name exists.")]})
    team = Team.objects.create(name=name, parent=parent)
    team.path = _path_for(team)
    team.save(update_fields=["path"])
    audit_record(
        action=Action.CREATE,
        subject=team,
        actor=actor,
        changes={"name": [None, name], "parent": [None, parent.pk if parent else None]},
    )
    return team


@transaction.atomic
def team_update(
    *, actor: Any, team: Team, name: str | None = None, parent: Team | Any | None = ...
) -> Team:
    """Rename or move a team; moving rewrites the paths of the whole subtree."""
    if not can_manage_users(actor):
        raise NotPermitted(action="update", resource="team")
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = snapshot(team, ["name", "parent"])
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed(fields={"name": [_("Enter a name.")]})
        if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
            raise ValidationFailed(fields={"name": [_("A team with this name exists.")]})
        team.name = name
    if parent is not ...:
        if parent is not None and parent.path.startswith(team.path):
            raise TeamCycle()
        old_path = team.path
        team.parent = parent
        team.path = _path_for(team)
        for sub in Team.objects.filter(path__startswith=old_path).exclude(pk=team.pk):
            sub.path = team.path + sub.path.removeprefix(old_path)
            sub.save(update_fields=["path"])
    changed = diff(before, snapshot(team, ["name", "parent"]))
    team.save(update_fields=["name", "parent", "path"])
    if changed:
        audit_record(action=Action.UPDATE, subject=team, actor=actor, changes=changed)
    return team


# --- roles --------------------------------------------------------------------------


def _clean_grants(grants: dict[str, Any]) -> dict[str, dict[str, str]]:
    valid_scopes = {str(s) for s in SCOPE_ORDER}
    cleaned: dict[str, dict[str, str]] = {}
    errors: dict[str, list[str]] = {}
    for area in Area:
        grant = grants.get(str(area), {}) or {}
        read = str(grant.get("read", Scope.NONE))
        write = str(grant.get("write", Scope.NONE))
        if read not in valid_scopes or write not in valid_scopes:
            errors[f"grants.{area}"] = [_("Unknown access level.")]
            continue
        cleaned[str(area)] = {"read": read, "write": write}
    unknown = set(grants) - {str(a) for a in Area}
    for area_name in unknown:
        errors[f"grants.{area_name}"] = [_("Unknown area.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _clean_capabilities(capabilities: list[str]) -> list[str]:
    valid = {str(c) for c in Capability}
    bad = [c for c in capabilities if c not in valid]
    if bad:
        raise ValidationFailed(fields={"capabilities": [_("Unknown capability.")]})
    return sorted(set(capabilities))


@transaction.atomic
def role_create(
    *,
    actor: Any,
    code: str,
    name: str,
    grants: dict[str, Any],
    capabilities: list[str],
    description: str = "",
) -> Role:
    if not can_manage_roles(actor):
        raise NotPermitted(action="create", resource="role")
    if Role.objects.filter(Q(code=code) | Q(name__iexact=name.strip())).exists():
        raise ValidationFailed(fields={"name": [_("A role with this name exists.")]})
    role = Role.objects.create(
        code=code,
        name=name.strip(),
        description=description,
        grants=_clean_grants(grants),
        capabilities=_clean_capabilities(capabilities),
    )
    audit_record(
        action=Action.CREATE,
        subject=role,
        actor=actor,
        changes=diff({}, snapshot(role, ["name", "grants", "capabilities"])),
    )
    return role


@transaction.atomic
def role_update(
    *,
    actor: Any,
    role: Role,
    name: str | None = None,
    grants: dict[str, Any] | None = None,
    capabilities: list[str] | None = None,
) -> Role:
    """Edit what a role may do. The administrator role always keeps every capability,
    so that nobody can lock the company out of its own settings."""
    if not can_manage_roles(actor):
        raise NotPermitted(action="update", resource="role")
    role = Role.objects.select_for_update().get(pk=role.pk)
    before = snapshot(role, ["name", "grants", "capabilities"])
    if name is not None and name.strip():
        role.name = name.strip()
    if grants is not None:
        role.grants = _clean_grants(grants)
    if capabilities is not None:
        cleaned = _clean_capabilities(capabilities)
        if role.code == ADMINISTRATOR and set(cleaned) != {str(c) for c in Capability}:
            raise ValidationFailed(
                fields={"capabilities": [_("The administrator role keeps every capability.")]}
            )
        role.capabilities = cleaned
    changed = diff(before, snapshot(role, ["name", "grants", "capabilities"]))
    if changed:
        role.save(update_fields=["name", "grants", "capabilities"])
        audit_record(action=Action.UPDATE, subject=role, actor=actor, changes=changed)
    return role


# --- API tokens ---------------------------------------------------------------------

TOKEN_PREFIX = "lvk_"


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: Any, name: str, scope: str = ApiToken.Scope.READ, user: User | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user` (default: the actor). Returns the token and the raw
    key, which is shown once and never stored."""
    owner = user or actor
    if not can_manage_token(actor, owner.pk):
        raise NotPermitted(action="create", resource="api_token")
    if not owner.has_perm(f"lavka.{Capability.USE_API}"):
        raise NotPermitted(action="create", resource="api_token")
    if scope not in ApiToken.Scope.values:
        raise ValidationFailed(fields={"scope": [_("Choose read or read and write.")]})
    if not name.strip():
        raise ValidationFailed(fields={"name": [_("Enter a name.")]})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=owner, name=name.strip(), prefix=raw[:12], key_hash=_hash_key(raw), scope=scope
    )
    audit_record(
        action=Action.TOKEN_CREATE,
        subject=token,
        actor=actor,
        changes={"name": [None, token.name], "scope": [None, scope]},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    if not can_manage_token(actor, token.user_id):
        raise NotPermitted(action="revoke", resource="api_token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=Action.TOKEN_REVOKE, subject=token, actor=actor)
    return token


def api_token_authenticate(raw: str) -> tuple[User, ApiToken] | None:
    """The user and token behind a raw key, or None if unknown, revoked or inactive."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__role", "user__team")
        .filter(key_hash=_hash_key(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token
