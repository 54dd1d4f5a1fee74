"""The leads API: list with filters and paging, get with ETag, create, PATCH with
If-Match (fields, status, owner), convert (409 with candidates on a duplicate), and
the public capture endpoint without a token."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from lavka.clients.services import client_create
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from lavka.leads.models import Lead
from lavka.leads.services import lead_create
from lavka.sales.models import Deal

pytestmark = pytest.mark.django_db


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


def post(http, url, body, auth=None, **extra):
    return http.post(
        url, json.dumps(body), content_type="application/json", **(auth or {}), **extra
    )


def patch(http, url, body, auth, **extra):
    return http.patch(url, json.dumps(body), content_type="application/json", **auth, **extra)


def test_create_then_get_a_lead_with_its_etag(http, org):
    auth = bearer(org.rep)

    created = post(
        http,
        "/api/v1/leads",
        {"company": "Ромашка", "contact_name": "Анна", "phone": "8 916 123-45-67"},
        auth,
    )

    assert created.status_code == 201
    body = created.json()
    assert (body["source"], body["phone"], body["status"], body["owner"]["id"]) == (
        "api",
        "+79161234567",
        "new",
        org.rep.pk,
    )
    got = http.get(f"/api/v1/leads/{body['id']}", **auth)
    assert got["ETag"] == f'"{body["id"]}-1"'


def test_validation_errors_name_the_field(http, org):
    response = post(
        http, "/api/v1/leads", {"contact_name": "Анна", "email": "nope"}, bearer(org.rep)
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["email"]
    assert Lead.objects.count() == 0


def test_the_list_is_scoped_and_filtered(http, org):
    lead_create(actor=org.rep, company="Ромашка", email="r@x.example")
    lead_create(actor=org.colleague, company="Лютик", email="l@x.example")

    mine = http.get("/api/v1/leads", **bearer(org.rep)).json()
    managers = http.get("/api/v1/leads?q=лют", **bearer(org.manager)).json()

    assert [item["company"] for item in mine["items"]] == ["Ромашка"]
    assert [item["company"] for item in managers["items"]] == ["Лютик"]


def test_patch_needs_if_match_and_refuses_a_stale_one(http, org):
    lead = lead_create(actor=org.rep, contact_name="Анна", email="a@x.example")
    auth = bearer(org.rep)
    url = f"/api/v1/leads/{lead.pk}"

    missing = patch(http, url, {"company": "Ромашка"}, auth)
    done = patch(http, url, {"company": "Ромашка"}, auth, HTTP_IF_MATCH=f'"{lead.pk}-1"')
    stale = patch(http, url, {"company": "Лютик"}, auth, HTTP_IF_MATCH=f'"{lead.pk}-1"')

    assert (missing.status_code, done.status_code, stale.status_code) == (428, 200, 409)
    assert done["ETag"] == f'"{lead.pk}-2"'
    assert Lead.objects.get(pk=lead.pk).company == "Ромашка"


def test_patch_disqualifies_with_a_reason_only(http, org):
    lead = lead_create(actor=org.rep, contact_name="Анна", email="a@x.example")
    auth = bearer(org.rep)
    url = f"/api/v1/leads/{lead.pk}"

    refused = patch(http, url, {"status": "disqualified"}, auth, HTTP_IF_MATCH="*")
    done = patch(
        http,
        url,
        {"status": "disqualified", "disqualify_reason": "Нет бюджета"},
        auth,
        HTTP_IF_MATCH="*",
    )

    assert refused.status_code == 422
    assert list(refused.json()["fields"]) == ["disqualify_reason"]
    assert (done.json()["status"], done.json()["disqualify_reason"]) == (
        "disqualified",
        "Нет бюджета",
    )


def test_convert_answers_409_with_candidates_then_attaches(http, org):
    existing = client_create(actor=org.rep, name="Ромашка")
    lead = lead_create(
        actor=org.rep, company="ООО Ромашка", contact_name="Анна", email="a@x.example"
    )
    auth = bearer(org.rep)
    url = f"/api/v1/leads/{lead.pk}/convert"

    conflict = post(http, url, {}, auth)
    done = post(http, url, {"client_id": existing.pk, "amount": "5000"}, auth)

    assert conflict.status_code == 409
    assert conflict.json()["code"] == "possible_duplicates"
    assert [c["client_id"] for c in conflict.json()["candidates"]] == [existing.pk]
    assert done.status_code == 200
    deal = Deal.objects.get()
    assert done.json()["deal_id"] == deal.pk
    assert (done.json()["client_id"], done.json()["client_created"]) == (existing.pk, False)
    assert done.json()["lead"]["status"] == "converted"


def test_the_public_capture_endpoint_needs_no_token(http, web_form):
    response = post(
        http,
        f"/api/v1/forms/{web_form.key}/leads",
        {"contact_name": "Анна", "email": "a@x.example", "utm_source": "mail"},
    )

    assert response.status_code == 201
    assert response.json()["message"] == "Спасибо! Мы перезвоним."
    lead = Lead.objects.get()
    assert (lead.source, lead.owner, lead.utm_source) == ("web_form", web_form.owner, "mail")


def test_the_public_capture_endpoint_honours_the_honeypot_and_unknown_keys(http, web_form):
    trapped = post(
        http,
        f"/api/v1/forms/{web_form.key}/leads",
        {"contact_name": "Bot", "email": "b@x.example", "website": "x"},
    )
    unknown = post(http, "/api/v1/forms/nope/leads", {"contact_name": "Анна"})

    assert (trapped.status_code, unknown.status_code) == (201, 404)
    assert Lead.objects.count() == 0


def test_the_public_capture_endpoint_refuses_a_browser_page_of_another_website(http, web_form):
    response = post(
        http,
        f"/api/v1/forms/{web_form.key}/leads",
        {"contact_name": "Анна", "email": "a@x.example"},
        HTTP_ORIGIN="https://evil.example",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "capture_refused"
    assert Lead.objects.count() == 0
