"""Formatting for people: money, numbers and relative times in the user's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats, translation

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


@register.filter
def audit_value(value: Any) -> str:
    """A value from an audit event's changes, as a person reads it."""
    if value is None:
        return ""
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, bool):
        from django.utils.translation import gettext as _

        return _("yes") if value else _("no")
    return str(value)
