"""Turning a file row into cleaned client values, or the list of its problems.

`RowCleaner.clean_cells` needs no database, so the command line runs it in worker
processes; `RowCleaner.resolve` looks up owners and tiers (cached)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.utils.translation import gettext as _

from lavka.clients import identifiers
from lavka.clients.models import Address, Client, Tier
from lavka.clients.services.blocks import COUNTRIES
from lavka.clients.services.core import client_fields_clean, search_text_for
from lavka.core.errors import ValidationFailed
from lavka.identity.access import Action as AccessAction
from lavka.identity.access import Area, can_access
from lavka.identity.models import User

# Fields that land on the client itself; the other importable ones are handled apart.
DIRECT_FIELDS = [
    "external_id",
    "kind",
    "name",
    "legal_name",
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "phone",
    "website",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "inn",
    "kpp",
    "ogrn",
    "vat",
    "city",
    "notes",
    # The rest of the four blocks, as the round-trip export writes them.
    "preferred_channel",
    "preferred_time",
    "payment_terms_days",
    "price_list",
    "discount_percent",
    "credit_limit",
    "bank_name",
    "bank_bic",
    "bank_account",
    "bank_correspondent_account",
]
EXTRA_FIELDS = ["mobile", "owner", "tier", "tags"]
# One address per row: the client's address of the row's type (or its main address
# when no type is given); the row's city is that address's city.
ADDRESS_FIELDS = ["country", "region", "postcode", "street", "address_kind"]
# One contact person per row (organisations only), with their job title there.
CONTACT_FIELDS = ["contact_name", "contact_title", "contact_email", "contact_phone"]
BLOCK_FIELDS = [*ADDRESS_FIELDS, *CONTACT_FIELDS, "birthday"]
IMPORTED_FIELDS = [*DIRECT_FIELDS, *EXTRA_FIELDS, *BLOCK_FIELDS]
MATCH_KEYS = ("external_id", "email", "inn")
SEARCH_FIELDS = (
    "name",
    "legal_name",
    "email",
    "phone",
    "inn",
    "ogrn",
    "vat",
    "city",
    "external_id",
)

KIND_WORDS = {
    "organisation": Client.Kind.ORGANISATION,
    "organization": Client.Kind.ORGANISATION,
    "company": Client.Kind.ORGANISATION,
    "org": Client.Kind.ORGANISATION,
    "организация": Client.Kind.ORGANISATION,
    "компания": Client.Kind.ORGANISATION,
    "юрлицо": Client.Kind.ORGANISATION,
    "юр лицо": Client.Kind.ORGANISATION,
    "юридическое лицо": Client.Kind.ORGANISATION,
    "person": Client.Kind.PERSON,
    "private person": Client.Kind.PERSON,
    "individual": Client.Kind.PERSON,
    "contact": Client.Kind.PERSON,
    "физлицо": Client.Kind.PERSON,
    "физ лицо": Client.Kind.PERSON,
    "физическое лицо": Client.Kind.PERSON,
    "частное лицо": Client.Kind.PERSON,
}


ADDRESS_KIND_WORDS = {
    "legal": Address.Kind.LEGAL,
    "registered": Address.Kind.LEGAL,
    "billing": Address.Kind.LEGAL,
    "юридический": Address.Kind.LEGAL,
    "юр": Address.Kind.LEGAL,
    "юридический адрес": Address.Kind.LEGAL,
    "postal": Address.Kind.POSTAL,
    "mailing": Address.Kind.POSTAL,
    "почтовый": Address.Kind.POSTAL,
    "почтовый адрес": Address.Kind.POSTAL,
    "delivery": Address.Kind.DELIVERY,
    "shipping": Address.Kind.DELIVERY,
    "доставка": Address.Kind.DELIVERY,
    "доставки": Address.Kind.DELIVERY,
    "адрес доставки": Address.Kind.DELIVERY,
    "office": Address.Kind.OFFICE,
    "офис": Address.Kind.OFFICE,
    "фактический": Address.Kind.OFFICE,
    "фактический адрес": Address.Kind.OFFICE,
}

# Country names people write instead of the ISO code the address keeps.
COUNTRY_WORDS = {
    "россия": "RU",
    "рф": "RU",
    "российская федерация": "RU",
    "russia": "RU",
    "russian federation": "RU",
    "беларусь": "BY",
    "белоруссия": "BY",
    "belarus": "BY",
    "казахстан": "KZ",
    "kazakhstan": "KZ",
    "узбекистан": "UZ",
    "uzbekistan": "UZ",
    "киргизия": "KG",
    "кыргызстан": "KG",
    "kyrgyzstan": "KG",
    "армения": "AM",
    "armenia": "AM",
    "азербайджан": "AZ",
    "azerbaijan": "AZ",
    "грузия": "GE",
    "georgia": "GE",
    "украина": "UA",
    "ukraine": "UA",
    "германия": "DE",
    "germany": "DE",
    "франция": "FR",
    "france": "FR",
    "италия": "IT",
    "italy": "IT",
    "испания": "ES",
    "spain": "ES",
    "финляндия": "FI",
    "finland": "FI",
    "китай": "CN",
    "china": "CN",
    "турция": "TR",
    "turkey": "TR",
    "türkiye": "TR",
    "сша": "US",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "великобритания": "GB",
    "united kingdom": "GB",
    "uk": "GB",
}

_PATRONYMIC = re.compile(r"(вич|вна|чна|оглы|кызы|улы)$")
_SURNAME = re.compile(r"(ов|ев|ёв|ин|ын|ова|ева|ёва|ина|ына|ский|цкий|ская|цкая|ой|ая|ко|юк|ук)$")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?\Z")
_DOT_DATE = re.compile(r"(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?\Z")
_VCARD_DATE = re.compile(r"(?:(\d{4})|--)(\d{2})(\d{2})\Z|--(\d{2})-(\d{2})\Z")


def name_split(full: str) -> dict[str, str]:
    """A person's full name as first, middle and last name. "Иванов Иван Петрович"
    (surname first, as Russian files write it) and "John Smith" both come out right;
    so does "Иван Петров" (a surname is recognised by its ending)."""
    parts = full.split()
    if not parts:
        return {"first_name": "", "middle_name": "", "last_name": ""}
    if len(parts) == 1:
        return {"first_name": parts[0], "middle_name": "", "last_name": ""}
    folded = [p.casefold() for p in parts]
    if len(parts) >= 3 and _PATRONYMIC.search(folded[2]):
        return {
            "last_name": parts[0],
            "first_name": parts[1],
            "middle_name": " ".join(parts[2:]),
        }
    if len(parts) >= 3 and _PATRONYMIC.search(folded[1]):
        return {"first_name": parts[0], "middle_name": parts[1], "last_name": " ".join(parts[2:])}
    if len(parts) == 2 and _SURNAME.search(folded[0]) and not _SURNAME.search(folded[1]):
        return {"last_name": parts[0], "first_name": parts[1], "middle_name": ""}
    return {"first_name": parts[0], "middle_name": " ".join(parts[1:-1]), "last_name": parts[-1]}


def date_parsed(value: str) -> tuple[int, int, int | None] | None:
    """(month, day, year or None) of a date written as DD.MM.YYYY, DD.MM, YYYY-MM-DD
    (with a time after it, as spreadsheets give dates), DD/MM/YYYY when the day is
    over 12 (otherwise which is the month cannot be told), or the vCard forms
    YYYYMMDD, --MMDD and --MM-DD; None when it is none of these or no real date."""
    text = value.strip()
    year: int | None
    found = _ISO_DATE.match(text)
    if found:
        year, month, day = int(found[1]), int(found[2]), int(found[3])
    elif found := _DOT_DATE.match(text):
        day, month = int(found[1]), int(found[2])
        year = int(found[3]) if found[3] else None
        if "/" in text and day <= 12 and month <= 12 and day != month:
            return None
    elif found := _VCARD_DATE.match(text):
        if found[4]:
            year, month, day = None, int(found[4]), int(found[5])
        else:
            year = int(found[1]) if found[1] else None
            month, day = int(found[2]), int(found[3])
    else:
        return None
    if year is not None and not 1900 <= year <= 2100:
        return None
    try:
        dt.date(year or 2000, month, day)  # 2000 is a leap year: 29 February is a date
    except ValueError:
        return None
    return month, day, year


def _word(value: str) -> str:
    return " ".join(identifiers.folded(value).replace("-", " ").split())


@dataclass
class RowProblem:
    row: int
    column: str
    value: str
    reason: str
    kind: str = "rejected"


class RowCleaner:
    """Turns a file row into cleaned client values, or the list of its problems.

    Caches the lookups (tiers, owners) so a million rows cost a handful of queries."""

    def __init__(self, *, actor: Any, header: list[str], fields: dict[int, str]) -> None:
        self.actor = actor
        self.header = header
        self.fields = fields
        self.field_items = sorted(fields.items())
        mapped = set(fields.values())
        self.direct = [n for n in DIRECT_FIELDS if n in mapped]
        self.address = [n for n in ADDRESS_FIELDS if n in mapped and n != "address_kind"]
        self.contact = [n for n in CONTACT_FIELDS if n in mapped]
        self.blocks = bool(mapped & set(BLOCK_FIELDS))
        self.columns = {
            name: header[i] if i < len(header) else str(i + 1) for i, name in fields.items()
        }
        self.tiers: dict[str, Tier] = {}
        for tier in Tier.objects.all():
            self.tiers[tier.code.casefold()] = tier
            self.tiers[tier.name.casefold()] = tier
            self.tiers[str(tier.display_name).casefold()] = tier
        self.owners: dict[str, User | None] = {}

    def owner(self, value: str) -> User | None:
        key = value.strip().casefold()
        if key not in self.owners:
            self.owners[key] = (
                User.objects.filter(username__iexact=key).first()
                or User.objects.filter(email__iexact=key).first()
            )
        return self.owners[key]

    def clean(self, number: int, cells: list[str]) -> tuple[dict[str, Any], list[RowProblem]]:
        raw, cleaned, problems = self.clean_cells(number, cells)
        return self.resolve(number, raw, cleaned, problems)

    def clean_cells(
        self, number: int, cells: list[str]
    ) -> tuple[dict[str, str], dict[str, Any], list[RowProblem]]:
        """The part of cleaning that needs no database (so it can run in another
        process): the client's own fields, tags, and the search text of a new client."""
        width = len(cells)
        raw = {name: cells[i].strip() if i < width else "" for i, name in self.field_items}
        problems: list[RowProblem] = []
        values: dict[str, Any] = {n: raw[n] for n in self.direct}
        values.setdefault("name", "")
        if "kind" in values:
            word = identifiers.folded(values["kind"]).strip() if values["kind"] else ""
            values["kind"] = KIND_WORDS.get(word.replace("-", " "), word) or (
                Client.Kind.ORGANISATION
            )
        if raw.get("mobile") and not values.get("phone"):
            values["phone"] = raw["mobile"]
        try:
            cleaned = client_fields_clean(values)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                column_field = name
                if name == "phone" and "phone" not in raw and "mobile" in raw:
                    column_field = "mobile"
                for message in messages:
                    problems.append(
                        RowProblem(
                            number,
                            self.columns.get(column_field, ""),
                            str(raw.get(column_field, ""))[:500],
                            str(message),
                        )
                    )
            cleaned = {}
        # An empty cell changes nothing: a new client gets the field's default, an
        # existing one keeps its value.
        cleaned = {k: v for k, v in cleaned.items() if v not in ("", None) or k == "name"}
        if self.address:
            self._clean_address(number, raw, cleaned, problems)
        if self.contact:
            self._clean_contact(number, raw, cleaned, problems)
        if raw.get("birthday"):
            birthday = date_parsed(raw["birthday"])
            if birthday is None:
                problems.append(
                    self._problem(
                        number,
                        "birthday",
                        raw,
                        _("“%(value)s” is not a date: write it as DD.MM.YYYY or YYYY-MM-DD.")
                        % {"value": raw["birthday"][:40]},
                    )
                )
            else:
                cleaned["_birthday"] = birthday
        if raw.get("tags"):
            parts = raw["tags"].replace(";", ",").split(",")
            cleaned["tags"] = sorted({p.strip()[:60] for p in parts if p.strip()}, key=str.casefold)
        if not problems:
            probe = SimpleNamespace(**{n: cleaned.get(n, "") for n in SEARCH_FIELDS})
            cleaned["_search"] = search_text_for(probe)  # type: ignore[arg-type]
        return raw, cleaned, problems

    def _problem(self, number: int, name: str, raw: dict[str, str], reason: str) -> RowProblem:
        return RowProblem(number, self.columns.get(name, ""), raw.get(name, "")[:500], reason)

    def _clean_address(
        self, number: int, raw: dict[str, str], cleaned: dict[str, Any], problems: list[RowProblem]
    ) -> None:
        """The row's address ("_address"), when it has any part besides the city."""
        if not any(raw.get(n) for n in self.address):
            return
        address: dict[str, Any] = {}
        for name in ("region", "postcode", "street"):
            value = " ".join(raw.get(name, "").split())
            limit = Address._meta.get_field(name).max_length or 300  # type: ignore[union-attr]
            if len(value) > limit:
                problems.append(
                    self._problem(
                        number, name, raw, _("At most %(max)s characters.") % {"max": limit}
                    )
                )
            address[name] = value
        country = raw.get("country", "")
        if country:
            code = COUNTRY_WORDS.get(_word(country), country.upper())
            if len(code) != 2 or code not in COUNTRIES:
                problems.append(
                    self._problem(
                        number,
                        "country",
                        raw,
                        _("Use a two-letter country code (ISO 3166), e.g. RU or DE."),
                    )
                )
            country = code
        address["country"] = country
        address["city"] = cleaned.get("city", "")
        kind = raw.get("address_kind", "")
        if kind:
            address["kind"] = ADDRESS_KIND_WORDS.get(_word(kind), kind.strip().lower())
            if address["kind"] not in Address.Kind.values:
                problems.append(
                    self._problem(
                        number,
                        "address_kind",
                        raw,
                        _("Choose legal, postal, delivery or office."),
                    )
                )
        cleaned["_address"] = address

    def _clean_contact(
        self, number: int, raw: dict[str, str], cleaned: dict[str, Any], problems: list[RowProblem]
    ) -> None:
        """The row's contact person ("_contact"): names, email, phone, job title."""
        if not any(raw.get(n) for n in self.contact):
            return
        name = " ".join(raw.get("contact_name", "").split())
        person: dict[str, Any] = name_split(name)
        for part in ("first_name", "middle_name", "last_name"):
            if len(person[part]) > 100:
                problems.append(
                    self._problem(
                        number, "contact_name", raw, _("At most %(max)s characters.") % {"max": 100}
                    )
                )
                break
        if not name:
            problems.append(
                self._problem(number, "contact_name", raw, _("Enter the contact person's name."))
            )
        for field, normalise in (
            ("contact_email", identifiers.email_normalised),
            ("contact_phone", identifiers.phone_normalised),
        ):
            try:
                person[field.removeprefix("contact_")] = normalise(raw.get(field, ""))
            except identifiers.BadValue as exc:
                problems.append(self._problem(number, field, raw, str(exc)))
        title = " ".join(raw.get("contact_title", "").split())
        if len(title) > 150:
            problems.append(
                self._problem(
                    number, "contact_title", raw, _("At most %(max)s characters.") % {"max": 150}
                )
            )
        person["job_title"] = title
        cleaned["_contact"] = person

    def resolve(
        self, number: int, raw: dict[str, str], cleaned: dict[str, Any], problems: list[RowProblem]
    ) -> tuple[dict[str, Any], list[RowProblem]]:
        """Owner and tier, which need the database (cached)."""
        if raw.get("owner"):
            owner = self.owner(raw["owner"])
            if owner is None:
                problems.append(
                    RowProblem(
                        number,
                        self.columns["owner"],
                        raw["owner"][:500],
                        _("There is no user with this name or email."),
                    )
                )
            elif not can_access(
                self.actor,
                area=Area.CLIENTS,
                action=AccessAction.WRITE,
                owner_id=owner.pk,
                team_id=owner.team_id,
            ):
                problems.append(
                    RowProblem(
                        number,
                        self.columns["owner"],
                        raw["owner"][:500],
                        _("You cannot give clients to this user."),
                    )
                )
            else:
                cleaned["owner"] = owner
        if raw.get("tier"):
            tier = self.tiers.get(raw["tier"].casefold())
            if tier is None:
                problems.append(
                    RowProblem(
                        number, self.columns["tier"], raw["tier"][:500], _("There is no such tier.")
                    )
                )
            else:
                cleaned["tier"] = tier
        return cleaned, problems
