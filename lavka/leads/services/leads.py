"""Writes of leads by people (the web and the API): create, update, status
(in work, qualified, disqualified with a reason, back to new), assign, delete.

Every write locks the lead row, checks the sales area's write scope (NotFound when the
actor cannot read the lead, NotPermitted when they can read but not write), validates
(ValidationFailed per field), bumps the version, records an audit event.

Events: lead.created, lead.updated, lead.deleted (lead.converted in conversion)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.leads.errors import LeadAlreadyConverted
from lavka.leads.models import Lead
from lavka.leads.permissions import (
    can_assign_lead,
    can_create_lead,
    can_edit_lead,
    can_read_lead,
)
from lavka.leads.services.values import Errors, lead_fields_clean, lead_identity_check

EDITABLE = [
    "company",
    "contact_name",
    "email",
    "phone",
    "inn",
    "message",
    "source",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "page_url",
]
AUDITED = [*EDITABLE, "status", "disqualify_reason", "owner", "team"]
# The statuses a person sets by hand; "converted" only comes from lead_convert.
MANUAL_STATUSES = [
    Lead.Status.NEW,
    Lead.Status.IN_WORK,
    Lead.Status.QUALIFIED,
    Lead.Status.DISQUALIFIED,
]


def lead_lock(actor: Any, lead_id: int, action: str) -> Lead:
    """The lead row, locked, when the actor may write it."""
    lead = Lead.objects.select_for_update(of=("self",)).filter(pk=lead_id).first()
    if lead is None or not can_read_lead(actor, lead):
        raise NotFound(resource="lead", id=lead_id)
    if not can_edit_lead(actor, lead):
        raise NotPermitted(action=action, resource="lead")
    return lead


def check_version(lead: Lead, expected_version: int | None) -> None:
    if expected_version is not None and lead.version != expected_version:
        raise StaleVersion()


def lead_created_publish(lead: Lead, *, actor: Any, meta: dict[str, Any] | None = None) -> None:
    audit_record(
        action=Action.CREATE,
        subject=lead,
        actor=actor,
        changes=diff({}, snapshot(lead, AUDITED)),
        meta=meta,
    )
    outbox_publish(
        kind="lead.created",
        payload={
            "lead_id": lead.pk,
            "source": lead.source,
            "web_form_id": lead.web_form_id,
            "owner_id": lead.owner_id,
            "actor_id": getattr(actor, "pk", None),
        },
    )


@transaction.atomic
def lead_create(
    *,
    actor: Any,
    owner: Any = None,
    source: str = Lead.Source.MANUAL,
    **fields: Any,
) -> Lead:
    """A new lead (status new) owned by `owner` (default: the actor) in the owner's
    team. `fields`: any of EDITABLE. It needs a company or a contact name, and an
    email or a phone."""
    if not can_create_lead(actor):
        raise NotPermitted(action="create", resource="lead")
    errors: Errors = {}
    cleaned = lead_fields_clean({**fields, "source": source}, errors)
    lead_identity_check(cleaned, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    if not cleaned.get("campaign") and cleaned.get("utm_campaign"):
        cleaned["campaign"] = cleaned["utm_campaign"]
    owner = owner or actor
    lead = Lead(**cleaned, owner=owner, team_id=owner.team_id)
    if not can_edit_lead(actor, lead):
        raise NotPermitted(action="create", resource="lead")
    lead.search_text = lead.search_text_of()
    lead.save()
    lead_created_publish(lead, actor=actor)
    return lead


@transaction.atomic
def lead_update(
    *,
    actor: Any,
    lead: Lead,
    expected_version: int | None = None,
    owner: Any = None,
    **changes: Any,
) -> Lead:
    """Change a lead's fields (EDITABLE) and/or its owner (the team follows the
    owner). A converted lead is history and cannot change."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = lead_lock(actor, lead.pk, "update")
    check_version(locked, expected_version)
    if locked.status == Lead.Status.CONVERTED:
        raise LeadAlreadyConverted()
    errors: Errors = {}
    cleaned = lead_fields_clean(changes, errors)
    merged = {name: cleaned.get(name, getattr(locked, name)) for name in EDITABLE}
    lead_identity_check(merged, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(locked, AUDITED)
    if owner is not None and owner.pk != locked.owner_id:
        if not can_assign_lead(actor, locked, owner=owner):
            raise NotPermitted(action="assign", resource="lead")
        locked.owner = owner
        locked.team_id = owner.team_id
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, AUDITED))
    if changed:
        locked.version += 1
        locked.search_text = locked.search_text_of()
        locked.save(update_fields=[*changed, "search_text", "version", "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="lead.updated", payload={"lead_id": locked.pk, "fields": sorted(changed)}
        )
    return locked


def lead_assign(*, actor: Any, lead: Lead, owner: Any, expected_version: int | None = None) -> Lead:
    """Hand the lead to another user: the actor must be able to write it before and
    after (nobody pushes a lead into a team they cannot write to)."""
    return lead_update(actor=actor, lead=lead, owner=owner, expected_version=expected_version)


@transaction.atomic
def lead_status_set(
    *,
    actor: Any,
    lead: Lead,
    status: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Lead:
    """Move the lead to new, in work, qualified or disqualified. Disqualifying needs a
    reason (ValidationFailed on "disqualify_reason"); leaving disqualified clears it.
    A converted lead keeps its status."""
    if status not in MANUAL_STATUSES:
        raise ValidationFailed(fields={"status": [_("Choose one of the statuses.")]})
    locked = lead_lock(actor, lead.pk, "update")
    check_version(locked, expected_version)
    if locked.status == Lead.Status.CONVERTED:
        raise LeadAlreadyConverted()
    errors: Errors = {}
    reason = lead_fields_clean({"disqualify_reason": reason}, errors).get("disqualify_reason", "")
    if status == Lead.Status.DISQUALIFIED and not reason and not errors:
        errors["disqualify_reason"] = [_("Say why the lead is disqualified.")]
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(locked, AUDITED)
    locked.status = status
    locked.disqualify_reason = reason if status == Lead.Status.DISQUALIFIED else ""
    changed = diff(before, snapshot(locked, AUDITED))
    if changed:
        locked.version += 1
        locked.save(update_fields=[*changed, "version", "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="lead.updated", payload={"lead_id": locked.pk, "fields": sorted(changed)}
        )
    return locked


@transaction.atomic
def lead_delete(*, actor: Any, lead: Lead, expected_version: int | None = None) -> Lead:
    """Move a lead to the trash (an administrator can restore it)."""
    locked = lead_lock(actor, lead.pk, "delete")
    check_version(locked, expected_version)
    trash.soft_delete(actor=actor, obj=locked)
    outbox_publish(kind="lead.deleted", payload={"lead_id": locked.pk})
    return locked
