import datetime as dt

import numpy as np
import pytest

from lavka.analytics.engine import summary
from lavka.analytics.engine.units import TimeUnit


def days(*isodates: str) -> np.ndarray:
    return np.array(isodates, dtype="datetime64[D]")


def test_cdnow_summary_matches_the_published_one(cdnow_summary, cdnow_published_summary):
    published = cdnow_published_summary

    assert len(cdnow_summary) == 2357
    assert cdnow_summary.client_id.tolist() == published[:, 0].astype(int).tolist()
    assert cdnow_summary.x.tolist() == published[:, 1].astype(int).tolist()
    np.testing.assert_array_equal(np.round(cdnow_summary.t_x, 2), published[:, 2])
    np.testing.assert_array_equal(np.round(cdnow_summary.T, 2), published[:, 3])
    average = np.where(cdnow_summary.x > 0, cdnow_summary.monetary, 0.0)
    # Published averages are rounded to the cent (half-cents may go either way).
    assert np.abs(average - published[:, 4]).max() <= 0.005 + 1e-9


def test_cdnow_first_customer_merges_nothing_and_ignores_the_holdout(cdnow_summary):
    # Client 1 bought on 1997-01-01 ($29.33), 01-18 ($29.73), 08-02 ($14.96) and
    # 12-12 (after the calibration end, ignored).
    assert cdnow_summary.x[0] == 2
    assert cdnow_summary.t_x[0] == pytest.approx(213 / 7)
    assert cdnow_summary.T[0] == pytest.approx(272 / 7)
    assert cdnow_summary.monetary[0] == pytest.approx((29.73 + 14.96) / 2)
    assert cdnow_summary.total[0] == pytest.approx(29.33 + 29.73 + 14.96)


def test_same_day_orders_are_one_purchase_and_returns_are_kept():
    # Client 7: two orders on the first day, one on day 3, a return on day 10, and an
    # order after the observation end.
    result = summary.summarize(
        [7, 7, 7, 7, 7],
        days("2026-01-01", "2026-01-01", "2026-01-04", "2026-01-11", "2026-01-21"),
        [10.0, 5.0, 20.0, -5.0, 99.0],
        observation_end=dt.date(2026, 1, 15),
    )

    assert result.client_id.tolist() == [7]
    assert result.x.tolist() == [2]
    assert result.t_x.tolist() == [10.0]
    assert result.T.tolist() == [14.0]
    assert result.monetary.tolist() == [7.5]  # (20 - 5) / 2
    assert result.frequency.tolist() == [3]
    assert result.total.tolist() == [30.0]
    assert result.transactions.tolist() == [4]
    assert result.first_on.tolist() == [dt.date(2026, 1, 1)]
    assert result.last_on.tolist() == [dt.date(2026, 1, 11)]
    assert result.recency_days().tolist() == [4]


def test_unordered_rows_of_several_clients_in_weeks():
    result = summary.summarize(
        np.array([3, 1, 3, 2, 1]),
        days("2026-01-15", "2026-01-01", "2026-01-01", "2026-01-08", "2026-01-15"),
        [1.0, 2.0, 3.0, 4.0, 6.0],
        observation_end=np.datetime64("2026-01-29"),
        unit=TimeUnit.WEEKS,
    )

    assert result.client_id.tolist() == [1, 2, 3]
    assert result.x.tolist() == [1, 0, 1]
    assert result.t_x.tolist() == [2.0, 0.0, 2.0]
    assert result.T.tolist() == [4.0, 3.0, 4.0]
    assert result.monetary[[0, 2]].tolist() == [6.0, 1.0]
    assert np.isnan(result.monetary[1])
    assert result.unit is TimeUnit.WEEKS


def test_ids_far_apart_and_negative_take_the_general_path():
    ids = np.array([2**62, -(2**62), 2**62, 5], dtype=np.int64)
    result = summary.summarize(
        ids,
        np.array([100, 100, 103, 101]),  # days since the epoch
        [1.0, 2.0, 3.0, 4.0],
        observation_end=110,
    )

    assert result.client_id.tolist() == [-(2**62), 5, 2**62]
    assert result.x.tolist() == [0, 0, 1]
    assert result.T.tolist() == [10.0, 9.0, 10.0]
    assert result.total.tolist() == [2.0, 4.0, 4.0]


