"""Checking and normalising a lead's fields, shared by every way a lead is written
(by hand, the API, the public form, import): one set of rules, messages per field in
the active language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from lavka.clients import identifiers
from lavka.leads.models import Lead

Errors = dict[str, list[str]]

LIMITS = {
    "company": 200,
    "contact_name": 200,
    "email": 254,
    "phone": 40,
    "inn": 12,
    "message": 5000,
    "campaign": 100,
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
    "page_url": 500,
    "disqualify_reason": 300,
}
TEXT_FIELDS = list(LIMITS)
NORMALISERS = {
    "email": identifiers.email_normalised,
    "phone": identifiers.phone_normalised,
    "inn": identifiers.inn_normalised,
}


def lead_fields_clean(fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """Strip, limit and normalise (email lower-case, phone E.164, INN checksum) the
    given fields; a bad one adds a message under its name to `errors`."""
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name in TEXT_FIELDS:
            text = "" if value is None else str(value).strip()
            if name != "message":
                text = " ".join(text.split())
            if len(text) > LIMITS[name]:
                errors.setdefault(name, []).append(
                    _("At most %(max)s characters.") % {"max": LIMITS[name]}
                )
                continue
            if name in NORMALISERS and text:
                try:
                    text = NORMALISERS[name](text)
                except identifiers.BadValue as exc:
                    errors.setdefault(name, []).append(str(exc))
                    continue
            cleaned[name] = text
        elif name == "source":
            if value not in Lead.Source.values:
                errors.setdefault(name, []).append(_("Choose one of the sources."))
                continue
            cleaned[name] = value
        else:
            errors.setdefault(name, []).append(_("Unknown field."))
    return cleaned


def lead_identity_check(values: dict[str, Any], errors: Errors) -> None:
    """A lead needs a name (company or contact) and a way to reach them."""
    if (
        not values.get("company")
        and not values.get("contact_name")
        and "contact_name" not in errors
    ):
        errors.setdefault("contact_name", []).append(_("Enter a contact name or a company."))
    if not (values.get("email") or values.get("phone") or "email" in errors or "phone" in errors):
        errors.setdefault("email", []).append(_("Enter an email or a phone number."))
