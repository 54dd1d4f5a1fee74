"""The forecast report end to end: a recompute stores revenue by month, its forecast and
the weighted pipeline; a viewer who sees part of the base gets their own share.

The base (reporting currency RUB; USD is 90 RUB from 2024-01-01; as of 2026-06-20):
- "Alpha" (the rep's): 1,000 on the 10th of every month from January 2024 to June 2026,
  3,000 instead in every December, and 10 USD (900) on 2026-03-05; never counted: a
  cancelled 50,000 and a deleted 70,000 in March 2026.
- "Beta" (a St Petersburg rep's): 500 on the 10th of every month over the same span.
So March 2026 = 1,000 + 900 + 500 = 2,400; December 2025 = 3,000 + 500 = 3,500; June
2026 is not over (1,500 so far) and is forecast; the history is January 2024 to May
2026, 29 months.

Open deals (amount x probability / 100, at the rate of 2026-06-20):
- Alpha: 10,000 RUB 50% closing 2026-07-15 -> 5,000; 2,000 USD 25% closing 2026-07-01
  -> 180,000 x 0.25 = 45,000; 3,000 RUB 20% closing 2026-06-25 -> 600; 1,000 RUB 100%
  that was to close 2026-05-01 -> overdue 1,000; 100 EUR (no rate) -> left out.
- Beta: 4,000 RUB 10% without a date -> 400.
- Not counted: Alpha's won 99,999 and a deleted open 77,777.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from lavka.analytics.forecast import forecast_for
from lavka.analytics.models import ComputeRun
from lavka.analytics.services import analytics_recompute
from lavka.sales.models import Deal, ExchangeRate, Order, Pipeline, Stage
from tests.factories import ClientFactory

AS_OF = dt.date(2026, 6, 20)
D = dt.date


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    out, on = [], first
    while on <= last:
        out.append(on)
        on = D(on.year + on.month // 12, on.month % 12 + 1, 1)
    return out


def order(client, on, total, *, currency="RUB", status=Order.Status.CONFIRMED):
    return Order(
        client=client,
        owner_id=client.owner_id,
        team_id=client.team_id,
        ordered_on=on,
        total=Decimal(total),
        currency=currency,
        status=status,
    )


@pytest.fixture
def base(org):
    ExchangeRate.objects.create(currency="USD", valid_on=D(2024, 1, 1), rate=Decimal("90"))
    alpha = ClientFactory(name="Alpha", owner=org.rep, team=org.moscow)
    beta = ClientFactory(name="Beta", owner=org.spb_rep, team=org.spb)
    span = months(D(2024, 1, 1), D(2026, 6, 1))
    rows = [order(alpha, D(m.year, m.month, 10), 3000 if m.month == 12 else 1000) for m in span]
    rows += [order(beta, D(m.year, m.month, 10), 500) for m in span]
    rows += [
        order(alpha, D(2026, 3, 5), 10, currency="USD"),
        order(alpha, D(2026, 3, 6), 50000, status=Order.Status.CANCELLED),
        order(alpha, D(2026, 3, 7), 70000),
    ]
    Order.objects.bulk_create(rows)
    Order.objects.filter(total=70000).update(deleted_at=timezone.now())

    pipeline = Pipeline.objects.create(name="Forecast pipeline", order=5)
    open_stage = Stage.objects.create(pipeline=pipeline, name="Offer", kind="open", order=1)
    won = Stage.objects.create(pipeline=pipeline, name="Won", kind="won", order=2)

    def deal(client, amount, probability, close_on, *, currency="RUB", stage=open_stage):
        return Deal.objects.create(
            client=client,
            pipeline=pipeline,
            stage=stage,
            title=f"{client.name} {amount}",
            owner=client.owner,
            team=client.team,
            amount=Decimal(amount),
            currency=currency,
            probability=probability,
            expected_close_on=close_on,
        )

    deal(alpha, 10000, 50, D(2026, 7, 15))
    deal(alpha, 2000, 25, D(2026, 7, 1), currency="USD")
    deal(alpha, 3000, 20, D(2026, 6, 25))
    deal(alpha, 1000, 100, D(2026, 5, 1))
    deal(alpha, 100, 50, D(2026, 8, 1), currency="EUR")
    deal(beta, 4000, 10, None)
    deal(alpha, 99999, 100, D(2026, 7, 1), stage=won)
    gone = deal(alpha, 77777, 50, D(2026, 7, 1))
    Deal.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    return alpha, beta


def test_the_recompute_stores_revenue_by_month_and_its_forecast(org, base):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    stored = ComputeRun.objects.get(pk=run.pk).reports["forecast"]
    history = dict(stored["history"])
    assert stored["currency"] == "RUB" and stored["scope"] == "all"
    assert stored["history"][0] == ["2024-01", 1500.0]
    assert stored["history"][-1] == ["2026-05", 1500.0]
    assert len(stored["history"]) == 29
    assert history["2026-03"] == 2400.0
    assert history["2025-12"] == 3500.0
    assert stored["current"] == ["2026-06", 1500.0]
    assert [row[0] for row in stored["forecast"]][:2] == ["2026-06", "2026-07"]
    assert len(stored["forecast"]) == 12
    assert stored["model"]["name"] in ("seasonal_additive", "seasonal_multiplicative")
    assert stored["model"]["months"] == 29
    assert stored["accuracy"]["months"] == 3  # 29 - 6 would leave less than two years
    for _month, value, lo80, hi80, lo95, hi95 in stored["forecast"]:
        assert 0 <= lo95 <= lo80 <= value <= hi80 <= hi95
    # The season is learnt: December is forecast well above the months around it.
    forecast = {row[0]: row[1] for row in stored["forecast"]}
    assert forecast["2026-12"] > 1.5 * forecast["2026-11"]


def test_the_weighted_pipeline_is_summed_by_expected_close_month(org, base):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    stored = ComputeRun.objects.get(pk=run.pk).reports["forecast"]

    assert stored["pipeline"] == [
        ["2026-06", 600.0, 3000.0, 1],
        ["2026-07", 50000.0, 190000.0, 2],
        ["overdue", 1000.0, 1000.0, 1],
        ["none", 400.0, 4000.0, 1],
    ]
    assert stored["pipeline_skipped"] == {"EUR": 1}


def test_a_rep_gets_the_forecast_of_their_own_clients(org, base):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    mine = forecast_for(viewer=org.rep, run=run)

    history = dict(mine["history"])
    assert mine["scope"] == "own"
    assert history["2026-03"] == 1900.0
    assert history["2025-12"] == 3000.0
    assert mine["current"] == ["2026-06", 1000.0]
    assert len(mine["forecast"]) == 12
    assert [row[0] for row in mine["pipeline"]] == ["2026-06", "2026-07", "overdue"]
    assert mine["pipeline_skipped"] == {"EUR": 1}


def test_an_analyst_reads_the_stored_report(org, base):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    assert forecast_for(viewer=org.analyst, run=run) == run.reports["forecast"]


def test_a_short_history_stores_the_reason_and_still_the_pipeline(org):
    alpha = ClientFactory(name="Alpha", owner=org.rep, team=org.moscow)
    Order.objects.bulk_create([order(alpha, D(2026, m, 3), 1000) for m in (3, 4, 5)])

    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    stored = run.reports["forecast"]
    assert stored["forecast"] == []
    assert stored["model"]["reason"] == 1  # too short
    assert stored["history"] == [["2026-03", 1000.0], ["2026-04", 1000.0], ["2026-05", 1000.0]]
    assert stored["pipeline"] == []
