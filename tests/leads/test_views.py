"""The leads pages: the list with its filters (and a fixed number of queries), a lead
by hand, the card's status and owner forms, conversion with and without a duplicate,
web forms and their snippet."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.clients.services import client_create
from lavka.leads.models import Lead, WebForm
from lavka.leads.services import lead_create, web_form_create
from lavka.sales.models import Deal

pytestmark = pytest.mark.django_db

# session, user, the rows, the status counts, the owners for the filter, unread
# notifications; and the viewer's team tree for a manager.
LIST_QUERIES = 7


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def make_leads(owner, count):
    for i in range(count):
        lead_create(
            actor=owner, company=f"Компания {i}", contact_name=f"Имя {i}", email=f"l{i}@x.example"
        )


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_reads_a_fixed_number_of_queries(org, count, django_assert_max_num_queries):
    make_leads(org.rep, count)
    http = logged_in(org.manager)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = http.get("/sales/leads/?status=all")

    assert response.status_code == 200
    assert response.content.decode().count('data-testid="lead-row-') == count


def test_the_list_shows_only_the_viewers_leads_and_filters_by_search(org):
    lead_create(actor=org.rep, company="Ромашка", email="r@x.example")
    lead_create(actor=org.colleague, company="Лютик", email="l@x.example")
    http = logged_in(org.rep)

    page = http.get("/sales/leads/").content.decode()
    searched = http.get("/sales/leads/?q=лют&status=all").content.decode()

    assert "Ромашка" in page and "Лютик" not in page
    assert "Ромашка" not in searched


def test_a_lead_by_hand_with_an_error_next_to_the_field(org):
    http = logged_in(org.rep)

    bad = http.post("/sales/leads/new/", {"contact_name": "Анна", "source": "manual"})
    good = http.post(
        "/sales/leads/new/",
        {"contact_name": "Анна", "phone": "89161234567", "source": "phone"},
    )

    assert bad.status_code == 422
    lead = Lead.objects.get()
    assert good.status_code == 302 and good["Location"] == f"/sales/leads/{lead.pk}/"
    assert (lead.owner, lead.source, lead.phone) == (org.rep, "phone", "+79161234567")


def test_disqualifying_on_the_card_without_a_reason_shows_the_error(org):
    lead = lead_create(actor=org.rep, contact_name="Анна", email="a@x.example")
    http = logged_in(org.rep)

    refused = http.post(f"/sales/leads/{lead.pk}/status/", {"status": "disqualified"})
    done = http.post(
        f"/sales/leads/{lead.pk}/status/", {"status": "disqualified", "reason": "Дубль"}
    )

    assert refused.status_code == 422
    assert done.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "Дубль")


def test_a_manager_assigns_a_lead_from_the_card(org):
    lead = lead_create(actor=org.rep, contact_name="Анна", email="a@x.example")

    response = logged_in(org.manager).post(
        f"/sales/leads/{lead.pk}/assign/", {"owner": org.colleague.pk}
    )

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == org.colleague


def test_a_colleagues_lead_card_is_not_found(org):
    lead = lead_create(actor=org.colleague, contact_name="Анна", email="a@x.example")

    assert logged_in(org.rep).get(f"/sales/leads/{lead.pk}/").status_code == 404


def test_conversion_offers_the_duplicate_and_attaches_to_it(org):
    existing = client_create(actor=org.rep, name="Ромашка")
    lead = lead_create(
        actor=org.rep, company="ООО Ромашка", contact_name="Анна Иванова", email="a@x.example"
    )
    http = logged_in(org.rep)

    page = http.get(f"/sales/leads/{lead.pk}/convert/").content.decode()
    response = http.post(
        f"/sales/leads/{lead.pk}/convert/", {"client": str(existing.pk), "amount": "1000"}
    )

    assert f'data-testid="attach-{existing.pk}"' in page
    deal = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/deals/{deal.pk}/"
    assert (deal.client, Lead.objects.get(pk=lead.pk).status) == (existing, "converted")


def test_conversion_without_a_duplicate_creates_the_client(org):
    lead = lead_create(actor=org.rep, company="Незабудка", email="n@x.example")

    response = logged_in(org.rep).post(f"/sales/leads/{lead.pk}/convert/", {"client": "new"})

    deal = Deal.objects.get()
    assert response["Location"] == f"/sales/deals/{deal.pk}/"
    assert deal.client.name == "Незабудка"


def test_an_administrator_creates_a_web_form_and_sees_its_snippet(org):
    http = logged_in(org.admin)

    response = http.post(
        "/sales/leads/forms/new/",
        {
            "name": "Контакты",
            "owner": org.rep.pk,
            "shown_fields": ["contact_name", "phone"],
            "language": "ru",
            "allowed_origins": "https://Shop.example/contacts",
            "is_active": "on",
        },
    )

    form = WebForm.objects.get()
    assert response["Location"] == f"/sales/leads/forms/{form.pk}/snippet/"
    assert (form.owner, form.shown_fields, form.origins) == (
        org.rep,
        ["contact_name", "phone"],
        ["https://shop.example"],
    )
    snippet = http.get(response["Location"]).content.decode()
    assert f"http://testserver/f/{form.key}/submit/" in snippet
    assert "&lt;form" in snippet  # shown as text to copy, not as a live form


def test_a_rep_reads_web_forms_but_cannot_create_one(org):
    form = web_form_create(actor=org.admin, name="Контакты", owner=org.rep)
    http = logged_in(org.rep)

    assert http.get(f"/sales/leads/forms/{form.pk}/snippet/").status_code == 200
    assert http.get("/sales/leads/forms/new/").status_code == 404
    assert WebForm.objects.count() == 1


def test_a_lead_is_edited_on_its_page_and_a_stale_form_is_refused(org):
    lead = lead_create(actor=org.rep, contact_name="Анна", email="a@x.example")
    http = logged_in(org.rep)
    data = {"contact_name": "Анна", "email": "a@x.example", "source": "manual", "version": 1}

    saved = http.post(f"/sales/leads/{lead.pk}/edit/", {**data, "company": "Ромашка"})
    stale = http.post(f"/sales/leads/{lead.pk}/edit/", {**data, "company": "Лютик"})

    assert saved.status_code == 302
    assert stale.status_code == 422
    assert Lead.objects.get(pk=lead.pk).company == "Ромашка"
