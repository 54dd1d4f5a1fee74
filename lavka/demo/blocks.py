"""Writes a demo client's card (`details.ClientDetails`) through the clients services,
as the client's owner would fill it in, so the audit log and the access rules look as
in real use: addresses, contact points, consents with their history, contracts (a few
with a signed copy), important dates, contact persons with their birthdays, the tier
history, an open task, and a year of touchpoints. The personal-details fields are
defined once by the administrator.
"""

# Russian text is meant: Cyrillic letters that look Latin are not a mistake here.

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

from django.core.files.base import ContentFile

from lavka.clients.models import Client, CustomField, Person, Tier, TierChange, Touchpoint
from lavka.clients.services.blocks import (
    address_add,
    attachment_add,
    consent_record,
    contact_point_add,
    contract_create,
    custom_field_create,
    employment_link,
    important_date_add,
    person_create,
    person_important_date_add,
    tier_create,
    tier_update,
)
from lavka.clients.services.core import client_update
from lavka.clients.services.timeline import client_timeline_refresh, task_create
from lavka.core.pdf import PdfDocument
from lavka.demo import names
from lavka.demo.details import CUSTOM_FIELDS, ClientDetails, PersonDetails

# How many touchpoints a client of each tier gets over the year, at most.
TOUCHPOINTS_BY_TIER = {"vip": (14, 24), "affiliated": (8, 14), "mass": (3, 8)}
TOUCHPOINT_KINDS = [
    # (kind, channel, weight)
    (Touchpoint.Kind.CALL, "phone", 35),
    (Touchpoint.Kind.EMAIL, "email", 25),
    (Touchpoint.Kind.MESSAGE, "telegram", 10),
    (Touchpoint.Kind.MEETING, "office", 10),
    (Touchpoint.Kind.VISIT, "site", 5),
    (Touchpoint.Kind.NOTE, "", 15),
]
TOUCHPOINT_SUBJECTS = {
    Touchpoint.Kind.CALL: ["Уточнили объём заказа", "Follow-up call", "Звонок по счёту"],
    Touchpoint.Kind.EMAIL: ["Коммерческое предложение", "Price list for the season"],
    Touchpoint.Kind.MESSAGE: ["Напоминание об оплате", "Delivery date confirmed"],
    Touchpoint.Kind.MEETING: ["Встреча в офисе", "Quarterly review"],
    Touchpoint.Kind.VISIT: ["Визит на склад клиента", "Store visit"],
    Touchpoint.Kind.NOTE: ["Просил перезвонить после праздников", "Prefers invoices by post"],
}
TOUCHPOINT_OUTCOMES = [o for o in Touchpoint.Outcome.values if o]


def custom_fields_ensure(admin: Any) -> int:
    """The personal-details fields of the demo (a car, a hobby, a pet's name, a
    favourite drink), defined by the administrator unless they exist. Returns how many
    were created."""
    existing = set(
        CustomField.objects.filter(entity=CustomField.Entity.CLIENT).values_list("key", flat=True)
    )
    created = 0
    for order, (key, label, kind, choices) in enumerate(CUSTOM_FIELDS):
        if key in existing:
            continue
        custom_field_create(
            actor=admin,
            entity=CustomField.Entity.CLIENT,
            label=label,
            type=kind,
            key=key,
            choices=choices,
            order=order * 10,
        )
        created += 1
    return created


def tiers_ensure(admin: Any) -> dict[str, Tier]:
    """The tiers by code. A migration makes VIP, affiliated and mass; when they are
    gone (a test's flush empties the table) the administrator makes them again, with
    the migration's contact norms, mass the default."""
    from importlib import import_module

    tiers = {tier.code: tier for tier in Tier.objects.all()}
    defaults = import_module("lavka.clients.migrations.0004_default_tiers").TIERS
    for code, name, order, norm, colour, is_default in defaults:
        if code in tiers:
            continue
        tier = tier_create(
            actor=admin, code=code, name=name, order=order, contact_norm_days=norm, colour=colour
        )
        if is_default and not Tier.objects.filter(is_default=True).exists():
            tier = tier_update(actor=admin, tier=tier, is_default=True)
        tiers[code] = tier
    return tiers


def card_create(
    *,
    owner: Any,
    client: Client,
    details: ClientDetails,
    tiers: dict[str, Tier],
    rng: random.Random,
    now: dt.datetime,
) -> Counter[str]:
    """Fill in `client`'s blocks from `details` through the services, as `owner`.
    Returns how many of each thing were created."""
    made: Counter[str] = Counter()
    for fields in details.addresses:
        address_add(actor=owner, client=client, **fields)
        made["addresses"] += 1
    have = {(client.email, "email"), (client.phone, "phone")}
    for kind, value, label in details.contact_points:
        if (value, kind) in have:
            continue
        point = contact_point_add(actor=owner, client=client, kind=kind, value=value, label=label)
        have.add((point.value, kind))
    for channel, granted, source, days_ago in sorted(details.consents, key=lambda c: -c[3]):
        consent_record(
            actor=owner,
            client=client,
            channel=channel,
            granted=granted,
            source=source,
            at=now - dt.timedelta(days=days_ago, hours=rng.randint(0, 8)),
        )
    for fields in details.contracts:
        fields = dict(fields)
        signed = fields.pop("signed")
        contract = contract_create(actor=owner, client=client, **fields)
        made["contracts"] += 1
        if signed:
            attachment_add(
                actor=owner,
                client=client,
                contract=contract,
                upload=ContentFile(
                    _signed_copy(client, fields), name=f"{_file_name(contract.number)}.pdf"
                ),
                is_signed_copy=True,
            )
            made["signed_copies"] += 1
    for date in details.dates:
        important_date_add(actor=owner, client=client, **date)
        made["important_dates"] += 1
    if details.tier_change is not None:
        tier, reason = details.tier_change
        client_update(actor=owner, client=client, tier=tiers[tier], tier_reason=reason)
        _tier_history_date_back(client, rng=rng, now=now)
    if details.task is not None:
        title, kind, due_in = details.task
        due = (now + dt.timedelta(days=due_in)).replace(minute=0, second=0, microsecond=0)
        task_create(
            actor=owner,
            client=client,
            title=title,
            kind=kind,
            due_at=due.replace(hour=rng.choice([10, 11, 12, 14, 15, 16])),
        )
        made["tasks"] += 1
    return made


