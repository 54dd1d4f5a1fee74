from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from lavka.analytics.engine.simulate import simulate_transactions
from lavka.clients.models import Client
from lavka.sales.models import ExchangeRate, Order
from tests.factories import ClientFactory

D = dt.date


def add_orders(client, rows, *, currency="RUB", status=Order.Status.CONFIRMED):
    """rows: (date, total); orders written directly (test setup, not a user action)."""
    Order.objects.bulk_create(
        [
            Order(
                client=client,
                owner_id=client.owner_id,
                team_id=client.team_id,
                ordered_on=on,
                total=Decimal(str(total)),
                currency=currency,
                status=status,
            )
            for on, total in rows
        ]
    )


@pytest.fixture
def history(org):
    """Five clients with a hand-made purchase history (see test_recompute for the hand
    computation). Clients 1-3 belong to the rep, 4-5 to a colleague."""
    c1 = ClientFactory(name="Monthly", owner=org.rep)
    c2 = ClientFactory(name="Twice", owner=org.rep)
    c3 = ClientFactory(name="Newcomer", owner=org.rep)
    c4 = ClientFactory(name="Gone", owner=org.colleague)
    c5 = ClientFactory(name="Steady", owner=org.colleague)
    months = [D(2025, 7, 1) + dt.timedelta(days=31 * i) for i in range(12)]
    months = [D(m.year, m.month, 1) for m in months]
    add_orders(c1, [(D(m.year, m.month, 15), 100) for m in months])
    add_orders(c5, [(m, 85 if i % 2 == 0 else 115) for i, m in enumerate(months)])
    add_orders(c2, [(D(2026, 1, 10), 300), (D(2026, 6, 10), 300)])
    ExchangeRate.objects.create(currency="USD", valid_on=D(2026, 1, 1), rate=Decimal("100"))
    add_orders(c3, [(D(2026, 6, 20), 2)], currency="USD")
    add_orders(c3, [(D(2026, 6, 21), 5000)], status=Order.Status.CANCELLED)
    add_orders(c4, [(D(2024, 1, 10), 50), (D(2026, 7, 5), 1000)])
    deleted = Order.objects.create(
        client=c4,
        owner_id=c4.owner_id,
        team_id=c4.team_id,
        ordered_on=D(2026, 6, 1),
        total=Decimal("777"),
        currency="RUB",
    )
    Order.objects.filter(pk=deleted.pk).update(deleted_at=dt.datetime(2026, 6, 2, tzinfo=dt.UTC))

    class History:
        pass

    h = History()
    h.monthly, h.twice, h.newcomer, h.gone, h.steady = c1, c2, c3, c4, c5
    return h


@pytest.fixture
def simulated_base(org):
    """400 clients whose purchases follow BG/NBD and Gamma-Gamma (enough for a fit)."""
    as_of = D(2026, 6, 30)
    end = int(np.datetime64(as_of, "D").astype(np.int64))
    sim = simulate_transactions(
        n_clients=400,
        r=0.5,
        alpha=20.0,
        a=0.8,
        b=2.5,
        p=6.0,
        q=4.0,
        gamma=15.0,
        first_day=end - 720,
        acquisition_days=360,
        observation_end=end,
        seed=7,
    )
    clients = Client.objects.bulk_create(
        [
            Client(name=f"Sim {i}", kind=Client.Kind.ORGANISATION, owner=org.rep, team=org.rep.team)
            for i in range(400)
        ]
    )
    ids = np.array([c.pk for c in clients])
    Order.objects.bulk_create(
        [
            Order(
                client_id=int(ids[cid - 1]),
                owner_id=org.rep.pk,
                team_id=org.rep.team_id,
                ordered_on=np.datetime64(int(day), "D").astype(object),
                total=Decimal(f"{max(amount, 0.01):.2f}"),
                currency="RUB",
                status=Order.Status.PAID,
            )
            for cid, day, amount in zip(
                sim.client_id.tolist(), sim.day.tolist(), sim.amount.tolist(), strict=True
            )
        ],
        batch_size=2000,
    )
    return as_of
