"""Writes for clients: create, update (the four blocks' own fields, tier with its
history, personal details), tags, delete."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients import identifiers
from lavka.clients.models import Client, ContactPoint, Tag, Tier, TierChange
from lavka.clients.permissions import can_assign_client, can_create_client, can_edit_client
from lavka.clients.services.personal import custom_values_clean
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed

TEXT_FIELDS = [
    "kind",
    "name",
    "legal_name",
    "first_name",
    "middle_name",
    "last_name",
    "external_id",
    "source",
    "email",
    "phone",
    "website",
    "preferred_channel",
    "preferred_time",
    "city",
    "industry",
    "size",
    "currency",
    "price_list",
    "inn",
    "kpp",
    "ogrn",
    "vat",
    "bank_name",
    "bank_bic",
    "bank_account",
    "bank_correspondent_account",
    "notes",
]
DECIMAL_FIELDS = ["annual_revenue", "discount_percent", "credit_limit"]
EDITABLE = [
    *TEXT_FIELDS,
    *DECIMAL_FIELDS,
    "payment_terms_days",
    "parent",
    "tier",
    "custom",
    "owner",
]
AUDITED = [*EDITABLE, "team"]

NORMALISERS = {
    "email": identifiers.email_normalised,
    "phone": identifiers.phone_normalised,
    "inn": identifiers.inn_normalised,
    "kpp": identifiers.kpp_normalised,
    "ogrn": identifiers.ogrn_normalised,
    "vat": identifiers.vat_normalised,
}
MAX_LENGTHS = {f.name: f.max_length for f in Client._meta.fields if getattr(f, "max_length", None)}


def client_fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise client fields; raise ValidationFailed naming each bad
    field. Shared by the services and by import, so both accept the same input."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        if name in TEXT_FIELDS:
            value = "" if value is None else str(value).strip()
            if name in NORMALISERS:
                try:
                    value = NORMALISERS[name](value)
                except identifiers.BadValue as exc:
                    errors.setdefault(name, []).append(str(exc))
                    continue
            if len(value) > (MAX_LENGTHS.get(name) or 10_000):
                errors.setdefault(name, []).append(
                    _("At most %(max)s characters.") % {"max": MAX_LENGTHS.get(name)}
                )
                continue
        elif name in DECIMAL_FIELDS:
            value = _decimal(value, name, errors)
            if name in errors:
                continue
        elif name == "payment_terms_days":
            if value in (None, ""):
                value = None
            else:
                try:
                    value = int(value)
                    if not 0 <= value <= 3650:
                        raise ValueError
                except (TypeError, ValueError):
                    errors.setdefault(name, []).append(_("Enter a number of days."))
                    continue
        cleaned[name] = value
    if "kind" in cleaned and cleaned["kind"] not in Client.Kind.values:
        errors["kind"] = [_("Choose organisation or private person.")]
    if cleaned.get("size") and cleaned["size"] not in Client.Size.values:
        errors["size"] = [_("Choose one of the sizes.")]
    if (
        cleaned.get("preferred_channel")
        and cleaned["preferred_channel"] not in Client.Channel.values
    ):
        errors["preferred_channel"] = [_("Choose one of the channels.")]
    if cleaned.get("currency"):
        cleaned["currency"] = cleaned["currency"].upper()
        if len(cleaned["currency"]) != 3 or not cleaned["currency"].isalpha():
            errors["currency"] = [_("Use a three-letter currency code, e.g. RUB.")]
    if cleaned.get("website"):
        website = cleaned["website"]
        if "://" not in website:
            website = "https://" + website
        try:
            URLValidator()(website)
            cleaned["website"] = website
        except ValidationError:
            errors["website"] = [_("Enter a valid web address.")]
    if "custom" in cleaned:
        try:
            cleaned["custom"] = custom_values_clean(entity="client", values=cleaned["custom"] or {})
        except ValidationFailed as exc:
            errors.update(exc.fields)
    # A private person's display name comes from their name parts when not given.
    if not cleaned.get("name") and any(cleaned.get(p) for p in ("first_name", "last_name")):
        cleaned["name"] = " ".join(
            cleaned[p] for p in ("last_name", "first_name", "middle_name") if cleaned.get(p)
        )
    if "name" in cleaned and not cleaned["name"] and "name" not in errors:
        errors["name"] = [_("Enter the client's name.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _decimal(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except InvalidOperation:
        errors.setdefault(name, []).append(_("Enter a number."))
        return None
    if not number.is_finite() or number < 0 or number >= Decimal("1e16"):
        errors.setdefault(name, []).append(_("Enter a number between 0 and 10¹⁶."))
        return None
    return number.quantize(Decimal("0.01"))


def search_text_for(client: Client, extra: list[str] | None = None) -> str:
    """The case-folded text search matches: names, emails, phone digits, tax ids."""
    return identifiers.folded(
        client.name,
        client.legal_name,
        client.email,
        client.phone.lstrip("+"),
        _national_digits(client.phone),
        client.inn,
        client.ogrn,
        client.vat,
        client.city,
        client.external_id,
        *(extra or []),
    )


def _national_digits(e164: str) -> str:
    """+74951234567 -> 84951234567: the digits a Russian user types, found without
    parsing the number again (import speed depends on it)."""
    return "8" + e164[2:] if e164.startswith("+7") else ""


def search_text_refresh(client: Client) -> None:
    """Recompute the search text with every contact point and contract number."""
    extra = [cp.value.lstrip("+") for cp in ContactPoint.objects.filter(client=client)] + list(
        client.contracts.values_list("number", flat=True)
    )
    text = search_text_for(client, extra)
    if text != client.search_text:
        client.search_text = text
        Client.all_objects.filter(pk=client.pk).update(search_text=text)


def _sync_primary_contacts(client: Client) -> None:
    """Keep the client's primary email and phone among its contact points."""
    for kind, value in (
        (ContactPoint.Kind.EMAIL, client.email),
        (ContactPoint.Kind.PHONE, client.phone),
    ):
        points = ContactPoint.objects.filter(client=client, kind=kind)
        points.filter(is_primary=True).exclude(value=value).update(is_primary=False)
        if value:
            updated = points.filter(value=value).update(is_primary=True)
            if not updated:
                ContactPoint.objects.create(client=client, kind=kind, value=value, is_primary=True)


