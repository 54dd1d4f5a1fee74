"""Repeat cycles per client and category on hand-made histories (days are plain
integers: days since 1970-01-01 in real use).

| client | category | purchase days (lines) | distinct   | intervals | median | mean  | next |
|--------|----------|-----------------------|------------|-----------|-------:|------:|-----:|
| 1      | 5        | 0, 10, 10, 30, 40     | 0 10 30 40 | 10 20 10  | 10     | 13.33 | 50   |
| 1      | 6        | 7                     | 7          | -         | -      | -     | -    |
| 2      | 5        | 3, 4                  | 3 4        | 1         | 1      | 1     | 5    |
| 2      | 7        | 0, 2, 8, 20, 40       | all        | 2 6 12 20 | 9      | 10    | 49   |
| 3      | 8        | 0, 4, 9               | all        | 4 5       | 4.5    | 4.5   | 14   |
| 3      | 9        | 50, 58                | all        | 8         | 8      | 8     | 66   |
| 4      | 1        | 30, 45                | all        | 15        | 15     | 15    | 60   |
| 4      | 2        | 40, 50                | all        | 10        | 10     | 10    | 60   |

4.5 rounds half up: 9 + 5 = 14.
"""

from __future__ import annotations

import numpy as np
import pytest

from lavka.analytics.engine.cycles import category_cycles, due_categories, is_lapsed

ROWS = [
    (1, 5, 0), (1, 5, 10), (1, 5, 10), (1, 5, 30), (1, 5, 40), (1, 6, 7),
    (2, 5, 3), (2, 5, 4), (2, 7, 0), (2, 7, 2), (2, 7, 8), (2, 7, 20), (2, 7, 40),
    (3, 8, 0), (3, 8, 4), (3, 8, 9), (3, 9, 50), (3, 9, 58),
    (4, 1, 30), (4, 1, 45), (4, 2, 40), (4, 2, 50),
]  # fmt: skip


def _cycles(rows=ROWS, **kwargs):
    shuffled = np.random.default_rng(3).permutation(np.array(rows))
    return category_cycles(shuffled[:, 0], shuffled[:, 1], shuffled[:, 2], **kwargs)


def test_cycle_is_the_median_interval_between_distinct_purchase_days():
    c = _cycles()

    assert list(zip(c.client_id.tolist(), c.category_id.tolist(), strict=True)) == [
        (1, 5), (1, 6), (2, 5), (2, 7), (3, 8), (3, 9), (4, 1), (4, 2),
    ]  # fmt: skip
    assert c.purchases.tolist() == [4, 1, 2, 5, 3, 2, 2, 2]
    assert c.first_day.tolist() == [0, 7, 3, 0, 0, 50, 30, 40]
    assert c.last_day.tolist() == [40, 7, 4, 40, 9, 58, 45, 50]
    np.testing.assert_allclose(c.cycle_days, [10, np.nan, 1, 9, 4.5, 8, 15, 10], equal_nan=True)
    np.testing.assert_allclose(c.mean_days, [40 / 3, np.nan, 1, 10, 4.5, 8, 15, 10], equal_nan=True)
    assert c.next_day.tolist() == [50, -1, 5, 49, 14, 66, 60, 60]


def test_one_purchase_day_gives_no_cycle_and_more_can_be_required():
    c = _cycles(min_purchases=3)

    assert c.has_cycle.tolist() == [True, False, False, True, True, False, False, False]
    assert c.next_day.tolist() == [50, -1, -1, 49, 14, -1, -1, -1]


def test_fewer_than_two_purchase_days_cannot_be_asked_for():
    with pytest.raises(ValueError):
        _cycles(min_purchases=1)


def test_due_category_is_the_live_one_expected_first():
    # As of day 60: client 1's category 5 (due 50, cycle 10) is 10 days overdue, not
    # more than a cycle: still due. Client 2's both passed by more than a cycle
    # (55 > 1, 11 > 9): lapsed, nothing due. Client 3's category 8 lapsed, 9 due on 66.
    # Client 4: both due on 60, the smaller category id wins.
    c = _cycles()

    assert is_lapsed(c, 60).tolist() == [False, False, True, True, True, False, False, False]
    due = due_categories(c, 60)
    assert due.client_id.tolist() == [1, 3, 4]
    assert due.category_id.tolist() == [5, 9, 1]
    assert due.next_day.tolist() == [50, 66, 60]
    assert due.cycle_days.tolist() == [10, 8, 15]
    assert due.purchases.tolist() == [4, 2, 2]
    assert due.last_day.tolist() == [40, 58, 45]


def test_lapse_can_be_loosened():
    due = due_categories(_cycles(), 60, lapse_cycles=2.0)

    # Client 2's category 7 (11 days past a 9-day cycle) is live again; category 5
    # (55 days past a 1-day cycle) is not.
    assert due.client_id.tolist() == [1, 2, 3, 4]
    assert due.category_id.tolist() == [5, 7, 9, 1]


def test_no_rows_no_cycles():
    c = category_cycles([], [], [])

    assert len(c) == 0
    assert len(due_categories(c, 10)) == 0


def test_sparse_ids_give_the_same_cycles():
    rows = np.array(ROWS)
    rows[:, 0] = rows[:, 0] * 10**12
    rows[:, 1] = rows[:, 1] * 10**9

    c = category_cycles(rows[:, 0], rows[:, 1], rows[:, 2])

    assert c.client_id.tolist()[:2] == [10**12, 10**12]
    assert c.category_id.tolist()[:2] == [5 * 10**9, 6 * 10**9]
    assert c.next_day.tolist() == [50, -1, 5, 49, 14, 66, 60, 60]


def test_keys_too_wide_to_pack_are_sorted_column_by_column():
    # Days 2**55 apart leave no room in one int64 key for the client and category.
    rows = np.array(ROWS)
    scale = 2**55

    c = category_cycles(rows[:, 0], rows[:, 1], rows[:, 2] * scale)

    assert c.purchases.tolist() == [4, 1, 2, 5, 3, 2, 2, 2]
    # (client 3's 4.5 cycles are now 4.5 x 2**55 days: nothing to round, 13.5 scaled)
    assert (c.next_day // scale).tolist() == [50, -1, 5, 49, 13, 66, 60, 60]
