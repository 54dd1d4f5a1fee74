"""Conversion: a lead becomes a client, a contact person and a deal, in one
transaction, through the clients' and the deals' own services (so each of those
records gets its own audit event and outbox event, and their rules apply).

- The client: an organisation when the lead names a company, else a private person;
  or an existing client the user chose after the duplicate check.
- The contact person (organisations only): someone already working at the client with
  the lead's email or phone, else a new person linked to it (when the actor may edit
  the client; otherwise none, and the lead keeps the contact details).
- The deal: in the default pipeline's first open stage, owned by the lead's owner,
  with the lead's source and campaign; amount optional.

Before creating a client, the duplicate check (clients.services.duplicates, the rules
the client base uses: email, phone, INN, similar name) runs against clients the actor
can see; a likely match raises PossibleDuplicates unless the caller chose a client
(`attach_to`) or `create_new`. Event: lead.converted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients.models import Client, Employment, Person
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors import clients_visible_to
from lavka.clients.services import client_create
from lavka.clients.services.blocks import person_create
from lavka.core.errors import NotFound, ValidationFailed
from lavka.leads.errors import LeadAlreadyConverted, PossibleDuplicates
from lavka.leads.models import Lead
from lavka.leads.selectors import lead_duplicates
from lavka.leads.services.leads import check_version, lead_lock
from lavka.sales.models import Deal, Pipeline
from lavka.sales.services import deal_create

CONVERTED_AUDITED = ["status", "client", "person", "deal", "converted_at", "converted_by"]


@dataclass
class Conversion:
    lead: Lead
    client: Client
    person: Person | None
    deal: Deal
    client_created: bool


def name_parts(full_name: str) -> dict[str, Any]:
    """Split a typed name: one word is a first name; two are "first last"; three or
    more are the Russian "last first middle" (Иванов Иван Иванович)."""
    words = full_name.split()
    if not words:
        return {}
    if len(words) == 1:
        return {"first_name": words[0]}
    if len(words) == 2:
        return {"first_name": words[0], "last_name": words[1]}
    return {
        "last_name": words[0],
        "first_name": words[1],
        "middle_name": " ".join(words[2:]),
    }


def _client_new(actor: Any, lead: Lead) -> Client:
    contacts: dict[str, Any] = {
        "email": lead.email,
        "phone": lead.phone,
        "source": lead.get_source_display(),
    }
    if lead.company:
        return client_create(
            actor=actor,
            owner=lead.owner,
            kind=Client.Kind.ORGANISATION,
            name=lead.company,
            inn=lead.inn,
            **contacts,
        )
    return client_create(
        actor=actor,
        owner=lead.owner,
        kind=Client.Kind.PERSON,
        **{**name_parts(lead.contact_name), **contacts},
    )


def _person_for(actor: Any, lead: Lead, client: Client) -> Person | None:
    if client.kind != Client.Kind.ORGANISATION or not lead.contact_name:
        return None
    same = Q(pk__in=[])
    if lead.email:
        same |= Q(email=lead.email)
    if lead.phone:
        same |= Q(phone=lead.phone)
    known = (
        Person.objects.filter(same)
        .filter(pk__in=Employment.objects.filter(organisation_id=client.pk).values("person_id"))
        .order_by("id")
        .first()
    )
    if known is not None:
        return known
    if not can_edit_client(actor, client):
        return None
    return person_create(
        actor=actor,
        **name_parts(lead.contact_name),
        email=lead.email,
        phone=lead.phone,
        organisation=client,
    )


@transaction.atomic
def lead_convert(
    *,
    actor: Any,
    lead: Lead,
    attach_to: Client | None = None,
    create_new: bool = False,
    deal_title: str = "",
    amount: Any = None,
    currency: str = "",
    pipeline: Pipeline | None = None,
    expected_version: int | None = None,
) -> Conversion:
    """Convert the lead (see the module's docstring). A converted lead cannot convert
    again (LeadAlreadyConverted); a disqualified one must be requalified first."""
    locked = lead_lock(actor, lead.pk, "convert")
    check_version(locked, expected_version)
    if locked.status == Lead.Status.CONVERTED:
        raise LeadAlreadyConverted()
    if locked.status == Lead.Status.DISQUALIFIED:
        raise ValidationFailed(
            fields={"status": [_("The lead is disqualified: put it back in work first.")]}
        )
    if attach_to is not None:
        if not clients_visible_to(actor).filter(pk=attach_to.pk).exists():
            raise NotFound(resource="client", id=attach_to.pk)
        client, created = attach_to, False
    else:
        if not create_new:
            matches = lead_duplicates(viewer=actor, lead=locked)
            if matches:
                raise PossibleDuplicates(matches=matches)
        client, created = _client_new(actor, locked), True
    person = _person_for(actor, locked, client)
    title = (deal_title or "").strip() or locked.company or locked.contact_name or str(client)
    deal = deal_create(
        actor=actor,
        client=client,
        title=title[:200],
        pipeline=pipeline,
        owner=locked.owner,
        amount=amount,
        currency=currency,
        person=person,
        source=locked.get_source_display()[:100],
        campaign=locked.campaign,
    )
    before = snapshot(locked, CONVERTED_AUDITED)
    locked.status = Lead.Status.CONVERTED
    locked.client, locked.person, locked.deal = client, person, deal
    locked.converted_at = timezone.now()
    locked.converted_by = actor
    locked.version += 1
    locked.save(update_fields=[*CONVERTED_AUDITED, "version", "updated_at"])
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes=diff(before, snapshot(locked, CONVERTED_AUDITED)),
    )
    outbox_publish(
        kind="lead.converted",
        payload={
            "lead_id": locked.pk,
            "client_id": client.pk,
            "client_created": created,
            "person_id": person.pk if person else None,
            "deal_id": deal.pk,
            "actor_id": actor.pk,
        },
    )
    return Conversion(lead=locked, client=client, person=person, deal=deal, client_created=created)
