"""The client card's "Make key account" button: shown to who may create key accounts
while the client is none, it makes the client one and opens the key account."""

from __future__ import annotations

from django.test import Client as HttpClient

from lavka.keyaccounts.models import KeyAccount
from lavka.keyaccounts.services import key_account_create
from tests.factories import ClientFactory

BUTTON = 'data-testid="make-key-account"'


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def test_a_rep_makes_their_client_a_key_account_from_the_card(org):
    client = ClientFactory(owner=org.rep, name="Lotos")
    http = logged_in(org.rep)

    card = http.get(f"/clients/{client.pk}/").content.decode()
    assert BUTTON in card
    assert 'action="/keyaccounts/"' in card

    response = http.post("/keyaccounts/", {"client": client.pk}, follow=True)

    account = KeyAccount.objects.get(client=client)
    assert response.redirect_chain == [(f"/keyaccounts/{account.pk}/", 302)]
    assert (account.owner, account.team) == (org.rep, org.moscow)
    assert "Lotos is now a key account." in response.content.decode()
    card = http.get(f"/clients/{client.pk}/").content.decode()
    assert BUTTON not in card
    assert 'data-testid="key-account-badge"' in card


def test_no_button_on_the_card_of_a_key_account_even_one_the_viewer_cannot_see(org):
    client = ClientFactory(owner=org.rep, name="Lotos")
    key_account_create(actor=org.admin, client=client, manager=org.admin)
    http = logged_in(org.rep)  # key accounts: their own only; this one is the admin's

    card = http.get(f"/clients/{client.pk}/").content.decode()

    assert BUTTON not in card
    assert 'data-testid="key-account-badge"' not in card


def test_who_cannot_create_key_accounts_sees_no_button_and_a_forged_post_is_refused(org):
    client = ClientFactory(owner=org.rep, name="Lotos")
    for user in (org.analyst, org.marketer):  # reads key accounts only; no key accounts
        http = logged_in(user)

        card = http.get(f"/clients/{client.pk}/")
        forged = http.post("/keyaccounts/", {"client": client.pk})

        assert card.status_code == 200
        assert BUTTON not in card.content.decode()
        assert forged.status_code == 403
    assert KeyAccount.objects.count() == 0
