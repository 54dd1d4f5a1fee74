"""The economics and costs API: the figures of the current recompute in the viewer's
scope, and costs entered, changed and deleted with optimistic concurrency."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from lavka.analytics.models import CostEntry
from lavka.analytics.services import analytics_recompute
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from tests.analytics.test_economics import AS_OF, base  # noqa: F401 (the fixture)

JSON = "application/json"


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def run(base, org):  # noqa: F811
    return analytics_recompute(actor=org.analyst, as_of=AS_OF)


def test_the_economics_of_the_current_run(http, run, org):
    response = http.get("/api/v1/analytics/economics", **bearer(org.analyst))

    data = response.json()
    assert response.status_code == 200
    assert (data["computed"], data["as_of"], data["currency"]) == (True, "2026-06-30", "RUB")
    assert data["whole_base"] is True
    assert (data["cac"], data["cac_by_channel"], data["cost_ratio"]) == (450.0, {"ads": 450.0}, 1.2)
    assert data["payback"]["month"] == 14
    assert data["first_year"]["share_after_year"] == 0.75
    assert [s["clients"] for s in data["stages"]] == [0, 3, 0, 0, 2, 2]


def test_a_rep_gets_the_stages_of_their_own_clients(http, run, org):
    response = http.get("/api/v1/analytics/economics", **bearer(org.colleague))

    data = response.json()
    assert data["whole_base"] is False
    assert [s["clients"] for s in data["stages"]] == [0, 0, 0, 0, 0, 0]
    assert data["cost_of_loss"]["clients"] == 0
    assert data["cac"] == 450.0  # costs are company-wide


def test_before_a_recompute_nothing_is_computed(http, org):
    response = http.get("/api/v1/analytics/economics", **bearer(org.analyst))

    assert response.json()["computed"] is False


def test_no_analytics_access_is_not_found(http, org):
    response = http.get("/api/v1/analytics/economics", **bearer(org.agent))

    assert response.status_code == 404


def test_an_analyst_enters_changes_and_deletes_a_cost(http, org):
    auth = bearer(org.analyst)

    created = http.post(
        "/api/v1/analytics/costs",
        json.dumps({"month": "2026-05", "kind": "acquisition", "amount": "1200", "channel": "ads"}),
        content_type=JSON,
        **auth,
    )
    cost_id = created.json()["id"]
    listed = http.get("/api/v1/analytics/costs", **auth).json()
    stale = http.patch(
        f"/api/v1/analytics/costs/{cost_id}",
        json.dumps({"amount": "1"}),
        content_type=JSON,
        HTTP_IF_MATCH=f'"{cost_id}-7"',
        **auth,
    )
    changed = http.patch(
        f"/api/v1/analytics/costs/{cost_id}",
        json.dumps({"amount": "1500.5", "note": "May ads"}),
        content_type=JSON,
        HTTP_IF_MATCH=created["ETag"],
        **auth,
    )
    deleted = http.delete(
        f"/api/v1/analytics/costs/{cost_id}", HTTP_IF_MATCH=changed["ETag"], **auth
    )

    assert created.status_code == 201
    assert created["Location"] == f"/api/v1/analytics/costs/{cost_id}"
    assert created.json()["month"] == "2026-05" and created.json()["currency"] == "RUB"
    assert listed["count"] == 1 and listed["items"][0]["amount"] == "1200.00"
    assert stale.status_code == 409
    assert changed.status_code == 200
    assert (changed.json()["amount"], changed.json()["version"]) == ("1500.50", 2)
    assert deleted.status_code == 204
    assert not CostEntry.objects.exists()


def test_a_bad_cost_is_refused_field_by_field(http, org):
    response = http.post(
        "/api/v1/analytics/costs",
        json.dumps({"month": "someday", "kind": "acquisition", "amount": "0", "currency": "$"}),
        content_type=JSON,
        **bearer(org.analyst),
    )

    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "validation_failed"
    assert set(body["fields"]) == {"month", "amount", "currency"}
    assert not CostEntry.objects.exists()


def test_a_rep_cannot_enter_costs(http, org):
    response = http.post(
        "/api/v1/analytics/costs",
        json.dumps({"month": "2026-05", "kind": "retention", "amount": "10"}),
        content_type=JSON,
        **bearer(org.rep),
    )

    assert response.status_code == 403
    assert not CostEntry.objects.exists()


def test_a_rep_cannot_delete_a_cost(http, org):
    cost = CostEntry.objects.create(month="2026-05-01", kind="retention", amount=10, currency="RUB")

    response = http.delete(
        f"/api/v1/analytics/costs/{cost.pk}", HTTP_IF_MATCH=cost.etag, **bearer(org.rep)
    )

    assert response.status_code == 403
    assert CostEntry.objects.filter(pk=cost.pk).exists()


def test_a_change_needs_if_match(http, org):
    cost = CostEntry.objects.create(month="2026-05-01", kind="retention", amount=10, currency="RUB")

    response = http.patch(
        f"/api/v1/analytics/costs/{cost.pk}",
        json.dumps({"amount": "20"}),
        content_type=JSON,
        **bearer(org.analyst),
    )

    assert response.status_code == 428
    cost.refresh_from_db()
    assert cost.amount == 10
