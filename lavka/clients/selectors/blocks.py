"""Reads for the card's blocks. Everything hangs off a client visible to the viewer;
the whole card is a fixed number of queries (prefetches), whatever the client holds."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.utils import timezone

from lavka.clients.identifiers import folded, phone_display, phone_search_key
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
    Person,
    TierChange,
)
from lavka.clients.selectors.core import PHONE_LIKE, clients_visible_to
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, record_filter


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


@dataclass(frozen=True)
class _Block:
    """A block the card prefetches: its lookup (and `to_attr`), the queryset it reads
    (built only when the block holds anything), and the SQL that tells whether it does
    (an EXISTS on the client's row: plain SQL, since compiling ten subqueries with the
    ORM on every card cost more than running them)."""

    lookup: str
    exists: str
    queryset: Any = None  # a callable making the queryset, or None for the default
    to_attr: str | None = None

    def prefetch(self) -> Prefetch:
        queryset = self.queryset() if self.queryset else None
        return Prefetch(self.lookup, queryset=queryset, to_attr=self.to_attr)


def _exists(model: Any, key: str = "client_id", *, alive: bool = False) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    client = connection.ops.quote_name(Client._meta.db_table)
    where = f"b.{key} = {client}.id" + (" AND b.deleted_at IS NULL" if alive else "")
    return f"EXISTS (SELECT 1 FROM {table} b WHERE {where})"  # noqa: S608 - our names


def _files() -> QuerySet[Attachment]:
    return Attachment.objects.filter(deleted_at__isnull=True).select_related("uploaded_by")


@functools.cache
def _card_blocks() -> tuple[_Block, ...]:
    return (
        _Block("tags", _exists(Client.tags.through)),
        _Block("contact_points", _exists(ContactPoint)),
        _Block("addresses", _exists(Address)),
        _Block(
            "consents",
            _exists(Consent),
            lambda: Consent.objects.select_related("recorded_by"),
        ),
        # Files are read once, for the client and its contracts (see client_card).
        _Block(
            "contracts",
            _exists(Contract, alive=True),
            lambda: Contract.objects.filter(deleted_at__isnull=True),
        ),
        _Block("attachments", _exists(Attachment, alive=True), _files, to_attr="all_files"),
        _Block(
            "employments",
            _exists(Employment, "organisation_id"),
            lambda: Employment.objects.select_related("person").filter(
                person__deleted_at__isnull=True
            ),
        ),
        _Block("important_dates", _exists(ImportantDate)),
        _Block(
            "tier_changes",
            _exists(TierChange),
            lambda: TierChange.objects.select_related("from_tier", "to_tier", "changed_by"),
        ),
        _Block(
            "subsidiaries",
            _exists(Client, "parent_id", alive=True),
            lambda: Client.objects.filter(deleted_at__isnull=True).only(
                "id", "name", "parent_id", "kind"
            ),
        ),
    )


def client_card_queryset(viewer: Any) -> QuerySet[Client]:
    """The clients the viewer may read, with every block of the card prefetched."""
    return (
        clients_visible_to(viewer)
        .select_related("parent")
        .prefetch_related(*(block.prefetch() for block in _card_blocks()))
    )


def _card_client(viewer: Any, client_id: int) -> Client:
    """The client with its blocks: one query for the client, which also tells which
    blocks hold anything (an EXISTS each), and one per block that does. Most clients
    of a large base have few blocks filled, so most cards cost two or three queries
    here instead of a dozen; never more than one per block, whatever it holds."""
    blocks = _card_blocks()
    flags = {
        f"_has_block_{i}": RawSQL(block.exists, [], output_field=BooleanField())  # noqa: S611 - no values
        for i, block in enumerate(blocks)
    }
    client = clients_visible_to(viewer).select_related("parent").annotate(**flags).get(pk=client_id)
    wanted = []
    for i, block in enumerate(blocks):
        if getattr(client, f"_has_block_{i}"):
            wanted.append(block.prefetch())
        elif block.to_attr:
            setattr(client, block.to_attr, [])
        else:
            _prefetched(client, block.lookup, [])
    prefetch_related_objects([client], *wanted)
    return client


def client_card(*, viewer: Any, client_id: int) -> ClientCard:
    """Everything the card shows, for a client the viewer may read (NotFound otherwise)."""
    try:
        client = _card_client(viewer, client_id)
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
    contracts = list(client.contracts.all())
    files = client.all_files  # type: ignore[attr-defined]
    for contract in contracts:
        _prefetched(contract, "attachments", [f for f in files if f.contract_id == contract.pk])
    fields = custom_fields_list(entity=CustomField.Entity.CLIENT)
    custom = client.custom or {}
    return ClientCard(
        client=client,
        emails=[p for p in points if p.kind == ContactPoint.Kind.EMAIL],
        phones=[p for p in points if p.kind == ContactPoint.Kind.PHONE],
        messengers=[p for p in points if p.kind == ContactPoint.Kind.MESSENGER],
        addresses=list(client.addresses.all()),
        consents=states,
        contracts=contracts,
        files=[f for f in files if f.contract_id is None],
        people=list(client.employments.all()),
        important_dates=list(client.important_dates.all()),
        custom_values=[CustomValue(field=f, value=custom.get(f.key)) for f in fields],
        tier_changes=list(client.tier_changes.all()[:20]),
        subsidiaries=list(client.subsidiaries.all()),
    )


def _prefetched(instance: Any, name: str, rows: list[Any]) -> None:
    """Fill `instance.<name>.all()` with `rows`, as prefetch_related would."""
    # A bare queryset of the related model: the manager's own (filtered by the
    # instance) would be compiled for nothing.
    queryset: Any = QuerySet(model=getattr(instance, name).model)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    instance._prefetched_objects_cache = {
        **getattr(instance, "_prefetched_objects_cache", {}),
        name: queryset,
    }


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


# --- contact persons ------------------------------------------------------------------


def people_visible_to(viewer: Any) -> QuerySet[Person]:
    """Contact persons `viewer` may read: those under their read scope of the clients
    area (by the person's own owner and team), and those who work at a client they may
    read. A person linked to organisations of two teams is visible to both."""
    own = record_filter(viewer, Area.CLIENTS, Action.READ)
    people = Person.objects.all()
    if own is None:
        return people
    at_visible_client = Q(
        pk__in=Employment.objects.filter(
            organisation__in=clients_visible_to(viewer).values("pk")
        ).values("person_id")
    )
    return people.filter(own | at_visible_client)


def _employments_visible(viewer: Any) -> Prefetch:
    """A person's employments at organisations the viewer may read (the others are not
    theirs to see), as `visible_employments`."""
    return Prefetch(
        "employments",
        queryset=Employment.objects.filter(organisation__in=clients_visible_to(viewer).values("pk"))
        .select_related("organisation")
        .order_by("-is_current", "-is_primary", "organisation__name", "id"),
        to_attr="visible_employments",
    )


def _people_matching(people: QuerySet[Person], query: str) -> QuerySet[Person]:
    """Persons whose name, email or phone (typed any way) contains `query`."""
    text = folded(query)
    if not text:
        return people
    if PHONE_LIKE.match(text) and len(re.sub(r"\D", "", text)) >= 5:
        digits = re.sub(r"\D", "", text)
        return people.filter(
            Q(search_text__contains=phone_search_key(text)) | Q(search_text__contains=digits)
        )
    for word in text.split():
        people = people.filter(search_text__contains=word)
    return people


def person_list(*, viewer: Any, query: str = "", client_id: int | None = None) -> QuerySet[Person]:
    """Visible persons, by last and first name; `client_id` keeps those who work at that
    client (none when the viewer cannot read it), `query` searches name, email, phone."""
    people = people_visible_to(viewer)
    if client_id is not None:
        people = people.filter(
            employments__organisation__in=clients_visible_to(viewer)
            .filter(pk=client_id)
            .values("pk")
        )
    people = _people_matching(people, query[:200])
    return people.prefetch_related(_employments_visible(viewer)).order_by(
        "last_name", "first_name", "id"
    )


def person_get(*, viewer: Any, person_id: int) -> Person:
    """One person the viewer may read, with `visible_employments`; NotFound otherwise."""
    person = (
        people_visible_to(viewer)
        .filter(pk=person_id)
        .prefetch_related(_employments_visible(viewer))
        .first()
    )
    if person is None:
        raise NotFound(resource="person", id=person_id)
    return person


def people_to_link(
    *, viewer: Any, organisation_id: int, query: str, limit: int = 10
) -> list[Person]:
    """Visible persons matching `query` who do not work at the organisation yet: the
    candidates of the card's "link an existing person" search."""
    if len(folded(query)) < 2:
        return []
    people = _people_matching(people_visible_to(viewer), query[:200]).exclude(
        employments__organisation_id=organisation_id
    )
    return list(
        people.prefetch_related(_employments_visible(viewer)).order_by(
            "last_name", "first_name", "id"
        )[:limit]
    )


