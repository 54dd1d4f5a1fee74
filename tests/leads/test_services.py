"""Leads by hand: create, update, status (disqualify needs a reason), assign, delete;
each write audited and published."""

from __future__ import annotations

import pytest

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.leads.errors import LeadAlreadyConverted
from lavka.leads.models import Lead
from lavka.leads.services import (
    lead_assign,
    lead_create,
    lead_delete,
    lead_status_set,
    lead_update,
)

pytestmark = pytest.mark.django_db


def test_a_lead_by_hand_is_normalised_owned_by_its_author_audited_and_published(org):
    lead = lead_create(
        actor=org.rep,
        company="  ООО  Ромашка ",
        contact_name="Иван Петров",
        email="Ivan@Romashka.Example",
        phone="8 (495) 123-45-67",
        utm_campaign="spring",
    )

    lead.refresh_from_db()
    assert (lead.company, lead.email, lead.phone) == (
        "ООО Ромашка",
        "ivan@romashka.example",
        "+74951234567",
    )
    assert lead.campaign == "spring"
    assert (lead.status, lead.source) == ("new", "manual")
    assert (lead.owner, lead.team) == (org.rep, org.moscow)
    event = AuditEvent.objects.get(
        object_id=str(lead.pk), action="create", content_type__model="lead"
    )
    assert event.actor == org.rep
    assert event.changes["email"] == [None, "ivan@romashka.example"]
    assert OutboxEvent.objects.filter(kind="lead.created", payload__lead_id=lead.pk).count() == 1


def test_a_lead_needs_a_name_and_a_way_to_reach_them(org):
    with pytest.raises(ValidationFailed) as caught:
        lead_create(actor=org.rep, message="Позвоните мне")

    assert set(caught.value.fields) == {"contact_name", "email"}
    assert Lead.objects.count() == 0


def test_a_bad_phone_is_named_in_the_error(org):
    with pytest.raises(ValidationFailed) as caught:
        lead_create(actor=org.rep, contact_name="Иван", phone="12")

    assert list(caught.value.fields) == ["phone"]


def test_who_cannot_write_sales_creates_no_lead(org):
    with pytest.raises(NotPermitted):
        lead_create(actor=org.analyst, contact_name="Иван", email="i@x.example")
    with pytest.raises(NotPermitted):
        lead_create(actor=org.marketer, contact_name="Иван", email="i@x.example")

    assert Lead.objects.count() == 0


def test_disqualifying_needs_a_reason_and_requalifying_clears_it(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")

    with pytest.raises(ValidationFailed) as caught:
        lead_status_set(actor=org.rep, lead=lead, status="disqualified", reason="  ")
    assert list(caught.value.fields) == ["disqualify_reason"]
    assert Lead.objects.get(pk=lead.pk).status == "new"

    lead_status_set(actor=org.rep, lead=lead, status="disqualified", reason="Студент, без бюджета")
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "Студент, без бюджета")

    lead_status_set(actor=org.rep, lead=lead, status="qualified")
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason, lead.version) == ("qualified", "", 3)
    history = AuditEvent.objects.filter(
        object_id=str(lead.pk), action="update", content_type__model="lead"
    ).order_by("id")
    assert [e.changes["status"] for e in history] == [
        ["new", "disqualified"],
        ["disqualified", "qualified"],
    ]


def test_converted_is_not_a_status_set_by_hand(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")

    with pytest.raises(ValidationFailed):
        lead_status_set(actor=org.rep, lead=lead, status="converted")

    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_a_stale_version_is_refused(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")
    lead_update(actor=org.rep, lead=lead, company="Ромашка", expected_version=1)

    with pytest.raises(StaleVersion):
        lead_update(actor=org.rep, lead=lead, company="Лютик", expected_version=1)

    assert Lead.objects.get(pk=lead.pk).company == "Ромашка"


def test_a_manager_assigns_a_lead_within_their_teams_and_the_team_follows(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")

    lead_assign(actor=org.manager, lead=lead, owner=org.north_rep)

    lead.refresh_from_db()
    assert (lead.owner, lead.team) == (org.north_rep, org.north)
    assert OutboxEvent.objects.filter(kind="lead.updated", payload__lead_id=lead.pk).exists()


def test_nobody_pushes_a_lead_into_a_team_they_cannot_write(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")

    with pytest.raises(NotPermitted):
        lead_assign(actor=org.manager, lead=lead, owner=org.spb_rep)
    with pytest.raises(NotPermitted):
        lead_assign(actor=org.rep, lead=lead, owner=org.colleague)

    assert Lead.objects.get(pk=lead.pk).owner == org.rep


def test_a_colleagues_lead_is_not_found_for_a_rep(org):
    lead = lead_create(actor=org.colleague, contact_name="Иван", email="i@x.example")

    with pytest.raises(NotFound):
        lead_status_set(actor=org.rep, lead=lead, status="in_work")

    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_an_analyst_reads_but_cannot_change_a_lead(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")

    with pytest.raises(NotPermitted):
        lead_status_set(actor=org.analyst, lead=lead, status="in_work")

    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_a_deleted_lead_goes_to_the_trash(org):
    lead = lead_create(actor=org.rep, contact_name="Иван", email="i@x.example")

    lead_delete(actor=org.rep, lead=lead)

    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert Lead.all_objects.get(pk=lead.pk).deleted_by == org.rep


def test_a_converted_lead_cannot_change(org, board):
    from lavka.leads.services import lead_convert

    lead = lead_create(actor=org.rep, contact_name="Иван Петров", email="i@x.example")
    lead_convert(actor=org.rep, lead=lead)

    with pytest.raises(LeadAlreadyConverted):
        lead_update(actor=org.rep, lead=lead, company="Лютик")
    with pytest.raises(LeadAlreadyConverted):
        lead_status_set(actor=org.rep, lead=lead, status="new")


def test_web_form_settings_are_checked_and_only_administrators_change_them(org):
    from lavka.leads.models import WebForm
    from lavka.leads.services import web_form_create

    with pytest.raises(ValidationFailed) as caught:
        web_form_create(
            actor=org.admin,
            name="Форма",
            owner=org.rep,
            fields=["company", "message"],
            allowed_origins="ftp://files.example\nhttps://Shop.example/path",
        )
    assert set(caught.value.fields) == {"fields", "allowed_origins"}
    with pytest.raises(NotPermitted):
        web_form_create(actor=org.manager, name="Форма", owner=org.rep)
    assert WebForm.objects.count() == 0

    form = web_form_create(
        actor=org.admin, name="Форма", owner=org.rep, allowed_origins="https://Shop.example/path"
    )
    assert (form.origins, len(form.key) >= 32) == (["https://shop.example"], True)
