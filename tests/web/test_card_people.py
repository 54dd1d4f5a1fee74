"""The card's inline edits of what is already there: an address edited in place, an
existing person linked to a second organisation (and unlinked), and the person's page
that shows every organisation they work at."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from lavka.audit.models import AuditEvent
from lavka.clients.models import Address, Employment, Person
from lavka.clients.services.blocks import address_add, person_create, person_important_date_add
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", email="", phone="")


@pytest.fixture
def vasilek(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek", email="", phone="")


@pytest.fixture
def address(org, romashka):
    return address_add(
        actor=org.rep,
        client=romashka,
        kind="legal",
        country="RU",
        city="Казань",
        street="Баумана 1",
    )


@pytest.fixture
def anna(org, romashka):
    return person_create(
        actor=org.rep,
        first_name="Анна",
        last_name="Смирнова",
        email="anna@romashka.ru",
        organisation=romashka,
        job_title="CFO",
    )


def address_form(address, **changes):
    data = {
        "kind": address.kind,
        "country": address.country,
        "region": address.region,
        "city": address.city,
        "postcode": address.postcode,
        "street": address.street,
    }
    data.update(changes)
    return {f"a{address.pk}-{k}": v for k, v in data.items()}


# --- editing an address ---------------------------------------------------------------


def test_the_card_offers_to_edit_each_address_to_those_who_may(org, romashka, address):
    mine = logged_in(org.rep).get(f"/clients/{romashka.pk}/").content.decode()
    colleagues = logged_in(org.colleague).get(f"/clients/{romashka.pk}/").content.decode()

    form_url = f"/clients/{romashka.pk}/card/forms/address/{address.pk}/"
    assert f'data-testid="edit-address-{address.pk}"' in mine
    assert f'hx-get="{form_url}"' in mine  # the form loads when the edit opens
    form = logged_in(org.rep).get(form_url)
    assert (
        f'value="Баумана 1" maxlength="300" id="id_a{address.pk}-street"' in form.content.decode()
    )
    assert f'data-testid="edit-address-{address.pk}"' not in colleagues
    assert logged_in(org.colleague).get(form_url).status_code == 403


def test_address_edited_with_htmx_answers_with_the_blocks_and_is_in_the_history(
    org, romashka, address
):
    response = logged_in(org.rep).post(
        f"/clients/{romashka.pk}/card/addresses/{address.pk}/edit/",
        address_form(address, city="Казань", street="Кремлёвская 2", postcode="420111"),
        **HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="card-blocks"' in html
    assert "Кремлёвская 2, Казань, 420111, RU" in html
    assert "Address saved." in html
    address.refresh_from_db()
    assert (address.street, address.postcode, address.city) == ("Кремлёвская 2", "420111", "Казань")
    event = AuditEvent.objects.for_record(romashka).latest("id")
    assert event.changes == {
        "addresses": ["RU, Казань, Баумана 1", "420111, RU, Казань, Кремлёвская 2"]
    }


def test_a_bad_country_is_shown_next_to_its_field_and_nothing_changes(org, romashka, address):
    events_before = AuditEvent.objects.count()

    response = logged_in(org.rep).post(
        f"/clients/{romashka.pk}/card/addresses/{address.pk}/edit/",
        address_form(address, country="XX", city="Омск"),
        **HTMX,
    )

    assert response.status_code == 422
    html = response.content.decode()
    error = html.index(f'id="id_a{address.pk}-country_error"')
    assert html.index(f'id="id_a{address.pk}-country"') < error
    assert "Use a two-letter country code (ISO 3166), e.g. RU or DE." in html[error:]
    assert f'data-testid="edit-address-{address.pk}" open' in html
    assert 'value="Омск"' in html
    address.refresh_from_db()
    assert (address.country, address.city) == ("RU", "Казань")
    assert AuditEvent.objects.count() == events_before


def test_an_address_cannot_be_emptied(org, romashka, address):
    response = logged_in(org.rep).post(
        f"/clients/{romashka.pk}/card/addresses/{address.pk}/edit/",
        address_form(address, country="", city="", street=""),
        **HTMX,
    )

    assert response.status_code == 422
    assert "Enter at least a city or a street." in response.content.decode()
    address.refresh_from_db()
    assert address.city == "Казань"


def test_without_htmx_the_edit_goes_back_to_the_card(org, romashka, address):
    response = logged_in(org.rep).post(
        f"/clients/{romashka.pk}/card/addresses/{address.pk}/edit/",
        address_form(address, city="Тула"),
        follow=True,
    )

    assert response.redirect_chain == [(f"/clients/{romashka.pk}/", 302)]
    assert "Address saved." in response.content.decode()
    address.refresh_from_db()
    assert address.city == "Тула"


def test_another_teams_address_is_404_and_nothing_changes(org, romashka, address):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    events_before = AuditEvent.objects.count()

    theirs = logged_in(org.spb_rep).post(
        f"/clients/{romashka.pk}/card/addresses/{address.pk}/edit/",
        address_form(address, city="Омск"),
        **HTMX,
    )
    wrong_client = logged_in(org.rep).post(
        f"/clients/{other.pk}/card/addresses/{address.pk}/edit/",
        address_form(address, city="Омск"),
        **HTMX,
    )

    assert (theirs.status_code, wrong_client.status_code) == (404, 404)
    assert list(Address.objects.values_list("city", flat=True)) == ["Казань"]
    assert AuditEvent.objects.count() == events_before


# --- linking an existing person -------------------------------------------------------


def test_search_finds_visible_people_not_yet_at_the_organisation(org, romashka, vasilek, anna):
    person_create(actor=org.spb_rep, first_name="Анна", last_name="Чужая")
    http = logged_in(org.rep)

    found = http.get(f"/clients/{vasilek.pk}/card/people/find/", {"link-q": "анна"})
    at_romashka = http.get(f"/clients/{romashka.pk}/card/people/find/", {"link-q": "анна"})

    html = found.content.decode()
    assert found.status_code == 200
    assert html.count('name="link-person"') == 1
    assert f'value="{anna.pk}"' in html
    assert "Анна Смирнова · anna@romashka.ru · CFO at Romashka" in html
    assert "Чужая" not in html
    assert 'data-testid="link-none"' in at_romashka.content.decode()


def test_linked_person_shows_on_the_second_card_and_on_their_page(org, romashka, vasilek, anna):
    http = logged_in(org.rep)

    response = http.post(
        f"/clients/{vasilek.pk}/card/people/link/",
        {"link-q": "смирнова", "link-person": anna.pk, "link-job_title": "Adviser"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Анна Смирнова now works here too." in response.content.decode()
    assert sorted(
        Employment.objects.filter(person=anna).values_list("organisation__name", "job_title")
    ) == [("Romashka", "CFO"), ("Vasilek", "Adviser")]
    for client in (romashka, vasilek):
        card = http.get(f"/clients/{client.pk}/").content.decode()
        assert card.count('data-testid="person"') == 1
        assert f'href="/people/{anna.pk}/"' in card
    page = http.get(f"/people/{anna.pk}/").content.decode()
    assert page.count('data-testid="job"') == 2
    assert "Romashka</strong></a> · CFO" in page
    assert "Vasilek</strong></a> · Adviser" in page
    assert AuditEvent.objects.for_record(vasilek).latest("id").changes == {
        "people": [None, "Анна Смирнова (Adviser)"]
    }


def test_linking_without_choosing_a_person_says_so_and_shows_those_found(org, vasilek, anna):
    response = logged_in(org.rep).post(
        f"/clients/{vasilek.pk}/card/people/link/",
        {"link-q": "смирнова", "link-job_title": "x" * 151},
        **HTMX,
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose the person from those found." in html
    assert "Ensure this value has at most 150 characters (it has 151)." in html
    assert 'data-testid="add-link" open' in html
    assert f'value="{anna.pk}"' in html
    assert not Employment.objects.filter(organisation=vasilek).exists()


def test_another_teams_person_cannot_be_linked_and_nothing_changes(org, vasilek):
    theirs = person_create(actor=org.spb_rep, last_name="Чужой")
    events_before = AuditEvent.objects.count()

    response = logged_in(org.rep).post(
        f"/clients/{vasilek.pk}/card/people/link/",
        {"link-q": "чужой", "link-person": theirs.pk},
        **HTMX,
    )

    assert response.status_code == 422
    assert "Choose the person from those found." in response.content.decode()
    assert Employment.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_linking_to_another_teams_card_is_404(org, anna):
    theirs = ClientFactory(owner=org.spb_rep, name="Lutik")

    response = logged_in(org.rep).post(
        f"/clients/{theirs.pk}/card/people/link/",
        {"link-q": "смирнова", "link-person": anna.pk},
        **HTMX,
    )

    assert response.status_code == 404
    assert Employment.objects.filter(person=anna).count() == 1


def test_unlinked_person_leaves_this_card_only(org, romashka, vasilek, anna):
    http = logged_in(org.rep)
    http.post(
        f"/clients/{vasilek.pk}/card/people/link/",
        {"link-q": "анна", "link-person": anna.pk},
        **HTMX,
    )
    job = Employment.objects.get(person=anna, organisation=romashka)

    response = http.post(f"/clients/{romashka.pk}/card/people/{job.pk}/unlink/", **HTMX)

    assert response.status_code == 200
    assert "Анна Смирнова no longer works here." in response.content.decode()
    assert 'data-testid="person"' not in response.content.decode()
    assert list(Employment.objects.values_list("organisation__name", flat=True)) == ["Vasilek"]
    assert Person.objects.filter(pk=anna.pk).exists()
    assert AuditEvent.objects.for_record(romashka).latest("id").changes == {
        "people": ["Анна Смирнова (CFO)", None]
    }


def test_another_teams_rep_cannot_unlink_and_nothing_changes(org, romashka, anna):
    job = Employment.objects.get(person=anna)
    events_before = AuditEvent.objects.count()

    theirs = logged_in(org.spb_rep).post(
        f"/clients/{romashka.pk}/card/people/{job.pk}/unlink/", **HTMX
    )
    read_only = logged_in(org.colleague).post(
        f"/clients/{romashka.pk}/card/people/{job.pk}/unlink/", **HTMX
    )

    assert (theirs.status_code, read_only.status_code) == (404, 403)
    assert Employment.objects.filter(pk=job.pk).exists()
    assert AuditEvent.objects.count() == events_before


def test_another_teams_person_page_is_404(org, anna):
    assert logged_in(org.spb_rep).get(f"/people/{anna.pk}/").status_code == 404


def test_the_person_page_shows_their_important_dates_with_the_days_left(org, anna):
    today = timezone.localdate()
    soon = today + dt.timedelta(days=5)
    person_important_date_add(
        actor=org.rep, person=anna, kind="birthday", month=soon.month, day=soon.day, year=1985
    )

    page = logged_in(org.rep).get(f"/people/{anna.pk}/", HTTP_ACCEPT_LANGUAGE="ru")

    html = page.content.decode()
    assert 'data-testid="person-dates"' in html
    assert f"{soon.day}.{soon.month:02d}.1985" in html  # the year not split into "1 985"
    assert "через 5 дней" in html


def test_an_organisation_numbered_past_a_thousand_gets_the_people_it_searches_for(org):
    """The search answers into the element its hx-target names: "#link-found-12345",
    not an id the locale wrote as "12,345"."""
    big = ClientFactory(pk=12345, owner=org.rep, team=org.moscow, name="Big", email="", phone="")

    form = logged_in(org.rep).get(f"/clients/{big.pk}/card/forms/link/").content.decode()

    assert 'hx-target="#link-found-12345"' in form
    assert 'id="link-found-12345"' in form
