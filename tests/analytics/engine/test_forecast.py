"""The revenue forecast: model choice by history length, accuracy on known series,
intervals, and no NaN or negative revenue whatever the history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lavka.analytics.engine.forecast import (
    REASON_LABELS,
    Model,
    Reason,
    forecast_revenue,
    month_of_days,
    monthly_series,
)


def seasonal_series(months: int, *, noise: float = 20.0, seed: int = 1) -> np.ndarray:
    """1,000 growing by 20 a month, a yearly swing of +-200, and a little noise."""
    m = np.arange(months)
    rng = np.random.default_rng(seed)
    return truth(m) + rng.normal(0, noise, months)


def truth(m: np.ndarray) -> np.ndarray:
    return 1000 + 20 * m + 200 * np.sin(2 * np.pi * m / 12)


def day(on: dt.date) -> int:
    return (on - dt.date(1970, 1, 1)).days


def test_three_years_with_a_season_are_forecast_within_five_percent():
    history = seasonal_series(36)

    result = forecast_revenue(history)

    expected = truth(np.arange(36, 48))
    assert result.reason == Reason.OK
    assert result.model in (Model.SEASONAL_ADDITIVE, Model.SEASONAL_MULTIPLICATIVE)
    assert result.value.size == 12
    assert np.abs(result.value - expected).max() / expected.min() < 0.05
    # The season shows: the forecast peaks a quarter into the next year and dips after.
    assert result.value[3] > result.value[0] and result.value[3] > result.value[9]


def test_the_intervals_hold_what_happens_next_and_nest():
    m = np.arange(60)
    inside = []
    for seed in range(4):
        series = truth(m) + np.random.default_rng(seed).normal(0, 20, 60)

        result = forecast_revenue(series[:48])

        future = series[48:]
        inside.append((result.lo95 <= future) & (future <= result.hi95))
        assert (result.lo95 <= result.lo80).all() and (result.lo80 <= result.value).all()
        assert (result.value <= result.hi80).all() and (result.hi80 <= result.hi95).all()
    # ETS intervals leave out the uncertainty of the fitted parameters, so they run a
    # little narrow: 81% of these twelve-month paths fall inside the 95% band.
    assert np.mean(inside) >= 0.75


def test_intervals_widen_with_the_horizon():
    for history in (seasonal_series(48), seasonal_series(18, noise=80)):
        result = forecast_revenue(history)

        width = result.hi95 - result.lo95
        assert width[-1] > width[0]
        assert (np.diff(result.hi80 - result.lo80) >= -1e-6).all()


def test_a_year_of_history_gives_a_trend_without_a_season():
    history = 1000 + 50 * np.arange(18) + np.random.default_rng(3).normal(0, 10, 18)

    result = forecast_revenue(history, horizon=6)

    assert result.reason == Reason.OK
    assert result.model == Model.TREND
    assert result.value.size == 6
    assert "damping_trend" in result.params
    # A damped trend keeps rising but less than the straight line would.
    assert result.value[0] > history[-1]
    assert result.value[-1] <= 1000 + 50 * 23 + 30


def test_accuracy_is_measured_on_the_last_months_left_out():
    result = forecast_revenue(seasonal_series(48, noise=10))

    assert result.accuracy is not None
    assert result.accuracy.months == 6
    assert result.accuracy.compared == 6
    assert 0 <= result.accuracy.mape < 0.05


def test_five_months_are_not_enough_and_say_so():
    result = forecast_revenue([100, 120, 130, 90, 110])

    assert result.reason == Reason.TOO_SHORT
    assert not result.has_forecast
    assert result.value.size == 0
    assert str(REASON_LABELS[result.reason]).startswith("Not enough history")


def test_months_before_the_first_sale_do_not_count_as_history():
    result = forecast_revenue([0, 0, 0, 0, 100, 120, 130, 90, 110])

    assert result.reason == Reason.TOO_SHORT
    assert result.months == 5


def test_no_revenue_at_all_says_so():
    assert forecast_revenue(np.zeros(30)).reason == Reason.NO_REVENUE


def test_zeros_and_one_huge_month_give_no_nan_and_no_negative_revenue():
    zeros = np.zeros(30)
    zeros[::3] = 100.0
    huge = np.full(30, 100.0)
    huge[20] = 1e7

    for history in (zeros, huge):
        result = forecast_revenue(history)

        assert result.reason == Reason.OK
        for values in (result.value, result.lo80, result.hi80, result.lo95, result.hi95):
            assert np.isfinite(values).all()
            assert (values >= 0).all()
        assert result.accuracy is None or np.isfinite(result.accuracy.mape)
    assert forecast_revenue(huge).clipped  # the lower bounds were below zero


def test_the_same_history_gives_the_same_forecast():
    history = seasonal_series(40)
    history[5] = 0.0  # not all positive: the additive model only
    positive = seasonal_series(40)

    for series in (history, positive):
        first, second = forecast_revenue(series), forecast_revenue(series)

        assert np.array_equal(first.value, second.value)
        assert np.array_equal(first.lo95, second.lo95)
        assert first.params == second.params


def test_only_positive_revenue_tries_the_multiplicative_season():
    history = seasonal_series(36)
    with_zero = history.copy()
    with_zero[10] = 0.0

    assert set(forecast_revenue(history).candidates) == {
        "seasonal_additive",
        "seasonal_multiplicative",
    }
    assert set(forecast_revenue(with_zero).candidates) == {"seasonal_additive"}


def test_monthly_series_sums_whole_months_and_keeps_the_current_one_apart():
    days = np.array(
        [
            day(dt.date(2026, 1, 31)),
            day(dt.date(2026, 1, 1)),
            day(dt.date(2026, 3, 15)),
            day(dt.date(2026, 4, 2)),
            day(dt.date(2026, 4, 20)),
            day(dt.date(2026, 4, 21)),  # after as_of: not read
        ]
    )
    amounts = np.array([10.0, 5.0, 7.0, 3.0, 4.0, 1000.0])

    series = monthly_series(days, amounts, as_of_day=day(dt.date(2026, 4, 20)))

    assert series.revenue.tolist() == [15.0, 0.0, 7.0]  # January, February, March
    assert series.first_month == (2026 - 1970) * 12
    assert series.current_month == (2026 - 1970) * 12 + 3
    assert series.current_revenue == 7.0
    assert series.next_month == series.current_month


def test_an_as_of_on_the_last_day_of_a_month_makes_it_whole():
    days = np.array([day(dt.date(2026, 3, 1)), day(dt.date(2026, 4, 30))])

    series = monthly_series(days, np.array([1.0, 2.0]), as_of_day=day(dt.date(2026, 4, 30)))

    assert series.revenue.tolist() == [1.0, 2.0]
    assert series.current_revenue == 0.0
    assert series.next_month == (2026 - 1970) * 12 + 4


def test_month_of_days_matches_the_calendar():
    days = np.array(
        [day(dt.date(1970, 1, 1)), day(dt.date(2024, 2, 29)), day(dt.date(2026, 12, 31))]
    )

    assert month_of_days(days).tolist() == [0, 54 * 12 + 1, 56 * 12 + 11]


@pytest.mark.parametrize("months", [6, 7, 23, 24, 25])
def test_every_length_at_the_thresholds_gives_a_forecast(months):
    result = forecast_revenue(seasonal_series(months))

    assert result.reason == Reason.OK
    assert result.model == (Model.TREND if months < 24 else result.model)
    assert np.isfinite(result.value).all()
