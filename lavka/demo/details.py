"""What a demo client's card holds beyond its name, drawn from a seeded random.Random:
the address, contact, commercial and contractual blocks, personal details, contact
persons, tier and tags. Pure data (no database), so a client's details are the same on
every run and do not depend on the other clients; `lavka.demo.blocks` writes them
through the services.

Russian clients get Russian addresses, INN/KPP/OGRN and rouble bank accounts; foreign
ones their country's address, currency, VAT number (EU) and IBAN.
"""

# Russian text is meant: Cyrillic letters that look Latin are not a mistake here.

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lavka.demo import names, taxids

KIND_ORGANISATION = "organisation"
NEAR_DATE_SHARE = 0.07  # clients with an important date in the next two weeks
SIGNED_COPY_SHARE = 0.03  # active contracts with their signed copy (a small PDF)
CUSTOM_FIELDS = [
    # (key, label, type, choices)
    ("car", "Car (Автомобиль)", "text", []),
    ("hobby", "Hobby (Хобби)", "text", []),
    ("pet_name", "Pet's name (Кличка питомца)", "text", []),
    ("favourite_drink", "Favourite drink (Любимый напиток)", "choice", names.DRINKS),
]


@dataclass
class PersonDetails:
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    role: str
    birthday: tuple[int, int, int] | None  # (year, month, day)


@dataclass
class ClientDetails:
    """Everything the demo puts on one client's card after its name."""

    fields: dict[str, Any]  # the client's own fields (client_create / client_update)
    tier: str  # the tier's code it starts in
    tier_change: tuple[str, str] | None  # (the tier it moved to later, why)
    tags: list[str]
    addresses: list[dict[str, Any]]
    contact_points: list[tuple[str, str, str]]  # (kind, value, label)
    consents: list[tuple[str, bool, str, int]]  # (channel, given, source, days ago)
    contracts: list[dict[str, Any]]  # contract fields, and "signed": bool
    dates: list[dict[str, Any]]  # important_date_add keywords
    people: list[PersonDetails] = field(default_factory=list)
    task: tuple[str, str, int] | None = None  # (title, kind, due in days)


def place(city: str) -> tuple[str, str, str, list[str], list[str]]:
    """(country, region, tax region, postcode prefixes, streets) of a demo city."""
    return names.PLACES[city]


def postcode(rng: random.Random, city: str) -> str:
    country, _region, _tax, prefixes, _streets = place(city)
    prefix = rng.choice(prefixes)
    if country == "GB":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return f"{prefix} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    if country == "FI":
        return f"{prefix}{rng.randint(10, 99)}0"
    length = {"RU": 6, "DE": 5, "EE": 5}[country]
    return prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix)))


def street(rng: random.Random, city: str, *, suffix: str = "") -> str:
    """A street address in `city`, in its country's order: "Тверская ул., д. 12, офис
    305", "Friedrichstraße 45", "221 Baker Street"."""
    country, _region, _tax, _prefixes, streets = place(city)
    name, number = rng.choice(streets), rng.randint(1, 180)
    if country == "RU":
        text = f"{name}, д. {number}"
        if rng.random() < 0.2:
            text += f", стр. {rng.randint(1, 4)}"
        return f"{text}, {suffix} {rng.randint(1, 420)}" if suffix else text
    return f"{number} {name}" if country == "GB" else f"{name} {number}"


def address(rng: random.Random, city: str, kind: str, *, suffix: str = "") -> dict[str, Any]:
    country, region, _tax, _prefixes, _streets = place(city)
    return {
        "kind": kind,
        "country": country,
        "region": region,
        "city": city,
        "postcode": postcode(rng, city),
        "street": street(rng, city, suffix=suffix),
    }


