"""Formatting for people: money, numbers and relative times in the user's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils import formats, translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _lazy

from lavka.web.templatetags.icon_paths import ICONS, UNKNOWN
from lavka.web.templatetags.times import time_html

register = template.Library()

SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "KZT": "₸", "BYN": "Br"}


@register.filter
def money(amount: Any, currency: str = "RUB") -> str:
    """1 234 567,50 ₽ in Russian; ₽1,234,567.50 in English."""
    if amount in (None, ""):
        return ""
    value = Decimal(str(amount))
    number = formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    symbol = SYMBOLS.get(currency, currency)
    if translation.get_language() == "ru":
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{number}" if len(symbol) == 1 else f"{number}\u00a0{symbol}"


@register.filter
def num(value: Any, decimals: int = 0) -> str:
    if value in (None, ""):
        return ""
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


@register.filter
def ago(value: dt.datetime | None) -> str:
    """ "3 days ago" / "3 дня назад", with Russian case forms right (Django's naturaltime)."""
    if value is None:
        return ""
    from django.contrib.humanize.templatetags.humanize import naturaltime

    return str(naturaltime(value))


def _model_field(name: str) -> Any:
    """The model field an audit change's name refers to, if any (first model that has it)."""
    from lavka.clients.models import Address, Client, Contract, Person
    from lavka.identity.models import Role, Team, User

    for model in (Client, Person, Contract, Address, User, Team, Role):
        try:
            return model._meta.get_field(name)
        except Exception:  # noqa: S112 - not a field of this model; try the next
            continue
    return None


@register.filter
def audit_value(value: Any, name: str = "") -> str:
    """A value from an audit event's changes, as a person reads it: related records by
    their label, choices by their translated label, amounts with digit grouping."""
    from django.utils.translation import gettext as _

    if value is None or value == {} or value == []:
        return ""
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, dict):
        return "; ".join(f"{k}: {audit_value(v)}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    field = _model_field(str(name).split(".", 1)[0]) if name else None
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if field is not None and field.get_internal_type() == "DecimalField":
        try:
            return num(Decimal(str(value)), field.decimal_places if Decimal(str(value)) % 1 else 0)
        except ArithmeticError:
            return str(value)
    return str(value)


# Names that audit events use for a record's collections, beyond its model fields.
COLLECTION_LABELS: dict[str, Any] = {
    "contracts": _lazy("Contracts"),
    "addresses": _lazy("Address"),
    "files": _lazy("Files"),
    "people": _lazy("People"),
    "important_dates": _lazy("Important dates"),
    "custom": _lazy("Personal details"),
    "tags": _lazy("Tags"),
    "contact_points": _lazy("Contact"),
    "consent": _lazy("Consent"),
    "grants": _lazy("Record access"),
    "capabilities": _lazy("Capabilities"),
    "scope": _lazy("Access"),
}


@register.filter
def field_label(name: str) -> str:
    """The label a person reads for a field name in an audit event's changes: the
    model field's own verbose name where there is one ("tier" -> "Tier")."""
    from django.utils.text import capfirst

    from lavka.clients.models import Client, Contract, Person
    from lavka.identity.models import Role, Team, User

    base = str(name).split(".", 1)[0]
    if base in COLLECTION_LABELS:
        label = str(COLLECTION_LABELS[base])
        suffix = str(name)[len(base) + 1 :]
        return f"{label}: {suffix}" if suffix else label
    for model in (Client, Person, Contract, User, Team, Role):
        try:
            return str(capfirst(model._meta.get_field(base).verbose_name))  # type: ignore[union-attr]
        except Exception:  # noqa: S112 - not a field of this model; try the next
            continue
    return str(name)


_ICON_OPEN = (
    '<svg class="icon{}" width="16" height="16" viewBox="0 0 24 24" fill="none" '
    'stroke="currentColor" stroke-width="1.75" stroke-linecap="round" '
    'stroke-linejoin="round" aria-hidden="true" focusable="false">'
)
_ICONS_DRAWN: dict[tuple[str, str], SafeString] = {}


@register.simple_tag
def icon(name: Any, css_class: Any = "") -> SafeString:
    """An icon by name (lavka.web.templatetags.icon_paths), with an extra CSS class:
    the same SVG as `{% include "web/_icon.html" with name=... class=... %}`, drawn
    once per name and class instead of through the include's chain of ifs."""
    key = (str(name), str(css_class or ""))
    svg = _ICONS_DRAWN.get(key)
    if svg is None:
        extra = f" {conditional_escape(css_class)}" if css_class else ""
        paths = ICONS.get(key[0], UNKNOWN)
        svg = mark_safe(_ICON_OPEN.format(extra) + paths + "</svg>")  # noqa: S308
        if len(_ICONS_DRAWN) < 1000:
            _ICONS_DRAWN[key] = svg
    return svg


# The icon of each kind of touchpoint (as web/timeline/_kind_icon.html draws them).
KIND_ICONS = {
    "call": "phone",
    "meeting": "users",
    "email": "mail",
    "message": "inbox",
    "note": "edit",
    "visit": "map-pin",
}


@register.filter
def kind_icon(kind: Any) -> str:
    """The icon name for a touchpoint kind: `{% icon tp.kind|kind_icon %}`."""
    return KIND_ICONS.get(str(kind), "activity")


@register.simple_tag
def time_of(value: Any) -> SafeString:
    """The markup of `{% include "web/_time.html" with value=value %}`, from a
    formatter that remembers the date pieces and relative times it has written."""
    return time_html(value)


@register.simple_tag
def field_html(form: Any, name: str) -> SafeString:
    """`{% include "web/_field.html" with field=form.<name> %}`, or the field's
    remembered HTML when the view has set `form.field_html`
    (lavka.web.views.card.remember_each_field_html)."""
    remembered = getattr(form, "field_html", None)
    if remembered is not None and name in remembered:
        return mark_safe(remembered[name])  # noqa: S308 - rendered by web/_field.html
    return mark_safe(get_template("web/_field.html").render({"field": form[name]}))  # noqa: S308
