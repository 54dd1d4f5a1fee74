"""Monthly acquisition cohorts on a hand-made history (values by hand).

As of 2025-03-31. Orders (client: date amount):
    A (web):      2025-01-05 100, 2025-01-20 50, 2025-02-10 30, 2025-04-02 999 (after as_of)
    B (referral): 2025-01-15 200
    C (web):      2025-02-03 70, 2025-03-01 40

Cohort 2025-01 = {A, B}: month 0 both bought (350), month 1 A (30) -> 1/2, month 2 nobody.
Cohort 2025-02 = {C}: month 0 (70), month 1 (40) -> 1/1; month 2 is after as_of.
Cohort 2025-03: nobody first bought in March.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lavka.analytics.engine.cohorts import cohort_table, month_label, months_of

A, B, C = 11, 12, 13


def day(y: int, m: int, d: int) -> int:
    return int(np.datetime64(dt.date(y, m, d), "D").astype(np.int64))


ORDERS = [
    (A, day(2025, 1, 5), 100.0),
    (B, day(2025, 1, 15), 200.0),
    (A, day(2025, 1, 20), 50.0),
    (C, day(2025, 2, 3), 70.0),
    (A, day(2025, 2, 10), 30.0),
    (C, day(2025, 3, 1), 40.0),
    (A, day(2025, 4, 2), 999.0),
]
CLIENTS = np.array([A, B, C])
FIRST = np.array([day(2025, 1, 5), day(2025, 1, 15), day(2025, 2, 3)])
AS_OF = day(2025, 3, 31)


def table(**kwargs):
    client, when, amount = (np.array(c) for c in zip(*ORDERS, strict=True))
    return cohort_table(
        client, when, amount, client_ids=CLIENTS, client_first_day=FIRST, as_of_day=AS_OF, **kwargs
    )


def test_months_are_calendar_months():
    assert months_of(np.array([day(1970, 1, 1), day(2025, 1, 31), day(2025, 2, 1)])).tolist() == [
        0,
        660,
        661,
    ]
    assert month_label(661) == "2025-02"


def test_cohorts_start_at_the_first_purchase_month_and_end_at_as_of():
    result = table()

    assert result.labels() == ["2025-01", "2025-02", "2025-03"]
    assert result.breakdowns["all"].clients.tolist() == [[2, 1, 0]]


def test_retention_is_the_share_of_the_cohort_who_bought_that_month():
    result = table(max_offset=3)
    every = result.breakdowns["all"]
    retention = every.retention()[0]

    assert every.active[0].tolist() == [[2, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    assert retention[0].tolist() == [1.0, 0.5, 0.0, 0.0]
    assert retention[1].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert np.isnan(retention[2]).all()  # nobody first bought in March
    # Which cells have happened by as_of: Jan 0..2, Feb 0..1, Mar 0.
    assert result.observed().tolist() == [
        [True, True, True, False],
        [True, True, False, False],
        [True, False, False, False],
    ]


def test_revenue_is_summed_per_cohort_and_month_and_ignores_later_orders():
    every = table(max_offset=2).breakdowns["all"]

    assert every.revenue[0].tolist() == [[350.0, 30.0, 0.0], [70.0, 40.0, 0.0], [0.0, 0.0, 0.0]]


def test_groups_split_the_cohorts_by_channel():
    channel = np.array([0, 1, 0])  # A web, B referral, C web

    by_channel = table(groups={"channel": (channel, 2)}, max_offset=2).breakdowns["channel"]

    assert by_channel.clients.tolist() == [[1, 1, 0], [1, 0, 0]]
    assert by_channel.active[0].tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    assert by_channel.active[1].tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert by_channel.revenue[0, 0].tolist() == [150.0, 30.0, 0.0]
    assert by_channel.revenue[1, 0].tolist() == [200.0, 0.0, 0.0]


def test_a_client_in_no_group_counts_only_in_all():
    tier = np.array([0, -1, 0])  # B has no group

    result = table(groups={"tier": (tier, 1)}, max_offset=1)

    assert result.breakdowns["tier"].clients.tolist() == [[1, 1, 0]]
    assert result.breakdowns["all"].clients.tolist() == [[2, 1, 0]]


def test_only_the_last_cohorts_are_kept():
    result = table(max_cohorts=2, max_offset=1)

    assert result.labels() == ["2025-02", "2025-03"]
    assert result.breakdowns["all"].clients.tolist() == [[1, 0]]
    assert result.breakdowns["all"].revenue[0, 0].tolist() == [70.0, 40.0]


@pytest.mark.parametrize("sparse", [False, True])
def test_client_ids_far_apart_are_matched_alike(sparse):
    ids = CLIENTS * (10**12 if sparse else 1)
    client, when, amount = (np.array(c) for c in zip(*ORDERS, strict=True))

    result = cohort_table(
        client * (10**12 if sparse else 1),
        when,
        amount,
        client_ids=ids,
        client_first_day=FIRST,
        as_of_day=AS_OF,
        max_offset=1,
    )

    assert result.breakdowns["all"].active[0].tolist() == [[2, 1], [1, 1], [0, 0]]


def test_no_orders_gives_one_empty_cohort():
    empty = np.zeros(0, dtype=np.int64)

    result = cohort_table(
        empty, empty, empty.astype(float), client_ids=empty, client_first_day=empty, as_of_day=AS_OF
    )

    assert result.labels() == ["2025-03"]
    assert result.breakdowns["all"].clients.tolist() == [[0]]
