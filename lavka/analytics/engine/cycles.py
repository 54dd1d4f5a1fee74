"""Repeat cycles per client and product category: how often a client buys from a
category, and when the next purchase from it is expected.

Input: one row per order line (client id, category id, day as days since 1970-01-01).
Lines of one client in one category on the same day are one purchase (as in
`summary.py`). For each (client, category) with a purchase:

- `purchases`: distinct purchase days; `first_day`, `last_day`;
- `mean_days`: (last - first) / (purchases - 1), the average interval;
- `cycle_days`: the **median** interval between consecutive purchase days, so one long
  pause (a holiday, a stock-up) does not stretch the cycle of a regular buyer;
- `next_day`: `last_day + round(cycle_days)`, the next expected purchase.

Too little history: a cycle needs at least `min_purchases` distinct purchase days in the
category (default 2, one interval); below that `cycle_days` and `mean_days` are NaN and
`next_day` is -1. A cycle is never shorter than one day.

`due_categories` picks, per client, the category whose next purchase comes first among
those still "live": a category is *lapsed* (left out) when its expected date passed more
than `lapse_cycles` cycles ago (default 1: the client has skipped two whole cycles since
the last purchase from it), because by then the habit has most likely ended and a date
long in the past says nothing about the next purchase. Ties go to the smaller category
id.

Everything is array arithmetic after one sort of (client, category, day) keys packed
into one int64 each, and one sort of the intervals; no Python loop per client.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

MIN_PURCHASES = 2
LAPSE_CYCLES = 1.0


@dataclass(frozen=True, slots=True)
class Cycles:
    """One row per (client, category) with a purchase, ordered by client then category."""

    client_id: IntArray
    category_id: IntArray
    purchases: IntArray
    first_day: IntArray
    last_day: IntArray
    mean_days: FloatArray  # NaN below `min_purchases`
    cycle_days: FloatArray  # median interval, NaN below `min_purchases`
    next_day: IntArray  # -1 below `min_purchases`

    def __len__(self) -> int:
        return int(self.client_id.size)

    @property
    def has_cycle(self) -> NDArray[np.bool_]:
        return self.next_day >= 0


@dataclass(frozen=True, slots=True)
class DueCategories:
    """Per client (ascending ids, only clients with a live category): the category due
    first, its expected day, cycle, purchase days and last purchase from it."""

    client_id: IntArray
    category_id: IntArray
    next_day: IntArray
    cycle_days: FloatArray
    purchases: IntArray
    last_day: IntArray

    def __len__(self) -> int:
        return int(self.client_id.size)


def _compact(values: IntArray) -> tuple[IntArray, IntArray]:
    """(distinct values ascending, index of each value among them). A lookup table when
    the values are dense small integers (ids usually are), else `np.unique`."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high <= 4 * values.size + 1_000_000:
        present = np.bincount(values, minlength=high + 1) > 0
        distinct = np.flatnonzero(present).astype(np.int64)
        table = np.cumsum(present, dtype=np.int64) - 1
        return distinct, table[values]
    distinct, index = np.unique(values, return_inverse=True)
    return distinct.astype(np.int64), index.astype(np.int64).reshape(-1)


def _empty() -> Cycles:
    zi = np.zeros(0, dtype=np.int64)
    zf = np.zeros(0, dtype=np.float64)
    return Cycles(zi, zi, zi, zi, zi, zf, zf, zi)