def client_details(rng: random.Random, *, fields: dict[str, str], today: dt.date) -> ClientDetails:
    """The card of the client `fields` (from `data.client_fields`). About
    NEAR_DATE_SHARE of the clients get an important date in the next two weeks (of
    `today`), so that the demo has reminders coming."""
    organisation = fields["kind"] == KIND_ORGANISATION
    city = fields["city"]
    country = place(city)[0]
    russian = country == "RU"
    domain = (fields["email"].split("@", 1)[1] if "@" in fields["email"] else "") or (
        f"{names.slug(fields['name'])}.example"
    )
    own = _commercial(rng, fields=fields, organisation=organisation, country=country)
    own |= _contact_fields(rng, organisation=organisation, russian=russian, domain=domain)
    tier, tier_change = _tier(rng)
    details = ClientDetails(
        fields=own,
        tier=tier,
        tier_change=tier_change,
        tags=_tags(rng, russian=russian),
        addresses=_addresses(rng, city=city, organisation=organisation),
        contact_points=_contact_points(
            rng, fields=fields, organisation=organisation, russian=russian, domain=domain
        ),
        consents=_consents(rng, has_email=bool(fields["email"]), russian=russian),
        contracts=_contracts(rng, today=today, currency=own["currency"], russian=russian)
        if organisation and rng.random() < 0.85
        else [],
        dates=[],
    )
    if organisation:
        details.people = _people(rng, russian=russian, domain=domain, city=city)
    else:
        own["custom"] = _personal(rng, russian=russian)
    if organisation and rng.random() < 0.4:
        own["custom"] = {"favourite_drink": rng.choice(names.DRINKS)}
    details.dates = _dates(
        rng, organisation=organisation, russian=russian, custom=own.get("custom", {})
    )
    if rng.random() < NEAR_DATE_SHARE:
        _move_near(rng, details, today=today, days=rng.randint(1, 13))
    if rng.random() < 0.35:
        title, kind = rng.choice(names.TASK_TITLES)
        details.task = (title, kind, rng.randint(-3, 14))
    return details


def _commercial(
    rng: random.Random, *, fields: dict[str, str], organisation: bool, country: str
) -> dict[str, Any]:
    russian = country == "RU"
    currency = names.CURRENCY_BY_COUNTRY[country]
    price_list, discounts = rng.choice(names.PRICE_LEVELS)
    own: dict[str, Any] = {
        "currency": currency,
        "price_list": price_list if organisation else names.PRICE_LEVELS[0][0],
        "discount_percent": Decimal(rng.choice(discounts)) if organisation else None,
        "source": rng.choice(names.SOURCES),
    }
    if not organisation:
        own["payment_terms_days"] = 0
        if russian and rng.random() < 0.6:
            tax = place(fields["city"])[2]
            own["inn"] = taxids.inn_person(rng, office=f"{tax}{rng.randint(1, 40):02d}")
        return own
    size = rng.choice(["1-10", "11-50", "11-50", "51-250", "51-250", "251-1000", "1000+"])
    # Typical annual revenue of the size, in millions of roubles.
    revenue = {"1-10": 15, "11-50": 80, "51-250": 400, "251-1000": 1500, "1000+": 6000}[size]
    scale = 1 if russian else Decimal("0.01")  # millions of roubles, or tens of thousands
    terms = rng.choice(names.PAYMENT_TERMS)
    own |= {
        "industry": rng.choice(names.INDUSTRIES_RU if russian else names.INDUSTRIES_EN),
        "size": size,
        "annual_revenue": (
            Decimal(round(revenue * rng.uniform(0.5, 1.8), 1)) * scale * 1_000_000
        ).quantize(Decimal(1)),
        "payment_terms_days": terms,
        "credit_limit": Decimal(rng.choice([100, 250, 500, 1000, 3000]) * 1000) * scale
        if terms
        else None,
    }
    if russian:
        tax = place(fields["city"])[2]
        office = f"{tax}{rng.randint(1, 40):02d}"
        founded = rng.randint(2003, 2022)
        own |= {
            "legal_name": _legal_name(fields["name"]),
            "inn": taxids.inn_organisation(rng, office=office),
            "kpp": taxids.kpp(office),
            "ogrn": taxids.ogrn(rng, region=tax, year=founded),
            **taxids.russian_bank_details(rng, city=fields["city"]),
        }
    else:
        vat = taxids.eu_vat_number(rng, country=country)
        if vat:
            own["vat"] = vat
        own |= taxids.foreign_bank_details(rng, country=country)
    return own


