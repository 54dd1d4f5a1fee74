"""GET /api/v1/analytics/forecast: the same forecast as the page, scoped the same way."""

from __future__ import annotations

from django.test import Client as HttpClient

from lavka.analytics.services import analytics_recompute
from tests.analytics.test_forecast import AS_OF, base  # noqa: F401 - the fixture
from tests.api.test_clients_api import bearer

URL = "/api/v1/analytics/forecast"


def test_the_forecast_of_the_whole_base(org, base):  # noqa: F811
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    response = HttpClient().get(URL, **bearer(org.analyst))

    assert response.status_code == 200
    body = response.json()
    stored = run.reports["forecast"]
    assert body["computed"] is True
    assert body["scope"] == "all"
    assert body["as_of"] == "2026-06-20"
    assert body["currency"] == "RUB"
    assert body["history"] == stored["history"]
    assert body["forecast"] == stored["forecast"]
    assert body["current"] == ["2026-06", 1500.0]
    assert body["pipeline"][1] == ["2026-07", 50000.0, 190000.0, 2]
    assert body["pipeline_skipped"] == {"EUR": 1}
    assert body["model"]["name"] == stored["model"]["name"]
    assert body["model"]["label"].startswith("Holt-Winters")
    assert body["model"]["reason_label"] == ""
    assert body["accuracy"]["months"] == 3


def test_a_rep_gets_their_own_clients_forecast(org, base):  # noqa: F811
    analytics_recompute(actor=org.analyst, as_of=AS_OF)

    body = HttpClient().get(URL, **bearer(org.rep)).json()

    assert body["scope"] == "own"
    assert dict(body["history"])["2026-03"] == 1900.0


def test_nothing_computed_yet_and_no_access(org):
    assert HttpClient().get(URL, **bearer(org.analyst)).json() == {
        "computed": False,
        "as_of": None,
        "currency": None,
        "scope": None,
        "history": [],
        "current": None,
        "forecast": [],
        "model": None,
        "accuracy": None,
        "pipeline": [],
        "pipeline_skipped": {},
    }
    assert HttpClient().get(URL, **bearer(org.agent)).status_code == 404
