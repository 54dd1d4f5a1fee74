"""Conversion in one step: client (organisation or private person), contact person
with employment, deal in the default pipeline's first stage; the duplicate check and
its two ways out; all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lavka.audit.models import OutboxEvent
from lavka.clients.models import Client, Employment, Person
from lavka.clients.services import client_create
from lavka.core.errors import NotFound, ValidationFailed
from lavka.leads.errors import LeadAlreadyConverted, PossibleDuplicates
from lavka.leads.models import Lead
from lavka.leads.services import lead_convert, lead_create, lead_status_set
from lavka.leads.services.conversion import name_parts
from lavka.sales.models import Deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def company_lead(org):
    return lead_create(
        actor=org.rep,
        company="ООО Василёк",
        contact_name="Иван Петров",
        email="ivan@vasilek.example",
        phone="+7 495 765-43-21",
        campaign="Весна",
        source="web_form",
    )


def test_a_company_lead_becomes_an_organisation_a_contact_person_and_a_deal(
    org, board, company_lead
):
    result = lead_convert(
        actor=org.rep, lead=company_lead, amount="150000", deal_title="Чай для офиса"
    )

    client, person, deal = result.client, result.person, result.deal
    assert (client.kind, client.name, client.email, client.phone, client.owner) == (
        "organisation",
        "ООО Василёк",
        "ivan@vasilek.example",
        "+74957654321",
        org.rep,
    )
    assert (person.first_name, person.last_name, person.email) == (
        "Иван",
        "Петров",
        "ivan@vasilek.example",
    )
    assert Employment.objects.filter(person=person, organisation=client).exists()
    assert (deal.title, deal.amount, deal.stage, deal.pipeline, deal.person, deal.owner) == (
        "Чай для офиса",
        Decimal("150000.00"),
        board.first,
        board.pipeline,
        person,
        org.rep,
    )
    assert (deal.campaign, deal.source) == ("Весна", "Web form")
    lead = Lead.objects.get(pk=company_lead.pk)
    assert (lead.status, lead.client, lead.person, lead.deal, lead.converted_by) == (
        "converted",
        client,
        person,
        deal,
        org.rep,
    )
    assert result.client_created is True
    event = OutboxEvent.objects.get(kind="lead.converted")
    assert event.payload == {
        "lead_id": lead.pk,
        "client_id": client.pk,
        "client_created": True,
        "person_id": person.pk,
        "deal_id": deal.pk,
        "actor_id": org.rep.pk,
    }


def test_a_lead_without_a_company_becomes_a_private_person_without_a_contact(org, board):
    lead = lead_create(actor=org.rep, contact_name="Сидорова Анна Павловна", phone="89161234567")

    result = lead_convert(actor=org.rep, lead=lead)

    client = result.client
    assert (client.kind, client.last_name, client.first_name, client.middle_name) == (
        "person",
        "Сидорова",
        "Анна",
        "Павловна",
    )
    assert client.phone == "+79161234567"
    assert result.person is None
    assert result.deal.title == "Сидорова Анна Павловна"
    assert result.deal.amount == 0


def test_a_likely_duplicate_stops_the_conversion_and_nothing_is_created(org, board, company_lead):
    existing = client_create(actor=org.rep, name="Василёк", email="info@v.example")
    clients_before, deals_before = Client.objects.count(), Deal.objects.count()

    with pytest.raises(PossibleDuplicates) as caught:
        lead_convert(actor=org.rep, lead=company_lead)

    assert [m.client for m in caught.value.matches] == [existing]
    assert caught.value.matches[0].reasons == ["name"]
    assert (Client.objects.count(), Deal.objects.count()) == (clients_before, deals_before)
    assert Lead.objects.get(pk=company_lead.pk).status == "new"


def test_the_same_email_is_a_duplicate_even_under_another_name(org, board, company_lead):
    existing = client_create(actor=org.rep, name="Совсем другое", email="ivan@vasilek.example")

    with pytest.raises(PossibleDuplicates) as caught:
        lead_convert(actor=org.rep, lead=company_lead)

    assert caught.value.matches[0].client == existing
    assert "email" in caught.value.matches[0].reasons


def test_attaching_to_the_existing_client_adds_the_person_and_the_deal_there(
    org, board, company_lead
):
    existing = client_create(actor=org.rep, name="Василёк")
    clients_before = Client.objects.count()

    result = lead_convert(actor=org.rep, lead=company_lead, attach_to=existing)

    assert Client.objects.count() == clients_before
    assert (result.client, result.deal.client, result.client_created) == (existing, existing, False)
    assert Employment.objects.filter(person=result.person, organisation=existing).exists()
    assert Lead.objects.get(pk=company_lead.pk).client == existing


def test_attaching_reuses_a_person_already_working_there(org, board, company_lead):
    from lavka.clients.services.blocks import person_create

    existing = client_create(actor=org.rep, name="Василёк")
    known = person_create(
        actor=org.rep, first_name="Иван", email="ivan@vasilek.example", organisation=existing
    )

    result = lead_convert(actor=org.rep, lead=company_lead, attach_to=existing)

    assert result.person == known
    assert Person.objects.count() == 1


def test_create_new_anyway_ignores_the_duplicates(org, board, company_lead):
    client_create(actor=org.rep, name="Василёк")

    result = lead_convert(actor=org.rep, lead=company_lead, create_new=True)

    assert result.client_created is True
    assert Client.objects.filter(name__in=["Василёк", "ООО Василёк"]).count() == 2


def test_a_duplicate_the_rep_cannot_see_is_not_shown(org, board, company_lead):
    client_create(actor=org.spb_rep, name="Василёк")

    result = lead_convert(actor=org.rep, lead=company_lead)

    assert result.client.name == "ООО Василёк"


def test_attaching_to_a_client_out_of_sight_is_not_found(org, board, company_lead):
    hidden = client_create(actor=org.spb_rep, name="Чужой")

    with pytest.raises(NotFound):
        lead_convert(actor=org.rep, lead=company_lead, attach_to=hidden)

    assert Lead.objects.get(pk=company_lead.pk).status == "new"


def test_a_bad_amount_rolls_everything_back(org, board, company_lead):
    clients_before = Client.objects.count()

    with pytest.raises(ValidationFailed) as caught:
        lead_convert(actor=org.rep, lead=company_lead, amount="много")

    assert list(caught.value.fields) == ["amount"]
    assert Client.objects.count() == clients_before
    assert Person.objects.count() == 0
    assert Lead.objects.get(pk=company_lead.pk).status == "new"


def test_a_lead_converts_once(org, board, company_lead):
    lead_convert(actor=org.rep, lead=company_lead)

    with pytest.raises(LeadAlreadyConverted):
        lead_convert(actor=org.rep, lead=company_lead, create_new=True)

    assert Deal.objects.count() == 1


def test_a_disqualified_lead_does_not_convert(org, board, company_lead):
    lead_status_set(actor=org.rep, lead=company_lead, status="disqualified", reason="Спам")

    with pytest.raises(ValidationFailed):
        lead_convert(actor=org.rep, lead=company_lead)

    assert Deal.objects.count() == 0


def test_a_manager_converts_a_reps_lead_and_the_records_belong_to_the_rep(org, board, company_lead):
    result = lead_convert(actor=org.manager, lead=company_lead)

    assert (result.client.owner, result.deal.owner) == (org.rep, org.rep)
    assert Lead.objects.get(pk=company_lead.pk).converted_by == org.manager


@pytest.mark.parametrize(
    ("typed", "parts"),
    [
        ("Иван", {"first_name": "Иван"}),
        ("Ivan Petrov", {"first_name": "Ivan", "last_name": "Petrov"}),
        (
            "Петров Иван Сергеевич",
            {"last_name": "Петров", "first_name": "Иван", "middle_name": "Сергеевич"},
        ),
        ("", {}),
    ],
)
def test_typed_names_split_into_parts(typed, parts):
    assert name_parts(typed) == parts


def test_a_converted_lead_follows_its_client_into_a_merge_and_back(org, board, company_lead):
    from lavka.clients.services.merge import client_merge, client_merge_undo

    converted = lead_convert(actor=org.rep, lead=company_lead).client
    survivor = client_create(actor=org.rep, name="Василёк (основной)")

    merge = client_merge(actor=org.rep, survivor=survivor, merged=converted)
    assert Lead.objects.get(pk=company_lead.pk).client == survivor

    client_merge_undo(actor=org.rep, merge=merge)
    assert Lead.objects.get(pk=company_lead.pk).client_id == converted.pk
