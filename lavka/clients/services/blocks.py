"""Writes for the card's blocks: contact points, addresses, consents, contracts, files,
contact persons, important dates; and the administrators' custom fields and tiers.

Records that hang off a client are writable exactly when their client is: every
service locks the client row, refuses with NotFound when the actor cannot see the
client and NotPermitted when they can see but not edit it, and records the change in
the client's audit history.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients import identifiers
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
    Tier,
)
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors.blocks import important_date_next, people_visible_to
from lavka.clients.selectors.core import clients_visible_to
from lavka.clients.services.core import search_text_refresh
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.identity.access import Action as AccessAction
from lavka.identity.access import Area, Capability, can_access, has_capability

# --- shared ---------------------------------------------------------------------------


def _client_locked(actor: Any, client_id: int) -> Client:
    """The client row, locked, that `actor` may edit. NotFound when they cannot see it."""
    if not clients_visible_to(actor).filter(pk=client_id).exists():
        raise NotFound(resource="client", id=client_id)
    client = Client.objects.select_for_update().filter(pk=client_id).first()
    if client is None:
        raise NotFound(resource="client", id=client_id)
    if not can_edit_client(actor, client):
        raise NotPermitted(action="update", resource="client")
    return client


def _touch(client: Client) -> None:
    """Bump the client's version: its card changed, so an ETag read before is stale."""
    client.version += 1
    client.updated_at = timezone.now()
    Client.all_objects.filter(pk=client.pk).update(
        version=client.version, updated_at=client.updated_at
    )


def _audit(actor: Any, client: Client, block: str, before: Any, after: Any) -> None:
    audit_record(
        action=Action.UPDATE, subject=client, actor=actor, changes={block: [before, after]}
    )


def _text(value: Any, name: str, max_length: int, errors: dict[str, list[str]]) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > max_length:
        errors.setdefault(name, []).append(_("At most %(max)s characters.") % {"max": max_length})
    return text


# --- contact points -------------------------------------------------------------------

PRIMARY_FIELD = {ContactPoint.Kind.EMAIL: "email", ContactPoint.Kind.PHONE: "phone"}


def _contact_value_clean(kind: str, value: str) -> str:
    field = "value"
    if kind not in ContactPoint.Kind.values:
        raise ValidationFailed(fields={"kind": [_("Choose email, phone or messenger.")]})
    try:
        if kind == ContactPoint.Kind.EMAIL:
            value = identifiers.email_normalised(value)
        elif kind == ContactPoint.Kind.PHONE:
            value = identifiers.phone_normalised(value)
        else:
            value = value.strip()
    except identifiers.BadValue as exc:
        raise ValidationFailed(fields={field: [str(exc)]}) from None
    if not value:
        raise ValidationFailed(fields={field: [_("Enter a value.")]})
    if len(value) > 254:
        raise ValidationFailed(fields={field: [_("At most %(max)s characters.") % {"max": 254}]})
    return value


def _primary_sync(client: Client, kind: str) -> None:
    """The client's own email/phone column is its primary contact point of that kind."""
    field = PRIMARY_FIELD.get(kind)  # type: ignore[call-overload]
    if field is None:
        return
    primary = (
        ContactPoint.objects.filter(client=client, kind=kind).order_by("-is_primary", "id").first()
    )
    if primary is not None and not primary.is_primary:
        primary.is_primary = True
        primary.save(update_fields=["is_primary"])
    value = primary.value if primary else ""
    if getattr(client, field) != value:
        setattr(client, field, value)
        Client.all_objects.filter(pk=client.pk).update(**{field: value})


@transaction.atomic
def contact_point_add(
    *,
    actor: Any,
    client: Client,
    kind: str,
    value: str,
    label: str = "",
    is_primary: bool = False,
) -> ContactPoint:
    """Add an email (validated), phone (E.164) or messenger handle. The first of its kind,
    or one marked primary, becomes the client's primary email/phone."""
    locked = _client_locked(actor, client.pk)
    value = _contact_value_clean(kind, value)
    errors: dict[str, list[str]] = {}
    label = _text(label, "label", 40, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    if ContactPoint.objects.filter(client=locked, kind=kind, value=value).exists():
        raise ValidationFailed(fields={"value": [_("This client already has it.")]})
    if is_primary:
        ContactPoint.objects.filter(client=locked, kind=kind).update(is_primary=False)
    point = ContactPoint.objects.create(
        client=locked, kind=kind, value=value, label=label, is_primary=is_primary
    )
    _primary_sync(locked, kind)
    _touch(locked)
    search_text_refresh(locked)
    _audit(actor, locked, "contact_points", None, f"{kind}: {value}")
    if kind in (ContactPoint.Kind.EMAIL, ContactPoint.Kind.PHONE):
        # Another client with this email or phone is a duplicate candidate.
        outbox_publish(
            kind="client.updated", payload={"client_id": locked.pk, "fields": ["contact_points"]}
        )
    point.refresh_from_db()
    return point


@transaction.atomic
def contact_point_remove(*, actor: Any, point: ContactPoint) -> None:
    if point.client_id is None:
        raise NotFound(resource="contact_point", id=point.pk)
    locked = _client_locked(actor, point.client_id)
    point = ContactPoint.objects.filter(pk=point.pk, client=locked).first()  # type: ignore[assignment]
    if point is None:
        raise NotFound(resource="contact_point", id=None)
    kind, value = point.kind, point.value
    point.delete()
    _primary_sync(locked, kind)
    _touch(locked)
    search_text_refresh(locked)
    _audit(actor, locked, "contact_points", f"{kind}: {value}", None)


# --- addresses ------------------------------------------------------------------------

COUNTRIES = frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2)
ADDRESS_FIELDS = ["kind", "country", "region", "city", "postcode", "street", "is_primary"]


