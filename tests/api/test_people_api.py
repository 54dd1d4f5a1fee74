"""The people API: contact persons, their employments at organisations, who may see
and change them, and the trail each change leaves."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from lavka.clients.models import Client, ContactPoint, Employment, Person
from lavka.clients.services.blocks import employment_link, person_create
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from tests.factories import ClientFactory

JSON = "application/json"


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", email="", phone="")


@pytest.fixture
def vasilek(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek", email="", phone="")


@pytest.fixture
def lutik_spb(org):
    """A client of another team (St Petersburg): the Moscow rep cannot see it."""
    return ClientFactory(owner=org.spb_rep, team=org.spb, name="Lutik", email="", phone="")


@pytest.fixture
def anna(org, romashka):
    return person_create(
        actor=org.rep,
        first_name="Анна",
        last_name="Смирнова",
        email="anna@romashka.ru",
        phone="+7 495 123-45-67",
        organisation=romashka,
        job_title="CFO",
        role="decides",
    )


def events(subject):
    return list(
        AuditEvent.objects.for_record(subject).order_by("id").values_list("action", "changes")
    )


# --- create ---------------------------------------------------------------------------


def test_person_created_at_an_organisation_is_on_its_card_and_in_both_histories(
    org, http, romashka
):
    response = http.post(
        "/api/v1/people",
        {
            "first_name": "Анна",
            "last_name": "Смирнова",
            "email": " Anna@Romashka.RU ",
            "phone": "8 (495) 123-45-67",
            "organisation_id": romashka.pk,
            "job_title": "CFO",
            "role": "decides",
        },
        content_type=JSON,
        **bearer(org.rep),
    )

    assert response.status_code == 201
    body = response.json()
    person = Person.objects.get()
    assert response["Location"] == f"/api/v1/people/{person.pk}"
    assert response["ETag"] == f'"{person.pk}-1"'
    assert (body["full_name"], body["email"], body["phone"], body["phone_display"]) == (
        "Анна Смирнова",
        "anna@romashka.ru",
        "+74951234567",
        "8 (495) 123-45-67",
    )
    assert [
        (e["organisation"]["name"], e["job_title"], e["role"]) for e in body["employments"]
    ] == [("Romashka", "CFO", "decides")]
    card = http.get(f"/api/v1/clients/{romashka.pk}/card", **bearer(org.rep)).json()
    assert [(p["full_name"], p["job_title"]) for p in card["people"]] == [("Анна Смирнова", "CFO")]
    assert [a for a, _ in events(person)] == ["create"]
    assert events(romashka)[-1] == ("update", {"people": [None, "Анна Смирнова (CFO)"]})


def test_person_without_a_name_and_with_a_bad_email_gets_422_naming_each_field(org, http):
    auth = bearer(org.rep)
    events_before = AuditEvent.objects.count()

    response = http.post(
        "/api/v1/people", {"email": "anna@", "phone": "12"}, content_type=JSON, **auth
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["fields"] == {
        "last_name": ["Enter a first or last name."],
        "email": ["“anna@” is not a valid email address."],
        "phone": ["“12” is not a valid phone number."],
    }
    assert Person.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_person_cannot_be_created_at_another_teams_organisation(org, http, lutik_spb):
    response = http.post(
        "/api/v1/people",
        {"last_name": "Иванов", "organisation_id": lutik_spb.pk},
        content_type=JSON,
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"organisation_id": ["There is no such organisation."]}
    assert Person.objects.count() == 0
    assert Employment.objects.count() == 0
    assert AuditEvent.objects.for_record(lutik_spb).count() == 0


def test_person_cannot_work_at_a_private_person(org, http):
    private = ClientFactory(owner=org.rep, kind=Client.Kind.PERSON, name="Пётр")

    response = http.post(
        "/api/v1/people",
        {"last_name": "Иванов", "organisation_id": private.pk, "job_title": "Driver"},
        content_type=JSON,
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "organisation_id": ["Contact persons belong to organisations."]
    }
    assert Person.objects.count() == 0


# --- list and get ---------------------------------------------------------------------


def test_list_finds_by_name_email_and_a_phone_typed_another_way(org, http, romashka, anna):
    person_create(actor=org.rep, first_name="Борис", last_name="Петров", organisation=romashka)
    auth = bearer(org.rep)

    def names(query):
        response = http.get("/api/v1/people", {"q": query}, **auth)
        assert response.status_code == 200
        return [p["full_name"] for p in response.json()["items"]]

    assert names("") == ["Борис Петров", "Анна Смирнова"]
    assert names("смирн") == ["Анна Смирнова"]
    assert names("СМИРНОВА анна") == ["Анна Смирнова"]
    assert names("anna@romashka") == ["Анна Смирнова"]
    assert names("+7 (495) 123 45 67") == ["Анна Смирнова"]
    assert names("нет такого") == []


def test_list_by_client_is_paginated(org, http, romashka, vasilek, anna):
    for i in range(3):
        person_create(actor=org.rep, last_name=f"Vasilek {i}", organisation=vasilek)
    auth = bearer(org.rep)

    at_romashka = http.get("/api/v1/people", {"client": romashka.pk}, **auth).json()
    first_page = http.get(
        "/api/v1/people", {"client": vasilek.pk, "limit": 2, "offset": 0}, **auth
    ).json()

    assert [p["full_name"] for p in at_romashka["items"]] == ["Анна Смирнова"]
    assert (first_page["count"], len(first_page["items"]), first_page["limit"]) == (3, 2, 2)
    assert first_page["next"] == (
        f"http://testserver/api/v1/people?client={vasilek.pk}&limit=2&offset=2"
    )


def test_another_teams_person_is_not_listed_and_is_404(org, http, anna):
    auth = bearer(org.spb_rep)

    listed = http.get("/api/v1/people", **auth)
    got = http.get(f"/api/v1/people/{anna.pk}", **auth)

    assert listed.json()["items"] == []
    assert got.status_code == 404
    assert got.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


def test_person_at_organisations_of_two_teams_is_seen_by_both_with_only_their_employment(
    org, http, anna, lutik_spb
):
    employment_link(actor=org.admin, person=anna, organisation=lutik_spb, job_title="Adviser")

    mine = http.get(f"/api/v1/people/{anna.pk}", **bearer(org.rep)).json()
    theirs = http.get(f"/api/v1/people/{anna.pk}", **bearer(org.spb_rep)).json()
    admins = http.get(f"/api/v1/people/{anna.pk}", **bearer(org.admin)).json()

    assert [e["organisation"]["name"] for e in mine["employments"]] == ["Romashka"]
    assert [e["organisation"]["name"] for e in theirs["employments"]] == ["Lutik"]
    assert sorted(e["organisation"]["name"] for e in admins["employments"]) == [
        "Lutik",
        "Romashka",
    ]


# --- update ---------------------------------------------------------------------------


def test_update_needs_if_match_and_refuses_a_stale_one(org, http, anna):
    auth = bearer(org.rep)
    url = f"/api/v1/people/{anna.pk}"
    etag = http.get(url, **auth)["ETag"]

    missing = http.patch(url, {"notes": "x"}, content_type=JSON, **auth)
    ok = http.patch(
        url,
        {"email": "a.smirnova@romashka.ru", "middle_name": "Петровна"},
        content_type=JSON,
        HTTP_IF_MATCH=etag,
        **auth,
    )
    stale = http.patch(url, {"notes": "old"}, content_type=JSON, HTTP_IF_MATCH=etag, **auth)

    assert (missing.status_code, ok.status_code, stale.status_code) == (428, 200, 409)
    assert ok["ETag"] == f'"{anna.pk}-2"'
    assert ok.json()["full_name"] == "Анна Петровна Смирнова"
    anna.refresh_from_db()
    assert (anna.email, anna.notes, anna.version) == ("a.smirnova@romashka.ru", "", 2)
    assert events(anna)[-1] == (
        "update",
        {
            "middle_name": ["", "Петровна"],
            "email": ["anna@romashka.ru", "a.smirnova@romashka.ru"],
        },
    )
    assert list(
        ContactPoint.objects.filter(person=anna, kind="email").values_list("value", flat=True)
    ) == ["a.smirnova@romashka.ru"]
    found = http.get("/api/v1/people", {"q": "a.smirnova"}, **auth).json()["items"]
    assert [p["id"] for p in found] == [anna.pk]


def test_update_with_a_bad_phone_names_the_field_and_changes_nothing(org, http, anna):
    response = http.patch(
        f"/api/v1/people/{anna.pk}",
        {"phone": "abc", "last_name": ""},
        content_type=JSON,
        HTTP_IF_MATCH=anna.etag,
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"phone": ["“abc” is not a phone number."]}
    anna.refresh_from_db()
    assert (anna.phone, anna.last_name, anna.version) == ("+74951234567", "Смирнова", 1)
    assert [a for a, _ in events(anna)] == ["create"]


def test_another_teams_rep_cannot_update_or_delete_and_nothing_changes(org, http, anna):
    auth = bearer(org.spb_rep)
    events_before = AuditEvent.objects.count()

    patched = http.patch(
        f"/api/v1/people/{anna.pk}",
        {"last_name": "Hacked"},
        content_type=JSON,
        HTTP_IF_MATCH="*",
        **auth,
    )
    deleted = http.delete(f"/api/v1/people/{anna.pk}", HTTP_IF_MATCH="*", **auth)

    assert (patched.status_code, deleted.status_code) == (404, 404)
    anna.refresh_from_db()
    assert (anna.last_name, anna.deleted_at, anna.version) == ("Смирнова", None, 1)
    assert AuditEvent.objects.count() == events_before


def test_a_colleague_who_may_only_read_gets_403_and_nothing_changes(org, http, anna):
    response = http.patch(
        f"/api/v1/people/{anna.pk}",
        {"last_name": "Other"},
        content_type=JSON,
        HTTP_IF_MATCH=anna.etag,
        **bearer(org.colleague),
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    anna.refresh_from_db()
    assert anna.last_name == "Смирнова"


# --- employments ----------------------------------------------------------------------


def test_person_linked_to_a_second_organisation_is_on_both_cards(
    org, http, romashka, vasilek, anna
):
    auth = bearer(org.rep)
    url = f"/api/v1/people/{anna.pk}/employments"

    linked = http.post(
        url,
        {"organisation_id": vasilek.pk, "job_title": "Adviser", "role": "approves"},
        content_type=JSON,
        **auth,
    )
    relinked = http.post(
        url, {"organisation_id": vasilek.pk, "job_title": "Board member"}, content_type=JSON, **auth
    )

    assert (linked.status_code, relinked.status_code) == (201, 200)
    assert linked.json()["organisation"] == {"id": vasilek.pk, "name": "Vasilek"}
    person = http.get(f"/api/v1/people/{anna.pk}", **auth).json()
    assert [(e["organisation"]["name"], e["job_title"]) for e in person["employments"]] == [
        ("Romashka", "CFO"),
        ("Vasilek", "Board member"),
    ]
    for client in (romashka, vasilek):
        card = http.get(f"/api/v1/clients/{client.pk}/card", **auth).json()
        assert [p["full_name"] for p in card["people"]] == ["Анна Смирнова"]
    assert [c for a, c in events(vasilek)][-2:] == [
        {"people": [None, "Анна Смирнова (Adviser)"]},
        {"people": ["Анна Смирнова", "Анна Смирнова (Board member)"]},
    ]


def test_linking_to_another_teams_organisation_or_their_person_changes_nothing(
    org, http, anna, vasilek, lutik_spb
):
    theirs = person_create(actor=org.spb_rep, last_name="Чужой", organisation=lutik_spb)
    auth = bearer(org.rep)
    events_before = AuditEvent.objects.count()

    to_their_org = http.post(
        f"/api/v1/people/{anna.pk}/employments",
        {"organisation_id": lutik_spb.pk},
        content_type=JSON,
        **auth,
    )
    their_person = http.post(
        f"/api/v1/people/{theirs.pk}/employments",
        {"organisation_id": vasilek.pk},
        content_type=JSON,
        **auth,
    )

    assert to_their_org.status_code == 422
    assert to_their_org.json()["fields"] == {"organisation_id": ["There is no such organisation."]}
    assert their_person.status_code == 404
    assert Employment.objects.count() == 2
    assert AuditEvent.objects.count() == events_before


def test_employment_title_too_long_is_refused_naming_the_field(org, http, anna, vasilek):
    response = http.post(
        f"/api/v1/people/{anna.pk}/employments",
        {"organisation_id": vasilek.pk, "job_title": "x" * 151},
        content_type=JSON,
        **bearer(org.rep),
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"job_title": ["At most 150 characters."]}
    assert not Employment.objects.filter(organisation=vasilek).exists()


def test_employment_marked_as_left_and_then_unlinked(org, http, romashka, anna):
    auth = bearer(org.rep)
    employment = Employment.objects.get(person=anna, organisation=romashka)
    url = f"/api/v1/people/{anna.pk}/employments/{employment.pk}"

    left = http.patch(url, {"is_current": False}, content_type=JSON, **auth)
    unlinked = http.delete(url, **auth)

    assert left.status_code == 200
    assert left.json()["is_current"] is False
    assert unlinked.status_code == 204
    assert Employment.objects.count() == 0
    assert Person.objects.filter(pk=anna.pk).exists()
    assert [c for a, c in events(romashka)][-2:] == [
        {"people": ["Анна Смирнова (CFO, decides)", "Анна Смирнова (CFO, decides, left)"]},
        {"people": ["Анна Смирнова (CFO, decides, left)", None]},
    ]
    card = http.get(f"/api/v1/clients/{romashka.pk}/card", **auth).json()
    assert card["people"] == []


def test_another_teams_rep_cannot_unlink(org, http, romashka, anna):
    employment = Employment.objects.get(person=anna, organisation=romashka)
    auth = bearer(org.spb_rep)
    events_before = AuditEvent.objects.count()

    response = http.delete(f"/api/v1/people/{anna.pk}/employments/{employment.pk}", **auth)

    assert response.status_code == 404
    assert Employment.objects.filter(pk=employment.pk).exists()
    assert AuditEvent.objects.count() == events_before


# --- delete ---------------------------------------------------------------------------


def test_deleted_person_goes_to_the_trash_and_leaves_the_cards(org, http, romashka, anna):
    auth = bearer(org.rep)

    missing = http.delete(f"/api/v1/people/{anna.pk}", **auth)
    deleted = http.delete(f"/api/v1/people/{anna.pk}", HTTP_IF_MATCH=anna.etag, **auth)

    assert (missing.status_code, deleted.status_code) == (428, 204)
    anna = Person.all_objects.get(pk=anna.pk)
    assert (anna.deleted_by, anna.version) == (org.rep, 2)
    assert http.get(f"/api/v1/people/{anna.pk}", **auth).status_code == 404
    assert http.get("/api/v1/people", **auth).json()["items"] == []
    assert http.get(f"/api/v1/clients/{romashka.pk}/card", **auth).json()["people"] == []
    assert [a for a, _ in events(anna)] == ["create", "delete"]
    assert events(romashka)[-1] == ("update", {"people": ["Анна Смирнова", None]})


def test_person_who_also_works_for_another_team_cannot_be_deleted_by_one_of_them(
    org, http, anna, lutik_spb
):
    employment_link(actor=org.admin, person=anna, organisation=lutik_spb, job_title="Adviser")

    response = http.delete(f"/api/v1/people/{anna.pk}", HTTP_IF_MATCH="*", **bearer(org.rep))

    assert response.status_code == 403
    anna.refresh_from_db()
    assert anna.deleted_at is None
    assert Employment.objects.filter(person=anna).count() == 2


def test_a_page_of_people_costs_the_same_queries_whatever_its_size(org, http, romashka, vasilek):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    auth = bearer(org.rep)
    http.get("/api/v1/people", **auth)  # the token's first use is written down once

    def queries_for_a_page():
        with CaptureQueriesContext(connection) as captured:
            response = http.get("/api/v1/people", {"limit": 50}, **auth)
        assert response.status_code == 200
        return len(captured.captured_queries), response.json()["count"]

    for i in range(2):
        person = person_create(actor=org.rep, last_name=f"A{i}", organisation=romashka)
        employment_link(actor=org.rep, person=person, organisation=vasilek)
    small = queries_for_a_page()
    for i in range(20):
        person = person_create(actor=org.rep, last_name=f"B{i}", organisation=romashka)
        employment_link(actor=org.rep, person=person, organisation=vasilek)
    large = queries_for_a_page()

    assert (small[1], large[1]) == (2, 22)
    assert small[0] == large[0]