def employment_get(*, viewer: Any, employment_id: int, person_id: int | None = None) -> Employment:
    """A link of a visible person to a visible organisation; NotFound otherwise."""
    employments = Employment.objects.filter(
        pk=employment_id,
        person__in=people_visible_to(viewer).values("pk"),
        organisation__in=clients_visible_to(viewer).values("pk"),
    )
    if person_id is not None:
        employments = employments.filter(person_id=person_id)
    employment = employments.select_related("person", "organisation").first()
    if employment is None:
        raise NotFound(resource="employment", id=employment_id)
    return employment


# --- files ----------------------------------------------------------------------------


def attachment_list(
    *, viewer: Any, client_id: int | None = None, contract_id: int | None = None
) -> QuerySet[Attachment]:
    """Live files, newest first: of a visible client (those on its contracts too), or
    with `contract_id` of that contract only. NotFound when the client or the contract
    is not the viewer's."""
    files = Attachment.objects.filter(deleted_at__isnull=True)
    if contract_id is not None:
        contract = contract_get(viewer=viewer, contract_id=contract_id)
        if client_id is not None and contract.client_id != client_id:
            raise NotFound(resource="contract", id=contract_id)
        files = files.filter(contract_id=contract.pk)
    elif client_id is not None and clients_visible_to(viewer).filter(pk=client_id).exists():
        files = files.filter(client_id=client_id)
    else:
        raise NotFound(resource="client", id=client_id)
    return files.select_related("uploaded_by").order_by("-uploaded_at", "-id")
