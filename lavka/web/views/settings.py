"""Settings: users, teams, roles, the audit log and the trash (administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lavka.audit import trash
from lavka.audit.models import AuditEvent
from lavka.audit.selectors import audit_event_list, audited_models
from lavka.core.errors import DomainError, NotPermitted
from lavka.identity.access import Area, Capability, has_capability
from lavka.identity.selectors import (
    role_get,
    roles_visible_to,
    team_get,
    teams_visible_to,
    user_get,
    users_visible_to,
)
from lavka.identity.services import role_update, team_create, team_update, user_create, user_update
from lavka.web.errors import form_errors_from
from lavka.web.forms import RoleForm, TeamForm, UserForm
from lavka.web.requests import AuthedRequest


def _require(request: AuthedRequest, capability: str) -> None:
    if not has_capability(request.user, capability):
        raise NotPermitted(action="view", resource="settings")


@login_required
def index(request: AuthedRequest) -> HttpResponse:
    user = request.user
    sections = [
        ("users", _("Users"), _("Accounts, their teams and roles."), Capability.MANAGE_USERS),
        (
            "teams",
            _("Teams"),
            _("The hierarchy of teams, like business units."),
            Capability.MANAGE_USERS,
        ),
        (
            "roles",
            _("Roles"),
            _("What each role may read and change in every area."),
            Capability.MANAGE_ROLES,
        ),
        ("audit", _("Audit log"), _("Who changed what, and when."), Capability.VIEW_AUDIT),
        ("trash", _("Trash"), _("Deleted records, ready to restore."), Capability.MANAGE_TRASH),
        (
            "custom_fields",
            _("Personal details fields"),
            _("Your own fields on the client card: a car, a hobby, a pet."),
            Capability.MANAGE_SETTINGS,
        ),
        (
            "tiers",
            _("Tiers"),
            _("Client categories and how often each should hear from you."),
            Capability.MANAGE_SETTINGS,
        ),
    ]
    visible = [
        (key, title, text) for key, title, text, cap in sections if has_capability(user, cap)
    ]
    return render(request, "web/settings/index.html", {"sections": visible})


@login_required
def users(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_USERS)
    return render(
        request,
        "web/settings/users.html",
        {"users": users_visible_to(request.user).order_by("team__path", "username")},
    )


def _user_form_save(request: AuthedRequest, form: UserForm, user: Any | None) -> Any | None:
    data = dict(form.cleaned_data)
    try:
        if user is None:
            created = user_create(
                actor=request.user, **{k: v for k, v in data.items() if k != "is_active"}
            )
            if created.email:
                reset = PasswordResetForm({"email": created.email})
                if reset.is_valid():
                    reset.save(
                        request=request,
                        use_https=request.is_secure(),
                        email_template_name="registration/password_reset_email.txt",
                        subject_template_name="registration/password_reset_subject.txt",
                    )
            return created
        return user_update(actor=request.user, user=user, **data)
    except DomainError as exc:
        form_errors_from(form, exc)
        return None


@login_required
def user_new(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_USERS)
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = _user_form_save(request, form, None)
        if created is not None:
            messages.success(
                request,
                _("User %(name)s has been created; a letter to set the password has been sent.")
                % {"name": created},
            )
            return redirect("settings:users")
    return render(request, "web/settings/user_form.html", {"form": form, "subject": None})


@login_required
def user_edit(request: AuthedRequest, user_id: int) -> HttpResponse:
    _require(request, Capability.MANAGE_USERS)
    subject = user_get(viewer=request.user, user_id=user_id)
    initial = {
        f: getattr(subject, f)
        for f in (
            "username",
            "first_name",
            "last_name",
            "email",
            "team",
            "role",
            "language",
            "is_active",
        )
    }
    form = UserForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and _user_form_save(request, form, subject) is not None
    ):
        messages.success(request, _("Changes saved."))
        return redirect("settings:users")
    return render(request, "web/settings/user_form.html", {"form": form, "subject": subject})


@login_required
def teams(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_USERS)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Team created."))
            return redirect("settings:teams")
    return render(
        request, "web/settings/teams.html", {"teams": teams_visible_to(request.user), "form": form}
    )


@login_required
def team_edit(request: AuthedRequest, team_id: int) -> HttpResponse:
    _require(request, Capability.MANAGE_USERS)
    team = team_get(viewer=request.user, team_id=team_id)
    form = TeamForm(request.POST or None, initial={"name": team.name, "parent": team.parent})
    form.fields["parent"].queryset = teams_visible_to(request.user).exclude(  # type: ignore[attr-defined]
        path__startswith=team.path
    )
    if request.method == "POST" and form.is_valid():
        try:
            team_update(
                actor=request.user,
                team=team,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
            )
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("settings:teams")
    return render(request, "web/settings/team_form.html", {"form": form, "team": team})


@login_required
def roles(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_ROLES)
    return render(
        request,
        "web/settings/roles.html",
        {"roles": roles_visible_to(request.user), "areas": list(Area)},
    )


@login_required
def role_edit(request: AuthedRequest, role_id: int) -> HttpResponse:
    _require(request, Capability.MANAGE_ROLES)
    role = role_get(viewer=request.user, role_id=role_id)
    form = RoleForm(request.POST or None, initial=RoleForm.initial_for(role))
    if request.method == "POST" and form.is_valid():
        try:
            role_update(
                actor=request.user,
                role=role,
                name=form.cleaned_data["name"],
                grants=form.grants(),
                capabilities=form.cleaned_data["capabilities"],
            )
        except DomainError as exc:
            form_errors_from(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("settings:roles")
    rows = [(area, form[f"{area}__read"], form[f"{area}__write"]) for area in Area]
    return render(
        request, "web/settings/role_form.html", {"form": form, "role": role, "rows": rows}
    )


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.VIEW_AUDIT)
    params = request.GET
    actor_id = params.get("actor", "")
    events = audit_event_list(
        viewer=request.user,
        actor_id=int(actor_id) if actor_id.isdigit() else None,
        action=params.get("action", ""),
        model=params.get("model", ""),
        object_id=params.get("object", ""),
        since=_parse_date(params.get("since", "")),
        until=_parse_date(params.get("until", "")),
    )
    page = Paginator(events, 50).get_page(params.get("page"))
    return render(
        request,
        "web/settings/audit.html",
        {
            "page": page,
            "actions": AuditEvent.Action.choices,
            "models": audited_models(),
            "actors": users_visible_to(request.user),
            "filters": params,
        },
    )


@login_required
def trash_list(request: AuthedRequest) -> HttpResponse:
    _require(request, Capability.MANAGE_TRASH)
    kinds = trash.trash_counts_visible_to(request.user)
    key = request.GET.get("kind") or (kinds[0][0].key if kinds else "")
    if key and key not in {k.key for k, _count in kinds}:
        raise Http404
    items = trash.trash_items_visible_to(request.user, key=key)[:200] if key else []
    return render(request, "web/settings/trash.html", {"kinds": kinds, "key": key, "items": items})


@login_required
@require_POST
def trash_restore(request: AuthedRequest, key: str, object_id: int) -> HttpResponse:
    restored = trash.trash_restore(actor=request.user, key=key, object_id=object_id)
    messages.success(request, _("“%(name)s” has been restored.") % {"name": restored})
    return redirect(f"{reverse('settings:trash')}?kind={key}")
