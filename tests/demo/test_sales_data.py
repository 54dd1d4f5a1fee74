"""The demo's sales: catalogue, deals in every stage of its pipelines, two years of
orders for the demo clients, and `--scale` deals and purchase histories drawn from a
BG/NBD-like process (individual rates, drop-outs, heterogeneous spend, category cycles)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import statistics
from decimal import Decimal

import pytest
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from lavka.clients.models import Client
from lavka.demo import names
from lavka.demo.data import (
    DEMO_ORDER_SOURCE,
    HISTORY_DAYS,
    SCALE_NOTE,
    SCALE_ORDER_SOURCE,
    DemoProduct,
    load_demo,
    purchase_history,
)
from lavka.sales.models import Deal, DealColumnTotal, Order, OrderLine, Pipeline, Product, Stage

pytestmark = pytest.mark.django_db


def test_demo_has_deals_in_every_stage_of_both_pipelines(demo):
    pipelines = list(Pipeline.objects.all())
    assert len(pipelines) == 2
    for stage in Stage.objects.filter(pipeline__in=pipelines, is_archived=False):
        assert Deal.objects.filter(stage=stage).exists(), stage.name
    lost = Deal.objects.filter(stage__kind=Stage.Kind.LOST)
    assert lost.exists() and not lost.filter(lost_reason="").exists()
    for deal in Deal.objects.filter(stage__kind=Stage.Kind.WON):
        assert Order.objects.filter(source_deal=deal).exists()


def test_demo_deals_have_products_and_a_stage_history_spread_over_days(demo):
    deal = Deal.objects.filter(stage__kind=Stage.Kind.WON).first()
    steps = list(deal.stage_changes.order_by("changed_at"))
    assert len(steps) >= 2
    assert steps[-1].changed_at - steps[0].changed_at >= dt.timedelta(days=2)
    assert deal.lines.exists()
    assert deal.amount == deal.lines.aggregate(s=Sum("amount"))["s"]


def test_every_demo_client_has_orders_over_the_last_two_years(demo):
    today = timezone.localdate()
    demo_orders = Order.objects.filter(source=DEMO_ORDER_SOURCE)
    span = demo_orders.aggregate(first=Min("ordered_on"), last=Max("ordered_on"))
    assert span["first"] >= today - dt.timedelta(days=HISTORY_DAYS)
    assert span["last"] <= today
    assert (today - span["first"]).days > 600
    # Every client but the one the demo made from a lead, which has bought nothing yet.
    assert demo_orders.values("client").distinct().count() == Client.objects.count() - 1 == 300
    order = demo_orders.annotate(n=Count("lines")).filter(n__gt=1).first()
    assert order.total == order.lines.aggregate(s=Sum("amount"))["s"]
    assert set(demo_orders.values_list("status", flat=True)) >= {"paid", "cancelled"}


def test_the_demo_catalogue_has_categories_prices_and_vat(demo):
    assert Product.objects.count() == len(names.PRODUCTS)
    paper = Product.objects.get(code="PAP-A4-80")
    assert paper.category.name == "Paper (Бумага)"
    assert paper.vat_rate == Decimal(20)
    assert paper.prices.get().amount == Decimal("390.00")


def test_scale_adds_deals_and_about_ten_order_lines_per_client_once(demo):
    load_demo(scale=300)
    again = load_demo(scale=300)

    generated = Client.objects.filter(notes=SCALE_NOTE)
    lines = OrderLine.objects.filter(order__source=SCALE_ORDER_SOURCE).count()
    assert 6 <= lines / 300 <= 16
    assert Order.objects.filter(source=SCALE_ORDER_SOURCE).values("client").distinct().count() == (
        generated.count()
    )
    scale_deals = Deal.objects.filter(client__in=generated)
    assert 30 <= scale_deals.count() <= 130
    assert not scale_deals.filter(stage__kind=Stage.Kind.LOST, lost_reason="").exists()
    assert again["created"]["generated_order_lines"] == 0
    assert again["created"]["generated_deals"] == 0


def test_scale_deals_are_counted_on_the_board(demo):
    load_demo(scale=200)

    for stage in Stage.objects.filter(pipeline__is_default=True):
        live = Deal.objects.filter(stage=stage).aggregate(n=Count("id"), s=Sum("amount"))
        kept = DealColumnTotal.objects.filter(stage=stage).aggregate(
            n=Sum("deals"), s=Sum("amount")
        )
        assert (kept["n"] or 0, kept["s"] or 0) == (live["n"], live["s"] or 0)


def catalogue() -> dict[str, list[DemoProduct]]:
    products: dict[str, list[DemoProduct]] = {}
    for index, (code, name, key, _unit, _vat, price) in enumerate(names.PRODUCTS):
        products.setdefault(key, []).append(
            DemoProduct(
                pk=index, code=code, name=name, category_id=0, category=key, price=Decimal(price)
            )
        )
    return products


def histories(count: int = 2000):
    end = dt.date(2026, 6, 30)
    start = end - dt.timedelta(days=HISTORY_DAYS)
    return [
        purchase_history(random.Random(n), products=catalogue(), start=start, end=end)
        for n in range(count)
    ], end


def test_clients_buy_at_different_rates_and_some_stop_buying():
    result, end = histories()

    counts = [len(h) for h in result]
    assert statistics.pstdev(counts) / statistics.mean(counts) > 0.6  # heterogeneous rates
    repeaters = [h for h in result if len(h) >= 3]
    quiet = [h for h in repeaters if (end - h[-1][0]).days > 365]
    # Some clients who bought repeatedly have stopped: a year of silence at a rate
    # that would have given several purchases.
    assert 0.1 < len(quiet) / len(repeaters) < 0.9


def test_spend_per_order_differs_between_clients():
    result, _end = histories()

    def mean_spend(history):
        return statistics.mean(
            float(sum(p.price * q for p, q, _d in lines)) for _day, lines in history
        )

    spends = [mean_spend(h) for h in result if len(h) >= 3]
    assert max(spends) / min(spends) > 10


def test_categories_come_back_on_their_repeat_cycles():
    result, _end = histories()

    def median_gap(key: str) -> float:
        gaps = []
        for history in result:
            days = [day for day, lines in history if any(p.category == key for p, _q, _d in lines)]
            gaps += [(b - a).days for a, b in itertools.pairwise(days)]
        return statistics.median(gaps)

    assert median_gap("coffee") < median_gap("paper") < median_gap("furniture")
