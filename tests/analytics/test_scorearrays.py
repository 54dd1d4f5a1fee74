"""The current run's scores as arrays (lavka.analytics.scorearrays): a filter finds the
same clients as the database's WHERE and a sort gives the database's ORDER BY, NULLs
included, on the hand-made base of tests/analytics/test_filters.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Exists, F, OuterRef, Q

from lavka.analytics.filters import SORTS, _conditions, _parse
from lavka.analytics.models import ClientScore, ComputeRun
from lavka.analytics.scorearrays import score_arrays, score_arrays_forget
from tests.analytics.test_filters import base  # noqa: F401 (the fixture)

D = dt.date


def _database_ids(run, conditions):
    rows = ClientScore.objects.filter(conditions, run_id=run.pk).order_by("client_id")
    return list(rows.values_list("client_id", flat=True))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"segment": "champions"},
        {"segment": "at_risk,lost"},
        {"abc": "A", "xyz": "X"},
        {"stage": "loyal,lost"},
        {"clv_min": "1000"},
        {"clv_min": "1000.01", "clv_max": "7000"},
        {"leave_min": "50"},
        {"leave_min": "4", "leave_max": "10"},
        {"next_from": "2026-07-10", "next_to": "2026-08-01"},
        {"next_from": "2026-08-02"},
        {"cohort": "2025-03"},
        {"segment": "champions", "clv_max": "7500", "leave_max": "6"},
    ],
)
def test_a_filter_on_the_arrays_finds_what_the_database_finds(org, base, params):  # noqa: F811
    conditions = _conditions(_parse(params)[0])
    arrays = score_arrays(base.run)

    keep = arrays.mask(conditions)

    assert keep is not None
    assert arrays.client_id[keep].tolist() == _database_ids(base.run, conditions)


def test_the_arrays_hold_the_current_run_only(org, base):  # noqa: F811
    arrays = score_arrays(base.run)

    assert arrays.run_id == base.run.pk
    assert arrays.client_id.tolist() == sorted(
        c.pk for c in (base.alpha, base.bravo, base.charlie, base.delta, base.echo)
    )


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("params", [{}, {"abc": "A"}, {"segment": "champions"}])
def test_a_sort_on_the_arrays_is_the_database_s_order(org, base, sort, params):  # noqa: F811
    name, descending = SORTS[sort]
    conditions = _conditions(_parse(params)[0])
    arrays = score_arrays(base.run)
    rows = ClientScore.objects.filter(conditions, run_id=base.run.pk, **{f"{name}__isnull": False})
    order = (F(name).desc(), "-client_id") if descending else (F(name).asc(), "client_id")
    expected = list(rows.order_by(*order).values_list("client_id", flat=True))

    ranked = arrays.ranked(name, descending=descending, keep=arrays.mask(conditions))

    assert ranked.tolist() == expected


def test_a_sort_over_most_of_the_run_reads_its_kept_order(org, base, monkeypatch):  # noqa: F811
    # Over a sixteenth of the run, the order of the whole run is built once and kept.
    from lavka.analytics import scorearrays

    arrays = score_arrays(base.run)
    keep = arrays.mask(Q())
    monkeypatch.setattr(scorearrays, "_SORT_MATCHES_SHARE", 0.0)
    whole = arrays.ranked("clv", descending=True, keep=keep).tolist()
    monkeypatch.setattr(scorearrays, "_SORT_MATCHES_SHARE", 2.0)
    matched = arrays.ranked("clv", descending=True, keep=keep).tolist()

    assert whole == matched == [base.delta.pk, base.echo.pk, base.alpha.pk, base.bravo.pk]


@pytest.mark.parametrize(
    "conditions",
    [
        Q(segment=0) | Q(abc=0),
        ~Q(segment=0),
        Q(Exists(ClientScore.objects.filter(client_id=OuterRef("client_id")))),
        Q(frequency__gte=2),
        Q(segment__range=(0, 2)),
        Q(next_purchase_on=None),
    ],
)
def test_what_the_arrays_cannot_evaluate_is_left_to_the_database(org, base, conditions):  # noqa: F811
    assert score_arrays(base.run).mask(conditions) is None


def test_a_process_keeps_one_run_s_arrays_until_another_is_asked_for(org, base):  # noqa: F811
    previous = ComputeRun.objects.exclude(pk=base.run.pk).get()

    first = score_arrays(base.run)
    again = score_arrays(base.run)
    other = score_arrays(previous)
    back = score_arrays(base.run)
    score_arrays_forget()

    assert again is first
    assert other.client_id.tolist() == sorted([base.foxtrot.pk, base.charlie.pk])
    assert back is not first and back.client_id.tolist() == first.client_id.tolist()
    assert score_arrays(base.run) is not back


@pytest.mark.parametrize("share", [0.0, 2.0])  # the run's kept order; sorting the matches
@pytest.mark.parametrize("descending", [True, False])
def test_a_sort_s_first_ids_are_the_front_of_its_whole_order(
    org,
    base,  # noqa: F811
    monkeypatch,
    share,
    descending,
):
    from lavka.analytics import scorearrays

    monkeypatch.setattr(scorearrays, "_SORT_MATCHES_SHARE", share)
    arrays = score_arrays(base.run)
    keep = arrays.mask(Q())
    whole = arrays.ranked("p_alive", descending=descending, keep=keep).tolist()

    fronts = [
        arrays.ranked("p_alive", descending=descending, keep=keep, limit=n).tolist()
        for n in range(1, 7)
    ]

    assert len(whole) == 4
    assert fronts == [whole[:n] for n in range(1, 7)]


def test_a_sort_over_many_clients_reads_its_order_in_steps_and_gives_the_same_front():
    # 20,000 clients, a tenth without a value, ties among the values, a filter keeping
    # about a third: the first ids read step by step from the kept order are the front
    # of the whole order (by value, then client id).
    import numpy as np

    from lavka.analytics.scorearrays import ScoreArrays

    rng = np.random.default_rng(7)
    n = 20_000
    clv = rng.integers(0, 500, n).astype(np.float64)
    clv[rng.random(n) < 0.1] = np.nan
    arrays = ScoreArrays(
        run_id=1, client_id=np.arange(1, n + 1, dtype=np.int64) * 3, columns={"clv": clv}
    )
    by_value = arrays.client_id[np.lexsort((arrays.client_id, clv))]
    # A random third; the highest fifth of the values (met only at the far end of the
    # ascending order: read in steps four times larger each).
    for keep in (rng.random(n) < 0.35, clv >= 400):
        valid = keep & ~np.isnan(clv)
        expected = [c for c in by_value.tolist() if valid[c // 3 - 1]]
        for descending in (False, True):
            order = expected[::-1] if descending else expected
            assert arrays.ranked("clv", descending=descending, keep=keep).tolist() == order
            for limit in (1, 51, 1_001, 3_000, len(order), len(order) + 10):
                front = arrays.ranked("clv", descending=descending, keep=keep, limit=limit)
                assert front.tolist() == order[:limit]
