from __future__ import annotations

from django.test import Client as HttpClient

from lavka.analytics.selectors import client_scores
from lavka.analytics.services import analytics_recompute
from tests.analytics.test_web import AS_OF
from tests.api.test_clients_api import bearer


def test_a_clients_scores_come_from_the_current_run_as_the_card_shows_them(
    org, history, simulated_base
):
    analytics_recompute(actor=org.admin, as_of=AS_OF)
    card = client_scores(viewer=org.rep, client=history.monthly)

    response = HttpClient().get(f"/api/v1/clients/{history.monthly.pk}/scores", **bearer(org.rep))

    assert response.status_code == 200
    body = response.json()
    assert body["computed"] is True
    assert body["as_of"] == AS_OF.isoformat()
    assert body["segment"] == str(card.segment)
    assert body["abc_xyz"] == card.abc_xyz
    assert body["leave_probability"] == card.leave_probability
    assert body["clv"] == card.clv


def test_no_scores_yet_says_so_and_another_teams_client_is_not_found(org, history):
    http = HttpClient()

    before = http.get(f"/api/v1/clients/{history.monthly.pk}/scores", **bearer(org.rep))
    hidden = http.get(f"/api/v1/clients/{history.monthly.pk}/scores", **bearer(org.spb_rep))

    assert before.status_code == 200
    assert before.json()["computed"] is False
    assert hidden.status_code == 404


def test_the_scores_endpoint_is_in_the_schema(org):
    http = HttpClient()
    http.force_login(org.rep)

    assert "/api/v1/clients/{client_id}/scores" in http.get("/api/v1/openapi.json").json()["paths"]
