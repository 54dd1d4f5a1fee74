from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from lavka.clients.models import Client
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create, api_token_revoke
from tests.factories import ClientFactory


def bearer(user, scope=ApiToken.Scope.READ_WRITE):
    _token, raw = api_token_create(actor=user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


def test_list_shows_only_clients_the_token_owner_may_read(org, http):
    mine = ClientFactory(owner=org.rep, name="Mine")
    colleague = ClientFactory(owner=org.colleague, name="Colleague's")
    ClientFactory(owner=org.spb_rep, name="St Petersburg's")

    response = http.get("/api/v1/clients", **bearer(org.rep))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {c["id"] for c in body["items"]} == {mine.pk, colleague.pk}


def test_pagination_gives_next_link_until_the_end(org, http):
    for i in range(5):
        ClientFactory(owner=org.rep, name=f"Client {i}")
    auth = bearer(org.rep)

    first = http.get("/api/v1/clients?limit=2", **auth).json()
    last = http.get("/api/v1/clients?limit=2&offset=4", **auth).json()

    assert [c["name"] for c in first["items"]] == ["Client 0", "Client 1"]
    assert first["next"].endswith("/api/v1/clients?limit=2&offset=2")
    assert [c["name"] for c in last["items"]] == ["Client 4"]
    assert last["next"] is None


def test_other_teams_client_is_404_for_get_patch_delete_and_nothing_changes(org, http):
    theirs = ClientFactory(owner=org.spb_rep, name="Secret")
    auth = bearer(org.rep)
    events_before = AuditEvent.objects.count()
    etag = f'"{theirs.pk}-1"'

    got = http.get(f"/api/v1/clients/{theirs.pk}", **auth)
    patched = http.patch(
        f"/api/v1/clients/{theirs.pk}",
        data={"name": "Mine now"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **auth,
    )
    deleted = http.delete(f"/api/v1/clients/{theirs.pk}", HTTP_IF_MATCH=etag, **auth)
    missing = http.get("/api/v1/clients/999999", **auth)

    assert got.status_code == patched.status_code == deleted.status_code == 404
    assert (
        got.json() == missing.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}
    )
    theirs.refresh_from_db()
    assert theirs.name == "Secret"
    assert theirs.deleted_at is None
    assert AuditEvent.objects.count() == events_before


def test_update_needs_if_match_and_refuses_a_stale_etag(org, http):
    client = ClientFactory(owner=org.rep, name="Old name")
    auth = bearer(org.rep)
    etag = http.get(f"/api/v1/clients/{client.pk}", **auth)["ETag"]

    without = http.patch(
        f"/api/v1/clients/{client.pk}", data={"name": "A"}, content_type="application/json", **auth
    )
    first = http.patch(
        f"/api/v1/clients/{client.pk}",
        data={"name": "B"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **auth,
    )
    stale = http.patch(
        f"/api/v1/clients/{client.pk}",
        data={"name": "C"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **auth,
    )

    assert without.status_code == 428
    assert first.status_code == 200
    assert first["ETag"] == f'"{client.pk}-2"'
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    client.refresh_from_db()
    assert client.name == "B"


def test_update_is_audited_with_old_and_new_values(org, http):
    client = ClientFactory(owner=org.rep, name="Old name", city="")
    auth = bearer(org.rep)

    http.patch(
        f"/api/v1/clients/{client.pk}",
        data={"name": "New name", "city": "Тула"},
        content_type="application/json",
        HTTP_IF_MATCH=f'"{client.pk}-1"',
        **auth,
    )

    event = AuditEvent.objects.for_record(client).get(action="update")
    assert event.actor == org.rep
    assert event.changes == {"name": ["Old name", "New name"], "city": ["", "Тула"]}


def test_read_only_token_cannot_write(org, http):
    auth = bearer(org.rep, scope=ApiToken.Scope.READ)

    response = http.post(
        "/api/v1/clients", data={"name": "New"}, content_type="application/json", **auth
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert not Client.objects.filter(name="New").exists()


def test_revoked_token_is_refused(org, http):
    token, raw = api_token_create(actor=org.rep, name="old", scope=ApiToken.Scope.READ)
    api_token_revoke(actor=org.rep, token=token)

    response = http.get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_is_stored_hashed(org):
    token, raw = api_token_create(actor=org.rep, name="t", scope=ApiToken.Scope.READ)

    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


def test_validation_errors_come_in_the_requests_language(org, http):
    auth = bearer(org.rep)

    english = http.post(
        "/api/v1/clients",
        data={"name": "X", "email": "not-an-email"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **auth,
    )
    russian = http.post(
        "/api/v1/clients",
        data={"name": "X", "email": "not-an-email"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ru",
        **auth,
    )
    missing = http.post(
        "/api/v1/clients",
        data={},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="ru",
        **auth,
    )

    assert english.status_code == russian.status_code == missing.status_code == 422
    assert english.json() == {
        "code": "validation_failed",
        "detail": "Some fields are not valid.",
        "fields": {"email": ["“not-an-email” is not a valid email address."]},
    }
    assert russian.json()["fields"]["email"] == [
        "«not-an-email» — некорректный адрес электронной почты."
    ]
    assert missing.json()["fields"]["name"] == ["Обязательное поле."]
    assert not Client.objects.exists()


def test_session_write_needs_csrf(org):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(org.rep)

    response = browser.post(
        "/api/v1/clients", data={"name": "Via session"}, content_type="application/json"
    )

    assert response.status_code in (401, 403)
    assert not Client.objects.filter(name="Via session").exists()


def test_anonymous_gets_401_in_the_error_format(http, db):
    response = http.get("/api/v1/clients")

    assert response.status_code == 401
    assert set(response.json()) == {"code", "detail", "fields"}


def test_openapi_schema_and_docs_are_served_without_a_cdn(org, http):
    http.force_login(org.rep)

    schema = http.get("/api/v1/openapi.json")
    docs = http.get("/api/v1/docs")

    assert schema.status_code == 200
    assert "/api/v1/clients" in schema.json()["paths"]
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
