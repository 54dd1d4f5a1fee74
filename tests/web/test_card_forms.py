"""The client card's edit forms load when their disclosure opens (card:form): the card
carries a placeholder and the URL; the form comes with the same fields, for those
who may edit the client only."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.clients.services.blocks import address_add, contract_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

ADD_FORMS = {
    "address": 'name="addr-city"',
    "contact": 'name="cp-value"',
    "consent": 'name="consent-channel"',
    "contract": 'name="contract-number"',
    "person": 'name="person-last_name"',
    "date": 'name="date-day"',
    "tier": 'name="tier-tier"',
    "file": 'name="file-file"',
    "link": 'name="link-q"',
    "plan": 'name="title"',
}


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", kind="organisation")


def test_the_card_carries_no_block_form_but_loads_each_when_opened(org, romashka):
    http = logged_in(org.rep)

    card = http.get(f"/clients/{romashka.pk}/").content.decode()

    for name, field in ADD_FORMS.items():
        url = f"/clients/{romashka.pk}/card/forms/{name}/"
        assert f'hx-get="{url}" hx-trigger="toggle once"' in card
        assert field not in card
        form = http.get(url)
        assert form.status_code == 200
        html = form.content.decode()
        assert field in html and "csrfmiddlewaretoken" in html
    # The touchpoint form stays on the card: it is open, not in a disclosure.
    assert 'id="tp_subject"' in card


def test_the_edit_forms_of_an_address_and_a_contract_hold_their_values(org, romashka):
    address = address_add(actor=org.rep, client=romashka, city="Казань", street="Баумана 1")
    contract = contract_create(actor=org.rep, client=romashka, number="K-7")
    http = logged_in(org.rep)
    forms = f"/clients/{romashka.pk}/card/forms"

    address_form = http.get(f"{forms}/address/{address.pk}/").content.decode()
    contract_form = http.get(f"{forms}/contract/{contract.pk}/").content.decode()

    assert 'value="Казань"' in address_form and f'name="a{address.pk}-city"' in address_form
    assert 'value="K-7"' in contract_form and f'name="c{contract.pk}-number"' in contract_form
    assert http.get(f"{forms}/contract/{contract.pk + 100}/").status_code == 404


def test_forms_are_for_those_who_may_edit_the_client(org, romashka):
    url = f"/clients/{romashka.pk}/card/forms/address/"

    assert logged_in(org.colleague).get(url).status_code == 403  # reads, may not edit
    assert logged_in(org.spb_rep).get(url).status_code == 404  # does not see the client
    assert logged_in(org.rep).get(f"/clients/{romashka.pk}/card/forms/nothing/").status_code == 404