def _default_tier() -> Tier | None:
    return Tier.objects.filter(is_default=True).order_by("order").first()


@transaction.atomic
def client_create(
    *,
    actor: Any,
    name: str = "",
    kind: str = Client.Kind.ORGANISATION,
    owner: Any = None,
    tags: list[str] | None = None,
    **fields: Any,
) -> Client:
    """Create a client owned by `owner` (default: the actor) in the owner's team.

    `fields` are any of the client's editable fields (see EDITABLE)."""
    if not can_create_client(actor):
        raise NotPermitted(action="create", resource="client")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("Unknown field.")] for k in sorted(unknown)})
    owner = owner or actor
    tier = fields.pop("tier", None) or _default_tier()
    parent = fields.pop("parent", None)
    cleaned = client_fields_clean({"name": name, "kind": kind, **fields})
    client = Client(**cleaned, owner=owner, team_id=owner.team_id, tier=tier, parent=parent)
    if not can_edit_client(actor, client):
        raise NotPermitted(action="create", resource="client")
    client.search_text = search_text_for(client)
    client.save()
    _sync_primary_contacts(client)
    if tier is not None:
        TierChange.objects.create(
            client=client, to_tier=tier, changed_by=actor if actor.is_authenticated else None
        )
    if tags:
        _set_tags(client, tags)
    audit_record(
        action=Action.CREATE,
        subject=client,
        actor=actor,
        changes=diff({}, snapshot(client, AUDITED)),
    )
    outbox_publish(kind="client.created", payload={"client_id": client.pk, "actor_id": actor.pk})
    return client


