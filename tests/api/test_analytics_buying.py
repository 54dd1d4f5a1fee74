"""GET /api/v1/analytics/due and /api/v1/clients/{id}/insight on the base of
tests/analytics/test_buying.py moved to end today (Alpha due tomorrow, Delta in 3
days, Bravo in 8)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from lavka.analytics.services import analytics_recompute
from tests.analytics.test_buying import D, make_buying_base
from tests.api.test_clients_api import bearer


@pytest.fixture
def base(org):
    shift = (timezone.localdate() - D(2026, 6, 30)).days
    made = make_buying_base(org, shift_days=shift)
    analytics_recompute(actor=org.analyst, as_of=made.as_of)
    return made


def test_the_due_list_of_a_rep_holds_their_clients_only(base, org):
    response = HttpClient().get("/api/v1/analytics/due?within_days=14", **bearer(org.rep))

    assert response.status_code == 200
    body = response.json()
    assert body["computed"] is True
    assert body["count"] == 2
    assert [i["client"] for i in body["items"]] == ["Alpha", "Bravo"]
    alpha = body["items"][0]
    today = timezone.localdate()
    assert alpha["due_on"] == (today + dt.timedelta(days=1)).isoformat()
    assert (alpha["days"], alpha["basis"], alpha["due_category"], alpha["cycle_days"]) == (
        1,
        "category",
        "Coffee",
        10.0,
    )
    assert (alpha["offer_product"], alpha["offer_share"]) == ("Filter", 0.75)
    assert alpha["offer_reason"] == "75% of clients who buy Beans also buy Filter"


def test_a_manager_pages_through_the_team_and_filters(base, org):
    http = HttpClient()

    first = http.get("/api/v1/analytics/due?within_days=14&limit=2", **bearer(org.manager))
    second = http.get(
        "/api/v1/analytics/due?within_days=14&limit=2&offset=2", **bearer(org.manager)
    )
    colleague = http.get(
        f"/api/v1/analytics/due?within_days=14&owner={org.colleague.pk}", **bearer(org.manager)
    )
    tea = http.get(
        f"/api/v1/analytics/due?within_days=60&category={base.tea.pk}", **bearer(org.manager)
    )

    assert [i["client"] for i in first.json()["items"]] == ["Alpha", "Delta"]
    assert first.json()["count"] == 3
    assert "offset=2" in first.json()["next"]
    assert [i["client"] for i in second.json()["items"]] == ["Bravo"]
    assert second.json()["next"] is None
    assert [i["client"] for i in colleague.json()["items"]] == ["Delta"]
    assert tea.json()["items"] == []


def test_a_clients_insight_with_its_cycles(base, org):
    response = HttpClient().get(f"/api/v1/clients/{base.a.pk}/insight", **bearer(org.rep))

    assert response.status_code == 200
    body = response.json()
    assert body["computed"] is True
    assert (body["due_category"], body["due_cycle_days"]) == ("Coffee", 10.0)
    assert body["offer_product"] == "Filter"
    assert [(c["category"], c["purchases"], c["cycle_days"]) for c in body["cycles"]] == [
        ("Coffee", 3, 10.0),
        ("Tea", 2, 31.0),
    ]


def test_insight_of_a_colleagues_client_is_not_given_to_a_rep(base, org):
    http = HttpClient()

    hidden = http.get(f"/api/v1/clients/{base.d.pk}/insight", **bearer(org.rep))
    other_team = http.get(f"/api/v1/clients/{base.a.pk}/insight", **bearer(org.spb_rep))

    # The rep may see the colleague's client (clients: team) but not its analytics.
    assert hidden.status_code == 200
    assert hidden.json() == {
        "computed": False,
        "as_of": None,
        "next_purchase_on": None,
        "due_category_id": None,
        "due_category": None,
        "due_on": None,
        "due_cycle_days": None,
        "is_overdue": False,
        "offer_product_id": None,
        "offer_product": None,
        "offer_because_id": None,
        "offer_because": None,
        "offer_share": None,
        "offer_score": None,
        "offer_reason": "",
        "cycles": [],
    }
    assert other_team.status_code == 404


def test_before_any_recompute_the_list_says_so(org):
    response = HttpClient().get("/api/v1/analytics/due", **bearer(org.rep))

    assert response.status_code == 200
    assert (response.json()["computed"], response.json()["items"]) == (False, [])


def test_the_endpoints_are_in_the_schema(org):
    http = HttpClient()
    http.force_login(org.rep)

    paths = http.get("/api/v1/openapi.json").json()["paths"]

    assert "/api/v1/analytics/due" in paths
    assert "/api/v1/clients/{client_id}/insight" in paths
