"""Reads for the card's blocks. Everything hangs off a client visible to the viewer;
the whole card is a fixed number of queries (prefetches), whatever the client holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from lavka.clients.identifiers import phone_display
from lavka.clients.models import (
    Address,
    Attachment,
    Client,
    Consent,
    ContactPoint,
    Contract,
    CustomField,
    Employment,
    ImportantDate,
    TierChange,
)
from lavka.clients.selectors.core import clients_visible_to
from lavka.core.errors import NotFound


@dataclass
class ConsentState:
    channel: str
    label: str
    granted: bool | None
    latest: Consent | None
    history: list[Consent] = field(default_factory=list)


@dataclass
class CustomValue:
    field: CustomField
    value: Any

    @property
    def display(self) -> str:
        if isinstance(self.value, list):
            return ", ".join(str(v) for v in self.value)
        if isinstance(self.value, bool):
            from django.utils.translation import gettext as _

            return _("yes") if self.value else _("no")
        return "" if self.value is None else str(self.value)


@dataclass
class ClientCard:
    client: Client
    emails: list[ContactPoint]
    phones: list[ContactPoint]
    messengers: list[ContactPoint]
    addresses: list[Address]
    consents: list[ConsentState]
    contracts: list[Contract]
    files: list[Attachment]
    people: list[Employment]
    important_dates: list[ImportantDate]
    custom_values: list[CustomValue]
    tier_changes: list[TierChange]
    subsidiaries: list[Client]


def client_card_queryset(viewer: Any) -> QuerySet[Client]:
    files = Attachment.objects.filter(deleted_at__isnull=True).select_related("uploaded_by")
    return (
        clients_visible_to(viewer)
        .select_related("parent")
        .prefetch_related(
            "tags",
            "contact_points",
            "addresses",
            Prefetch("consents", queryset=Consent.objects.select_related("recorded_by")),
            Prefetch(
                "contracts",
                queryset=Contract.objects.filter(deleted_at__isnull=True).prefetch_related(
                    Prefetch("attachments", queryset=files)
                ),
            ),
            Prefetch("attachments", queryset=files, to_attr="all_files"),
            Prefetch(
                "employments",
                queryset=Employment.objects.select_related("person").filter(
                    person__deleted_at__isnull=True
                ),
            ),
            "important_dates",
            Prefetch(
                "tier_changes",
                queryset=TierChange.objects.select_related("from_tier", "to_tier", "changed_by"),
            ),
            Prefetch(
                "subsidiaries",
                queryset=Client.objects.filter(deleted_at__isnull=True).only(
                    "id", "name", "parent_id", "kind"
                ),
            ),
        )
    )


def client_card(*, viewer: Any, client_id: int) -> ClientCard:
    """Everything the card shows, for a client the viewer may read (NotFound otherwise)."""
    try:
        client = client_card_queryset(viewer).get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="client", id=client_id) from None
    points = list(client.contact_points.all())
    for point in points:
        point.display = (  # type: ignore[attr-defined]
            phone_display(point.value) if point.kind == ContactPoint.Kind.PHONE else point.value
        )
    client.phone_display = phone_display(client.phone)  # type: ignore[attr-defined]
    consents = list(client.consents.all())
    states = []
    for channel, label in Consent.Channel.choices:
        history = [c for c in consents if c.channel == channel]
        latest = history[0] if history else None
        states.append(
            ConsentState(
                channel=channel,
                label=str(label),
                granted=latest.granted if latest else None,
                latest=latest,
                history=history,
            )
        )
    fields = custom_fields_list(entity=CustomField.Entity.CLIENT)
    custom = client.custom or {}
    return ClientCard(
        client=client,
        emails=[p for p in points if p.kind == ContactPoint.Kind.EMAIL],
        phones=[p for p in points if p.kind == ContactPoint.Kind.PHONE],
        messengers=[p for p in points if p.kind == ContactPoint.Kind.MESSENGER],
        addresses=list(client.addresses.all()),
        consents=states,
        contracts=list(client.contracts.all()),
        files=[f for f in client.all_files if f.contract_id is None],  # type: ignore[attr-defined]
        people=list(client.employments.all()),
        important_dates=list(client.important_dates.all()),
        custom_values=[CustomValue(field=f, value=custom.get(f.key)) for f in fields],
        tier_changes=list(client.tier_changes.all()[:20]),
        subsidiaries=list(client.subsidiaries.all()),
    )


def custom_fields_list(*, entity: str = "", include_inactive: bool = False) -> list[CustomField]:
    """Custom field definitions (every user may read them: they are labels, not data)."""
    fields = CustomField.objects.all()
    if entity:
        fields = fields.filter(entity=entity)
    if not include_inactive:
        fields = fields.filter(is_active=True)
    return list(fields.order_by("entity", "order", "label"))


def contract_get(*, viewer: Any, contract_id: int) -> Contract:
    contract = (
        Contract.objects.filter(
            pk=contract_id,
            deleted_at__isnull=True,
            client__in=clients_visible_to(viewer).values("pk"),
        )
        .select_related("client")
        .first()
    )
    if contract is None:
        raise NotFound(resource="contract", id=contract_id)
    return contract


def attachment_get(*, viewer: Any, attachment_id: int) -> Attachment:
    """A file the viewer may download: its client is visible to them."""
    attachment = Attachment.objects.filter(
        pk=attachment_id,
        deleted_at__isnull=True,
        client__in=clients_visible_to(viewer).values("pk"),
    ).first()
    if attachment is None:
        raise NotFound(resource="attachment", id=attachment_id)
    return attachment


def contact_point_get(*, viewer: Any, client_id: int, point_id: int) -> ContactPoint:
    point = ContactPoint.objects.filter(
        pk=point_id, client_id=client_id, client__in=clients_visible_to(viewer).values("pk")
    ).first()
    if point is None:
        raise NotFound(resource="contact_point", id=point_id)
    return point


def address_get(*, viewer: Any, client_id: int, address_id: int) -> Address:
    address = Address.objects.filter(
        pk=address_id, client_id=client_id, client__in=clients_visible_to(viewer).values("pk")
    ).first()
    if address is None:
        raise NotFound(resource="address", id=address_id)
    return address


def important_date_get(*, viewer: Any, client_id: int, date_id: int) -> ImportantDate:
    date = ImportantDate.objects.filter(
        pk=date_id, client_id=client_id, client__in=clients_visible_to(viewer).values("pk")
    ).first()
    if date is None:
        raise NotFound(resource="important_date", id=date_id)
    return date


def important_date_next(date: ImportantDate, today: dt.date) -> dt.date:
    """The next time the date comes, today included (29 Feb -> 28 Feb in common years)."""
    for year in (today.year, today.year + 1):
        try:
            occurs = dt.date(year, date.month, date.day)
        except ValueError:
            occurs = dt.date(year, date.month, date.day - 1)
        if occurs >= today:
            return occurs
    raise AssertionError("unreachable")


def important_date_days_left(date: ImportantDate, *, today: dt.date | None = None) -> int:
    """Days until the date comes next (0 = today)."""
    today = today or timezone.localdate()
    return (important_date_next(date, today) - today).days
