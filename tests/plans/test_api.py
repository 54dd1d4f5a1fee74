"""Plans API: list, get (ETag), create, update (If-Match), history, generation preview
and save, plan versus actual; access as in the web."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from lavka.identity.services import api_token_create
from lavka.plans.models import Plan
from tests.plans.conftest import TODAY


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope="read_write")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


def post(http, url, body, auth):
    return http.post(url, json.dumps(body), content_type="application/json", **auth)


@pytest.fixture
def plan(org):
    return Plan.objects.create(
        level="user",
        user=org.rep,
        team=org.moscow,
        period_start=TODAY.replace(day=1),
        granularity="month",
        currency="RUB",
        target_amount=Decimal("1000"),
        generated_amount=Decimal("1000"),
    )


def test_a_manager_creates_then_adjusts_a_plan(org, http):
    auth = bearer(org.manager)

    created = post(
        http,
        "/api/v1/plans",
        {"period": "2026-Q4", "team_id": org.moscow.pk, "target_amount": "90000"},
        auth,
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["level"], body["period"], body["granularity"]) == ("team", "2026-Q4", "quarter")
    assert body["target_amount"] == "90000.00"

    changed = http.patch(
        f"/api/v1/plans/{body['id']}",
        json.dumps({"target_amount": "95000", "target_count": 12}),
        content_type="application/json",
        HTTP_IF_MATCH=created["ETag"],
        **auth,
    )
    assert changed.status_code == 200
    assert (changed.json()["target_amount"], changed.json()["target_count"]) == ("95000.00", 12)

    history = http.get(f"/api/v1/plans/{body['id']}/history", **auth).json()
    assert [event["action"] for event in history] == ["update", "create"]
    assert history[0]["changes"]["target_amount"] == ["90000.00", "95000.00"]
    assert history[0]["actor"] == "manager"


def test_an_update_without_if_match_is_refused(org, http, plan):
    response = http.patch(
        f"/api/v1/plans/{plan.pk}",
        json.dumps({"target_amount": "5"}),
        content_type="application/json",
        **bearer(org.manager),
    )

    assert response.status_code == 428
    plan.refresh_from_db()
    assert plan.target_amount == Decimal("1000.00")


def test_a_rep_reads_their_plan_but_cannot_change_it(org, http, plan):
    auth = bearer(org.rep)

    got = http.get(f"/api/v1/plans/{plan.pk}", **auth)
    denied = http.patch(
        f"/api/v1/plans/{plan.pk}",
        json.dumps({"target_amount": "5"}),
        content_type="application/json",
        HTTP_IF_MATCH=got["ETag"],
        **auth,
    )

    assert got.json()["adjustment"] == "0.00"
    assert denied.status_code == 403
    plan.refresh_from_db()
    assert plan.target_amount == Decimal("1000.00")


def test_another_teams_plan_is_not_found(org, http, plan):
    assert http.get(f"/api/v1/plans/{plan.pk}", **bearer(org.spb_rep)).status_code == 404


def test_the_list_filters_by_period(org, http, plan):
    auth = bearer(org.manager)

    this_month = http.get("/api/v1/plans", {"period": "2026-11"}, **auth).json()
    other = http.get("/api/v1/plans", {"period": "2026-10"}, **auth).json()
    bad = http.get("/api/v1/plans", {"period": "November"}, **auth)

    assert [p["id"] for p in this_month["items"]] == [plan.pk]
    assert other["items"] == []
    assert bad.status_code == 422
    assert "period" in bad.json()["fields"]


def test_generation_previews_and_saves(org, http, history):
    auth = bearer(org.manager)
    body = {"period": "2026-12", "as_of": "2026-11-24"}

    preview = post(http, "/api/v1/plans/generate/preview", body, auth)
    assert preview.status_code == 200
    rep = next(p for p in preview.json() if p["user_id"] == org.rep.pk)
    assert (rep["amount"], rep["trend"], rep["current_plan_id"]) == ("33333.33", "1.2000", None)
    assert not Plan.objects.exists()

    saved = post(http, "/api/v1/plans/generate", body, auth)
    assert saved.status_code == 200
    assert len(saved.json()) == 3  # the rep, the colleague, Sales Moscow
    assert Plan.objects.get(user=org.rep).target_amount == Decimal("33333.33")


def test_a_rep_cannot_generate(org, http, history):
    response = post(http, "/api/v1/plans/generate", {"period": "2026-12"}, bearer(org.rep))
    preview = post(http, "/api/v1/plans/generate/preview", {"period": "2026-12"}, bearer(org.rep))

    assert response.status_code == 403
    assert preview.status_code == 403
    assert not Plan.objects.exists()


def test_progress_lists_actual_pipeline_and_forecast(org, http, plan, sell):
    sell(org.rep, "2026-11-02", "400")

    rows = http.get("/api/v1/plans/progress", {"period": "2026-11"}, **bearer(org.rep)).json()

    (row,) = rows
    assert row["plan"]["id"] == plan.pk
    assert row["actual"] == "400.00"
    assert row["done_percent"] == "40.0"
    assert (row["weighted_pipeline"], row["forecast"], row["gap"]) == ("0.00", "400.00", "600.00")
