"""Sales API: pipelines and stages, deals with filters, paging and ETags, the move
endpoint (lost reason, won makes an order), products, orders; the access rules."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from lavka.sales.models import Deal, Order, Pipeline, Product, Stage
from lavka.sales.services import deal_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def bearer(user, scope=ApiToken.Scope.READ_WRITE):
    _token, raw = api_token_create(actor=user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def board(db):
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Test pipeline", is_default=True, order=0)

    class Board:
        pass

    b = Board()
    b.pipeline = pipeline
    for name, kind, probability, order in [
        ("lead", "open", 10, 10),
        ("offer", "open", 50, 20),
        ("won", "won", 100, 30),
        ("lost", "lost", 0, 40),
    ]:
        setattr(
            b,
            name,
            Stage.objects.create(
                pipeline=pipeline,
                name=name.title(),
                kind=kind,
                probability=probability,
                order=order,
            ),
        )
    return b


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", currency="RUB")


def post(http, url, body, auth, **extra):
    return http.post(url, json.dumps(body), content_type="application/json", **auth, **extra)


def patch(http, url, body, auth, **extra):
    return http.patch(url, json.dumps(body), content_type="application/json", **auth, **extra)


def new_deal(user, client, board, title, amount=100):
    return deal_create(
        actor=user, client=client, title=title, pipeline=board.pipeline, amount=amount
    )


def test_pipelines_list_their_stages_in_order(org, board, http):
    body = http.get("/api/v1/pipelines", **bearer(org.rep)).json()
    ours = next(p for p in body if p["id"] == board.pipeline.pk)
    assert [s["name"] for s in ours["stages"]] == ["Lead", "Offer", "Won", "Lost"]
    assert [s["kind"] for s in ours["stages"]] == ["open", "open", "won", "lost"]
    one = http.get(f"/api/v1/pipelines/{board.pipeline.pk}", **bearer(org.rep)).json()
    assert one["is_default"] is True


def test_create_read_update_and_delete_a_deal_with_etags(org, board, romashka, http):
    auth = bearer(org.rep)
    created = post(
        http,
        "/api/v1/deals",
        {
            "client_id": romashka.pk,
            "title": "Tea",
            "amount": "1200.50",
            "expected_close_on": "2026-12-31",
        },
        auth,
    )
    assert created.status_code == 201
    deal = created.json()
    assert (deal["stage_id"], deal["stage_kind"], deal["currency"]) == (
        board.lead.pk,
        "open",
        "RUB",
    )
    assert deal["amount"] == "1200.50"
    url = created["Location"]

    got = http.get(url, **auth)
    etag = got["ETag"]
    assert patch(http, url, {"title": "Green tea"}, auth).status_code == 428
    changed = patch(http, url, {"title": "Green tea"}, auth, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["title"] == "Green tea"
    stale = patch(http, url, {"title": "Black tea"}, auth, HTTP_IF_MATCH=etag)
    assert stale.status_code == 409

    gone = http.delete(url, **auth, HTTP_IF_MATCH=changed["ETag"])
    assert gone.status_code == 204
    assert http.get(url, **auth).status_code == 404


def test_the_list_filters_and_pages(org, board, romashka, http):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    for i in range(3):
        new_deal(org.rep, romashka, board, f"Romashka {i}", amount=100 * (i + 1))
    new_deal(org.rep, other, board, "Vasilek")
    auth = bearer(org.rep)

    by_client = http.get(f"/api/v1/deals?client={romashka.pk}&ordering=-amount&limit=2", **auth)
    body = by_client.json()
    assert body["count"] == 3
    assert [d["title"] for d in body["items"]] == ["Romashka 2", "Romashka 1"]
    assert body["next"] is not None
    assert http.get("/api/v1/deals?status=won", **auth).json()["count"] == 0
    assert http.get("/api/v1/deals?q=vasil", **auth).json()["count"] == 1


def test_move_refuses_lost_without_a_reason_and_won_creates_the_order(org, board, romashka, http):
    deal = new_deal(org.rep, romashka, board, "Tea", amount=500)
    auth = bearer(org.rep)
    url = f"/api/v1/deals/{deal.pk}/move"

    refused = post(http, url, {"stage_id": board.lost.pk}, auth)
    assert refused.status_code == 422
    assert refused.json()["fields"]["lost_reason"] == ["Say why the deal was lost."]
    assert Deal.objects.get(pk=deal.pk).stage == board.lead

    won = post(http, url, {"stage_id": board.won.pk}, auth)
    assert won.status_code == 200
    order_id = won.json()["order_id"]
    assert won.json()["deal"]["stage_kind"] == "won"
    order = http.get(f"/api/v1/orders/{order_id}", **auth).json()
    assert order["source_deal_id"] == deal.pk and order["total"] == "500.00"
    assert Order.objects.filter(source_deal=deal).count() == 1

    lost = post(http, url, {"stage_id": board.lost.pk, "lost_reason": "Price"}, auth)
    assert lost.status_code == 200 and lost.json()["deal"]["lost_reason"] == "Price"
    assert lost.json()["order_id"] is None


def test_move_within_a_column_puts_the_card_below_after_id(org, board, romashka, http):
    first = new_deal(org.rep, romashka, board, "First")
    second = new_deal(org.rep, romashka, board, "Second")  # on top
    moved = post(
        http,
        f"/api/v1/deals/{second.pk}/move",
        {"stage_id": board.lead.pk, "after_id": first.pk},
        bearer(org.rep),
    )
    assert moved.status_code == 200
    column = Deal.objects.filter(stage=board.lead).order_by("position", "id")
    assert [d.title for d in column] == ["First", "Second"]


def test_a_stale_if_match_on_move_is_409(org, board, romashka, http):
    deal = new_deal(org.rep, romashka, board, "Tea")
    response = post(
        http,
        f"/api/v1/deals/{deal.pk}/move",
        {"stage_id": board.offer.pk},
        bearer(org.rep),
        HTTP_IF_MATCH=f'"{deal.pk}-{deal.version + 5}"',
    )
    assert response.status_code == 409


def test_products_set_the_amount_and_stage_times_are_listed(org, board, romashka, http):
    deal = new_deal(org.rep, romashka, board, "Tea")
    tea = Product.objects.create(code="TEA-1", name="Green tea", unit="kg")
    auth = bearer(org.rep)
    etag = http.get(f"/api/v1/deals/{deal.pk}", **auth)["ETag"]

    response = http.put(
        f"/api/v1/deals/{deal.pk}/lines",
        json.dumps(
            {
                "lines": [
                    {
                        "product_id": tea.pk,
                        "quantity": "2",
                        "unit_price": "150",
                        "discount_percent": "10",
                    }
                ]
            }
        ),
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **auth,
    )

    assert response.status_code == 200
    assert response.json()[0]["amount"] == "270.00"
    assert http.get(f"/api/v1/deals/{deal.pk}", **auth).json()["amount"] == "270.00"
    assert [
        line["product_id"] for line in http.get(f"/api/v1/deals/{deal.pk}/lines", **auth).json()
    ] == [tea.pk]
    times = http.get(f"/api/v1/deals/{deal.pk}/stage-times", **auth).json()
    assert times[0]["stage_name"] == "Lead" and times[0]["is_current"] is True
    unknown = http.put(
        f"/api/v1/deals/{deal.pk}/lines",
        json.dumps({"lines": [{"product_id": 999999}]}),
        content_type="application/json",
        HTTP_IF_MATCH=response["ETag"],
        **auth,
    )
    assert unknown.status_code == 422 and "lines.0.product_id" in unknown.json()["fields"]


def test_orders_are_created_by_hand_and_listed_for_a_client(org, board, romashka, http):
    auth = bearer(org.rep)
    created = post(
        http,
        "/api/v1/orders",
        {
            "client_id": romashka.pk,
            "ordered_on": "2026-03-01",
            "lines": [{"product_name": "Tea", "quantity": "2", "unit_price": "10"}],
        },
        auth,
    )
    assert created.status_code == 201
    assert (
        created.json()["total"] == "20.00" and created.json()["lines"][0]["product_name"] == "Tea"
    )
    listed = http.get(f"/api/v1/orders?client={romashka.pk}", **auth).json()
    assert [o["id"] for o in listed["items"]] == [created.json()["id"]]


def test_another_teams_deal_is_404_and_a_rep_lists_only_their_own(org, board, romashka, http):
    spb = ClientFactory(owner=org.spb_rep, team=org.spb, name="Piter")
    theirs = new_deal(org.spb_rep, spb, board, "Theirs")
    colleague_client = ClientFactory(owner=org.colleague, team=org.moscow, name="Vasilek")
    new_deal(org.colleague, colleague_client, board, "Colleague's")
    mine = new_deal(org.rep, romashka, board, "Mine")
    auth = bearer(org.rep)

    assert http.get(f"/api/v1/deals/{theirs.pk}", **auth).status_code == 404
    moved = post(http, f"/api/v1/deals/{theirs.pk}/move", {"stage_id": board.offer.pk}, auth)
    assert moved.status_code == 404
    assert Deal.objects.get(pk=theirs.pk).stage == board.lead
    assert [d["id"] for d in http.get("/api/v1/deals", **auth).json()["items"]] == [mine.pk]
    assert http.get("/api/v1/deals", **bearer(org.manager)).json()["count"] == 2
    # A client the caller cannot see, in a body, is a field error.
    refused = post(http, "/api/v1/deals", {"client_id": spb.pk, "title": "x"}, auth)
    assert refused.status_code == 422 and "client_id" in refused.json()["fields"]


def test_a_read_only_token_cannot_move(org, board, romashka, http):
    deal = new_deal(org.rep, romashka, board, "Tea")
    response = post(
        http,
        f"/api/v1/deals/{deal.pk}/move",
        {"stage_id": board.offer.pk},
        bearer(org.rep, scope=ApiToken.Scope.READ),
    )
    assert response.status_code == 403
