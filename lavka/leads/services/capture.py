"""The public side: a website's form posts here, without a login.

Checks, in order: the website (the Origin header must be one of the form's allowed
origins, or Lavka's own for the hosted page; a request without Origin, i.e. not from
a browser page, passes), the rate limits (per address and form, and per form, in the
cache: see throttle.py), the honeypot (a filled trap field gets the normal success
answer and no lead), then the fields, with messages in the form's language.

The lead belongs to the form's owner and team, and the owner is notified; the audit
event names no user (the actor is the website), with the form and the address in its
meta."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from lavka.core.errors import ValidationFailed
from lavka.leads.errors import CaptureRefused, CaptureThrottled
from lavka.leads.models import Lead, WebForm
from lavka.leads.services.leads import lead_created_publish
from lavka.leads.services.values import Errors, lead_fields_clean, lead_identity_check
from lavka.leads.throttle import throttle_hit
from lavka.notifications.services import notify

# The trap: a field people never see (hidden by the snippet's markup and styles) and
# bots, which fill every input, do. Its name looks like one worth filling.
HONEYPOT = "website"
# Per address (and form): a person sends a form once or twice; an office behind one
# address a few more times.
IP_LIMIT = 10
IP_WINDOW = 600
# Per form: a flood from many addresses stops here.
FORM_LIMIT = 300
FORM_WINDOW = 3600
# A submission larger than this is refused before it is read.
BODY_LIMIT = 16 * 1024
UTM_FIELDS = ["utm_source", "utm_medium", "utm_campaign"]


@dataclass
class Capture:
    lead: Lead | None  # None for a bot caught by the honeypot
    message: str


ALTERNATIVES = {
    "contact_name": ["company"],
    "company": ["contact_name"],
    "email": ["phone"],
    "phone": ["email"],
}


def _shown_field(name: str, shown: list[str]) -> str:
    """Where a message about `name` goes on a form that may not show that field."""
    if name in shown:
        return name
    return next((alt for alt in ALTERNATIVES.get(name, []) if alt in shown), shown[0])


def origin_allowed(form: WebForm, origin: str, *, own_origin: str) -> bool:
    if not origin:
        return True
    origin = origin.strip().rstrip("/").lower()
    return origin == own_origin.lower() or origin in form.origins


def success_message(form: WebForm) -> str:
    with translation.override(form.language):
        return form.success_message or _("Thank you! We have received your request.")


def lead_capture(
    *,
    form: WebForm,
    data: Mapping[str, Any],
    ip: str | None,
    origin: str = "",
    own_origin: str = "",
    page_url: str = "",
) -> Capture:
    """Take one submission of `form`. Raises CaptureRefused (403), CaptureThrottled
    (429) or ValidationFailed (422, messages in the form's language)."""
    with translation.override(form.language):
        if not form.is_active or not origin_allowed(form, origin, own_origin=own_origin):
            raise CaptureRefused()
        if not throttle_hit(
            f"ip:{form.key}:{ip or '-'}", limit=IP_LIMIT, window=IP_WINDOW
        ) or not throttle_hit(f"form:{form.key}", limit=FORM_LIMIT, window=FORM_WINDOW):
            raise CaptureThrottled()
        message = success_message(form)
        if str(data.get(HONEYPOT) or "").strip():
            return Capture(lead=None, message=message)
        shown = form.shown_fields
        values = {name: data.get(name, "") for name in shown}
        values.update({name: data.get(name, "") for name in UTM_FIELDS})
        errors: Errors = {}
        cleaned = lead_fields_clean(values, errors)
        lead_identity_check(cleaned, errors)
        # Messages only under fields the form shows, so that a person sees them.
        for name in [n for n in errors if n not in shown and n not in UTM_FIELDS]:
            errors.setdefault(_shown_field(name, shown), []).extend(errors.pop(name))
        for name in UTM_FIELDS:
            if name in errors:  # a too-long tag is cut, never a reason to lose the lead
                errors.pop(name)
                cleaned[name] = str(data.get(name, ""))[:100].strip()
        if errors:
            raise ValidationFailed(fields=errors)
        with transaction.atomic():
            lead = Lead(
                **cleaned,
                source=Lead.Source.WEB_FORM,
                web_form=form,
                campaign=form.source_campaign or cleaned.get("utm_campaign", ""),
                page_url=page_url[:500],
                owner_id=form.owner_id,
                team_id=form.team_id or form.owner.team_id,
            )
            lead.search_text = lead.search_text_of()
            lead.save()
            lead_created_publish(
                lead, actor=None, meta={"via": "web_form", "web_form": form.pk, "ip": ip}
            )
            _tell_owner(lead, form)
        return Capture(lead=lead, message=message)


def _tell_owner(lead: Lead, form: WebForm) -> None:
    """The form's owner hears of the new lead (the bell in the top bar), in their own
    language, with a link to it: nobody watches the lead list all day."""
    owner = form.owner
    with translation.override(getattr(owner, "language", "") or settings.LANGUAGE_CODE):
        notify(
            recipient=owner,
            title=_("New lead from “%(form)s”: %(name)s")
            % {"form": form.name, "name": lead.display_name},
            body=lead.message[:300],
            url=f"/sales/leads/{lead.pk}/",
        )
