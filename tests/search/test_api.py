"""API: /search, /duplicates, dismiss, merge and undo."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.clients.models import Client, ClientMerge, DuplicateCandidate, Touchpoint
from lavka.clients.services import client_create
from lavka.identity.services import api_token_create


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope="read_write")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def twins(org):
    a = client_create(actor=org.manager, name="Ромашка", phone="+74951234567")
    b = client_create(actor=org.manager, name="Romashka LLC", phone="+74951234567")
    Touchpoint.objects.create(client=b, kind="call", subject="first call")
    pair = DuplicateCandidate.objects.create(a=a, b=b, score=100, reasons=["phone", "name"])
    return a, b, pair


def test_search_returns_grouped_results(org, http, twins):
    response = http.get("/api/v1/search", {"q": "8 495 123-45-67"}, **bearer(org.manager))

    body = response.json()
    assert response.status_code == 200
    assert sorted(hit["client"]["name"] for hit in body["clients"]) == ["Romashka LLC", "Ромашка"]
    assert (body["people"], body["contracts"]) == ([], [])


def test_search_hides_what_the_caller_cannot_see(org, http, twins):
    response = http.get("/api/v1/search", {"q": "ромашка"}, **bearer(org.spb_rep))

    assert response.json()["clients"] == []


def test_lists_open_duplicates(org, http, twins):
    _a, _b, pair = twins

    response = http.get("/api/v1/duplicates", **bearer(org.manager))

    body = response.json()
    assert body["count"] == 1
    assert (body["items"][0]["id"], body["items"][0]["score"], body["items"][0]["reasons"]) == (
        pair.pk,
        100,
        ["phone", "name"],
    )


def test_dismiss_a_pair(org, http, twins):
    _a, _b, pair = twins

    response = http.post(f"/api/v1/duplicates/{pair.pk}/dismiss", **bearer(org.manager))

    assert (response.status_code, response.json()["status"]) == (200, "dismissed")


def test_dismiss_an_invisible_pair_is_not_found(org, http, twins):
    _a, _b, pair = twins

    response = http.post(f"/api/v1/duplicates/{pair.pk}/dismiss", **bearer(org.spb_rep))

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    pair.refresh_from_db()
    assert pair.status == "open"


def test_merge_and_undo(org, http, twins):
    a, b, _pair = twins

    merged = http.post(
        f"/api/v1/clients/{a.pk}/merge",
        {"other_id": b.pk, "choices": {"name": "merged"}},
        content_type="application/json",
        **bearer(org.manager),
    )
    merge_id = merged.json()["id"]
    a.refresh_from_db()
    after_merge = (a.name, Touchpoint.objects.filter(client=a).count())
    undone = http.post(f"/api/v1/merges/{merge_id}/undo", **bearer(org.manager))

    assert merged.status_code == 201
    assert after_merge == ("Romashka LLC", 1)
    assert undone.status_code == 200 and undone.json()["undone_at"] is not None
    a.refresh_from_db()
    assert (a.name, Touchpoint.objects.filter(client=b).count()) == ("Ромашка", 1)


def test_merge_with_a_bad_choice_is_a_validation_error(org, http, twins):
    a, b, _pair = twins

    response = http.post(
        f"/api/v1/clients/{a.pk}/merge",
        {"other_id": b.pk, "choices": {"version": "merged"}},
        content_type="application/json",
        **bearer(org.manager),
    )

    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    assert ClientMerge.objects.count() == 0


def test_merge_of_a_client_the_caller_cannot_edit_is_refused(org, http, twins):
    a, _b, _pair = twins
    other = client_create(actor=org.colleague, name="Чужой")

    response = http.post(
        f"/api/v1/clients/{a.pk}/merge",
        {"other_id": other.pk},
        content_type="application/json",
        **bearer(org.rep),
    )

    assert (response.status_code, response.json()["code"]) == (403, "not_permitted")
    assert Client.objects.filter(pk=other.pk).exists()
    assert ClientMerge.objects.count() == 0
