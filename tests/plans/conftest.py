"""Fixtures of the plans tests: a known sales history built by hand.

The reporting currency is RUB (settings.DEFAULT_CURRENCY); USD is worth 90 RUB from
1 January 2025 and 80 before. "Today" is 24 November 2026."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from lavka.sales.models import (
    Deal,
    ExchangeRate,
    Order,
    OrderLine,
    Pipeline,
    ProductCategory,
    Stage,
)
from tests.factories import ClientFactory

TODAY = dt.date(2026, 11, 24)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def rates(db):
    ExchangeRate.objects.create(currency="USD", valid_on=d("2024-01-01"), rate=Decimal("80"))
    ExchangeRate.objects.create(currency="USD", valid_on=d("2025-01-01"), rate=Decimal("90"))


@pytest.fixture
def sell(org):
    """sell(user, "2025-12-05", "30000", currency="RUB", status="confirmed", lines=[...])"""
    clients: dict[int, object] = {}

    def make(user, on, total, *, currency="RUB", status="confirmed", lines=()):
        if user.pk not in clients:
            clients[user.pk] = ClientFactory(owner=user)
        order = Order.objects.create(
            client=clients[user.pk],
            owner=user,
            team=user.team,
            ordered_on=d(on),
            status=status,
            currency=currency,
            total=Decimal(total),
        )
        for category, amount in lines:
            OrderLine.objects.create(
                order=order,
                category=category,
                product_name=category.name,
                quantity=Decimal(1),
                unit_price=Decimal(amount),
                amount=Decimal(amount),
            )
        return order

    return make


@pytest.fixture
def history(org, rates, sell):
    """Two years of the rep's and a colleague's sales, plus the recent months.

    rep:       2024-06-15 100 000, 2024-12-10 20 000                 (2024: 120 000, 2 orders)
               2025-03-20 1 000 USD (x 90 = 90 000), 2025-08-10 10 000, 2025-09-10 10 000,
               2025-10-10 10 000, 2025-12-05 30 000                   (2025: 150 000, 5 orders)
               2026-08-05, 2026-09-05, 2026-10-05: 12 000 each        (Aug-Oct 2026: 36 000)
               never counted: a cancelled 1 000 000 and a draft 500 000 in December 2025
    colleague: 2025-12-15 10 000 (nothing else)
    spb_rep (another team): 2025-12-01 99 000
    """
    rep, colleague = org.rep, org.colleague
    sell(rep, "2024-06-15", "100000")
    sell(rep, "2024-12-10", "20000")
    sell(rep, "2025-03-20", "1000", currency="USD")
    for on in ("2025-08-10", "2025-09-10", "2025-10-10"):
        sell(rep, on, "10000")
    sell(rep, "2025-12-05", "30000")
    sell(rep, "2025-12-06", "1000000", status="cancelled")
    sell(rep, "2025-12-07", "500000", status="draft")
    for on in ("2026-08-05", "2026-09-05", "2026-10-05"):
        sell(rep, on, "12000")
    sell(colleague, "2025-12-15", "10000")
    sell(org.spb_rep, "2025-12-01", "99000")
    return SimpleNamespace(rep=rep, colleague=colleague)


@pytest.fixture
def categories(db):
    return SimpleNamespace(
        tea=ProductCategory.objects.create(name="Tea"),
        cups=ProductCategory.objects.create(name="Cups"),
    )


@pytest.fixture
def stages(db):
    pipeline = Pipeline.objects.create(name="Plans pipeline", is_default=False, order=9)
    return SimpleNamespace(
        pipeline=pipeline,
        offer=Stage.objects.create(
            pipeline=pipeline, name="Offer", kind="open", probability=50, order=1
        ),
        won=Stage.objects.create(
            pipeline=pipeline, name="Won", kind="won", probability=100, order=2
        ),
    )


@pytest.fixture
def deal(stages):
    """deal(user, "40000", 50, "2026-11-28", currency="RUB", stage=None)"""
    position = [0]

    def make(user, amount, probability, close_on, *, currency="RUB", stage=None):
        position[0] += 1024
        return Deal.objects.create(
            client=ClientFactory(owner=user),
            pipeline=stages.pipeline,
            stage=stage or stages.offer,
            title=f"Deal {position[0]}",
            owner=user,
            team=user.team,
            amount=Decimal(amount),
            currency=currency,
            probability=probability,
            expected_close_on=d(close_on),
            position=position[0],
        )

    return make
