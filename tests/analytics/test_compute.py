from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lavka.analytics.compute import monthly_by_client, next_purchase_days, window
from lavka.analytics.engine import abcxyz
from lavka.analytics.loading import Columns


@pytest.mark.parametrize("spread", [5_000, 10**12])
def test_monthly_by_client_matches_the_engine(spread):
    rng = np.random.default_rng(3)
    ids = np.unique(rng.integers(1, spread, 800))
    keys = rng.choice(ids, 20_000)
    days = rng.integers(19_500, 20_600, keys.size)
    amounts = rng.gamma(2.0, 50.0, keys.size) - 10
    orders = Columns(keys, days, amounts, np.zeros(keys.size, dtype=np.int32))
    first, last = np.datetime64("2024-01", "M"), np.datetime64("2024-12", "M")

    revenue, cv = monthly_by_client(orders, np.unique(keys), first_month=first, last_month=last)

    expected = abcxyz.monthly_variation(
        keys, days, amounts, first_month=first, last_month=last, all_keys=np.unique(keys)
    )
    np.testing.assert_allclose(revenue, expected.mean * 12, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cv, expected.cv, rtol=1e-9, equal_nan=True)


def test_the_window_is_the_last_twelve_whole_months():
    assert window(dt.date(2026, 6, 30), 12) == (
        np.datetime64("2025-07", "M"),
        np.datetime64("2026-06", "M"),
    )
    assert window(dt.date(2026, 6, 29), 12) == (
        np.datetime64("2025-06", "M"),
        np.datetime64("2026-05", "M"),
    )


def test_next_purchase_is_where_expected_purchases_reach_one():
    grid = (10, 20, 40)
    expected = [np.array([0.5, 0.1, 2.0]), np.array([1.5, 0.2, 3.0]), np.array([2.0, 0.9, 4.0])]

    days = next_purchase_days(grid, expected)

    # 0.5 at day 10 -> 1.5 at day 20: one at day 15; never; 2.0 by day 10: day 5.
    assert days[0] == pytest.approx(15.0)
    assert np.isnan(days[1])
    assert days[2] == pytest.approx(5.0)
