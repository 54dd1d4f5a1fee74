"""Mapping a file's columns to Lavka's client fields.

Headers are matched after normalising (case, ё/е, punctuation), against names in
English and Russian and the column names of HubSpot, Salesforce, Bitrix24 and amoCRM
exports.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _

# field -> (label, header synonyms). Synonyms are written normalised (see `normalise`).
CLIENT_FIELDS: dict[str, tuple[object, list[str]]] = {
    "external_id": (
        _("External ID"),
        [
            "external id",
            "id",
            "uid",
            "record id",
            "account id",
            "company id",
            "contact id",
            "ид",
            "id компании",
            "id контакта",
            "внешний id",
            "внешний идентификатор",
            "код",
        ],
    ),
    "kind": (
        _("Kind (organisation or person)"),
        ["kind", "type", "client type", "тип", "тип клиента", "вид"],
    ),
    "name": (
        _("Name"),
        [
            "name",
            "company",
            "company name",
            "account name",
            "organization",
            "organisation",
            "organization name",
            "full name",
            "fn",
            "название",
            "наименование",
            "компания",
            "название компании",
            "организация",
            "фио",
            "клиент",
            "имя клиента",
        ],
    ),
    "legal_name": (
        _("Legal name"),
        ["legal name", "полное наименование", "юридическое название", "юр название"],
    ),
    "first_name": (_("First name"), ["first name", "firstname", "given name", "имя"]),
    "last_name": (_("Last name"), ["last name", "lastname", "surname", "family name", "фамилия"]),
    "middle_name": (_("Middle name"), ["middle name", "patronymic", "отчество"]),
    "email": (
        _("Email"),
        [
            "email",
            "e mail",
            "email address",
            "work email",
            "primary email",
            "электронная почта",
            "почта",
            "рабочий e mail",
            "рабочий email",
            "e mail рабочий",
            "адрес электронной почты",
        ],
    ),
    "phone": (
        _("Phone"),
        [
            "phone",
            "phone number",
            "telephone",
            "work phone",
            "business phone",
            "tel",
            "телефон",
            "рабочий телефон",
            "телефон рабочий",
            "номер телефона",
        ],
    ),
    "mobile": (
        _("Mobile phone"),
        [
            "mobile",
            "mobile phone",
            "mobile phone number",
            "cell",
            "мобильный",
            "мобильный телефон",
            "телефон мобильный",
        ],
    ),
    "website": (
        _("Website"),
        [
            "website",
            "web site",
            "website url",
            "url",
            "site",
            "сайт",
            "корпоративный сайт",
            "веб сайт",
        ],
    ),
    "industry": (_("Industry"), ["industry", "отрасль", "сфера деятельности", "вид деятельности"]),
    "size": (
        _("Company size"),
        [
            "size",
            "employees",
            "number of employees",
            "кол во сотрудников",
            "количество сотрудников",
            "размер",
        ],
    ),
    "annual_revenue": (
        _("Annual revenue"),
        ["annual revenue", "revenue", "годовой оборот", "выручка", "годовая выручка", "оборот"],
    ),
    "currency": (_("Currency"), ["currency", "валюта"]),
    "inn": (_("INN"), ["inn", "инн", "taxpayer id", "инн компании"]),
    "kpp": (_("KPP"), ["kpp", "кпп"]),
    "ogrn": (_("OGRN"), ["ogrn", "огрн", "огрнип"]),
    "vat": (_("VAT number"), ["vat", "vat number", "vat id", "ндс номер"]),
    "preferred_channel": (
        _("Preferred channel"),
        ["preferred channel", "preferred contact method", "предпочтительный канал", "канал связи"],
    ),
    "preferred_time": (
        _("Preferred time"),
        ["preferred time", "best time to call", "удобное время", "время для звонка"],
    ),
    "payment_terms_days": (
        _("Payment terms (days)"),
        ["payment terms", "payment terms days", "отсрочка платежа", "отсрочка", "отсрочка дней"],
    ),
    "price_list": (_("Price list"), ["price list", "price book", "прайс лист", "прайс"]),
    "discount_percent": (
        _("Discount, %"),
        ["discount", "discount percent", "скидка", "скидка процент"],
    ),
    "credit_limit": (_("Credit limit"), ["credit limit", "кредитный лимит", "лимит кредита"]),
    "bank_name": (_("Bank"), ["bank", "bank name", "банк", "наименование банка"]),
    "bank_bic": (_("BIC"), ["bic", "bik", "swift", "бик", "бик банка"]),
    "bank_account": (
        _("Account number"),
        ["bank account", "account number", "расчетный счет", "р с", "номер счета"],
    ),
    "bank_correspondent_account": (
        _("Correspondent account"),
        ["correspondent account", "bank correspondent account", "корр счет", "к с", "корсчет"],
    ),
    "address_kind": (
        _("Address type"),
        ["address type", "address kind", "тип адреса", "вид адреса"],
    ),
    "country": (_("Country"), ["country", "billing country", "mailing country", "страна"]),
    "region": (
        _("Region"),
        [
            "region",
            "state",
            "state region",
            "billing state province",
            "mailing state province",
            "область",
            "регион",
            "край",
        ],
    ),
    "city": (_("City"), ["city", "billing city", "mailing city", "город", "населенный пункт"]),
    "postcode": (
        _("Postcode"),
        [
            "postcode",
            "postal code",
            "zip",
            "zip code",
            "billing zip postal code",
            "mailing zip postal code",
            "индекс",
            "почтовый индекс",
        ],
    ),
    "street": (
        _("Street address"),
        [
            "street",
            "street address",
            "address",
            "billing street",
            "mailing street",
            "adr",
            "адрес",
            "улица",
            "юридический адрес",
        ],
    ),
    "owner": (
        _("Owner"),
        [
            "owner",
            "account owner",
            "contact owner",
            "company owner",
            "hubspot owner",
            "ответственный",
            "менеджер",
        ],
    ),
    "tier": (_("Tier"), ["tier", "category", "segment", "категория", "сегмент", "тип клиента vip"]),
    "tags": (_("Tags"), ["tags", "tag", "labels", "теги", "тег", "метки"]),
    "notes": (
        _("Notes"),
        [
            "notes",
            "note",
            "description",
            "comment",
            "comments",
            "комментарий",
            "примечание",
            "описание",
        ],
    ),
    "contact_name": (
        _("Contact person"),
        ["contact", "contact name", "contact person", "контакт", "контактное лицо"],
    ),
    "contact_title": (_("Contact's job title"), ["job title", "title", "position", "должность"]),
    "contact_email": (_("Contact's email"), ["contact email", "email контакта", "e mail контакта"]),
    "contact_phone": (_("Contact's phone"), ["contact phone", "телефон контакта"]),
    "birthday": (
        _("Birthday"),
        ["birthday", "date of birth", "birthdate", "bday", "день рождения", "дата рождения"],
    ),
}

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalise(header: str) -> str:
    text = header.replace("\ufeff", "").lower().replace("ё", "е").replace("_", " ")
    return _NON_WORD.sub(" ", text).strip()


def synonyms_index(fields: dict[str, tuple[Any, list[str]]]) -> dict[str, str]:
    """Normalised header name -> field, from {field: (label, header synonyms)}; a field's
    own name counts as one of its synonyms, and the first field to claim a name keeps it."""
    index: dict[str, str] = {}
    for field, (_label, names) in fields.items():
        index[normalise(field)] = field
        for name in names:
            index.setdefault(normalise(name), field)
    return index


def auto_map_with(synonyms: dict[str, str], header: list[str]) -> dict[int, str]:
    """Column index -> field for the columns whose names `synonyms` knows; each field is
    mapped at most once (the first matching column wins)."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, name in enumerate(header):
        field = synonyms.get(normalise(name))
        if field and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping


_SYNONYMS = synonyms_index(CLIENT_FIELDS)


def auto_map(header: list[str]) -> dict[int, str]:
    """Column index -> client field for the columns whose names are recognised."""
    return auto_map_with(_SYNONYMS, header)
