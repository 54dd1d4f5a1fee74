"""`load_demo(compact=True)`: the demo's people and each seller's first clients, for
tests that need a base to look at rather than its size (outside tests/demo, whose
package-wide demo would already be loaded)."""

from __future__ import annotations

import pytest

from lavka.clients.models import Address, Client
from lavka.demo.data import COMPACT_CLIENTS, USERS, load_demo, seller_clients
from lavka.keyaccounts.models import KeyAccount
from lavka.leads.models import Lead
from lavka.sales.models import Order

pytestmark = pytest.mark.django_db


def test_a_compact_demo_has_each_sellers_first_clients_with_their_cards(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    load_demo(compact=True)

    assert Client.objects.count() == sum(COMPACT_CLIENTS.values()) + 1  # + a converted lead
    for spec in USERS:
        if spec.username in COMPACT_CLIENTS:
            first = [c["name"] for c in seller_clients(spec)][: COMPACT_CLIENTS[spec.username]]
            owned = set(
                Client.objects.filter(owner__username=spec.username).values_list("name", flat=True)
            )
            assert set(first) <= owned
    assert Address.objects.filter(client__isnull=False).values("client").distinct().count() >= 100
    assert KeyAccount.objects.count() == 3
    assert Lead.objects.exists() and Order.objects.exists()
