"""Monthly acquisition cohorts: retention and revenue by month since the first purchase.

A client's **cohort** is the calendar month of their first purchase. For a cohort and
a month offset k (0 = the cohort's own month), the **active** clients are the cohort's
clients with at least one order in month cohort + k, **retention** is active / the
cohort's clients (so offset 0 is always 1), and **revenue** is the total of those
orders (revenue per cohort client = revenue / clients). A cell whose month is after
the as-of month has not happened yet and holds no number; the as-of month itself is
counted as far as it has gone.

Every breakdown (the whole base, acquisition channel, tier) shares one pass over the
orders: the distinct (client, offset) pairs are found once with a bitmap over
clients x offsets (one scattered write per order, no sort), and each breakdown is then
one `bincount` over those pairs and one over the orders. Time and memory are linear in
orders + clients x (offsets + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

MAX_COHORTS = 36
MAX_OFFSET = 36
_BITMAP_LIMIT = 400_000_000  # cells (bytes) above which distinct pairs are sorted instead
_DENSE_SLACK = 1_000_000  # a direct id -> row table when ids stay below 4 x clients + this


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Per group g (of `n_groups`), cohort c and offset k."""

    clients: NDArray[np.int64]  # (G, C)
    active: NDArray[np.int64]  # (G, C, K + 1)
    revenue: NDArray[np.float64]  # (G, C, K + 1)

    def retention(self) -> NDArray[np.float64]:
        """active / clients, NaN where a cohort has no clients."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.active / self.clients[:, :, None]


@dataclass(frozen=True, slots=True)
class CohortTable:
    first_month: int  # the oldest cohort, months since 1970-01
    as_of_month: int
    max_offset: int
    breakdowns: dict[str, Breakdown]

    @property
    def n_cohorts(self) -> int:
        return self.as_of_month - self.first_month + 1

    def labels(self) -> list[str]:
        """Cohort months as YYYY-MM, oldest first."""
        return [month_label(self.first_month + c) for c in range(self.n_cohorts)]

    def observed(self) -> NDArray[np.bool_]:
        """(C, K + 1): whether cohort c's offset k is on or before the as-of month."""
        cohort = np.arange(self.n_cohorts)[:, None] + self.first_month
        offset = np.arange(self.max_offset + 1)[None, :]
        return np.asarray(cohort + offset <= self.as_of_month)


def month_label(month: int) -> str:
    return f"{1970 + month // 12:04d}-{month % 12 + 1:02d}"


