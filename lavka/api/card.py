"""Card API: the client's four blocks, personal details, people, contracts and files in
one response, and the endpoints that add to and remove from each block. The same
selectors and services as the web card."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from lavka.api.concurrency import expected_version, set_etag
from lavka.clients.identifiers import phone_display
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import (
    address_get,
    client_card,
    contact_point_get,
    contract_get,
    custom_fields_list,
    important_date_get,
)
from lavka.clients.services.blocks import (
    address_add,
    address_remove,
    consent_record,
    contact_point_add,
    contact_point_remove,
    contract_create,
    contract_update,
    important_date_add,
    important_date_remove,
)

router = Router(tags=["card"])

ContactKind = Literal["email", "phone", "messenger"]
AddressKind = Literal["legal", "postal", "delivery", "office"]
ConsentChannel = Literal["email", "sms", "phone", "messenger", "post"]
ContractStatus = Literal["draft", "active", "expired", "terminated"]
Renewal = Literal["none", "automatic", "by_agreement"]
DateKind = Literal["birthday", "anniversary", "pet_birthday", "other"]


class ContactPointOut(Schema):
    id: int
    kind: str
    value: str
    display: str
    label: str
    is_primary: bool

    @staticmethod
    def resolve_display(obj: Any) -> str:
        return phone_display(obj.value) if obj.kind == "phone" else str(obj.value)


class ContactPointIn(Schema):
    kind: ContactKind
    value: str = Field(..., max_length=254)
    label: str = Field("", max_length=40)
    is_primary: bool = False


class AddressOut(Schema):
    id: int
    kind: str
    country: str
    region: str
    city: str
    postcode: str
    street: str
    is_primary: bool


class AddressIn(Schema):
    kind: AddressKind = "office"
    country: str = Field("", max_length=10)
    region: str = Field("", max_length=120)
    city: str = Field("", max_length=120)
    postcode: str = Field("", max_length=20)
    street: str = Field("", max_length=300)
    is_primary: bool = False


class ConsentOut(Schema):
    id: int
    channel: str
    granted: bool
    at: dt.datetime
    source: str
    recorded_by_id: int | None


class ConsentIn(Schema):
    channel: ConsentChannel
    granted: bool
    source: str = Field("", max_length=200)
    at: dt.datetime | None = None


class ConsentStateOut(Schema):
    channel: str
    granted: bool | None
    history: list[ConsentOut]


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    contract_id: int | None
    is_signed_copy: bool
    uploaded_at: dt.datetime
    url: str

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return f"/files/{obj.pk}/"


class ContractOut(Schema):
    id: int
    number: str
    subject: str
    start_on: dt.date | None
    end_on: dt.date | None
    amount: Decimal | None
    currency: str
    status: str
    renewal: str
    renewal_notice_days: int | None
    notes: str
    version: int
    files: list[AttachmentOut]

    @staticmethod
    def resolve_files(obj: Any) -> list[Any]:
        return list(obj.attachments.all())


class ContractIn(Schema):
    number: str = Field(..., max_length=100)
    subject: str = Field("", max_length=500)
    start_on: dt.date | None = None
    end_on: dt.date | None = None
    amount: Decimal | None = None
    currency: str = Field("", max_length=3)
    status: ContractStatus = "draft"
    renewal: Renewal = "none"
    renewal_notice_days: int | None = Field(None, ge=0, le=3650)
    notes: str = ""


class ContractPatch(Schema):
    number: str | None = Field(None, max_length=100)
    subject: str | None = Field(None, max_length=500)
    start_on: dt.date | None = None
    end_on: dt.date | None = None
    amount: Decimal | None = None
    currency: str | None = Field(None, max_length=3)
    status: ContractStatus | None = None
    renewal: Renewal | None = None
    renewal_notice_days: int | None = Field(None, ge=0, le=3650)
    notes: str | None = None


class ImportantDateOut(Schema):
    id: int
    kind: str
    label: str
    month: int
    day: int
    year: int | None
    remind_days_before: int


class ImportantDateIn(Schema):
    kind: DateKind
    label: str = Field("", max_length=150)
    month: int
    day: int
    year: int | None = None
    remind_days_before: int = 7


class PersonOut(Schema):
    id: int
    full_name: str
    email: str
    phone: str
    job_title: str
    role: str
    is_primary: bool
    is_current: bool


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label: str
    type: str
    choices: list[str]
    is_required: bool
    order: int
    is_active: bool


class CustomValueOut(Schema):
    key: str
    label: str
    type: str
    value: Any


class TierChangeOut(Schema):
    from_tier: str | None
    to_tier: str | None
    changed_by: str | None
    changed_at: dt.datetime
    reason: str


class ClientRef(Schema):
    id: int
    name: str


class AddressBlock(Schema):
    addresses: list[AddressOut]
    city: str


class ContactBlock(Schema):
    emails: list[ContactPointOut]
    phones: list[ContactPointOut]
    messengers: list[ContactPointOut]
    website: str
    preferred_channel: str
    preferred_time: str
    consents: list[ConsentStateOut]


class CommercialBlock(Schema):
    industry: str
    size: str
    annual_revenue: Decimal | None
    currency: str
    payment_terms_days: int | None
    price_list: str
    discount_percent: Decimal | None
    credit_limit: Decimal | None
    inn: str
    kpp: str
    ogrn: str
    vat: str
    bank_name: str
    bank_bic: str
    bank_account: str
    bank_correspondent_account: str


class ContractualBlock(Schema):
    contracts: list[ContractOut]


class CardOut(Schema):
    id: int
    name: str
    kind: str
    tier: str | None
    owner_id: int
    team_id: int | None
    last_contact_at: dt.datetime | None
    next_step_at: dt.datetime | None
    next_step_title: str
    tags: list[str]
    version: int
    address: AddressBlock
    contact: ContactBlock
    commercial: CommercialBlock
    contractual: ContractualBlock
    personal: list[CustomValueOut]
    important_dates: list[ImportantDateOut]
    people: list[PersonOut]
    files: list[AttachmentOut]
    parent: ClientRef | None
    subsidiaries: list[ClientRef]
    tier_history: list[TierChangeOut]


COMMERCIAL = list(CommercialBlock.model_fields)


@router.get("/clients/{client_id}/card", response=CardOut, operation_id="get_client_card")
def get_client_card(request: HttpRequest, response: HttpResponse, client_id: int) -> Any:
    card = client_card(viewer=request.user, client_id=client_id)
    client = card.client
    set_etag(response, client)
    return {
        "id": client.pk,
        "name": client.name,
        "kind": client.kind,
        "tier": client.tier.code if client.tier else None,
        "owner_id": client.owner_id,
        "team_id": client.team_id,
        "last_contact_at": client.last_contact_at,
        "next_step_at": client.next_step_at,
        "next_step_title": client.next_step_title,
        "tags": sorted(t.name for t in client.tags.all()),
        "version": client.version,
        "address": {"addresses": card.addresses, "city": client.city},
        "contact": {
            "emails": card.emails,
            "phones": card.phones,
            "messengers": card.messengers,
            "website": client.website,
            "preferred_channel": client.preferred_channel,
            "preferred_time": client.preferred_time,
            "consents": [
                {"channel": s.channel, "granted": s.granted, "history": s.history}
                for s in card.consents
            ],
        },
        "commercial": {name: getattr(client, name) for name in COMMERCIAL},
        "contractual": {"contracts": card.contracts},
        "personal": [
            {"key": v.field.key, "label": v.field.label, "type": v.field.type, "value": v.value}
            for v in card.custom_values
        ],
        "important_dates": card.important_dates,
        "people": [
            {
                "id": e.person.pk,
                "full_name": e.person.full_name,
                "email": e.person.email,
                "phone": e.person.phone,
                "job_title": e.job_title,
                "role": e.role,
                "is_primary": e.is_primary,
                "is_current": e.is_current,
            }
            for e in card.people
        ],
        "files": card.files,
        "parent": {"id": client.parent.pk, "name": client.parent.name} if client.parent else None,
        "subsidiaries": [{"id": s.pk, "name": s.name} for s in card.subsidiaries],
        "tier_history": [
            {
                "from_tier": str(c.from_tier) if c.from_tier else None,
                "to_tier": str(c.to_tier) if c.to_tier else None,
                "changed_by": c.changed_by.get_username() if c.changed_by else None,
                "changed_at": c.changed_at,
                "reason": c.reason,
            }
            for c in card.tier_changes
        ],
    }


@router.post(
    "/clients/{client_id}/contact-points",
    response={201: ContactPointOut},
    operation_id="add_contact_point",
)
def add_contact_point(request: HttpRequest, client_id: int, payload: ContactPointIn) -> Any:
    client = client_get(viewer=request.user, client_id=client_id)
    return Status(201, contact_point_add(actor=request.user, client=client, **payload.dict()))


@router.delete(
    "/clients/{client_id}/contact-points/{point_id}",
    response={204: None},
    operation_id="remove_contact_point",
)
def remove_contact_point(request: HttpRequest, client_id: int, point_id: int) -> Any:
    point = contact_point_get(viewer=request.user, client_id=client_id, point_id=point_id)
    contact_point_remove(actor=request.user, point=point)
    return Status(204, None)


@router.post(
    "/clients/{client_id}/addresses", response={201: AddressOut}, operation_id="add_address"
)
def add_address(request: HttpRequest, client_id: int, payload: AddressIn) -> Any:
    client = client_get(viewer=request.user, client_id=client_id)
    return Status(201, address_add(actor=request.user, client=client, **payload.dict()))


@router.delete(
    "/clients/{client_id}/addresses/{address_id}",
    response={204: None},
    operation_id="remove_address",
)
def remove_address(request: HttpRequest, client_id: int, address_id: int) -> Any:
    address = address_get(viewer=request.user, client_id=client_id, address_id=address_id)
    address_remove(actor=request.user, address=address)
    return Status(204, None)


@router.post(
    "/clients/{client_id}/consents", response={201: ConsentOut}, operation_id="record_consent"
)
def record_consent(request: HttpRequest, client_id: int, payload: ConsentIn) -> Any:
    client = client_get(viewer=request.user, client_id=client_id)
    return Status(201, consent_record(actor=request.user, client=client, **payload.dict()))


@router.post(
    "/clients/{client_id}/contracts", response={201: ContractOut}, operation_id="create_contract"
)
def create_contract(
    request: HttpRequest, response: HttpResponse, client_id: int, payload: ContractIn
) -> Any:
    client = client_get(viewer=request.user, client_id=client_id)
    data = payload.dict()
    if not data["currency"]:
        data.pop("currency")
    contract = contract_create(actor=request.user, client=client, **data)
    set_etag(response, contract)
    response["Location"] = f"/api/v1/contracts/{contract.pk}"
    return Status(201, contract)


@router.get("/contracts/{contract_id}", response=ContractOut, operation_id="get_contract")
def get_contract(request: HttpRequest, response: HttpResponse, contract_id: int) -> Any:
    contract = contract_get(viewer=request.user, contract_id=contract_id)
    set_etag(response, contract)
    return contract


@router.patch("/contracts/{contract_id}", response=ContractOut, operation_id="update_contract")
def update_contract(
    request: HttpRequest, response: HttpResponse, contract_id: int, payload: ContractPatch
) -> Any:
    contract = contract_get(viewer=request.user, contract_id=contract_id)
    version = expected_version(request, contract)
    contract = contract_update(
        actor=request.user,
        contract=contract,
        expected_version=version,
        **payload.dict(exclude_unset=True),
    )
    set_etag(response, contract)
    return contract


@router.post(
    "/clients/{client_id}/important-dates",
    response={201: ImportantDateOut},
    operation_id="add_important_date",
)
def add_important_date(request: HttpRequest, client_id: int, payload: ImportantDateIn) -> Any:
    client = client_get(viewer=request.user, client_id=client_id)
    return Status(201, important_date_add(actor=request.user, client=client, **payload.dict()))


@router.delete(
    "/clients/{client_id}/important-dates/{date_id}",
    response={204: None},
    operation_id="remove_important_date",
)
def remove_important_date(request: HttpRequest, client_id: int, date_id: int) -> Any:
    date = important_date_get(viewer=request.user, client_id=client_id, date_id=date_id)
    important_date_remove(actor=request.user, important_date=date)
    return Status(204, None)


@router.get("/custom-fields", response=list[CustomFieldOut], operation_id="list_custom_fields")
def list_custom_fields(request: HttpRequest, entity: str = "") -> Any:
    return custom_fields_list(entity=entity)