LEGAL_FORMS = {
    "ООО": "Общество с ограниченной ответственностью",
    "АО": "Акционерное общество",
    "ПАО": "Публичное акционерное общество",
}


def _legal_name(name: str) -> str:
    form, _, rest = name.partition(" ")
    return f"{LEGAL_FORMS[form]} {rest}" if form in LEGAL_FORMS else name


def _contact_fields(
    rng: random.Random, *, organisation: bool, russian: bool, domain: str
) -> dict[str, Any]:
    channels = ["phone", "phone", "email", "email", "messenger", "meeting", "sms", "post"]
    own: dict[str, Any] = {"preferred_channel": rng.choice(channels)}
    if rng.random() < 0.5:
        own["preferred_time"] = rng.choice(names.PREFERRED_TIMES)
    if organisation and rng.random() < 0.75:
        own["website"] = f"https://www.{domain}"
    return own


def _tier(rng: random.Random) -> tuple[str, tuple[str, str] | None]:
    """The tier a client starts in and, for some, the one it moved to later."""
    final = rng.choices(["vip", "affiliated", "mass"], [8, 20, 72])[0]
    if rng.random() >= 0.15:
        return final, None
    start = {"vip": "affiliated", "affiliated": "mass", "mass": "affiliated"}[final]
    reason = names.TIER_REASONS[3] if final == "mass" else rng.choice(names.TIER_REASONS[:3])
    return start, (final, reason)


def _tags(rng: random.Random, *, russian: bool) -> list[str]:
    pool = names.TAGS_RU if russian else names.TAGS_EN
    tags = rng.sample(pool, rng.choice([0, 1, 1, 2]))
    if not russian and "export" not in tags and rng.random() < 0.5:
        tags.append("export")
    return sorted(tags)


def _addresses(rng: random.Random, *, city: str, organisation: bool) -> list[dict[str, Any]]:
    """One to three typed addresses, the first of them primary (it gives the city)."""
    russian = place(city)[0] == "RU"
    if organisation:
        found = [address(rng, city, "legal", suffix="офис" if russian else "")]
        if rng.random() < 0.4:
            found.append(address(rng, city, "office", suffix="офис" if russian else ""))
        if rng.random() < 0.3:
            found.append(address(rng, city, "delivery"))
    else:
        found = [address(rng, city, "postal", suffix="кв." if russian else "")]
        if rng.random() < 0.3:
            found.append(address(rng, city, "delivery", suffix="кв." if russian else ""))
    found[0]["is_primary"] = True
    return found


def _contact_points(
    rng: random.Random, *, fields: dict[str, str], organisation: bool, russian: bool, domain: str
) -> list[tuple[str, str, str]]:
    """Emails, phones and messengers beyond the primary ones client_create keeps; a
    phone for every client that has none yet."""
    points: list[tuple[str, str, str]] = []
    code = _phone_code(fields["city"])
    if rng.random() < 0.5 or not fields["phone"]:
        if russian and organisation:
            points.append(("phone", mobile(rng), "мобильный"))
        elif russian:
            points.append(("phone", landline(rng, code), "домашний"))
        else:
            points.append(("phone", landline(rng, code), "office"))
    if organisation and rng.random() < 0.4:
        points.append(("email", f"{rng.choice(names.EXTRA_EMAIL_BOXES)}@{domain}", ""))
    if rng.random() < 0.35:
        messenger = rng.choice(names.MESSENGERS if russian else names.MESSENGERS[:2])
        if messenger == "WhatsApp":
            value = mobile(rng) if russian else landline(rng, code)
        else:
            handle = names.slug(fields["name"]).replace("-", "_")[:24] or "client"
            value = f"@{handle}"
        points.append(("messenger", value, messenger))
    return points


