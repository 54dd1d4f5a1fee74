"""Formatting for people: money, numbers and relative times in the user's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats, timezone, translation
from django.utils.timesince import timesince

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
    """ "3 days ago" / "3 дня назад"."""
    if value is None:
        return ""
    from django.utils.translation import gettext as _

    if timezone.now() - value < dt.timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(value, depth=1)}
