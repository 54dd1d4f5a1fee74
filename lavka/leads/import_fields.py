"""The fields a lead import maps a file's columns to, with the header names each is
recognised by (Russian and English; the column names of Bitrix24's, amoCRM's and
HubSpot's lead exports, and of a web form's own table), and the words a file may
use for a lead's source."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from lavka.imports.mapping import auto_map_with, normalise, synonyms_index
from lavka.leads.models import Lead

# field -> (label, header synonyms); synonyms are matched after `normalise`.
LEAD_FIELDS: dict[str, tuple[object, list[str]]] = {
    "external_id": (
        _("External ID"),
        [
            "external id",
            "id",
            "lead id",
            "record id",
            "ид",
            "id лида",
            "id заявки",
            "номер заявки",
            "внешний id",
            "внешний идентификатор",
            "код",
        ],
    ),
    "company": (
        _("Company"),
        [
            "company",
            "company name",
            "organization",
            "organisation",
            "organization name",
            "account",
            "account name",
            "компания",
            "название компании",
            "организация",
            "наименование",
            "клиент",
        ],
    ),
    "contact_name": (
        _("Contact name"),
        [
            "contact name",
            "contact",
            "contact person",
            "name",
            "full name",
            "your name",
            "контакт",
            "контактное лицо",
            "фио",
            "имя контакта",
            "ваше имя",
        ],
    ),
    "first_name": (_("First name"), ["first name", "firstname", "given name", "имя"]),
    "middle_name": (_("Middle name"), ["middle name", "patronymic", "отчество"]),
    "last_name": (_("Last name"), ["last name", "lastname", "surname", "family name", "фамилия"]),
    "email": (
        _("Email"),
        [
            "email",
            "e mail",
            "email address",
            "work email",
            "электронная почта",
            "почта",
            "рабочий e mail",
            "рабочий email",
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
            "mobile",
            "mobile phone",
            "tel",
            "телефон",
            "рабочий телефон",
            "мобильный телефон",
            "мобильный",
            "номер телефона",
        ],
    ),
    "inn": (_("INN"), ["inn", "инн", "taxpayer id", "tax id", "инн компании"]),
    "message": (
        _("Message"),
        [
            "message",
            "comment",
            "comments",
            "notes",
            "description",
            "enquiry",
            "inquiry",
            "request",
            "сообщение",
            "комментарий",
            "примечание",
            "описание",
            "текст заявки",
            "вопрос",
        ],
    ),
    "source": (_("Source"), ["source", "lead source", "источник", "источник лида", "канал"]),
    "campaign": (
        _("Campaign"),
        ["campaign", "campaign name", "кампания", "рекламная кампания"],
    ),
    "utm_source": ("utm_source", ["utm source", "метка utm source"]),
    "utm_medium": ("utm_medium", ["utm medium", "метка utm medium"]),
    "utm_campaign": ("utm_campaign", ["utm campaign", "метка utm campaign"]),
    "owner": (
        _("Owner"),
        [
            "owner",
            "lead owner",
            "responsible",
            "assigned to",
            "ответственный",
            "менеджер",
        ],
    ),
}
LEAD_IMPORTED_FIELDS = list(LEAD_FIELDS)
NAME_PARTS = ("last_name", "first_name", "middle_name")

_SYNONYMS = synonyms_index(LEAD_FIELDS)


def lead_auto_map(header: list[str]) -> dict[int, str]:
    """Column index -> lead field for the recognised column names (each field once,
    the first matching column wins)."""
    return auto_map_with(_SYNONYMS, header)


def lead_field_choices() -> list[tuple[str, str]]:
    return [(name, str(label)) for name, (label, _n) in LEAD_FIELDS.items()]


# Words for a source besides its code and its label in each language.
SOURCE_WORDS = {
    "website": Lead.Source.WEB_FORM,
    "site": Lead.Source.WEB_FORM,
    "form": Lead.Source.WEB_FORM,
    "сайт": Lead.Source.WEB_FORM,
    "форма": Lead.Source.WEB_FORM,
    "форма на сайте": Lead.Source.WEB_FORM,
    "заявка с сайта": Lead.Source.WEB_FORM,
    "by hand": Lead.Source.MANUAL,
    "вручную": Lead.Source.MANUAL,
    "call": Lead.Source.PHONE,
    "звонок": Lead.Source.PHONE,
    "телефон": Lead.Source.PHONE,
    "входящий звонок": Lead.Source.PHONE,
    "e mail": Lead.Source.EMAIL,
    "почта": Lead.Source.EMAIL,
    "письмо": Lead.Source.EMAIL,
    "электронная почта": Lead.Source.EMAIL,
    "exhibition": Lead.Source.EVENT,
    "trade show": Lead.Source.EVENT,
    "conference": Lead.Source.EVENT,
    "мероприятие": Lead.Source.EVENT,
    "выставка": Lead.Source.EVENT,
    "конференция": Lead.Source.EVENT,
    "recommendation": Lead.Source.REFERRAL,
    "рекомендация": Lead.Source.REFERRAL,
    "по рекомендации": Lead.Source.REFERRAL,
    "партнер": Lead.Source.REFERRAL,
    "импорт": Lead.Source.IMPORT,
    "другое": Lead.Source.OTHER,
    "прочее": Lead.Source.OTHER,
}


def source_words() -> dict[str, str]:
    """Normalised word -> source code: the codes, the labels in every language Lavka
    speaks, and SOURCE_WORDS."""
    words = {normalise(code): str(code) for code in Lead.Source.values}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in Lead.Source.choices:
                words.setdefault(normalise(str(label)), str(code))
    for word, code in SOURCE_WORDS.items():
        words.setdefault(normalise(word), str(code))
    return words