def _phone_code(city: str) -> str:
    for cities in (names.CITIES_MOSCOW, names.CITIES_ST_PETERSBURG, names.CITIES_ABROAD):
        for name, code in cities:
            if name == city:
                return code
    return "495"


def _consents(
    rng: random.Random, *, has_email: bool, russian: bool
) -> list[tuple[str, bool, str, int]]:
    """Marketing consents with their history: given on some day, for some later
    withdrawn."""
    found: list[tuple[str, bool, str, int]] = []
    for channel, share in (("email", 0.6), ("sms", 0.2), ("phone", 0.1), ("messenger", 0.15)):
        if (channel == "email" and not has_email) or rng.random() >= share:
            continue
        given = rng.randint(60, 700)
        ru, en = rng.choice(names.CONSENT_SOURCES)
        found.append((channel, True, ru if russian else en, given))
        if rng.random() < 0.2:
            ru, en = names.CONSENT_WITHDRAWALS[0]
            found.append((channel, False, ru if russian else en, rng.randint(1, given - 1)))
    return found


def _contracts(
    rng: random.Random, *, today: dt.date, currency: str, russian: bool
) -> list[dict[str, Any]]:
    rate = {"RUB": Decimal(1), "EUR": Decimal("0.011"), "GBP": Decimal("0.0095")}[currency]
    found = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        ru, en, typical = rng.choice(names.CONTRACT_SUBJECTS)
        start = today - dt.timedelta(days=rng.randint(-20, 900))
        years = rng.choice([1, 1, 2])
        end = start.replace(year=start.year + years) - dt.timedelta(days=1)
        if start > today:
            status = "draft"
        elif end < today:
            status = "terminated" if rng.random() < 0.15 else "expired"
        else:
            status = "active"
        renewal = rng.choices(["automatic", "by_agreement", "none"], [4, 4, 2])[0]
        number = f"{start.year}/{rng.randint(1, 999):03d}"
        found.append(
            {
                "number": f"ЛТ-{number}" if russian else f"LT-{number.replace('/', '-')}",
                "subject": ru if russian else en,
                "start_on": start,
                "end_on": end,
                "amount": (Decimal(typical * rng.uniform(0.4, 2.5)) * rate).quantize(Decimal(1)),
                "currency": currency,
                "status": status,
                "renewal": renewal,
                "renewal_notice_days": rng.choice([30, 60]) if renewal != "none" else None,
                "notes": rng.choice(names.CONTRACT_NOTES),
                "signed": status == "active" and rng.random() < SIGNED_COPY_SHARE,
            }
        )
    return found


def _person_name(rng: random.Random, *, russian: bool) -> tuple[str, str]:
    if not russian:
        return rng.choice(names.EN_FIRST), rng.choice(names.EN_SURNAMES)
    if rng.random() < 0.5:
        return rng.choice(names.RU_MALE_FIRST), rng.choice(names.RU_SURNAMES)
    return rng.choice(names.RU_FEMALE_FIRST), rng.choice(names.RU_SURNAMES) + "а"


