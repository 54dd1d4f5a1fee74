"""What followed a touch within N days, on a hand-made history (values by hand).

As of 2025-03-31; groups 0 = call by phone, 1 = email.
    client 1: call 03-01, orders 03-05 (100) and 03-20 (50); email 03-25
    client 2: call 03-10, an order the same day 03-10 (not after the touch), a deal
              moved to another stage on 03-12
    client 3: calls 02-01 and 02-03, never buys

Calls: 4 touches, 3 clients.
    7 days:  all 4 eligible; bought: client 1 (03-05 in (03-01, 03-08]) -> 1, revenue 100;
             moved: client 2 -> 1; either 2
    14 days: all 4 eligible (03-10 + 14 = 03-24); the same, revenue 100 (03-20 > 03-15)
    30 days: client 2's call is too young (03-10 + 30 = 04-09): 3 eligible; bought
             client 1, revenue 150 (both orders by 03-31); moved 0; either 1
The email (03-25) is too young for any horizon.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from lavka.analytics.engine.touch_effect import touch_effect


def day(y: int, m: int, d: int) -> int:
    return int(np.datetime64(dt.date(y, m, d), "D").astype(np.int64))


AS_OF = day(2025, 3, 31)
TOUCHES = [
    (1, day(2025, 3, 1), 0),
    (1, day(2025, 3, 25), 1),
    (2, day(2025, 3, 10), 0),
    (3, day(2025, 2, 1), 0),
    (3, day(2025, 2, 3), 0),
]
ORDERS = [(1, day(2025, 3, 5), 100.0), (1, day(2025, 3, 20), 50.0), (2, day(2025, 3, 10), 80.0)]
MOVES = [(2, day(2025, 3, 12))]


def effect(touches=TOUCHES, orders=ORDERS, moves=MOVES, n_groups=2, as_of=AS_OF):
    tc, td, tg = (np.array(c, dtype=np.int64) for c in zip(*touches, strict=True))
    oc, od, oa = (np.array(c) for c in zip(*orders, strict=True)) if orders else ([], [], [])
    mc, md = (np.array(c) for c in zip(*moves, strict=True)) if moves else ([], [])
    return touch_effect(
        tc,
        td,
        tg,
        n_groups,
        order_client=oc,
        order_day=od,
        order_amount=oa,
        move_client=mc,
        move_day=md,
        as_of_day=as_of,
    )


def test_touches_and_reach_per_group():
    result = effect()

    assert result.touches.tolist() == [4, 1]
    assert result.reach.tolist() == [3, 1]
    assert result.total_reach == 3


def test_purchases_moves_and_revenue_within_each_horizon():
    result = effect()

    got = {
        h.days: (
            h.eligible.tolist(),
            h.purchased.tolist(),
            h.revenue.tolist(),
            h.moved.tolist(),
            h.either.tolist(),
        )
        for h in result.horizons
    }
    assert got == {
        7: ([4, 0], [1, 0], [100.0, 0.0], [1, 0], [2, 0]),
        14: ([4, 0], [1, 0], [100.0, 0.0], [1, 0], [2, 0]),
        30: ([3, 0], [1, 0], [150.0, 0.0], [0, 0], [1, 0]),
    }


def test_an_order_on_the_day_of_the_touch_does_not_count():
    result = effect(touches=[(2, day(2025, 3, 10), 0)], moves=[], n_groups=1)

    assert result.horizons[0].purchased.tolist() == [0]


def test_an_order_on_the_last_day_of_the_window_counts():
    result = effect(touches=[(1, day(2025, 3, 13), 0)], n_groups=1)  # 03-20 = 03-13 + 7

    assert result.horizons[0].purchased.tolist() == [1]
    assert result.horizons[0].revenue.tolist() == [50.0]


def test_the_baseline_is_the_same_clients_purchase_rate_without_a_touch():
    start = day(2025, 1, 1)
    as_of = start + 200
    daily = [(10, d, 1.0) for d in range(start, as_of + 1)]  # client 10 buys every day
    touches = [(10, start, 0), (11, start, 1)]  # client 11 never buys

    result = effect(touches=touches, orders=daily, moves=[], as_of=as_of)

    for h in result.horizons:
        assert h.baseline_sampled.tolist() == [1, 1]
        assert h.baseline_purchased.tolist() == [1, 0]


def test_a_client_touched_every_day_has_no_quiet_window():
    start = day(2025, 1, 1)
    touches = [(5, d, 0) for d in range(start, start + 60)]

    result = effect(touches=touches, orders=[], moves=[], n_groups=1, as_of=start + 59)

    assert result.horizons[0].eligible.tolist() == [53]
    assert result.horizons[0].baseline_sampled.tolist() == [0]


def test_no_touches_gives_zeros():
    result = effect(touches=[(1, AS_OF + 5, 0)])  # after as_of: ignored

    assert result.touches.tolist() == [0, 0]
    assert [h.purchased.tolist() for h in result.horizons] == [[0, 0]] * 3