def category_cycles(
    client: ArrayLike,
    category: ArrayLike,
    day: ArrayLike,
    *,
    min_purchases: int = MIN_PURCHASES,
) -> Cycles:
    """The repeat cycle of every (client, category) in the rows (see the module
    docstring). The three arrays are of equal length; order does not matter."""
    if min_purchases < 2:
        raise ValueError("a cycle needs at least two purchase days")
    clients = np.asarray(client, dtype=np.int64)
    categories = np.asarray(category, dtype=np.int64)
    days = np.asarray(day, dtype=np.int64)
    if not (clients.size == categories.size == days.size):
        raise ValueError("client, category and day must have the same length")
    if clients.size == 0:
        return _empty()
    category_ids, gi = _compact(categories)
    n_categories = int(category_ids.size)
    first = int(days.min())
    span = int(days.max()) - first + 1
    low, high = int(clients.min()), int(clients.max())
    # The key packs (client, category, day offset) into bit fields, so that splitting
    # it again is a shift and a mask rather than an integer division.
    day_bits = max(1, (span - 1).bit_length())
    category_bits = max(1, (n_categories - 1).bit_length())
    client_ids: IntArray | None = None
    if (high - low).bit_length() + category_bits + day_bits <= 62:
        # Client ids offset by the smallest: no table, the key decodes back to the id.
        key = clients - low
    else:
        client_ids, key = _compact(clients)
    if (int(key.max())).bit_length() + category_bits + day_bits <= 62:
        key <<= category_bits
        key |= gi
        del gi
        key <<= day_bits
        key += days
        key -= first
        key.sort()
        distinct = np.empty(key.size, dtype=bool)
        distinct[0] = True
        np.not_equal(key[1:], key[:-1], out=distinct[1:])
        key = key[distinct]
        offset = key & ((1 << day_bits) - 1)
        key >>= day_bits
        group_key = key
        del key
    else:  # astronomically sparse ids and long spans: sort the three columns
        order = np.lexsort((days, gi, key))
        group_key = (key[order] << category_bits) | gi[order]
        offset = days[order] - first
        distinct = np.ones(group_key.size, dtype=bool)
        distinct[1:] = (group_key[1:] != group_key[:-1]) | (offset[1:] != offset[:-1])
        group_key, offset = group_key[distinct], offset[distinct]
    del distinct
    starts_group = np.empty(group_key.size, dtype=bool)
    starts_group[0] = True
    np.not_equal(group_key[1:], group_key[:-1], out=starts_group[1:])
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], group_key.size) - 1
    purchases = (ends - starts + 1).astype(np.int64)
    keys = group_key[starts]
    first_day = offset[starts] + first
    last_day = offset[ends] + first
    n = keys.size
    m = purchases - 1  # intervals per group

    # Intervals between consecutive purchase days of one group, sorted within groups.
    same = ~starts_group[1:]
    gaps = (offset[1:] - offset[:-1])[same]
    del offset, group_key, starts_group, same
    gap_group = np.repeat(np.arange(n, dtype=np.int64), m)
    max_gap = int(gaps.max()) + 1 if gaps.size else 1
    packed = gap_group * max_gap + gaps
    del gap_group
    packed.sort()
    sorted_gaps = packed % max_gap
    del packed, gaps
    gap_start = np.cumsum(m) - m
    enough = purchases >= min_purchases
    median = np.full(n, np.nan)
    mean = np.full(n, np.nan)
    if enough.any():
        s, k = gap_start[enough], m[enough]
        lower = sorted_gaps[s + (k - 1) // 2]
        upper = sorted_gaps[s + k // 2]
        median[enough] = (lower + upper) / 2.0
        mean[enough] = (last_day[enough] - first_day[enough]) / k
    cycle = np.maximum(median, 1.0)
    next_day = np.full(n, -1, dtype=np.int64)
    next_day[enough] = last_day[enough] + np.floor(cycle[enough] + 0.5).astype(np.int64)
    client_index = keys >> category_bits
    category_index = keys & ((1 << category_bits) - 1)
    return Cycles(
        client_id=client_index + low if client_ids is None else client_ids[client_index],
        category_id=category_ids[category_index],
        purchases=purchases,
        first_day=first_day,
        last_day=last_day,
        mean_days=mean,
        cycle_days=np.where(enough, cycle, np.nan),
        next_day=next_day,
    )


def is_lapsed(
    cycles: Cycles, as_of: int, *, lapse_cycles: float = LAPSE_CYCLES
) -> NDArray[np.bool_]:
    """Rows whose expected day passed more than `lapse_cycles` cycles before `as_of`
    (days since 1970-01-01). Rows without a cycle are not lapsed (and not due)."""
    with np.errstate(invalid="ignore"):
        return cycles.has_cycle & (as_of - cycles.next_day > lapse_cycles * cycles.cycle_days)


def due_categories(
    cycles: Cycles, as_of: int, *, lapse_cycles: float = LAPSE_CYCLES
) -> DueCategories:
    """Per client, the live category expected first (see the module docstring)."""
    live = cycles.has_cycle & ~is_lapsed(cycles, as_of, lapse_cycles=lapse_cycles)
    rows = np.flatnonzero(live)
    # Rows are ordered by (client, category): a stable sort by (client, next day) keeps
    # the smaller category first among ties.
    order = rows[np.lexsort((cycles.next_day[rows], cycles.client_id[rows]))]
    clients = cycles.client_id[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = clients[1:] != clients[:-1]
    pick = order[first]
    return DueCategories(
        client_id=cycles.client_id[pick],
        category_id=cycles.category_id[pick],
        next_day=cycles.next_day[pick],
        cycle_days=cycles.cycle_days[pick],
        purchases=cycles.purchases[pick],
        last_day=cycles.last_day[pick],
    )
