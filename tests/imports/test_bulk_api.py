from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.utils import translation

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.clients.models import Client
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from tests.factories import ClientFactory

URL = "/api/v1/clients/bulk-upsert"


def bearer(user, scope=ApiToken.Scope.READ_WRITE):
    _token, raw = api_token_create(actor=user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture(autouse=True)
def _restore_language():
    # The API's language middleware activates the request's language and leaves it
    # active for the thread; keep a Russian request from leaking into later tests.
    language = translation.get_language()
    yield
    translation.activate(language)


def post(http, auth, items, language="en", **extra):
    return http.post(
        URL,
        data={"items": items, **extra},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
        **auth,
    )


def snapshot():
    return sorted(Client.objects.values_list("id", "name", "email", "city", "version"))


def test_bulk_upsert_creates_updates_keeps_and_rejects_with_a_result_per_item(org, http):
    old = ClientFactory(owner=org.rep, name="Old", email="old@example.org", city="Tula")
    same = ClientFactory(owner=org.rep, name="Same", email="same@example.org")
    auth = bearer(org.rep)
    items = [
        {"name": "New LLC", "email": "new@example.org", "phone": "+7 916 123-45-67"},
        {"name": "Old", "email": "OLD@example.org", "city": "Omsk"},
        {"name": "Same", "email": "same@example.org"},
        {"name": "Bad", "email": "bad@"},
        {"name": "New again", "email": "new@example.org"},
    ]

    response = post(http, auth, items)

    assert response.status_code == 200
    body = response.json()
    new = Client.objects.get(name="New LLC")
    assert body == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "duplicates": 1,
        "rejected": 1,
        "results": [
            {"index": 0, "status": "created", "id": new.pk, "errors": {}},
            {"index": 1, "status": "updated", "id": old.pk, "errors": {}},
            {"index": 2, "status": "unchanged", "id": same.pk, "errors": {}},
            {
                "index": 3,
                "status": "rejected",
                "id": None,
                "errors": {"email": ["“bad@” is not a valid email address."]},
            },
            {
                "index": 4,
                "status": "duplicate",
                "id": None,
                "errors": {"email": ["Same email as row 0."]},
            },
        ],
    }
    assert (new.phone, new.owner, new.team_id) == ("+79161234567", org.rep, org.rep.team_id)
    old.refresh_from_db()
    same.refresh_from_db()
    assert (old.city, old.version) == ("Omsk", 2)
    assert same.version == 1
    assert Client.objects.count() == 3


def test_bulk_upsert_is_audited_and_published_once_per_call(org, http):
    auth = bearer(org.rep)
    audits_before = AuditEvent.objects.count()
    outbox_before = OutboxEvent.objects.filter(kind="clients.imported").count()

    response = post(http, auth, [{"name": "A"}, {"name": "B"}])

    assert response.status_code == 200
    ids = sorted(Client.objects.values_list("id", flat=True))
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == audits_before + 1
    assert event.changes["bulk_upsert"]["created"] == ids
    assert event.changes["bulk_upsert"]["counts"]["created"] == 2
    outbox = OutboxEvent.objects.filter(kind="clients.imported")
    assert outbox.count() == outbox_before + 1
    assert outbox.order_by("-id").first().payload["created"] == ids


def test_bulk_upsert_dry_run_reports_but_writes_nothing(org, http):
    auth = bearer(org.rep)

    response = post(http, auth, [{"name": "A"}, {"name": ""}], dry_run=True)

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["results"][0] == {"index": 0, "status": "created", "id": None, "errors": {}}
    assert body["results"][1]["errors"] == {"name": ["Enter the client's name."]}
    assert not Client.objects.exists()


def test_more_than_1000_items_is_refused_with_422_and_nothing_is_written(org, http):
    auth = bearer(org.rep)
    items = [{"name": f"Client {i}"} for i in range(1001)]

    english = post(http, auth, items)
    russian = post(http, auth, items, language="ru")

    assert english.status_code == russian.status_code == 422
    assert english.json() == {
        "code": "validation_failed",
        "detail": "Some fields are not valid.",
        "fields": {"items": ["Send at most 1000 items per call; split the rest into more calls."]},
    }
    ru = russian.json()
    assert ru["code"] == "validation_failed"
    assert set(ru["fields"]) == {"items"}
    assert len(ru["fields"]["items"]) == 1
    assert not Client.objects.exists()


def test_exactly_1000_items_are_accepted(org, http):
    auth = bearer(org.rep)

    response = post(http, auth, [{"name": f"Client {i}"} for i in range(1000)])

    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert Client.objects.count() == 1000


def test_read_only_token_cannot_bulk_upsert(org, http):
    existing = ClientFactory(owner=org.rep, name="Old", email="old@example.org")
    before = snapshot()
    auth = bearer(org.rep, scope=ApiToken.Scope.READ)

    response = post(http, auth, [{"name": "New"}, {"name": "Changed", "email": existing.email}])

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert snapshot() == before


def test_session_without_csrf_cannot_bulk_upsert(org):
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(org.rep)

    response = http.post(URL, data={"items": [{"name": "New"}]}, content_type="application/json")

    assert response.status_code == 403
    assert not Client.objects.exists()


def test_a_rep_cannot_update_another_teams_client_through_bulk_upsert(org, http):
    theirs = ClientFactory(owner=org.spb_rep, name="Theirs", email="theirs@example.org")
    before = snapshot()
    auth = bearer(org.rep)

    response = post(http, auth, [{"name": "Mine now", "email": "theirs@example.org"}])

    assert response.status_code == 200
    assert response.json() == {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 1,
        "results": [
            {
                "index": 0,
                "status": "rejected",
                "id": None,
                "errors": {
                    "email": ["A client with this email exists and is not yours to change."]
                },
            }
        ],
    }
    assert snapshot() == before
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_a_new_item_with_an_existing_phone_is_reported_not_created(org, http):
    existing = ClientFactory(owner=org.rep, name="Romashka", phone="+74951234567")
    auth = bearer(org.rep)

    response = post(http, auth, [{"name": "ООО Ромашка", "phone": "8 (495) 123-45-67"}])

    assert response.json()["duplicates"] == 1
    assert response.json()["results"] == [
        {
            "index": 0,
            "status": "duplicate",
            "id": existing.pk,
            "errors": {
                "phone": [f"May be the same client as #{existing.pk} Romashka (same phone)."]
            },
        }
    ]
    assert Client.objects.count() == 1


def test_item_errors_come_in_the_requests_language(org, http):
    auth = bearer(org.rep)

    response = post(http, auth, [{"name": "X", "email": "not-an-email"}], language="ru")

    assert response.status_code == 200
    assert response.json()["results"][0]["errors"] == {
        "email": ["«not-an-email» — некорректный адрес электронной почты."]
    }
    assert not Client.objects.exists()