def months_of(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Months since 1970-01 of days since 1970-01-01, through a table over the days'
    range (one gather instead of a calendar computation per row)."""
    if days.size == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(days.min()), int(days.max())
    if high - low > 4 * days.size + 100_000:  # a sparse range: convert row by row
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    span = np.arange(low, high + 1, dtype=np.int64)
    table = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.asarray(table[days - low], dtype=np.int64)


def _rows_of(ids: NDArray[np.int64], sorted_ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """Row of each id in `sorted_ids` (ascending, distinct), -1 where absent."""
    if sorted_ids.size == 0:
        return np.full(ids.size, -1, dtype=np.int64)
    top = int(sorted_ids[-1])
    if int(sorted_ids[0]) >= 0 and top <= 4 * sorted_ids.size + _DENSE_SLACK:
        table = np.full(top + 1, -1, dtype=np.int64)
        table[sorted_ids] = np.arange(sorted_ids.size)
        inside = (ids >= 0) & (ids <= top)
        rows = np.full(ids.size, -1, dtype=np.int64)
        rows[inside] = table[ids[inside]]
        return rows
    at = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


def cohort_table(
    order_client: ArrayLike,
    order_day: ArrayLike,
    order_amount: ArrayLike,
    *,
    client_ids: ArrayLike,
    client_first_day: ArrayLike,
    as_of_day: int,
    groups: dict[str, tuple[NDArray[np.int64], int]] | None = None,
    max_cohorts: int = MAX_COHORTS,
    max_offset: int = MAX_OFFSET,
) -> CohortTable:
    """Cohorts of the last `max_cohorts` months up to the month of `as_of_day`
    (starting at the oldest month with a first purchase when that is later), offsets
    0..`max_offset`.

    `client_ids` ascending and distinct with each client's first purchase day
    (`client_first_day`, days since 1970-01-01); orders of clients not listed and
    orders after `as_of_day` are ignored. `groups` maps a breakdown's name to (group of
    each client, -1 for none; number of groups); the breakdown "all" (one group) is
    always computed."""
    o_client = np.asarray(order_client, dtype=np.int64)
    o_day = np.asarray(order_day, dtype=np.int64)
    o_amount = np.asarray(order_amount, dtype=np.float64)
    ids = np.asarray(client_ids, dtype=np.int64)
    first_day = np.asarray(client_first_day, dtype=np.int64)
    as_of_month = int(months_of(np.array([as_of_day], dtype=np.int64))[0])
    first_month_all = months_of(first_day)
    known = first_day <= as_of_day
    oldest = int(first_month_all[known].min()) if known.any() else as_of_month
    first_month = max(as_of_month - max_cohorts + 1, oldest)
    n_cohorts = as_of_month - first_month + 1
    width = max_offset + 1

    cohort = np.where(known, first_month_all - first_month, -1)
    cohort[(cohort < 0) | (cohort >= n_cohorts)] = -1

    # Orders of clients in a cohort of the table, up to as_of, within max_offset.
    keep = o_day <= as_of_day
    if not keep.all():
        o_client, o_day, o_amount = o_client[keep], o_day[keep], o_amount[keep]
    rows = _rows_of(o_client, ids)
    o_cohort = np.where(rows >= 0, cohort[np.maximum(rows, 0)], -1)
    offset = months_of(o_day) - first_month - o_cohort
    keep = (o_cohort >= 0) & (offset >= 0) & (offset <= max_offset)
    rows, o_cohort, offset, o_amount = rows[keep], o_cohort[keep], offset[keep], o_amount[keep]

    # Distinct (client row, offset) pairs.
    pair = rows * width + offset
    cells = ids.size * width
    if cells <= _BITMAP_LIMIT:
        seen = np.zeros(cells, dtype=np.bool_)
        seen[pair] = True
        distinct = np.flatnonzero(seen)
        del seen
    else:
        distinct = np.unique(pair)
    d_row = distinct // width
    d_offset = distinct % width
    d_cohort = cohort[d_row]

    every: dict[str, tuple[NDArray[np.int64], int]] = {
        "all": (np.zeros(ids.size, dtype=np.int64), 1)
    }
    every.update(groups or {})
    breakdowns: dict[str, Breakdown] = {}
    for name, (group_of_client, n_groups) in every.items():
        group = np.asarray(group_of_client, dtype=np.int64)
        size = n_groups * n_cohorts
        in_client = (cohort >= 0) & (group >= 0)
        clients = np.bincount(
            group[in_client] * n_cohorts + cohort[in_client], minlength=size
        ).reshape(n_groups, n_cohorts)
        d_group = group[d_row]
        ok = d_group >= 0
        active = np.bincount(
            (d_group[ok] * n_cohorts + d_cohort[ok]) * width + d_offset[ok],
            minlength=size * width,
        ).reshape(n_groups, n_cohorts, width)
        o_group = group[rows]
        ok = o_group >= 0
        revenue = np.bincount(
            (o_group[ok] * n_cohorts + o_cohort[ok]) * width + offset[ok],
            weights=o_amount[ok],
            minlength=size * width,
        ).reshape(n_groups, n_cohorts, width)
        breakdowns[name] = Breakdown(
            clients=clients.astype(np.int64),
            active=active.astype(np.int64),
            revenue=revenue.astype(np.float64),
        )
    return CohortTable(
        first_month=first_month,
        as_of_month=as_of_month,
        max_offset=max_offset,
        breakdowns=breakdowns,
    )
