"""Writes of web forms (sales settings: the "manage settings" capability).

A form's key is generated once (`secrets.token_urlsafe`) and can be rotated, which
breaks the old snippet on purpose (for a key that leaked into spam lists)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, snapshot
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.leads.models import FORM_FIELDS, WebForm
from lavka.leads.permissions import can_manage_web_forms
from lavka.leads.services.values import Errors

EDITABLE = [
    "name",
    "owner",
    "team",
    "fields",
    "success_message",
    "allowed_origins",
    "language",
    "source_campaign",
    "is_active",
]


def web_form_key_new() -> str:
    return secrets.token_urlsafe(24)


def origin_clean(value: str) -> str | None:
    """ "https://Example.com/page" -> "https://example.com"; None when not a web origin."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "name":
            text = str(value or "").strip()
            if not text:
                errors[name] = [_("This field is required.")]
            elif len(text) > 120:
                errors[name] = [_("At most %(max)s characters.") % {"max": 120}]
            cleaned[name] = text
        elif name in ("success_message",):
            text = str(value or "").strip()
            if len(text) > 1000:
                errors[name] = [_("At most %(max)s characters.") % {"max": 1000}]
            cleaned[name] = text
        elif name == "source_campaign":
            text = str(value or "").strip()
            if len(text) > 100:
                errors[name] = [_("At most %(max)s characters.") % {"max": 100}]
            cleaned[name] = text
        elif name == "fields":
            chosen = [str(f) for f in (value or [])]
            if any(f not in FORM_FIELDS for f in chosen):
                errors[name] = [_("Choose among the offered fields.")]
            elif not {"email", "phone"} & set(chosen):
                errors[name] = [_("Show at least the email or the phone field.")]
            cleaned[name] = [f for f in FORM_FIELDS if f in chosen]
        elif name == "allowed_origins":
            lines = [line.strip() for line in str(value or "").replace(",", "\n").splitlines()]
            origins: list[str] = []
            for line in filter(None, lines):
                origin = origin_clean(line)
                if origin is None:
                    errors.setdefault(name, []).append(
                        _("“%(value)s” is not a website address like https://example.com.")
                        % {"value": line[:100]}
                    )
                elif origin not in origins:
                    origins.append(origin)
            cleaned[name] = "\n".join(origins)
        elif name == "language":
            if value not in dict(settings.LANGUAGES):
                errors[name] = [_("Choose one of the languages.")]
            cleaned[name] = value
        elif name == "is_active":
            cleaned[name] = bool(value)
        elif name in ("owner", "team"):
            cleaned[name] = value
    if "owner" in cleaned and cleaned["owner"] is None:
        errors["owner"] = [_("Choose who receives the leads.")]
    elif "owner" in cleaned and not cleaned["owner"].is_active:
        errors["owner"] = [_("This user is deactivated.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def web_form_create(
    *,
    actor: Any,
    name: str,
    owner: Any,
    team: Any = None,
    fields: list[str] | None = None,
    success_message: str = "",
    allowed_origins: str = "",
    language: str = "",
    source_campaign: str = "",
    is_active: bool = True,
) -> WebForm:
    """A new web form with a fresh secret key; its leads go to `owner` in `team`
    (default: the owner's team)."""
    if not can_manage_web_forms(actor):
        raise NotPermitted(action="create", resource="web_form")
    cleaned = _clean(
        {
            "name": name,
            "owner": owner,
            "team": team,
            "fields": fields if fields is not None else FORM_FIELDS,
            "success_message": success_message,
            "allowed_origins": allowed_origins,
            "language": language or settings.LANGUAGE_CODE,
            "source_campaign": source_campaign,
            "is_active": is_active,
        }
    )
    form = WebForm.objects.create(**cleaned, key=web_form_key_new())
    audit_record(
        action=Action.CREATE,
        subject=form,
        actor=actor,
        changes=diff({}, snapshot(form, EDITABLE)),
    )
    return form


@transaction.atomic
def web_form_update(
    *,
    actor: Any,
    form: WebForm,
    expected_version: int | None = None,
    rotate_key: bool = False,
    **changes: Any,
) -> WebForm:
    if not can_manage_web_forms(actor):
        raise NotPermitted(action="update", resource="web_form")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = WebForm.objects.select_for_update().filter(pk=form.pk).first()
    if locked is None:
        raise NotFound(resource="web_form", id=form.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    cleaned = _clean(changes)
    before = snapshot(locked, EDITABLE)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, EDITABLE))
    fields = list(changed)
    if rotate_key:
        locked.key = web_form_key_new()
        fields.append("key")
        changed["key"] = ["…", "…"]  # the secret itself stays out of the log
    if fields:
        locked.version += 1
        locked.save(update_fields=[*fields, "version", "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked
