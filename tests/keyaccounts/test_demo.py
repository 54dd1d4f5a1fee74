"""The demo key accounts: full maps, chains from a colleague, plans; loaded once."""

from __future__ import annotations

import random

from lavka.demo.keyaccounts import keyaccounts_demo_load
from lavka.keyaccounts.models import InfluenceAction, KeyAccount
from lavka.keyaccounts.selectors import entry_chains, stakeholder_map
from lavka.sales.services import deal_create
from tests.factories import ClientFactory


def test_three_key_accounts_with_maps_chains_and_plans(org, stages):
    sellers = [org.rep, org.colleague, org.north_rep]
    for seller in sellers:
        client = ClientFactory(owner=seller, name=f"Client of {seller.username}")
        deal_create(actor=seller, client=client, title="Demo deal", amount="100000")
    users = {u.username: u for u in [org.admin, org.manager, *sellers]}

    created = keyaccounts_demo_load(users=users, rng=random.Random(1))
    again = keyaccounts_demo_load(users=users, rng=random.Random(1))

    assert (created, again) == (3, 0)
    for account in KeyAccount.objects.select_related("client"):
        the_map = stakeholder_map(key_account=account)
        assert the_map.missing_roles == []
        chains = entry_chains(viewer=org.admin, key_account=account)
        strongest = next(c for c in chains if c.measure == "strongest")
        assert strongest.steps[0].is_staff and strongest.steps[0].user_id != account.owner_id
        assert strongest.hops == 2
        assert InfluenceAction.objects.filter(key_account=account).exclude(effect="").count() == 1
