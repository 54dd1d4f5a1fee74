"""The API of the deal card's additions: competitors in and out, the contact person,
the quote as PDF, an order's status, and the lost reason refused when missing."""

from __future__ import annotations

import io
import json

import pypdf
import pytest
from django.test import Client as HttpClient

from lavka.clients.models import Employment, Person
from lavka.identity.services import api_token_create
from lavka.sales.models import Order, Pipeline, Product, Stage
from lavka.sales.services import deal_create, deal_lines_set, deal_move
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope="read_write")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def stages(db):
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="P", is_default=True, order=0)
    return {
        kind: Stage.objects.create(pipeline=pipeline, name=kind.title(), kind=kind, order=i)
        for i, kind in enumerate(["open", "won", "lost"])
    }


@pytest.fixture
def client_org(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", inn="7701234567")


def post(http, url, body, auth, **extra):
    return http.post(url, json.dumps(body), content_type="application/json", **auth, **extra)


def test_competitors_and_the_contact_person_through_the_api(org, stages, client_org):
    anna = Person.objects.create(first_name="Anna", last_name="Ivanova", owner=org.rep)
    Employment.objects.create(person=anna, organisation=client_org)
    http, auth = HttpClient(), bearer(org.rep)

    created = post(
        http,
        "/api/v1/deals",
        {
            "client_id": client_org.pk,
            "title": "Paper",
            "competitors": ["Komus"],
            "person_id": anna.pk,
        },
        auth,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["competitors"], body["person_id"]) == (["Komus"], anna.pk)

    changed = http.patch(
        f"/api/v1/deals/{body['id']}",
        json.dumps({"competitors": ["OfficeMag"], "person_id": None}),
        content_type="application/json",
        HTTP_IF_MATCH=created["ETag"],
        **auth,
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["competitors"], changed.json()["person_id"]) == (["OfficeMag"], None)
    listed = http.get("/api/v1/deals", **auth).json()
    assert listed["items"][0]["competitors"] == ["OfficeMag"]


def test_a_person_from_another_client_is_refused_on_the_field(org, stages, client_org):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    boris = Person.objects.create(first_name="Boris", last_name="B", owner=org.rep)
    Employment.objects.create(person=boris, organisation=other)

    response = post(
        HttpClient(),
        "/api/v1/deals",
        {"client_id": client_org.pk, "title": "Paper", "person_id": boris.pk},
        bearer(org.rep),
    )

    assert response.status_code == 422
    assert "person" in response.json()["fields"]


def test_a_move_to_lost_without_a_reason_is_refused(org, stages, client_org):
    deal = deal_create(actor=org.rep, client=client_org, title="Paper")

    response = post(
        HttpClient(),
        f"/api/v1/deals/{deal.pk}/move",
        {"stage_id": stages["lost"].pk},
        bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["fields"]["lost_reason"] == ["Say why the deal was lost."]


def test_the_quote_pdf_through_the_api(org, stages, client_org):
    deal = deal_create(actor=org.rep, client=client_org, title="Paper")
    paper = Product.objects.create(code="P-1", name="Paper A4", vat_rate=20)
    deal_lines_set(
        actor=org.rep, deal=deal, lines=[{"product": paper, "quantity": 2, "unit_price": "600"}]
    )

    response = HttpClient().get(f"/api/v1/deals/{deal.pk}/quote.pdf", **bearer(org.rep))

    assert response.status_code == 200
    text = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Paper A4" in text and "7701234567" in text
    assert "1,200.00 RUB" in text and "200.00 RUB" in text  # VAT 20 % included
    assert (
        HttpClient().get(f"/api/v1/deals/{deal.pk}/quote.pdf", **bearer(org.spb_rep)).status_code
        == 404
    )


def test_an_orders_status_through_the_api(org, stages, client_org):
    deal = deal_create(actor=org.rep, client=client_org, title="Paper", amount=100)
    deal_move(actor=org.rep, deal=deal, stage=stages["won"])
    order = Order.objects.get(source_deal=deal)
    http, auth = HttpClient(), bearer(org.rep)
    etag = http.get(f"/api/v1/orders/{order.pk}", **auth)["ETag"]

    shipped = post(
        http, f"/api/v1/orders/{order.pk}/status", {"status": "shipped"}, auth, HTTP_IF_MATCH=etag
    )
    back = post(
        http, f"/api/v1/orders/{order.pk}/status", {"status": "draft"}, auth, HTTP_IF_MATCH="*"
    )

    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    assert back.status_code == 422 and "status" in back.json()["fields"]
    analyst = post(
        http,
        f"/api/v1/orders/{order.pk}/status",
        {"status": "paid"},
        bearer(org.analyst),
        HTTP_IF_MATCH="*",
    )
    assert analyst.status_code == 403
