"""Checking and normalising what identifies a client: emails, phones (E.164 with
`phonenumbers`), tax identifiers (checksums with `python-stdnum`), and the case-folded
search text."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils.translation import gettext as _
from phonenumbers.phonemetadata import PhoneMetadata
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


class BadValue(ValueError):
    """A value that cannot be accepted; `str()` is the message for the user."""


# Django's own email patterns, compiled once: its validator reaches them through lazy
# objects, which costs more than the match itself when a million rows are imported.
_EMAIL_USER = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
_EMAIL_DOMAIN = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)


def email_normalised(value: str) -> str:
    value = value.strip().lower()
    if not value:
        return ""
    if len(value) <= 320 and "@" in value:
        user, domain = value.rsplit("@", 1)
        if _EMAIL_USER.match(user) and _EMAIL_DOMAIN.match(domain):
            return value  # what validate_email accepts; anything else it decides below
    try:
        validate_email(value)
    except ValidationError:
        raise BadValue(_("“%(value)s” is not a valid email address.") % {"value": value}) from None
    return value


# The commonest way a Russian number is written: +7, 7 or 8, then ten digits starting
# 3, 4, 8 or 9, with spaces, dashes, dots or brackets between them.
_RU_PHONE = re.compile(r"(\+7|7|8)[ ().-]*([3489](?:[ ().-]*[0-9]){9})[ ().-]*\Z")
_RU_SEPARATORS = re.compile(r"[ ().-]")


def _number_descs(region: str) -> tuple[Any, list[Any]]:
    """(general, [every number type]) of a region, each as (lengths, compiled
    pattern): what `phonenumbers.is_valid_number` matches a national number against."""
    metadata = PhoneMetadata.metadata_for_region(region)

    def compiled(desc: Any) -> Any:
        if desc is None or not desc.national_number_pattern:
            return None
        return (tuple(desc.possible_length), re.compile(desc.national_number_pattern))

    types = [
        getattr(metadata, name)
        for name in (
            "mobile",
            "fixed_line",
            "toll_free",
            "premium_rate",
            "shared_cost",
            "voip",
            "personal_number",
            "pager",
            "uan",
            "voicemail",
        )
    ]
    assert metadata is not None  # RU metadata ships with phonenumbers
    return compiled(metadata.general_desc), [d for d in map(compiled, types) if d is not None]


_RU_GENERAL, _RU_TYPES = _number_descs("RU")


def _matches(national: str, desc: Any) -> bool:
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def _phone_ru_fast(value: str) -> str | None:
    """E.164 of a number in the commonest Russian form without `phonenumbers.parse`
    (nine tenths of the cost of a phone), or None when the full parse must decide.

    For these inputs parse yields country code 7 and these ten digits (the national
    prefix 8 is stripped, +7 and 7 are the country code: 810 is the only international
    prefix and no Russian number starts with 1), and `is_valid_number` is true exactly
    when the digits match the Russian general pattern and one of its number types (RU
    is tried first for +7 and then re-checked). tests/clients/test_identifiers.py
    compares the two on thousands of numbers."""
    match = _RU_PHONE.match(value)
    if match is None:
        return None
    national = _RU_SEPARATORS.sub("", match[2])
    if not _matches(national, _RU_GENERAL) or not any(_matches(national, d) for d in _RU_TYPES):
        return None
    return "+7" + national


def phone_normalised(value: str, region: str | None = None) -> str:
    """A phone number in E.164 (+74951234567), from whatever way it was typed."""
    value = value.strip()
    if not value:
        return ""
    region = region or settings.PHONE_REGION
    if region == "RU":
        fast = _phone_ru_fast(value)
        if fast is not None:
            return fast
    return _phone_parsed(value, region)


def _phone_parsed(value: str, region: str) -> str:
    """phone_normalised by the full `phonenumbers` parse (any country, any form)."""
    try:
        number = phonenumbers.parse(value, region)
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


_INN_DIGITS = re.compile(r"[0-9]{10}(?:[0-9]{2})?\Z")


def inn_normalised(value: str) -> str:
    value = re.sub(r"\s", "", value)
    if not value:
        return ""
    # The checksum of a plain 10- or 12-digit INN by python-stdnum's own functions,
    # without its slower clean-up of the input; anything else goes through validate.
    if _INN_DIGITS.match(value) and (
        ru_inn.calc_company_check_digit(value) == value[-1]
        if len(value) == 10
        else ru_inn.calc_personal_check_digits(value) == value[-2:]
    ):
        return value
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


def folded(*parts: str) -> str:
    """Case-folded text for search (Cyrillic included), ё as е, single spaces."""
    text = " ".join(filter(None, parts)).casefold().replace("ё", "е")
    # split() breaks at exactly what the regex \s matches: the same as collapsing
    # \s+ to one space and stripping, several times faster.
    return " ".join(text.split())


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
