"""The card API: one response with every block, and the endpoints of each block."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from lavka.clients.models import Address, Consent, ContactPoint, Contract, ImportantDate
from lavka.clients.services.blocks import (
    address_add,
    contact_point_add,
    contract_create,
    custom_field_create,
)
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from tests.factories import ClientFactory


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", email="", phone="")


def test_card_holds_all_blocks_in_one_response(org, http, romashka):
    custom_field_create(actor=org.admin, entity="client", label="Hobby", type="text")
    auth = bearer(org.rep)
    http.post(
        f"/api/v1/clients/{romashka.pk}/contact-points",
        {"kind": "phone", "value": "8 (495) 123-45-67"},
        content_type="application/json",
        **auth,
    )
    http.post(
        f"/api/v1/clients/{romashka.pk}/addresses",
        {"kind": "legal", "country": "RU", "city": "Москва"},
        content_type="application/json",
        **auth,
    )
    http.post(
        f"/api/v1/clients/{romashka.pk}/consents",
        {"channel": "email", "granted": True, "source": "web form"},
        content_type="application/json",
        **auth,
    )
    http.post(
        f"/api/v1/clients/{romashka.pk}/contracts",
        {"number": "Д-1", "start_on": "2026-01-01", "amount": "1000.00"},
        content_type="application/json",
        **auth,
    )
    http.post(
        f"/api/v1/clients/{romashka.pk}/important-dates",
        {"kind": "birthday", "month": 2, "day": 29},
        content_type="application/json",
        **auth,
    )

    response = http.get(f"/api/v1/clients/{romashka.pk}/card", **auth)

    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == f'"{romashka.pk}-{body["version"]}"'
    assert [(p["value"], p["display"], p["is_primary"]) for p in body["contact"]["phones"]] == [
        ("+74951234567", "8 (495) 123-45-67", True)
    ]
    assert [(a["kind"], a["city"]) for a in body["address"]["addresses"]] == [("legal", "Москва")]
    assert body["address"]["city"] == "Москва"
    email_consent = next(c for c in body["contact"]["consents"] if c["channel"] == "email")
    assert (email_consent["granted"], email_consent["history"][0]["source"]) == (True, "web form")
    assert [
        (c["number"], c["amount"], c["currency"]) for c in body["contractual"]["contracts"]
    ] == [("Д-1", "1000.00", "RUB")]
    assert [(d["month"], d["day"]) for d in body["important_dates"]] == [(2, 29)]
    assert body["personal"] == [{"key": "hobby", "label": "Hobby", "type": "text", "value": None}]
    assert body["commercial"]["inn"] == ""


def test_bad_phone_gets_422_naming_the_field(org, http, romashka):
    response = http.post(
        f"/api/v1/clients/{romashka.pk}/contact-points",
        {"kind": "phone", "value": "123"},
        content_type="application/json",
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert list(response.json()["fields"]) == ["value"]
    assert ContactPoint.objects.count() == 0


def test_contract_patch_needs_if_match_and_refuses_a_stale_one(org, http, romashka):
    contract = contract_create(actor=org.rep, client=romashka, number="1")
    auth = bearer(org.rep)
    url = f"/api/v1/contracts/{contract.pk}"

    missing = http.patch(url, {"subject": "A"}, content_type="application/json", **auth)
    etag = http.get(url, **auth)["ETag"]
    ok = http.patch(
        url,
        {"subject": "Supply", "status": "active"},
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **auth,
    )
    stale = http.patch(
        url, {"subject": "Other"}, content_type="application/json", HTTP_IF_MATCH=etag, **auth
    )

    assert (missing.status_code, ok.status_code, stale.status_code) == (428, 200, 409)
    assert ok["ETag"] == f'"{contract.pk}-2"'
    contract.refresh_from_db()
    assert (contract.subject, contract.status, contract.version) == ("Supply", "active", 2)


def test_contract_ending_before_start_gets_422(org, http, romashka):
    response = http.post(
        f"/api/v1/clients/{romashka.pk}/contracts",
        {"number": "1", "start_on": "2026-05-01", "end_on": "2026-01-01"},
        content_type="application/json",
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["end_on"]
    assert Contract.objects.count() == 0


def test_delete_contact_point_and_address(org, http, romashka):
    point = contact_point_add(actor=org.rep, client=romashka, kind="email", value="a@example.org")
    address = address_add(actor=org.rep, client=romashka, city="Казань")
    auth = bearer(org.rep)

    first = http.delete(f"/api/v1/clients/{romashka.pk}/contact-points/{point.pk}", **auth)
    second = http.delete(f"/api/v1/clients/{romashka.pk}/addresses/{address.pk}", **auth)

    assert (first.status_code, second.status_code) == (204, 204)
    romashka.refresh_from_db()
    assert (romashka.email, ContactPoint.objects.count(), Address.objects.count()) == ("", 0, 0)


def test_another_teams_rep_gets_404_everywhere_and_nothing_changes(org, http, romashka):
    point = contact_point_add(actor=org.rep, client=romashka, kind="email", value="a@example.org")
    address = address_add(actor=org.rep, client=romashka, city="Казань")
    contract = contract_create(actor=org.rep, client=romashka, number="1")
    auth = bearer(org.spb_rep)
    events = AuditEvent.objects.count()
    base = f"/api/v1/clients/{romashka.pk}"
    json = "application/json"

    statuses = [
        http.get(f"{base}/card", **auth).status_code,
        http.post(
            f"{base}/contact-points",
            {"kind": "email", "value": "x@example.org"},
            content_type=json,
            **auth,
        ).status_code,
        http.delete(f"{base}/contact-points/{point.pk}", **auth).status_code,
        http.post(f"{base}/addresses", {"city": "Омск"}, content_type=json, **auth).status_code,
        http.delete(f"{base}/addresses/{address.pk}", **auth).status_code,
        http.post(
            f"{base}/consents", {"channel": "sms", "granted": True}, content_type=json, **auth
        ).status_code,
        http.post(f"{base}/contracts", {"number": "2"}, content_type=json, **auth).status_code,
        http.get(f"/api/v1/contracts/{contract.pk}", **auth).status_code,
        http.patch(
            f"/api/v1/contracts/{contract.pk}",
            {"subject": "x"},
            content_type=json,
            HTTP_IF_MATCH="*",
            **auth,
        ).status_code,
        http.post(
            f"{base}/important-dates",
            {"kind": "birthday", "month": 1, "day": 1},
            content_type=json,
            **auth,
        ).status_code,
    ]

    assert statuses == [404] * 10
    assert AuditEvent.objects.count() == events
    assert ContactPoint.objects.count() == 1
    assert Address.objects.count() == 1
    assert Consent.objects.count() == 0
    assert list(Contract.objects.values_list("number", "subject")) == [("1", "")]
    assert ImportantDate.objects.count() == 0


def test_custom_field_definitions_are_listed(org, http):
    custom_field_create(
        actor=org.admin, entity="client", label="Car", type="choice", choices=["Lada", "Volvo"]
    )

    response = http.get("/api/v1/custom-fields?entity=client", **bearer(org.rep))

    assert response.status_code == 200
    assert [(f["key"], f["type"], f["choices"]) for f in response.json()] == [
        ("car", "choice", ["Lada", "Volvo"])
    ]
