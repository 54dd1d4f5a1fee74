"""Lifecycle economics (engine/economics.py) on hand-made numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from lavka.analytics.engine import bgnbd
from lavka.analytics.engine.economics import (
    LifeCurve,
    cac,
    cost_of_loss,
    first_year_payback,
    life_curve,
    payback_month,
    raised_b,
    retention_simulation,
    rows_of,
)
from lavka.analytics.engine.units import DAYS_PER_MONTH

NAN = float("nan")


def test_rows_of_finds_each_key_and_marks_strangers():
    rows = rows_of(np.array([5, 3, 9, 4, 100]), np.array([3, 5, 9]))

    assert rows.tolist() == [1, 0, 2, -1, -1]


def test_cac_is_cost_per_new_client_and_none_without_either():
    assert cac(1000.0, 4) == 250.0
    assert cac(0.0, 4) is None
    assert cac(100.0, 0) is None


def curve_of_two_clients(groups):
    # Client 0 first bought on day 0 and has lived 400 days (13 whole life months);
    # client 1 first bought on day 340 and has lived 60 days (1 whole month).
    return life_curve(
        order_rows=np.array([0, 0, 0, 1, 1, -1]),
        order_day=np.array([0, 40, 70, 340, 380, 10]),
        amount=np.array([100.0, 50.0, 30.0, 200.0, 80.0, 999.0]),
        first_on=np.array([0, 340]),
        as_of_day=400,
        group=np.array(groups),
        n_groups=max(groups) + 1,
        months=4,
    )


def test_the_life_curve_averages_over_the_clients_who_lived_through_each_month():
    curve = curve_of_two_clients([0, 0])

    # Month 1: 100 + 200 from both clients; month 2: 50 from client 0 only (client 1's
    # 80 on day 380 is in a month not yet over); month 3: 30.
    assert curve.revenue.tolist() == [[300.0, 50.0, 30.0, 0.0]]
    assert curve.exposed.tolist() == [[2.0, 1.0, 1.0, 1.0]]
    assert curve.average().tolist() == [[150.0, 50.0, 30.0, 0.0]]
    assert curve.cumulative().tolist() == [[150.0, 200.0, 230.0, 230.0]]


def test_a_group_stops_where_nobody_has_lived_long_enough():
    cumulative = curve_of_two_clients([0, 1]).cumulative()

    assert cumulative[0].tolist() == [100.0, 150.0, 180.0, 180.0]
    assert cumulative[1, 0] == 200.0
    assert np.isnan(cumulative[1, 1:]).all()


def test_payback_month_is_the_first_month_the_margin_covers_the_cost():
    cumulative = np.array([150.0, 200.0, 230.0, 230.0])

    # 30% margin: 45, 60, 69, 69 against the cost.
    assert payback_month(cumulative, 60.0, 0.3) == 2
    assert payback_month(cumulative, 45.0, 0.3) == 1
    assert payback_month(cumulative, 70.0, 0.3) is None
    assert payback_month(cumulative, None, 0.3) is None
    assert payback_month(np.array([10.0, NAN]), 5.0, 1.0) == 1


def test_life_curve_month_boundaries_are_mean_months():
    # A purchase 30 days after the first is still in life month 1; 31 days is month 2.
    curve = life_curve(
        order_rows=np.array([0, 0, 0]),
        order_day=np.array([0, 30, 31]),
        amount=np.array([1.0, 2.0, 4.0]),
        first_on=np.array([0]),
        as_of_day=int(3 * DAYS_PER_MONTH) + 1,
        group=np.array([0]),
        n_groups=1,
        months=3,
    )

    assert curve.revenue.tolist() == [[3.0, 4.0, 0.0]]


def test_the_share_paying_off_after_a_year_counts_clients_of_a_year_or_more():
    result = first_year_payback(
        revenue_first_year=np.array([300.0, 100.0, 50.0, 1000.0, 500.0]),
        revenue_total=np.array([300.0, 300.0, 150.0, 1000.0, 500.0]),
        cost=np.array([100.0, 100.0, 100.0, 100.0, NAN]),
        tenure_days=np.array([400, 400, 366, 100, 400]),
        margin=0.5,
    )

    # Margin in the first year: 150 (paid), 50 (paid later: 150 in all), 25 (not yet:
    # 75 in all); the fourth has been a client for 100 days, the fifth has no cost.
    assert (result.clients, result.paid_in_year, result.paid_later, result.not_yet) == (
        3,
        1,
        1,
        1,
    )
    assert result.share_after_year == pytest.approx(2 / 3)


def test_cost_of_loss_is_the_value_lost_clients_would_bring_had_they_stayed():
    loss = cost_of_loss(
        clv=np.array([100.0, 50.0, NAN, 30.0]),
        p_alive=np.array([0.5, 0.1, 0.2, 0.9]),
        lost=np.array([True, True, True, False]),
    )

    # 100 / 0.5 + 50 / 0.1; the third has no CLV, the fourth is not lost.
    assert (loss.clients, loss.with_value) == (3, 2)
    assert loss.value == pytest.approx(700.0)
    assert loss.per_client == pytest.approx(350.0)


def test_five_points_more_retention_lowers_the_mean_dropout_by_five_points():
    # a = 1, b = 3: dropout 1/4, retention 75%. 80% retention: 1 / (1 + b') = 0.2.
    assert raised_b(1.0, 3.0, 5.0) == pytest.approx(4.0)
    # A rise beyond what is possible removes 99% of the dropout: 0.25% is left.
    assert 1.0 / (1.0 + raised_b(1.0, 3.0, 40.0)) == pytest.approx(0.0025)
    # A base that already keeps 99.99% after a purchase keeps more, never less.
    assert raised_b(1.0, 9999.0, 5.0) == pytest.approx(1.0 * (1 - 1e-6) / 1e-6)


def new_client_purchases(r, alpha, a, b, t):
    """E[X(t)] of a new client, Fader, Hardie and Lee (2005) eq. 9, written out."""
    z = t / (alpha + t)
    return (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
    )


def test_the_retention_simulation_rescores_with_the_raised_retention():
    fit = bgnbd.BgNbdFit(
        r=0.5, alpha=20.0, a=1.5, b=3.0, log_likelihood=0.0, n=2, converged=True, iterations=0
    )
    # Two clients who have just made their first purchase (x = 0, T = 0): their expected
    # purchases are those of a new client. One month, no discounting.
    result = retention_simulation(
        fit,
        x=np.array([0.0, 0.0]),
        t_x=np.array([0.0, 0.0]),
        T=np.array([0.0, 0.0]),
        spend=np.array([100.0, 300.0]),
        uplift_points=5.0,
        months=1,
        monthly_discount_rate=0.0,
        margin=0.5,
        costs=10.0,
    )

    month = 365.25 / 12
    b_raised = 1.5 * (1 - (1.5 / 4.5 - 0.05)) / (1.5 / 4.5 - 0.05)
    base = 400.0 * new_client_purchases(0.5, 20.0, 1.5, 3.0, month)
    raised = 400.0 * new_client_purchases(0.5, 20.0, 1.5, b_raised, month)
    assert result.b_scenario == pytest.approx(b_raised)
    assert result.base.retention == pytest.approx(2 / 3)
    assert result.scenario.retention == pytest.approx(2 / 3 + 0.05)
    assert result.base.revenue == pytest.approx(base, rel=1e-9)
    assert result.scenario.revenue == pytest.approx(raised, rel=1e-9)
    assert result.base.profit == pytest.approx(0.5 * base - 10.0, rel=1e-9)
    assert result.profit_change == pytest.approx(0.5 * (raised - base), rel=1e-9)
    assert result.clv_base == pytest.approx(base / 2)
    assert result.scenario.revenue > result.base.revenue


def test_a_loss_making_base_has_no_relative_change_of_profit():
    fit = bgnbd.BgNbdFit(
        r=0.5, alpha=20.0, a=1.5, b=3.0, log_likelihood=0.0, n=1, converged=True, iterations=0
    )

    result = retention_simulation(
        fit,
        x=np.array([2.0]),
        t_x=np.array([50.0]),
        T=np.array([100.0]),
        spend=np.array([10.0]),
        uplift_points=5.0,
        months=12,
        monthly_discount_rate=0.01,
        margin=0.3,
        costs=1e6,
    )

    assert result.base.profit < 0
    assert result.profit_change > 0
    assert result.profit_change_share is None
    assert math.isfinite(result.scenario.p_alive)


def test_life_curve_cumulative_of_an_empty_group_is_nan():
    curve = LifeCurve(revenue=np.zeros((1, 2)), exposed=np.zeros((1, 2)))

    assert np.isnan(curve.cumulative()).all()