def people_create(*, owner: Any, client: Client, people: list[PersonDetails]) -> list[Person]:
    """The organisation's contact persons, each with their birthday when known."""
    created = []
    for spec in people:
        person = person_create(
            actor=owner,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=spec.email,
            phone=spec.phone,
            organisation=client,
            job_title=spec.job_title,
            role=spec.role,
        )
        if spec.birthday is not None:
            year, month, day = spec.birthday
            person_important_date_add(
                actor=owner, person=person, kind="birthday", year=year, month=month, day=day
            )
        created.append(person)
    return created


def board_member_link(*, owner: Any, person: Person, organisation: Client, russian: bool) -> None:
    """`person` (of a parent organisation) also sits on its subsidiary's board."""
    employment_link(
        actor=owner,
        person=person,
        organisation=organisation,
        job_title=names.BOARD_TITLE[0 if russian else 1],
        role=names.PERSON_ROLES[1][0 if russian else 1],
    )


def touchpoints_create(
    *,
    owner: Any,
    client: Client,
    tier: str,
    people: list[Person],
    rng: random.Random,
    now: dt.datetime,
) -> int:
    """A year of touchpoints with `client` (the more valuable the tier, the more often),
    some of them with a contact person, by its owner. Inserted in bulk, like the
    `--scale` clients' touchpoints: as if brought over from the previous system, without
    an audit event each (logging 2,400 of them one by one through the service added
    about ten seconds to `lavka demo`); the timeline service then sets the client's last
    contact and next step from them. Returns how many were made."""
    low, high = TOUCHPOINTS_BY_TIER.get(tier, TOUCHPOINTS_BY_TIER["mass"])
    kinds = [kind for kind, _, _ in TOUCHPOINT_KINDS]
    weights = [weight for _, _, weight in TOUCHPOINT_KINDS]
    channels = {kind: channel for kind, channel, _ in TOUCHPOINT_KINDS}
    moments = sorted(
        now - dt.timedelta(seconds=rng.uniform(3600, 365 * 86400))
        for _ in range(rng.randint(low, high))
    )
    drawn: list[dict[str, Any]] = []
    for when in moments:
        kind = rng.choices(kinds, weights)[0]
        note = kind == Touchpoint.Kind.NOTE
        drawn.append(
            {
                "kind": kind,
                "occurred_at": when,
                "channel": channels[kind],
                "direction": "" if note else rng.choice(["in", "out"]),
                "duration_minutes": None if note else rng.choice([5, 10, 15, 30, 60]),
                "outcome": "" if note else rng.choice(TOUCHPOINT_OUTCOMES),
                "subject": rng.choice(TOUCHPOINT_SUBJECTS[kind]),
                "person": rng.choice(people) if people and rng.random() < 0.4 else None,
            }
        )
    Touchpoint.objects.bulk_create(
        [
            Touchpoint(client=client, created_by=owner, created_at=fields["occurred_at"], **fields)
            for fields in drawn
        ]
    )
    client_timeline_refresh(client=client)
    return len(drawn)


def _tier_history_date_back(client: Client, *, rng: random.Random, now: dt.datetime) -> None:
    """Spread the tier history over the past: the first tier a year or two ago, the
    change a few months ago (the services stamp both with the present)."""
    changes = list(TierChange.objects.filter(client_id=client.pk).order_by("id"))
    when = now - dt.timedelta(days=rng.randint(20, 200), hours=rng.randint(0, 8))
    for change in reversed(changes):
        TierChange.objects.filter(pk=change.pk).update(changed_at=when)
        when -= dt.timedelta(days=rng.randint(150, 500))


def _file_name(number: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in number)


def _signed_copy(client: Client, contract: dict[str, Any]) -> bytes:
    """A one-page PDF standing in for the scan of a signed contract."""
    russian = contract["currency"] == "RUB"
    doc = PdfDocument(
        title=("Договор № " if russian else "Contract No. ") + contract["number"],
        subtitle=client.legal_name or client.name,
    )
    period = f"{contract['start_on']:%d.%m.%Y} – {contract['end_on']:%d.%m.%Y}"
    doc.key_values(
        [
            ("Предмет" if russian else "Subject", contract["subject"]),
            ("Срок" if russian else "Term", period),
            ("Сумма" if russian else "Value", f"{contract['amount']} {contract['currency']}"),
        ]
    )
    doc.paragraph(
        "Подписанная копия (демонстрационные данные Лавки)."
        if russian
        else "Signed copy (Lavka demo data).",
        muted=True,
    )
    return doc.output()