def test_datetimes_are_floored_to_their_day():
    result = summary.summarize(
        [1, 1],
        np.array(["2026-03-01T23:59", "2026-03-01T08:00"], dtype="datetime64[m]"),
        [1.0, 1.0],
        observation_end=dt.date(2026, 3, 1),
    )

    assert result.x.tolist() == [0]
    assert result.frequency.tolist() == [1]
    assert result.T.tolist() == [0.0]


def test_no_transactions_before_the_end_gives_an_empty_summary():
    result = summary.summarize([1], days("2026-02-01"), [5.0], observation_end=dt.date(2026, 1, 1))

    assert len(result) == 0
    assert result.groups().weight.size == 0


def test_groups_merge_identical_histories_and_expand_back():
    result = summary.summarize(
        [1, 1, 2, 2, 3],
        days("2026-01-01", "2026-01-05", "2026-01-01", "2026-01-05", "2026-01-01"),
        [1.0, 2.0, 3.0, 4.0, 5.0],
        observation_end=dt.date(2026, 1, 11),
    )

    groups = result.groups()

    assert groups.weight.sum() == 3
    assert sorted(zip(groups.x, groups.t_x, groups.T, groups.weight, strict=True)) == [
        (0.0, 0.0, 10.0, 1.0),
        (1.0, 4.0, 10.0, 2.0),
    ]
    np.testing.assert_array_equal(groups.x[groups.inverse], result.x)
    np.testing.assert_array_equal(groups.t_x[groups.inverse], result.t_x)
    np.testing.assert_array_equal(groups.T[groups.inverse], result.T)


@pytest.mark.parametrize(
    ("ids", "dates", "amounts", "message"),
    [
        ([1.5], [1], [1.0], "client_ids must be integers"),
        ([1], [1], [np.nan], "amounts must be finite"),
        ([1, 2], [1], [1.0], "one length"),
        ([1], ["2026-01-01"], [1.0], "datetime64 or integer"),
    ],
)
def test_invalid_columns_are_refused(ids, dates, amounts, message):
    with pytest.raises(ValueError, match=message):
        summary.summarize(ids, dates, amounts, observation_end=10)


def test_wide_ids_that_leave_no_room_for_the_row_number_are_sorted_too():
    # 56 bits of id span + 7 bits of days fill the int64 key: the argsort path.
    result = summary.summarize(
        np.array([2**55, 0, 0], dtype=np.int64),
        np.array([100, 5, 0]),
        [1.0, 2.0, 3.0],
        observation_end=100,
    )

    assert result.client_id.tolist() == [0, 2**55]
    assert result.x.tolist() == [1, 0]
    assert result.t_x.tolist() == [5.0, 0.0]
    assert result.monetary[0] == 2.0


def test_compact_ids_give_what_the_general_path_gives():
    # 5,000 clients with compact ids take the 32-bit path; the same rows with ids spread
    # out by 10**7 take the general (row-carrying) sort. Same-day repeats, returns and a
    # row after the end included.
    rng = np.random.default_rng(7)
    n = 60_000
    ids = rng.integers(1, 5_001, n)
    when = np.datetime64("2024-01-01") + rng.integers(0, 1_000, n).astype("timedelta64[D]")
    amounts = np.round(rng.normal(80, 60, n), 2)
    end = np.datetime64("2026-09-01")

    compact = summary.summarize(ids, when, amounts, observation_end=end)
    spread = summary.summarize(ids * 10**7, when, amounts, observation_end=end)

    assert compact.client_id.tolist() == (spread.client_id // 10**7).tolist()
    for name in ("first_on", "last_on", "x", "t_x", "T", "frequency", "transactions"):
        assert getattr(compact, name).tolist() == getattr(spread, name).tolist(), name
    np.testing.assert_allclose(compact.total, spread.total, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(compact.monetary, spread.monetary, rtol=1e-12, atol=1e-9)
    assert np.isnan(compact.monetary).tolist() == np.isnan(spread.monetary).tolist()
