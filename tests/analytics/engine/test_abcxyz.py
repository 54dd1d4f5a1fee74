import datetime as dt

import numpy as np
import pytest

from lavka.analytics.engine.abcxyz import (
    Abc,
    Xyz,
    abc_classes,
    abc_xyz_matrix,
    monthly_variation,
    value_by_key,
    xyz_classes,
)

A, B, C = Abc.A, Abc.B, Abc.C
X, Y, Z = Xyz.X, Xyz.Y, Xyz.Z


@pytest.mark.parametrize(
    ("values", "classes"),
    [
        # shares held by more valuable keys: 0, .5, .8, .95
        ([50, 30, 15, 5], [A, A, B, C]),
        # the key that crosses 80% is still A: 0, .6, .9
        ([60, 30, 10], [A, A, B]),
        # order does not matter
        ([5, 15, 50, 30], [C, B, A, A]),
        # one dominant client is A, not B
        ([90, 6, 4], [A, B, C]),
        # ties share a class: the 10s are both held-by-greater = .8 -> B
        ([40, 20, 20, 10, 10], [A, A, A, B, B]),
        # all equal: all needed to reach 80%
        ([10, 10, 10, 10], [A, A, A, A]),
        ([7], [A]),
        # zero and negative values (no sales, returns) are C; shares of the positive total
        ([0, 100, -20, 0], [C, A, C, C]),
        ([0, 0, 0], [C, C, C]),
        ([], []),
    ],
)
def test_abc_classes(values, classes):
    assert abc_classes(values).tolist() == classes


def test_abc_with_other_shares():
    # 50/30/20: held by greater 0, .4, .7, .9
    assert abc_classes([40, 30, 20, 10], shares=(0.5, 0.3, 0.2)).tolist() == [A, A, B, C]


def test_abc_shares_must_add_up():
    with pytest.raises(ValueError, match="adding up to 1"):
        abc_classes([1.0], shares=(0.8, 0.1, 0.05))


def test_value_by_key_sums_order_lines():
    keys, totals = value_by_key([7, 3, 7, 9], [10.0, 5.0, 2.5, -1.0])

    assert keys.tolist() == [3, 7, 9]
    assert totals.tolist() == [5.0, 12.5, -1.0]


@pytest.fixture
def lines():
    """Order lines Jan-Apr 2026 (plus some outside), keyed by client."""
    rows = [
        # client 1: 10 every month -> CV 0 -> X
        (1, "2026-01-05", 10.0),
        (1, "2026-02-05", 10.0),
        (1, "2026-03-05", 4.0),
        (1, "2026-03-20", 6.0),  # two lines in March add up to 10
        (1, "2026-04-05", 10.0),
        # client 2: 10, 12, 8, 10 -> sigma sqrt(2), CV 0.1414 -> Y
        (2, "2026-01-10", 10.0),
        (2, "2026-02-10", 12.0),
        (2, "2026-03-10", 8.0),
        (2, "2026-04-10", 10.0),
        (2, "2025-12-31", 1000.0),  # before the window: ignored
        # client 3: 10, 0, 0, 0 -> mean 2.5, sigma sqrt(18.75), CV 1.732 -> Z
        (3, "2026-01-15", 10.0),
        # client 4: only after the window
        (4, "2026-05-01", 50.0),
    ]
    keys = np.array([r[0] for r in rows])
    dates = np.array([r[1] for r in rows], dtype="datetime64[D]")
    values = np.array([r[2] for r in rows])
    return keys, dates, values


def test_monthly_variation_by_hand(lines):
    keys, dates, values = lines

    variation = monthly_variation(
        keys, dates, values, first_month=dt.date(2026, 1, 1), last_month=np.datetime64("2026-04")
    )

    assert variation.months == 4
    assert variation.keys.tolist() == [1, 2, 3]
    assert variation.mean.tolist() == [10.0, 10.0, 2.5]
    np.testing.assert_allclose(variation.std, [0.0, np.sqrt(2.0), np.sqrt(18.75)], rtol=1e-12)
    np.testing.assert_allclose(variation.cv, [0.0, np.sqrt(2.0) / 10, np.sqrt(3.0)], rtol=1e-12)
    assert xyz_classes(variation.cv).tolist() == [X, Y, Z]


def test_keys_without_sales_in_the_window_are_z(lines):
    keys, dates, values = lines

    variation = monthly_variation(
        keys,
        dates,
        values,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 4, 1),
        all_keys=[1, 2, 3, 4, 5],
    )

    assert variation.keys.tolist() == [1, 2, 3, 4, 5]
    assert variation.mean[3:].tolist() == [0.0, 0.0]
    assert np.isnan(variation.cv[3:]).all()
    assert xyz_classes(variation.cv).tolist() == [X, Y, Z, Z, Z]


def test_rows_of_keys_not_listed_are_ignored(lines):
    keys, dates, values = lines

    variation = monthly_variation(
        keys,
        dates,
        values,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 4, 1),
        all_keys=[2],
    )

    assert variation.keys.tolist() == [2]
    assert variation.mean.tolist() == [10.0]


def test_xyz_thresholds_are_inclusive_and_configurable():
    cv = [0.0, 0.1, 0.100001, 0.25, 0.3, np.nan]

    assert xyz_classes(cv).tolist() == [X, X, Y, Y, Z, Z]
    assert xyz_classes(cv, thresholds=(0.5, 1.0)).tolist() == [X, X, X, X, X, Z]


def test_matrix_counts_and_sums_value_per_cell():
    abc = [A, A, B, C, C, C]
    xyz = [X, X, Z, Y, Y, Z]
    revenue = [100.0, 50.0, 20.0, 3.0, 2.0, 0.0]

    matrix = abc_xyz_matrix(abc, xyz, revenue)

    assert matrix.counts.tolist() == [[2, 0, 0], [0, 0, 1], [0, 2, 1]]
    assert matrix.values.tolist() == [[150.0, 0.0, 0.0], [0.0, 0.0, 20.0], [0.0, 5.0, 0.0]]
    assert matrix.cell(Abc.C, Xyz.Y) == (2, 5.0)


def test_a_single_client_end_to_end():
    _, totals = value_by_key([42, 42], [30.0, 30.0])
    variation = monthly_variation(
        [42, 42],
        np.array(["2026-01-01", "2026-02-01"], dtype="datetime64[D]"),
        [30.0, 30.0],
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 2, 1),
    )

    matrix = abc_xyz_matrix(abc_classes(totals), xyz_classes(variation.cv), totals)

    assert matrix.cell(Abc.A, Xyz.X) == (1, 60.0)
    assert matrix.counts.sum() == 1
