"""Writes for clients. Each checks permission, validates, writes in one transaction,
records an audit event and publishes an outbox event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients.models import Client
from lavka.clients.permissions import can_assign_client, can_create_client, can_edit_client
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed

EDITABLE = ["kind", "name", "email", "phone", "city", "notes", "owner"]
AUDITED = [*EDITABLE, "team"]


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    errors: dict[str, list[str]] = {}
    if "name" in cleaned and not cleaned["name"]:
        errors["name"] = [_("Enter the client's name.")]
    if "name" in cleaned and len(cleaned["name"] or "") > 300:
        errors["name"] = [_("The name is longer than 300 characters.")]
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].lower()
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    if "kind" in cleaned and cleaned["kind"] not in Client.Kind.values:
        errors["kind"] = [_("Choose organisation or private person.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def client_create(
    *,
    actor: Any,
    name: str,
    kind: str = Client.Kind.ORGANISATION,
    email: str = "",
    phone: str = "",
    city: str = "",
    notes: str = "",
    owner: Any = None,
) -> Client:
    """Create a client owned by `owner` (default: the actor) in the owner's team."""
    if not can_create_client(actor):
        raise NotPermitted(action="create", resource="client")
    owner = owner or actor
    fields = _clean(
        {"name": name, "kind": kind, "email": email, "phone": phone, "city": city, "notes": notes}
    )
    client = Client(**fields, owner=owner, team_id=owner.team_id)
    if not can_edit_client(actor, client):
        raise NotPermitted(action="create", resource="client")
    client.save()
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
    *, actor: Any, client: Client, expected_version: int | None = None, **changes: Any
) -> Client:
    """Change a client's fields. With `expected_version`, refuse (StaleVersion) when the
    record changed since the caller read it. Changing the owner moves the client to the
    new owner's team."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = Client.objects.select_for_update().filter(pk=client.pk).first()
    if locked is None or not can_edit_client(actor, locked):
        # The viewer may read it (they hold it) but not write it, or it went to the trash.
        if locked is None:
            raise NotFound(resource="client", id=client.pk)
        raise NotPermitted(action="update", resource="client")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    cleaned = _clean(changes)
    before = snapshot(locked, AUDITED)
    new_owner = cleaned.pop("owner", None)
    if new_owner is not None and new_owner.pk != locked.owner_id:
        if not can_assign_client(actor, locked, owner=new_owner):
            raise NotPermitted(action="assign", resource="client")
        locked.owner = new_owner
        locked.team_id = new_owner.team_id
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, AUDITED))
    if changed:
        locked.version += 1
        locked.save(update_fields=[*changed.keys(), "version", "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="client.updated", payload={"client_id": locked.pk, "fields": sorted(changed)}
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
