"""The clients API filtered and sorted by the analytics, with each client's scores, and
the client scores endpoint's stage, lifecycle length and suggestion."""

from __future__ import annotations

import datetime as dt

from django.test import Client as HttpClient

from lavka.analytics.models import ClientInsight
from lavka.identity.services import api_token_create
from lavka.sales.models import Product, ProductCategory
from tests.analytics.test_filters import base  # noqa: F401 (the fixture)


def bearer(user, language="en"):
    _token, raw = api_token_create(actor=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": language}


def names(body):
    return [c["name"] for c in body["items"]]


def test_the_list_filters_by_scores_and_sorts_by_clv(org, base):  # noqa: F811
    response = HttpClient().get(
        "/api/v1/clients", {"abc": "A", "ordering": "-clv"}, **bearer(org.admin)
    )

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 4
    assert names(body) == ["Delta", "Echo", "Alpha", "Bravo"]
    assert body["items"][2]["scores"] == {
        "segment": "champions",
        "abc_xyz": "AX",
        "clv": 5000.0,
        "leave_probability": 0.09999999999999998,
        "next_purchase_on": "2026-07-10",
        "stage": "loyal",
        "revenue": 9000.0,
        "currency": "RUB",
    }


def test_pages_of_a_score_sort_follow_on(org, base):  # noqa: F811
    http = HttpClient()
    auth = bearer(org.admin)

    first = http.get("/api/v1/clients", {"ordering": "leave", "limit": 4}, **auth).json()
    second = http.get(
        "/api/v1/clients", {"ordering": "leave", "limit": 4, "offset": 4}, **auth
    ).json()

    assert first["count"] == 6
    assert names(first) == ["Echo", "Delta", "Alpha", "Bravo"]
    assert names(second) == ["Charlie", "Foxtrot"]
    assert second["items"][1]["scores"] is None
    assert first["next"] is not None and second["next"] is None


def test_a_rep_gets_neither_a_colleague_s_client_by_score_nor_its_scores(org, base):  # noqa: F811
    http = HttpClient()
    auth = bearer(org.rep)

    champions = http.get("/api/v1/clients", {"segment": "champions"}, **auth).json()
    everyone = http.get("/api/v1/clients", **auth).json()

    assert names(champions) == ["Alpha"]
    delta = next(c for c in everyone["items"] if c["name"] == "Delta")
    assert delta["scores"] is None


def test_a_bad_filter_value_is_a_422_naming_the_parameter(org, base):  # noqa: F811
    response = HttpClient().get(
        "/api/v1/clients", {"leave_min": "x", "stage": "sleeping"}, **bearer(org.admin)
    )

    body = response.json()
    assert response.status_code == 422
    assert body["code"] == "validation_failed"
    assert body["fields"] == {
        "stage": [
            "“sleeping” is not a valid value of stage; use one of: new, active, loyal, "
            "at_risk, lapsed, lost."
        ],
        "leave_min": ["leave_min must be a percentage from 0 to 100, not “x”."],
    }


def test_the_scores_endpoint_gives_the_stage_and_the_suggestion(org, base):  # noqa: F811
    tea = ProductCategory.objects.create(name="Tea")
    green = Product.objects.create(code="G1", name="Green tea", category=tea)
    ClientInsight.objects.create(
        run=base.run,
        client=base.bravo,
        due_on=dt.date(2026, 7, 20),
        next_purchase_on=dt.date(2026, 9, 1),
        due_category=tea,
        category_due_on=dt.date(2026, 7, 20),
        cycle_days=30.0,
        category_purchases=3,
        category_last_on=dt.date(2026, 6, 20),
        product=green,
        last_on=dt.date(2026, 6, 20),
    )

    body = HttpClient().get(f"/api/v1/clients/{base.bravo.pk}/scores", **bearer(org.admin)).json()

    assert body["stage"] == "at_risk"
    assert body["stage_label"] == "at risk"
    assert body["lifecycle_days"] == 500
    assert body["suggestion"]["offer_product"] == "Green tea"
    assert body["suggestion"]["offer_product_id"] == green.pk
    assert body["suggestion"]["due_category"] == "Tea"
    assert body["suggestion"]["due_on"] == "2026-07-20"
    assert body["suggestion"]["due_cycle_days"] == 30.0


def test_the_scores_endpoint_without_a_suggestion(org, base):  # noqa: F811
    body = HttpClient().get(f"/api/v1/clients/{base.alpha.pk}/scores", **bearer(org.admin)).json()

    assert body["computed"] is True
    assert body["stage"] == "loyal"
    assert body["suggestion"] is None


def test_the_list_takes_the_month_and_flow_drill_downs(org, base):  # noqa: F811
    from lavka.analytics.models import ComputeRun
    from tests.analytics.conftest import add_orders
    from tests.analytics.test_filters import AT_RISK, make_run, score

    previous = make_run(current=False, as_of=dt.date(2026, 6, 15))
    score(previous, base.alpha, segment=AT_RISK)
    ComputeRun.objects.filter(pk=base.run.pk).update(
        parameters={"moves": {"from_run": previous.pk}}
    )
    add_orders(base.bravo, [(dt.date(2026, 6, 1), 50)])
    auth = bearer(org.admin)

    flow = HttpClient().get("/api/v1/clients", {"segment_before": "at_risk"}, **auth).json()
    june = HttpClient().get("/api/v1/clients", {"bought": "2026-06"}, **auth).json()

    assert names(flow) == ["Alpha"]
    assert names(june) == ["Bravo"]
