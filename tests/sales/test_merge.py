"""A client merge keeps the merged client's deals and orders (they move to the
survivor), and its undo brings them back (sales registers them in its apps.py)."""

from __future__ import annotations

import datetime as dt

from lavka.clients.services.merge import client_merge, client_merge_undo
from lavka.sales.models import Deal, Order
from lavka.sales.selectors.deals import client_deals
from lavka.sales.selectors.orders import client_orders
from lavka.sales.services import deal_create, deal_delete, deal_move, order_create
from tests.factories import ClientFactory


def test_merge_moves_deals_and_orders_and_undo_puts_them_back(org, board):
    survivor = ClientFactory(owner=org.rep, name="Ромашка")
    merged = ClientFactory(owner=org.rep, name="Romashka LLC")
    kept_deal = deal_create(actor=org.rep, client=survivor, title="Survivor's")
    open_deal = deal_create(actor=org.rep, client=merged, title="Open")
    won_deal = deal_create(actor=org.rep, client=merged, title="Won", amount=500)
    deal_move(actor=org.rep, deal=won_deal, stage=board.won)
    trashed = deal_create(actor=org.rep, client=merged, title="Trashed")
    deal_delete(actor=org.rep, deal=trashed)
    order = order_create(
        actor=org.rep,
        client=merged,
        ordered_on=dt.date(2025, 12, 1),
        lines=[{"product_name": "Tea", "unit_price": "100"}],
    )

    merge = client_merge(actor=org.rep, survivor=survivor, merged=merged)

    assert {d.title for d in client_deals(viewer=org.rep, client=survivor)} == {
        "Survivor's",
        "Open",
        "Won",
    }
    assert Deal.all_objects.get(pk=trashed.pk).client == survivor
    assert set(client_orders(viewer=org.rep, client=survivor)) == set(
        Order.objects.filter(pk__in=[order.pk, won_deal.orders.get().pk])
    )
    assert sorted(merge.moved["deals"]) == sorted([open_deal.pk, won_deal.pk, trashed.pk])

    client_merge_undo(actor=org.rep, merge=merge)

    assert list(client_deals(viewer=org.rep, client=survivor)) == [kept_deal]
    assert {d.title for d in client_deals(viewer=org.rep, client=merged)} == {"Open", "Won"}
    assert Deal.all_objects.get(pk=trashed.pk).client == merged
    assert list(client_orders(viewer=org.rep, client=survivor)) == []
    assert client_orders(viewer=org.rep, client=merged).count() == 2