def _people(rng: random.Random, *, russian: bool, domain: str, city: str) -> list[PersonDetails]:
    """One to three contact persons of an organisation: the first decides."""
    people = []
    titles = rng.sample(names.JOB_TITLES, 3)
    for index in range(rng.choice([1, 1, 2, 2, 3])):
        first, last = _person_name(rng, russian=russian)
        title = titles[index][0 if russian else 1]
        role = names.PERSON_ROLES[0 if index == 0 else rng.randint(1, 3)][0 if russian else 1]
        birthday = (
            (rng.randint(1960, 1998), rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.4
            else None
        )
        people.append(
            PersonDetails(
                first_name=first,
                last_name=last,
                email=f"{names.slug(first)}.{names.slug(last)}@{domain}",
                phone=mobile(rng) if russian else landline(rng, _phone_code(city)),
                job_title=title,
                role=role,
                birthday=birthday,
            )
        )
    return people


def _personal(rng: random.Random, *, russian: bool) -> dict[str, Any]:
    """A private client's personal details (the administrator's custom fields)."""
    custom: dict[str, Any] = {}
    if rng.random() < 0.45:
        custom["car"] = rng.choice(names.CARS)
    if rng.random() < 0.55:
        custom["hobby"] = rng.choice(names.HOBBIES_RU if russian else names.HOBBIES_EN)
    if rng.random() < 0.3:
        custom["pet_name"] = rng.choice(names.PET_NAMES_RU if russian else names.PET_NAMES_EN)
    if rng.random() < 0.5:
        custom["favourite_drink"] = rng.choice(names.DRINKS)
    return custom


def _dates(
    rng: random.Random, *, organisation: bool, russian: bool, custom: dict[str, Any]
) -> list[dict[str, Any]]:
    """Birthdays of private clients, their pets' birthdays, organisations' anniversaries."""
    found = []
    if organisation:
        if rng.random() < 0.45:
            found.append(
                {
                    "kind": "anniversary",
                    "label": "Основание компании" if russian else "Company founded",
                    "year": rng.randint(1992, 2020),
                    "month": rng.randint(1, 12),
                    "day": rng.randint(1, 28),
                }
            )
        return found
    if rng.random() < 0.7:
        found.append(
            {
                "kind": "birthday",
                "year": rng.randint(1955, 2000),
                "month": rng.randint(1, 12),
                "day": rng.randint(1, 28),
            }
        )
    if custom.get("pet_name"):
        found.append(
            {"kind": "pet_birthday", "month": rng.randint(1, 12), "day": rng.randint(1, 28)}
        )
    return found


def _move_near(rng: random.Random, details: ClientDetails, *, today: dt.date, days: int) -> None:
    """Put an important date `days` from today, so the demo shows a reminder coming."""
    day = today + dt.timedelta(days=days)
    if details.dates:
        target = details.dates[0]
    elif details.people:
        person = details.people[0]
        person.birthday = (rng.randint(1965, 1995), day.month, day.day)
        return
    else:
        target = {"kind": "birthday", "year": rng.randint(1960, 1995)}
        details.dates.append(target)
    target["month"], target["day"] = day.month, day.day
    target["remind_days_before"] = 14


# --- phones -----------------------------------------------------------------------------


def _valid_phone(make: Callable[[], str]) -> str:
    """A number `make` draws that phonenumbers accepts (real numbering plans leave gaps);
    deterministic because the draws come from the caller's random.Random."""
    import phonenumbers

    candidate = make()
    for _attempt in range(200):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, "RU")):
                return candidate
        except phonenumbers.NumberParseException:
            pass
        candidate = make()
    return ""


def landline(rng: random.Random, code: str, *, as_first_drawn: bool = False) -> str:
    """A valid landline number with the area `code` ("495", or "+49 30" abroad).

    `as_first_drawn` draws London numbers one digit short, as the demo's fixed client
    list always has: none is valid, so those clients have no phone of their own, and
    drawing them otherwise would change every client drawn after them."""
    return _valid_phone(lambda: _landline_draw(rng, code, as_first_drawn=as_first_drawn))


def _landline_draw(rng: random.Random, code: str, *, as_first_drawn: bool) -> str:
    if code == "+44 20" and not as_first_drawn:
        return f"{code} {rng.choice('378')}{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    if code.startswith("+"):
        return f"{code} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    digits = f"{rng.randint(0, 10 ** (10 - len(code)) - 1):0{10 - len(code)}d}"
    if len(digits) == 7:
        return f"+7 ({code}) {digits[:3]}-{digits[3:5]}-{digits[5:]}"
    return f"+7 ({code}) {digits[:2]}-{digits[2:4]}-{digits[4:]}"


def mobile(rng: random.Random) -> str:
    """A valid Russian mobile number."""
    return _valid_phone(lambda: _mobile_draw(rng))


def _mobile_draw(rng: random.Random) -> str:
    return (
        f"+7 ({rng.randint(900, 999)}) {rng.randint(100, 999)}-"
        f"{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    )
