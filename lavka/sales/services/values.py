"""Input values the sales services share: text, numbers, money, currencies, dates,
and a line's total. Each cleaner adds a message under the field's name to `errors`
instead of raising, so that a form shows every bad field at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from lavka.sales.selectors.catalogue import money

Errors = dict[str, list[str]]
MONEY_LIMIT = Decimal("1e15")
QUANTITY_LIMIT = Decimal("1e11")


def text_clean(value: Any, name: str, limit: int, errors: Errors, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        errors.setdefault(name, []).append(_("At most %(max)s characters.") % {"max": limit})
    elif required and not text:
        errors.setdefault(name, []).append(_("This field is required."))
    return text


def decimal_clean(
    value: Any,
    name: str,
    errors: Errors,
    *,
    places: int = 2,
    limit: Decimal = MONEY_LIMIT,
    required: bool = False,
    allow_zero: bool = True,
) -> Decimal | None:
    """A non-negative number below `limit`, rounded half up to `places` decimals.
    Accepts Decimal, int, or text with a comma or spaces ("1 234,50")."""
    if value is None or value == "":
        if required:
            errors.setdefault(name, []).append(_("Enter a number."))
        return None
    try:
        number = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        errors.setdefault(name, []).append(_("Enter a number."))
        return None
    if not number.is_finite() or number < 0 or number >= limit:
        errors.setdefault(name, []).append(
            _("Enter a number from 0 up to %(max)s.") % {"max": f"{int(limit):,}"}
        )
        return None
    if not allow_zero and number == 0:
        errors.setdefault(name, []).append(_("Enter a number greater than zero."))
        return None
    return number.quantize(Decimal(1).scaleb(-places))


def percent_clean(value: Any, name: str, errors: Errors) -> Decimal:
    number = decimal_clean(value, name, errors)
    if number is not None and number > 100:
        errors.setdefault(name, []).append(_("Enter a percentage from 0 to 100."))
        return Decimal(0)
    return number or Decimal(0)


def whole_percent_clean(value: Any, name: str, errors: Errors) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 100:
        errors.setdefault(name, []).append(_("Enter a whole percentage from 0 to 100."))
        return 0
    return number


def currency_clean(value: Any, name: str, errors: Errors) -> str:
    code = "" if value is None else str(value).strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        errors.setdefault(name, []).append(_("Use a three-letter currency code, e.g. RUB."))
    return code


def date_clean(value: Any, name: str, errors: Errors, *, required: bool = False) -> dt.date | None:
    if value is None or value == "":
        if required:
            errors.setdefault(name, []).append(_("Enter a date."))
        return None
    if isinstance(value, dt.datetime):
        errors.setdefault(name, []).append(_("Enter a date without a time."))
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


def line_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """A line's total: quantity × unit price less the discount, in cents (half up)."""
    return money(quantity * unit_price * (Decimal(100) - discount_percent) / Decimal(100))