def _address_clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    unknown = set(fields) - set(ADDRESS_FIELDS)
    for name in sorted(unknown):
        errors[name] = [_("Unknown field.")]
    for name, value in fields.items():
        if name == "is_primary":
            cleaned[name] = bool(value)
        elif name in ADDRESS_FIELDS:
            max_length = Address._meta.get_field(name).max_length or 300  # type: ignore[union-attr]
            cleaned[name] = _text(value, name, max_length if name != "country" else 10, errors)
    if "kind" in cleaned and cleaned["kind"] not in Address.Kind.values:
        errors["kind"] = [_("Choose legal, postal, delivery or office.")]
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].upper()
        if cleaned["country"] not in COUNTRIES:
            errors["country"] = [_("Use a two-letter country code (ISO 3166), e.g. RU or DE.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _primary_address_sync(client: Client) -> None:
    primary = Address.objects.filter(client=client).order_by("-is_primary", "id").first()
    if primary is not None and not primary.is_primary:
        primary.is_primary = True
        primary.save(update_fields=["is_primary"])
    city = primary.city if primary else client.city
    if city != client.city:
        client.city = city
        Client.all_objects.filter(pk=client.pk).update(city=city)


@transaction.atomic
def address_add(*, actor: Any, client: Client, **fields: Any) -> Address:
    """Add a typed address. The first one, or one marked primary, gives the client its city."""
    locked = _client_locked(actor, client.pk)
    cleaned = _address_clean({"kind": Address.Kind.OFFICE, **fields})
    if not any(cleaned.get(f) for f in ("country", "region", "city", "postcode", "street")):
        raise ValidationFailed(fields={"city": [_("Enter at least a city or a street.")]})
    if cleaned.get("is_primary"):
        Address.objects.filter(client=locked).update(is_primary=False)
    address = Address.objects.create(client=locked, **cleaned)
    _primary_address_sync(locked)
    _touch(locked)
    search_text_refresh(locked)
    _audit(actor, locked, "addresses", None, str(address))
    address.refresh_from_db()
    return address


@transaction.atomic
def address_update(*, actor: Any, address: Address, **fields: Any) -> Address:
    locked = _client_locked(actor, address.client_id)
    current = Address.objects.filter(pk=address.pk, client=locked).first()
    if current is None:
        raise NotFound(resource="address", id=address.pk)
    cleaned = _address_clean(fields)
    parts = ("country", "region", "city", "postcode", "street")
    if not any(cleaned.get(f, getattr(current, f)) for f in parts):
        raise ValidationFailed(fields={"city": [_("Enter at least a city or a street.")]})
    before = str(current)
    if cleaned.get("is_primary"):
        Address.objects.filter(client=locked).exclude(pk=current.pk).update(is_primary=False)
    for name, value in cleaned.items():
        setattr(current, name, value)
    current.save()
    _primary_address_sync(locked)
    _touch(locked)
    search_text_refresh(locked)
    _audit(actor, locked, "addresses", before, str(current))
    return current


@transaction.atomic
def address_remove(*, actor: Any, address: Address) -> None:
    locked = _client_locked(actor, address.client_id)
    current = Address.objects.filter(pk=address.pk, client=locked).first()
    if current is None:
        raise NotFound(resource="address", id=address.pk)
    before = str(current)
    current.delete()
    _primary_address_sync(locked)
    _touch(locked)
    _audit(actor, locked, "addresses", before, None)


# --- consents -------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor: Any,
    client: Client,
    channel: str,
    granted: bool,
    source: str = "",
    at: dt.datetime | None = None,
) -> Consent:
    """Record consent given or withdrawn for one channel. Rows are never updated: the
    current consent is the latest row, and the earlier ones are its history."""
    locked = _client_locked(actor, client.pk)
    errors: dict[str, list[str]] = {}
    if channel not in Consent.Channel.values:
        errors["channel"] = [_("Choose one of the channels.")]
    source = _text(source, "source", 200, errors)
    if at is not None and at > timezone.now() + dt.timedelta(minutes=5):
        errors["at"] = [_("Consent cannot be recorded for the future.")]
    if errors:
        raise ValidationFailed(fields=errors)
    consent = Consent.objects.create(
        client=locked,
        channel=channel,
        granted=bool(granted),
        source=source,
        at=at or timezone.now(),
        recorded_by=actor if actor.is_authenticated else None,
    )
    _touch(locked)
    state = _("given") if consent.granted else _("withdrawn")
    _audit(actor, locked, f"consent.{channel}", None, f"{state} ({source})" if source else state)
    outbox_publish(
        kind="client.consent_recorded",
        payload={"client_id": locked.pk, "channel": channel, "granted": consent.granted},
    )
    return consent


# --- contracts ------------------------------------------------------------------------

CONTRACT_FIELDS = [
    "number",
    "subject",
    "start_on",
    "end_on",
    "amount",
    "currency",
    "status",
    "renewal",
    "renewal_notice_days",
    "notes",
]


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(name, []).append(_("Enter a date as YYYY-MM-DD."))
        return None


def _contract_clean(fields: dict[str, Any], current: Contract | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(CONTRACT_FIELDS)):
        errors[name] = [_("Unknown field.")]
    for name, value in fields.items():
        if name in ("number", "subject", "currency", "status", "renewal"):
            max_length = Contract._meta.get_field(name).max_length or 500  # type: ignore[union-attr]
            cleaned[name] = _text(value, name, max_length, errors)
        elif name == "notes":
            cleaned[name] = "" if value is None else str(value).strip()
        elif name in ("start_on", "end_on"):
            cleaned[name] = _date(value, name, errors)
        elif name == "amount":
            if value in (None, ""):
                cleaned[name] = None
            else:
                try:
                    amount = Decimal(str(value).replace(" ", "").replace(",", "."))
                    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e16"):
                        raise InvalidOperation
                    cleaned[name] = amount.quantize(Decimal("0.01"))
                except InvalidOperation:
                    errors["amount"] = [_("Enter an amount of 0 or more.")]
        elif name == "renewal_notice_days":
            if value in (None, ""):
                cleaned[name] = None
            else:
                try:
                    days = int(value)
                    if not 0 <= days <= 3650:
                        raise ValueError
                    cleaned[name] = days
                except (TypeError, ValueError):
                    errors[name] = [_("Enter a number of days.")]
    if "number" in cleaned and not cleaned["number"] and "number" not in errors:
        errors["number"] = [_("Enter the contract number.")]
    if "currency" in cleaned:
        cleaned["currency"] = cleaned["currency"].upper()
        if len(cleaned["currency"]) != 3 or not cleaned["currency"].isalpha():
            errors["currency"] = [_("Use a three-letter currency code, e.g. RUB.")]
    if cleaned.get("status") and cleaned["status"] not in Contract.Status.values:
        errors["status"] = [_("Choose one of the statuses.")]
    if cleaned.get("renewal") and cleaned["renewal"] not in Contract.Renewal.values:
        errors["renewal"] = [_("Choose one of the renewal terms.")]
    start = cleaned.get("start_on", current.start_on if current else None)
    end = cleaned.get("end_on", current.end_on if current else None)
    if start and end and end < start and "end_on" not in errors:
        errors["end_on"] = [_("The end date must not be before the start date.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def contract_create(*, actor: Any, client: Client, number: str, **fields: Any) -> Contract:
    """A contract with the client; its number becomes searchable."""
    locked = _client_locked(actor, client.pk)
    cleaned = _contract_clean(
        {
            "number": number,
            "currency": fields.pop("currency", None)
            or locked.currency
            or settings.DEFAULT_CURRENCY,
            **fields,
        },
        None,
    )
    contract = Contract.objects.create(client=locked, **cleaned)
    _touch(locked)
    search_text_refresh(locked)
    audit_record(
        action=Action.CREATE,
        subject=contract,
        actor=actor,
        changes=diff({}, snapshot(contract, CONTRACT_FIELDS)),
    )
    _audit(actor, locked, "contracts", None, contract.number)
    outbox_publish(
        kind="contract.created", payload={"client_id": locked.pk, "contract_id": contract.pk}
    )
    return contract


@transaction.atomic
def contract_update(
    *, actor: Any, contract: Contract, expected_version: int | None = None, **changes: Any
) -> Contract:
    """Change a contract; with `expected_version`, StaleVersion if it changed meanwhile."""
    locked_client = _client_locked(actor, contract.client_id)
    current = (
        Contract.objects.select_for_update().filter(pk=contract.pk, client=locked_client).first()
    )
    if current is None:
        raise NotFound(resource="contract", id=contract.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion()
    cleaned = _contract_clean(changes, current)
    before = snapshot(current, CONTRACT_FIELDS)
    for name, value in cleaned.items():
        setattr(current, name, value)
    changed = diff(before, snapshot(current, CONTRACT_FIELDS))
    if changed:
        current.version += 1
        current.save(update_fields=[*changed, "version", "updated_at"])
        search_text_refresh(locked_client)
        audit_record(action=Action.UPDATE, subject=current, actor=actor, changes=changed)
        outbox_publish(
            kind="contract.updated", payload={"contract_id": current.pk, "fields": sorted(changed)}
        )
    return current


# --- files ----------------------------------------------------------------------------

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# extension -> (content type, accepted first bytes; None = text, checked for NUL bytes)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "doc": ("application/msword", (OLE,)),
    "xls": ("application/vnd.ms-excel", (OLE,)),
    "ppt": ("application/vnd.ms-powerpoint", (OLE,)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    "odt": ("application/vnd.oasis.opendocument.text", ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    "rtf": ("application/rtf", (b"{\\rtf",)),
    "zip": ("application/zip", ZIP),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
}


def _file_type(name: str, head: bytes) -> str:
    """The content type of an allowed file, checked by extension and first bytes."""
    extension = PurePath(name).suffix.lower().lstrip(".")
    allowed = ALLOWED_TYPES.get(extension)
    if allowed is None:
        raise ValidationFailed(
            fields={
                "file": [
                    _(
                        "Files of this type are not accepted. Upload a PDF, an image, an office "
                        "document, a text or CSV file, or a ZIP archive."
                    )
                ]
            }
        )
    content_type, magic = allowed
    if magic is None:
        ok = b"\x00" not in head
    else:
        ok = any(head.startswith(m) for m in magic)
        if extension == "webp":
            ok = ok and head[8:12] == b"WEBP"
    if not ok:
        raise ValidationFailed(
            fields={
                "file": [
                    _("The file's contents do not match its extension “.%(ext)s”: it is refused.")
                    % {"ext": extension}
                ]
            }
        )
    return content_type


@transaction.atomic
def attachment_add(
    *,
    actor: Any,
    client: Client,
    upload: Any,
    contract: Contract | None = None,
    is_signed_copy: bool = False,
) -> Attachment:
    """Store an uploaded file on the client (or one of its contracts) in the default
    storage. Refuses files over ATTACHMENT_MAX_BYTES and types not on the allowed list,
    judged by extension and by the first bytes."""
    locked = _client_locked(actor, client.pk)
    if contract is not None and not Contract.objects.filter(pk=contract.pk, client=locked).exists():
        raise NotFound(resource="contract", id=contract.pk)
    name = PurePath(str(getattr(upload, "name", "") or "file")).name[:255]
    size = int(getattr(upload, "size", 0) or 0)
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationFailed(
            fields={
                "file": [
                    _("The file is too large: at most %(max)s MB.")
                    % {"max": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
                ]
            }
        )
    if size == 0:
        raise ValidationFailed(fields={"file": [_("The file is empty.")]})
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    content_type = _file_type(name, head)
    attachment = Attachment(
        client=locked,
        contract=contract,
        token=secrets.token_hex(20),
        name=name,
        size=size,
        content_type=content_type,
        is_signed_copy=is_signed_copy and contract is not None,
        uploaded_by=actor if actor.is_authenticated else None,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    _touch(locked)
    _audit(actor, locked, "files", None, name)
    return attachment


@transaction.atomic
def attachment_remove(*, actor: Any, attachment: Attachment) -> None:
    """Move a file to the trash (the stored file stays until the trash is emptied)."""
    locked = _client_locked(actor, attachment.client_id)
    current = Attachment.objects.filter(pk=attachment.pk, client=locked).first()
    if current is None:
        raise NotFound(resource="attachment", id=attachment.pk)
    trash.soft_delete(actor=actor, obj=current)
    _touch(locked)
    _audit(actor, locked, "files", current.name, None)


# --- contact persons ------------------------------------------------------------------


@transaction.atomic
def person_create(
    *,
    actor: Any,
    first_name: str = "",
    last_name: str = "",
    middle_name: str = "",
    email: str = "",
    phone: str = "",
    organisation: Client | None = None,
    job_title: str = "",
    role: str = "",
    notes: str = "",
) -> Person:
    """A contact person, owned by the actor; linked to `organisation` when given."""
    errors: dict[str, list[str]] = {}
    names = {
        n: _text(v, n, 100, errors)
        for n, v in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("middle_name", middle_name),
        )
    }
    if not names["first_name"] and not names["last_name"] and "last_name" not in errors:
        errors["last_name"] = [_("Enter a first or last name.")]
    try:
        email = identifiers.email_normalised(email or "")
    except identifiers.BadValue as exc:
        errors["email"] = [str(exc)]
    try:
        phone = identifiers.phone_normalised(phone or "")
    except identifiers.BadValue as exc:
        errors["phone"] = [str(exc)]
    if errors:
        raise ValidationFailed(fields=errors)
    if organisation is not None:
        _client_locked(actor, organisation.pk)
    person = Person.objects.create(
        **names,
        email=email,
        phone=phone,
        notes=(notes or "").strip(),
        owner=actor,
        team_id=actor.team_id,
        search_text=identifiers.folded(*names.values(), email, phone.lstrip("+")),
    )
    for kind, value in ((ContactPoint.Kind.EMAIL, email), (ContactPoint.Kind.PHONE, phone)):
        if value:
            ContactPoint.objects.create(person=person, kind=kind, value=value, is_primary=True)
    audit_record(
        action=Action.CREATE,
        subject=person,
        actor=actor,
        changes={k: [None, v] for k, v in {**names, "email": email, "phone": phone}.items() if v},
    )
    if organisation is not None:
        employment_link(
            actor=actor, person=person, organisation=organisation, job_title=job_title, role=role
        )
    return person


@transaction.atomic
def employment_link(
    *,
    actor: Any,
    person: Person,
    organisation: Client,
    job_title: str = "",
    role: str = "",
    is_primary: bool = False,
) -> Employment:
    """Link a person to an organisation (a person can work at several), or update the
    job title and role of an existing link. NotFound for a person the actor cannot see."""
    if not people_visible_to(actor).filter(pk=person.pk).exists():
        raise NotFound(resource="person", id=person.pk)
    locked = _client_locked(actor, organisation.pk)
    errors: dict[str, list[str]] = {}
    job_title = _text(job_title, "job_title", 150, errors)
    role = _text(role, "role", 150, errors)
    if locked.kind != Client.Kind.ORGANISATION:
        errors["organisation"] = [_("Contact persons belong to organisations.")]
    if errors:
        raise ValidationFailed(fields=errors)
    employment, created = Employment.objects.update_or_create(
        person=person,
        organisation=locked,
        defaults={"job_title": job_title, "role": role, "is_primary": is_primary},
    )
    _touch(locked)
    _audit(
        actor,
        locked,
        "people",
        None if created else str(person),
        f"{person} ({job_title})" if job_title else str(person),
    )
    return employment


# --- important dates ------------------------------------------------------------------


def _important_date_clean(
    *, kind: str, month: Any, day: Any, label: Any, year: Any, remind_days_before: Any
) -> dict[str, Any]:
    """The fields of an important date, checked: ValidationFailed names each bad one."""
    errors: dict[str, list[str]] = {}
    if kind not in ImportantDate.Kind.values:
        errors["kind"] = [_("Choose one of the kinds.")]
    label = _text(label, "label", 150, errors)
    numbers: dict[str, int | None] = {}
    for name, value, low, high in (
        ("month", month, 1, 12),
        ("day", day, 1, 31),
        ("year", year, 1900, 2100),
        ("remind_days_before", remind_days_before, 0, 365),
    ):
        if value in (None, "") and name in ("year", "remind_days_before"):
            numbers[name] = None if name == "year" else 7
            continue
        try:
            number = int(value)
            if not low <= number <= high:
                raise ValueError
            numbers[name] = number
        except (TypeError, ValueError):
            errors[name] = [
                _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            ]
    if "month" not in errors and "day" not in errors:
        try:
            dt.date(2000, numbers["month"] or 0, numbers["day"] or 0)  # 2000 is a leap year
        except ValueError:
            errors["day"] = [_("This month has no such day.")]
    if kind == ImportantDate.Kind.OTHER and not label and "label" not in errors:
        errors["label"] = [_("Say what the date is.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return {
        "kind": kind,
        "label": label,
        "month": numbers["month"] or 1,
        "day": numbers["day"] or 1,
        "year": numbers["year"],
        "remind_days_before": numbers["remind_days_before"] or 0,
    }


def _important_date_text(date: ImportantDate) -> str:
    return f"{date.get_kind_display()} {date.day:02d}.{date.month:02d}"


@transaction.atomic
def important_date_add(
    *,
    actor: Any,
    client: Client,
    kind: str,
    month: Any,
    day: Any,
    label: str = "",
    year: Any = None,
    remind_days_before: Any = 7,
) -> ImportantDate:
    """A yearly date (a birthday, an anniversary, a pet's birthday); 29 February is
    allowed and is remembered on 28 February in other years."""
    locked = _client_locked(actor, client.pk)
    cleaned = _important_date_clean(
        kind=kind,
        month=month,
        day=day,
        label=label,
        year=year,
        remind_days_before=remind_days_before,
    )
    date = ImportantDate.objects.create(client=locked, **cleaned)
    _touch(locked)
    _audit(actor, locked, "important_dates", None, _important_date_text(date))
    return date


@transaction.atomic
def person_important_date_add(
    *,
    actor: Any,
    person: Person,
    kind: str,
    month: Any,
    day: Any,
    label: str = "",
    year: Any = None,
    remind_days_before: Any = 7,
) -> ImportantDate:
    """A contact person's yearly date (their birthday, say): checked as a client's, and
    allowed to whoever may edit the person (their own record or an organisation they
    work at). The person's owner is reminded before it comes."""
    current, organisations = _person_locked(actor, person.pk)
    if not _can_edit_person_record(actor, current) and not any(
        can_edit_client(actor, org) for org in organisations
    ):
        raise NotPermitted(action="update", resource="person")
    cleaned = _important_date_clean(
        kind=kind,
        month=month,
        day=day,
        label=label,
        year=year,
        remind_days_before=remind_days_before,
    )
    date = ImportantDate.objects.create(person=current, **cleaned)
    current.version += 1
    Person.all_objects.filter(pk=current.pk).update(
        version=current.version, updated_at=timezone.now()
    )
    audit_record(
        action=Action.UPDATE,
        subject=current,
        actor=actor,
        changes={"important_dates": [None, _important_date_text(date)]},
    )
    return date


@transaction.atomic
def important_date_remove(*, actor: Any, important_date: ImportantDate) -> None:
    if important_date.client_id is None:
        raise NotFound(resource="important_date", id=important_date.pk)
    locked = _client_locked(actor, important_date.client_id)
    current = ImportantDate.objects.filter(pk=important_date.pk, client=locked).first()
    if current is None:
        raise NotFound(resource="important_date", id=important_date.pk)
    before = _important_date_text(current)
    current.delete()
    _touch(locked)
    _audit(actor, locked, "important_dates", before, None)


@transaction.atomic
def important_dates_remind(*, today: dt.date | None = None) -> int:
    """Notify each client's owner of the important dates coming within their
    `remind_days_before`, once per year (idempotent: safe to run again). Returns how
    many reminders were sent."""
    from lavka.notifications.services import notify

    today = today or timezone.localdate()
    longest = ImportantDate.objects.aggregate(m=Max("remind_days_before"))["m"] or 0
    months = {(today + dt.timedelta(days=d)).month for d in range(min(longest, 366) + 1)}
    candidates = (
        ImportantDate.objects.select_for_update(of=("self",))
        .select_related("client__owner", "person__owner")
        .filter(month__in=months)
    )
    sent = 0
    for date in candidates:
        occurs = important_date_next(date, today)
        days = (occurs - today).days
        if days > date.remind_days_before or date.last_reminded_for == occurs.year:
            continue
        subject = date.client or date.person
        owner = getattr(subject, "owner", None)
        if subject is None or owner is None or getattr(subject, "deleted_at", None):
            continue
        what = date.label or date.get_kind_display()
        if days == 0:
            title = _("%(what)s of %(name)s is today") % {"what": what, "name": subject}
        else:
            title = _("%(what)s of %(name)s in %(days)s days") % {
                "what": what,
                "name": subject,
                "days": days,
            }
        url = f"/clients/{date.client_id}/" if date.client_id else f"/people/{date.person_id}/"
        notify(recipient=owner, title=title, url=url)
        date.last_reminded_for = occurs.year
        date.save(update_fields=["last_reminded_for"])
        sent += 1
    return sent


# --- administrators: custom fields and tiers ------------------------------------------


def _require_settings(actor: Any) -> None:
    if not has_capability(actor, Capability.MANAGE_SETTINGS):
        raise NotPermitted(action="manage", resource="settings")


CUSTOM_FIELD_FIELDS = [
    "entity",
    "key",
    "label",
    "type",
    "choices",
    "is_required",
    "order",
    "is_active",
]


def _custom_field_clean(fields: dict[str, Any], current: CustomField | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in CUSTOM_FIELD_FIELDS:
            errors[name] = [_("Unknown field.")]
        elif name in ("is_required", "is_active"):
            cleaned[name] = bool(value)
        elif name == "order":
            try:
                cleaned[name] = max(0, min(int(value or 0), 32000))
            except (TypeError, ValueError):
                errors[name] = [_("Enter a number.")]
        elif name == "choices":
            items = value if isinstance(value, list) else str(value or "").split(",")
            cleaned[name] = [str(v).strip()[:100] for v in items if str(v).strip()]
        else:
            cleaned[name] = _text(value, name, 100 if name == "label" else 50, errors)
    if "label" in cleaned and not cleaned["label"] and "label" not in errors:
        errors["label"] = [_("Enter a label.")]
    if "entity" in cleaned and cleaned["entity"] not in CustomField.Entity.values:
        errors["entity"] = [_("Choose client, person or contract.")]
    if "type" in cleaned and cleaned["type"] not in CustomField.Type.values:
        errors["type"] = [_("Choose one of the types.")]
    if "key" in cleaned:
        cleaned["key"] = slugify(cleaned["key"]).replace("-", "_")[:50]
        if not cleaned["key"]:
            errors["key"] = [_("Enter a key of Latin letters, digits and underscores.")]
    kind = cleaned.get("type", current.type if current else "")
    choices = cleaned.get("choices", current.choices if current else [])
    if kind in (CustomField.Type.CHOICE, CustomField.Type.MULTI_CHOICE) and not choices:
        errors["choices"] = [_("List the choices, separated by commas.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def custom_field_create(
    *, actor: Any, entity: str, label: str, type: str, key: str = "", **fields: Any
) -> CustomField:
    """Define a personal-details field (administrators only)."""
    _require_settings(actor)
    cleaned = _custom_field_clean(
        {
            "entity": entity,
            "label": label,
            "type": type,
            "key": key or identifiers.folded(label),
            **fields,
        },
        None,
    )
    if CustomField.objects.filter(entity=cleaned["entity"], key=cleaned["key"]).exists():
        raise ValidationFailed(fields={"key": [_("A field with this key exists already.")]})
    field = CustomField.objects.create(**cleaned)
    audit_record(
        action=Action.CREATE,
        subject=field,
        actor=actor,
        changes=diff({}, snapshot(field, CUSTOM_FIELD_FIELDS)),
    )
    return field


@transaction.atomic
def custom_field_update(*, actor: Any, field: CustomField, **changes: Any) -> CustomField:
    """Change a field's label, choices, order, required or active flag. Its key, entity
    and type stay: stored values depend on them."""
    _require_settings(actor)
    frozen = {"entity", "key", "type"} & set(changes)
    if frozen:
        raise ValidationFailed(
            fields={k: [_("This cannot be changed once the field exists.")] for k in sorted(frozen)}
        )
    current = CustomField.objects.select_for_update().get(pk=field.pk)
    cleaned = _custom_field_clean(changes, current)
    before = snapshot(current, CUSTOM_FIELD_FIELDS)
    for name, value in cleaned.items():
        setattr(current, name, value)
    changed = diff(before, snapshot(current, CUSTOM_FIELD_FIELDS))
    if changed:
        current.save(update_fields=list(changed))
        audit_record(action=Action.UPDATE, subject=current, actor=actor, changes=changed)
    return current


TIER_FIELDS = ["code", "name", "order", "contact_norm_days", "colour", "is_default"]
TIER_COLOURS = {"neutral", "accent", "good", "warn", "risk"}


def _tier_clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in TIER_FIELDS:
            errors[name] = [_("Unknown field.")]
        elif name == "is_default":
            cleaned[name] = bool(value)
        elif name in ("order", "contact_norm_days"):
            if value in (None, ""):
                cleaned[name] = 0 if name == "order" else None
                continue
            try:
                number = int(value)
                if not 0 <= number <= 3650:
                    raise ValueError
                cleaned[name] = number
            except (TypeError, ValueError):
                errors[name] = [
                    _("Enter a number from %(low)s to %(high)s.") % {"low": 0, "high": 3650}
                ]
        else:
            cleaned[name] = _text(value, name, 80 if name == "name" else 40, errors)
    if "name" in cleaned and not cleaned["name"] and "name" not in errors:
        errors["name"] = [_("Enter the tier's name.")]
    if "colour" in cleaned and cleaned["colour"] not in TIER_COLOURS:
        errors["colour"] = [_("Choose one of the colours.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def tier_create(
    *,
    actor: Any,
    name: str,
    order: Any = 0,
    contact_norm_days: Any = None,
    colour: str = "neutral",
    code: str = "",
) -> Tier:
    """A new tier (administrators only)."""
    _require_settings(actor)
    cleaned = _tier_clean(
        {"name": name, "order": order, "contact_norm_days": contact_norm_days, "colour": colour}
    )
    base = slugify(code or cleaned["name"])[:34] or "tier"
    slug, n = base, 1
    while Tier.objects.filter(code=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    tier = Tier.objects.create(code=slug, **cleaned)
    audit_record(
        action=Action.CREATE,
        subject=tier,
        actor=actor,
        changes=diff({}, snapshot(tier, TIER_FIELDS)),
    )
    return tier


@transaction.atomic
def tier_update(*, actor: Any, tier: Tier, **changes: Any) -> Tier:
    """Rename a tier, reorder it, change its contact norm (administrators only)."""
    _require_settings(actor)
    if "code" in changes:
        raise ValidationFailed(fields={"code": [_("This cannot be changed once the tier exists.")]})
    current = Tier.objects.select_for_update().get(pk=tier.pk)
    cleaned = _tier_clean(changes)
    before = snapshot(current, TIER_FIELDS)
    if cleaned.get("is_default"):
        Tier.objects.exclude(pk=current.pk).update(is_default=False)
    for name, value in cleaned.items():
        setattr(current, name, value)
    changed = diff(before, snapshot(current, TIER_FIELDS))
    if changed:
        current.save(update_fields=list(changed))
        audit_record(action=Action.UPDATE, subject=current, actor=actor, changes=changed)
    return current


# --- contact persons: edits, removal, links --------------------------------------------

PERSON_FIELDS = ["first_name", "middle_name", "last_name", "email", "phone", "notes"]
EMPLOYMENT_FIELDS = ["job_title", "role", "is_primary", "is_current"]


def _person_locked(actor: Any, person_id: int) -> tuple[Person, list[Client]]:
    """The person row, locked, and the live organisations they work at. NotFound when
    the actor cannot see the person."""
    if not people_visible_to(actor).filter(pk=person_id).exists():
        raise NotFound(resource="person", id=person_id)
    person = Person.objects.select_for_update().filter(pk=person_id).first()
    if person is None:
        raise NotFound(resource="person", id=person_id)
    organisations = list(Client.objects.filter(employments__person=person).order_by("pk"))
    return person, organisations


def _can_edit_person_record(actor: Any, person: Person) -> bool:
    return can_access(
        actor,
        area=Area.CLIENTS,
        action=AccessAction.WRITE,
        owner_id=person.owner_id,
        team_id=person.team_id,
    )


def _person_clean(fields: dict[str, Any], current: Person) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(PERSON_FIELDS)):
        errors[name] = [_("Unknown field.")]
    for name, value in fields.items():
        if name in ("first_name", "middle_name", "last_name"):
            cleaned[name] = _text(value, name, 100, errors)
        elif name == "notes":
            cleaned[name] = "" if value is None else str(value).strip()
        elif name == "email":
            try:
                cleaned[name] = identifiers.email_normalised(value or "")
            except identifiers.BadValue as exc:
                errors[name] = [str(exc)]
        elif name == "phone":
            try:
                cleaned[name] = identifiers.phone_normalised(value or "")
            except identifiers.BadValue as exc:
                errors[name] = [str(exc)]
    first = cleaned.get("first_name", current.first_name)
    last = cleaned.get("last_name", current.last_name)
    if not first and not last and not {"first_name", "last_name"} & set(errors):
        errors["last_name"] = [_("Enter a first or last name.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _person_contact_sync(person: Person, kind: str, value: str) -> None:
    """The person's primary contact point of `kind` holds their email or phone."""
    points = ContactPoint.objects.filter(person=person, kind=kind)
    if not value:
        points.filter(is_primary=True).delete()
        return
    primary = points.filter(is_primary=True).first()
    if primary is None:
        ContactPoint.objects.create(person=person, kind=kind, value=value, is_primary=True)
    elif primary.value != value:
        points.filter(value=value).exclude(pk=primary.pk).delete()
        primary.value = value
        primary.save(update_fields=["value"])


@transaction.atomic
def person_update(
    *, actor: Any, person: Person, expected_version: int | None = None, **changes: Any
) -> Person:
    """Change a person's names, email, phone or notes. Allowed to whoever may write the
    person's own record or one of the organisations they work at; with
    `expected_version`, StaleVersion if the person changed meanwhile."""
    current, organisations = _person_locked(actor, person.pk)
    if not _can_edit_person_record(actor, current) and not any(
        can_edit_client(actor, org) for org in organisations
    ):
        raise NotPermitted(action="update", resource="person")
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion()
    cleaned = _person_clean(changes, current)
    before = snapshot(current, PERSON_FIELDS)
    for name, value in cleaned.items():
        setattr(current, name, value)
    changed = diff(before, snapshot(current, PERSON_FIELDS))
    if not changed:
        return current
    current.search_text = identifiers.folded(
        current.first_name,
        current.middle_name,
        current.last_name,
        current.email,
        current.phone.lstrip("+"),
    )
    current.version += 1
    current.save(update_fields=[*changed, "search_text", "version", "updated_at"])
    if "email" in changed:
        _person_contact_sync(current, ContactPoint.Kind.EMAIL, current.email)
    if "phone" in changed:
        _person_contact_sync(current, ContactPoint.Kind.PHONE, current.phone)
    audit_record(action=Action.UPDATE, subject=current, actor=actor, changes=changed)
    return current


@transaction.atomic
def person_remove(*, actor: Any, person: Person, expected_version: int | None = None) -> None:
    """Move a person to the trash: they leave the cards of every organisation they work
    at, so the actor must be able to write each of those (or, for a person who works
    nowhere, the person's own record). Their employments are kept for a restore."""
    current, organisations = _person_locked(actor, person.pk)
    allowed = (
        all(can_edit_client(actor, org) for org in organisations)
        if organisations
        else _can_edit_person_record(actor, current)
    )
    if not allowed:
        raise NotPermitted(action="delete", resource="person")
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion()
    trash.soft_delete(actor=actor, obj=current)
    for org in organisations:
        _touch(org)
        _audit(actor, org, "people", str(current), None)


def _employment_text(employment: Employment) -> str:
    """How the history shows a person's place: "Anna Smirnova (CFO, decides)"."""
    details = [d for d in (employment.job_title, employment.role) if d]
    if not employment.is_current:
        details.append(_("left"))
    person = str(employment.person)
    return f"{person} ({', '.join(details)})" if details else person


def _employment_locked(actor: Any, employment: Employment) -> tuple[Employment, Client]:
    """The link, with its organisation locked for editing; NotFound when the actor
    cannot see the person or the organisation."""
    if not people_visible_to(actor).filter(pk=employment.person_id).exists():
        raise NotFound(resource="employment", id=employment.pk)
    locked = _client_locked(actor, employment.organisation_id)
    current = (
        Employment.objects.select_related("person")
        .filter(pk=employment.pk, organisation=locked)
        .first()
    )
    if current is None:
        raise NotFound(resource="employment", id=employment.pk)
    return current, locked


@transaction.atomic
def employment_update(*, actor: Any, employment: Employment, **changes: Any) -> Employment:
    """Change a person's job title, role, main-contact flag or whether they still work
    at the organisation (needs write access to the organisation)."""
    current, locked = _employment_locked(actor, employment)
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EMPLOYMENT_FIELDS:
            errors[name] = [_("Unknown field.")]
        elif name in ("is_primary", "is_current"):
            cleaned[name] = bool(value)
        else:
            cleaned[name] = _text(value, name, 150, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(current, EMPLOYMENT_FIELDS)
    text_before = _employment_text(current)
    for name, value in cleaned.items():
        setattr(current, name, value)
    changed = diff(before, snapshot(current, EMPLOYMENT_FIELDS))
    if changed:
        current.save(update_fields=list(changed))
        _touch(locked)
        _audit(actor, locked, "people", text_before, _employment_text(current))
    return current


@transaction.atomic
def employment_unlink(*, actor: Any, employment: Employment) -> None:
    """Remove a person from an organisation (the person stays, with their other
    employments); needs write access to the organisation."""
    current, locked = _employment_locked(actor, employment)
    before = _employment_text(current)
    current.delete()
    _touch(locked)
    _audit(actor, locked, "people", before, None)
