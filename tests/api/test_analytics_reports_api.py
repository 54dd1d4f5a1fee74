"""GET /api/v1/analytics/cohorts and /touchpoints on the hand-made base of
tests/analytics/test_reports_cohorts.py (figures computed by hand there)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient

from lavka.analytics.services import analytics_recompute
from tests.analytics.conftest import history  # noqa: F401 - fixture
from tests.analytics.test_reports_cohorts import reports_base  # noqa: F401 - fixture
from tests.api.test_clients_api import bearer

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def computed(reports_base, org):  # noqa: F811
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    return reports_base


def test_cohorts_for_the_whole_base(org, computed):
    response = HttpClient().get("/api/v1/analytics/cohorts", **bearer(org.analyst))

    assert response.status_code == 200
    body = response.json()
    assert body["computed"] is True
    assert (body["as_of"], body["by"], body["currency"]) == ("2026-06-30", "all", "RUB")
    assert (body["months"][0], body["months"][-1]) == ("2024-01", "2026-06")
    [everyone] = body["groups"]
    january = body["months"].index("2026-01")
    assert everyone["clients"][january] == 1
    assert everyone["retention"][january] == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert everyone["revenue"][january] == [300.0, 0.0, 0.0, 0.0, 0.0, 300.0]


def test_cohorts_by_channel_and_by_tier(org, computed):
    http = HttpClient()

    channels = http.get("/api/v1/analytics/cohorts?by=channel", **bearer(org.analyst)).json()
    tiers = http.get("/api/v1/analytics/cohorts?by=tier", **bearer(org.analyst)).json()

    assert {g["key"]: sum(g["clients"]) for g in channels["groups"]} == {
        "web": 2,
        "": 2,
        "referral": 1,
    }
    assert {g["key"]: (g["label"], sum(g["clients"])) for g in tiers["groups"]} == {
        "none": ("No tier", 4),
        str(computed.vip.pk): ("VIP", 1),
    }


def test_a_bad_breakdown_is_refused(org, computed):
    response = HttpClient().get("/api/v1/analytics/cohorts?by=owner", **bearer(org.analyst))

    assert response.status_code == 422


def test_touchpoints_within_7_days(org, computed):
    response = HttpClient().get(
        "/api/v1/analytics/touchpoints?within_days=7", **bearer(org.analyst)
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["from_date"], body["within_days"], body["touches"]) == ("2025-07-01", 7, 3)
    call = next(r for r in body["rows"] if r["kind"] == "call")
    assert (call["channel"], call["touches"], call["reach"]) == ("phone", 2, 2)
    assert (call["eligible"], call["purchased"], call["purchase_rate"]) == (2, 1, 0.5)
    assert (call["revenue"], call["moved"], call["either"]) == (300.0, 0, 1)


def test_a_manager_who_sees_part_of_the_base_is_refused_with_a_reason(org, computed):
    response = HttpClient().get("/api/v1/analytics/touchpoints", **bearer(org.manager))

    assert response.status_code == 403
    assert response.json()["code"] == "analytics_whole_base_only"
    assert "whole client base" in response.json()["detail"]


def test_no_analytics_access_is_not_found(org, computed):
    response = HttpClient().get("/api/v1/analytics/cohorts", **bearer(org.agent))

    assert response.status_code == 404


def test_before_the_first_recompute_nothing_is_computed(org):
    response = HttpClient().get("/api/v1/analytics/cohorts", **bearer(org.analyst))

    assert response.json() == {
        "computed": False,
        "as_of": None,
        "currency": None,
        "by": None,
        "months": [],
        "groups": [],
    }


def test_another_horizon_is_refused(org, computed):
    response = HttpClient().get(
        "/api/v1/analytics/touchpoints?within_days=10", **bearer(org.analyst)
    )

    assert response.status_code == 422
    assert response.json()["fields"]["within_days"] == ["Choose 7, 14 or 30 days."]
