"""The lifecycle stage rule (engine/lifecycle.py) on hand-made clients."""

from __future__ import annotations

import numpy as np

from lavka.analytics.engine import lifecycle
from lavka.analytics.engine.lifecycle import (
    ACTIVE,
    AT_RISK,
    LAPSED,
    LOST,
    LOYAL,
    NEW,
    day_bounds,
    stage_counts,
    stages,
)

NAN = float("nan")
AS_OF = 1000


def run(rows):
    """rows: (first_on, last_on, purchase days, P(alive) or NaN)."""
    first, last, frequency, p = (np.array(c) for c in zip(*rows, strict=True))
    return stages(
        first_on=first.astype(np.int64),
        last_on=last.astype(np.int64),
        frequency=frequency.astype(np.int64),
        p_alive=p.astype(np.float64),
        as_of_day=AS_OF,
    )


def test_repeat_buyers_are_staged_by_the_probability_of_being_alive():
    life = run(
        [
            (900, 990, 5, 0.9),  # a client for 100 days: active, not yet loyal
            (500, 990, 5, 0.9),  # 5 purchase days over 500 days: loyal
            (500, 900, 3, 0.5),  # P(alive) 0.5 < 0.60: at risk
            (500, 800, 3, 0.2),  # 0.2 < 0.35: lapsed
            (500, 700, 3, 0.1),  # 0.1 < 0.15: lost
            (950, 990, 2, 0.2),  # first bought 50 days ago but lapsed already
            (950, 990, 2, 0.5),  # first bought 50 days ago, at risk: still new
            (500, 999, 6, 0.1),  # bought yesterday, but the model says lost (0.1)
        ]
    )

    assert life.stage.tolist() == [ACTIVE, LOYAL, AT_RISK, LAPSED, LOST, LAPSED, NEW, LOST]
    # Lifecycle length: to the date, or to the last purchase for lapsed and lost.
    assert life.days.tolist() == [100, 500, 500, 300, 200, 40, 50, 499]


def test_one_time_buyers_are_staged_by_days_even_with_a_fitted_model():
    # BG/NBD gives a one-time buyer P(alive) = 1: the rule does not trust it. With fewer
    # than 20 repeat buyers the fixed bounds apply: 120, 240, 365 days.
    life = run(
        [
            (950, 950, 1, 1.0),  # 50 days ago: new
            (850, 850, 1, 1.0),  # 150 days: at risk
            (700, 700, 1, 1.0),  # 300 days: lapsed
            (500, 500, 1, 1.0),  # 500 days: lost, although P(alive) = 1
            (500, 900, 3, NAN),  # no model: by days, 100 days since the last purchase
        ]
    )

    assert life.stage.tolist() == [NEW, AT_RISK, LAPSED, LOST, ACTIVE]
    assert life.days.tolist() == [50, 150, 0, 0, 500]


def test_without_enough_repeat_buyers_the_fixed_bounds_apply():
    first = np.array([0] * 19 + [100], dtype=np.int64)
    last = np.array([20] * 19 + [100], dtype=np.int64)
    frequency = np.array([3] * 19 + [1], dtype=np.int64)

    assert day_bounds(first, last, frequency) == (120, 240, 365)


def test_the_bounds_follow_the_rhythm_of_the_base():
    # 20 repeat buyers every 100 days: at risk beyond 200, lapsed beyond 300, lost
    # beyond 400 days without a purchase.
    base = [(0, 200, 3, 0.9)] * 20
    life = run([*base, (750, 750, 1, 1.0), (650, 650, 1, 1.0), (550, 550, 1, 1.0)])

    first = np.array([0] * 20, dtype=np.int64)
    assert day_bounds(first, first + 200, np.full(20, 3, dtype=np.int64)) == (200, 300, 400)
    assert life.stage[-3:].tolist() == [AT_RISK, LAPSED, LOST]


def test_the_bounds_stay_within_their_limits_for_a_fast_base():
    # Buying every 10 days: 20, 30, 40 days are raised to the floors 30, 45, 60.
    base = [(900, 920, 3, 0.9)] * 20
    life = run([*base, (965, 965, 1, 1.0), (950, 950, 1, 1.0), (900, 900, 1, 1.0)])

    first = np.array([900] * 20, dtype=np.int64)
    assert day_bounds(first, first + 20, np.full(20, 3, dtype=np.int64)) == (30, 45, 60)
    # 35 days since a first purchase: at risk, which a new client may be; 50 days:
    # lapsed; 100 days: lost.
    assert life.stage[-3:].tolist() == [NEW, LAPSED, LOST]


def test_stage_counts_name_every_stage():
    counts = stage_counts(np.array([NEW, LOST, LOST, LOYAL], dtype=np.int8))

    assert counts == {"new": 1, "active": 0, "loyal": 1, "at_risk": 0, "lapsed": 0, "lost": 2}
    assert list(counts) == list(lifecycle.STAGES)
