"""Checking and normalising what identifies a client: emails, phones (E.164 with
`phonenumbers`), tax identifiers (checksums with `python-stdnum`), and the case-folded
search text."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


class BadValue(ValueError):
    """A value that cannot be accepted; `str()` is the message for the user."""


def email_normalised(value: str) -> str:
    value = value.strip().lower()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise BadValue(_("“%(value)s” is not a valid email address.") % {"value": value}) from None
    return value


def phone_normalised(value: str, region: str | None = None) -> str:
    """A phone number in E.164 (+74951234567), from whatever way it was typed."""
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise BadValue(_("“%(value)s” is not a phone number.") % {"value": value}) from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise BadValue(_("“%(value)s” is not a valid phone number.") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """+74951234567 -> 8 (495) 123-45-67 at home, +1 650-253-0000 abroad."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    home = phonenumbers.country_code_for_region(settings.PHONE_REGION)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def phone_search_key(value: str) -> str:
    """The digits a person may type to find a phone: E.164 without the plus."""
    try:
        return phone_normalised(value).lstrip("+")
    except BadValue:
        return re.sub(r"\D", "", value)


def inn_normalised(value: str) -> str:
    value = re.sub(r"\s", "", value)
    if not value:
        return ""
    try:
        return ru_inn.validate(value)
    except stdnum_errors.ValidationError:
        raise BadValue(
            _("INN “%(value)s” is not valid: check the digits.") % {"value": value}
        ) from None


def kpp_normalised(value: str) -> str:
    value = re.sub(r"\s", "", value).upper()
    if value and not KPP.match(value):
        raise BadValue(_("KPP “%(value)s” is not valid: it has 9 characters.") % {"value": value})
    return value


def ogrn_normalised(value: str) -> str:
    value = re.sub(r"\s", "", value)
    if not value:
        return ""
    try:
        return ru_ogrn.validate(value)
    except stdnum_errors.ValidationError:
        raise BadValue(
            _("OGRN “%(value)s” is not valid: check the digits.") % {"value": value}
        ) from None


def vat_normalised(value: str) -> str:
    value = re.sub(r"[\s.-]", "", value).upper()
    if not value:
        return ""
    try:
        return eu_vat.validate(value)
    except stdnum_errors.ValidationError:
        raise BadValue(_("VAT number “%(value)s” is not valid.") % {"value": value}) from None


_SPACES = re.compile(r"\s+")


def folded(*parts: str) -> str:
    """Case-folded text for search (Cyrillic included), ё as е, single spaces."""
    text = " ".join(p for p in parts if p)
    return _SPACES.sub(" ", text.casefold().replace("ё", "е")).strip()


# GOST 7.79-2000 system B / ICAO-like: one Latin spelling per Cyrillic letter.
CYR_TO_LAT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
}