@transaction.atomic
def client_update(
    *,
    actor: Any,
    client: Client,
    expected_version: int | None = None,
    tier_reason: str = "",
    **changes: Any,
) -> Client:
    """Change a client's fields. With `expected_version`, refuse (StaleVersion) when the
    record changed since the caller read it. Changing the owner moves the client to the
    new owner's team; changing the tier is kept in the tier history."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = Client.objects.select_for_update().filter(pk=client.pk).first()
    if locked is None:
        raise NotFound(resource="client", id=client.pk)
    if not can_edit_client(actor, locked):
        raise NotPermitted(action="update", resource="client")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    new_owner = changes.pop("owner", None)
    new_tier = changes.pop("tier", locked.tier)
    new_parent = changes.pop("parent", locked.parent)
    if new_parent is not None and _is_in_subtree(new_parent, locked):
        raise ValidationFailed(
            fields={"parent": [_("A client cannot be its own parent or a parent of its parent.")]}
        )
    cleaned = client_fields_clean(changes)
    before = snapshot(locked, AUDITED)
    if new_owner is not None and new_owner.pk != locked.owner_id:
        if not can_assign_client(actor, locked, owner=new_owner):
            raise NotPermitted(action="assign", resource="client")
        locked.owner = new_owner
        locked.team_id = new_owner.team_id
    old_tier = locked.tier
    locked.tier = new_tier
    locked.parent = new_parent
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, AUDITED))
    if changed:
        locked.version += 1
        locked.save(update_fields=[*changed.keys(), "version", "updated_at"])
        if "email" in changed or "phone" in changed:
            _sync_primary_contacts(locked)
        search_text_refresh(locked)
        if "tier" in changed:
            TierChange.objects.create(
                client=locked,
                from_tier=old_tier,
                to_tier=new_tier,
                changed_by=actor,
                reason=tier_reason[:300],
            )
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="client.updated", payload={"client_id": locked.pk, "fields": sorted(changed)}
        )
    return locked


def _is_in_subtree(candidate: Client, root: Client) -> bool:
    """Whether `candidate` is `root` or below it in the parent/subsidiary tree."""
    seen: set[int] = set()
    node: Client | None = candidate
    while node is not None and node.pk not in seen:
        if node.pk == root.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _set_tags(client: Client, names: list[str]) -> list[str]:
    wanted = {n.strip()[:60] for n in names if n and n.strip()}
    existing = {
        t.name.casefold(): t
        for t in Tag.objects.all()
        if t.name.casefold() in {w.casefold() for w in wanted}
    }
    tags = [existing.get(n.casefold()) or Tag.objects.create(name=n) for n in sorted(wanted)]
    client.tags.set(tags)
    return sorted(t.name for t in tags)


@transaction.atomic
def client_set_tags(*, actor: Any, client: Client, names: list[str]) -> Client:
    locked = Client.objects.select_for_update().filter(pk=client.pk).first()
    if locked is None:
        raise NotFound(resource="client", id=client.pk)
    if not can_edit_client(actor, locked):
        raise NotPermitted(action="update", resource="client")
    before = sorted(locked.tags.values_list("name", flat=True))
    after = _set_tags(locked, names)
    if before != after:
        Client.objects.filter(pk=locked.pk).update(version=locked.version + 1)
        locked.version += 1
        audit_record(
            action=Action.UPDATE, subject=locked, actor=actor, changes={"tags": [before, after]}
        )
    return locked


@transaction.atomic
def client_delete(*, actor: Any, client: Client, expected_version: int | None = None) -> Client:
    """Move a client to the trash (restorable by an administrator)."""
    locked = Client.objects.select_for_update().filter(pk=client.pk).first()
    if locked is None:
        raise NotFound(resource="client", id=client.pk)
    if not can_edit_client(actor, locked):
        raise NotPermitted(action="delete", resource="client")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    trash.soft_delete(actor=actor, obj=locked)
    outbox_publish(kind="client.deleted", payload={"client_id": locked.pk})
    return locked
