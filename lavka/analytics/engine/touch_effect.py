"""Touchpoint effectiveness: what followed a touch within N days.

Each touch belongs to a group (a kind and channel). Per group:
- **touches**, and **reach**: the distinct clients touched;
- for each horizon N (days): the touches **eligible** for it (at least N days old on
  the as-of day, so that the whole window has been seen), those followed by a purchase
  of the same client on a day in (touch day, touch day + N] (**purchased**), the
  **revenue** of those purchases (summed per touch: an order that follows two touches
  counts for both), those followed by a move of one of the client's deals to another
  stage (**moved**) and by either (**either**);
- a **baseline** for each horizon: the same clients' purchase rate in a window of N
  days drawn at random from the period, one per eligible touch, in which the client had
  no touch from N days before the window to its end (a sample of at most
  `BASELINE_PER_GROUP` touches per group). It answers "would they have bought
  anyway?": the lift of a group is its purchase rate over its baseline. Windows that
  cannot be found without a touch after a few draws (clients touched all the time) are
  left out and counted (`baseline_sampled`). The draw is seeded, so a run is repeatable.

Days are days since 1970-01-01. Touches, orders and moves are matched by a composite
key client x SPAN + day sorted once, with `searchsorted` for each window: no Python per
row. Time is dominated by sorting the touches and the orders in the period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

HORIZONS = (7, 14, 30)
_BASELINE_DRAWS = 8
_BITMAP_LIMIT = 200_000_000  # clients x groups (bytes) above which reach is found by sorting
BASELINE_PER_GROUP = 20_000  # touches sampled per group for the baseline (at most)


@dataclass(frozen=True, slots=True)
class Horizon:
    days: int
    eligible: NDArray[np.int64]  # per group
    purchased: NDArray[np.int64]
    revenue: NDArray[np.float64]
    moved: NDArray[np.int64]
    either: NDArray[np.int64]
    baseline_sampled: NDArray[np.int64]  # touches for which a window without a touch was found
    baseline_purchased: NDArray[np.int64]  # of those windows, ones with a purchase


@dataclass(frozen=True, slots=True)
class TouchEffect:
    touches: NDArray[np.int64]  # per group
    reach: NDArray[np.int64]
    horizons: list[Horizon]
    total_reach: int  # distinct clients touched at all


def _sorted_touches(
    client: NDArray[np.int64],
    day: NDArray[np.int64],
    group: NDArray[np.int64],
    base: int,
    span: int,
    n_groups: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Touch keys ascending with their clients and groups. The group rides in the low
    digits of one packed number so that a plain sort (much faster than an argsort)
    does it, when the product fits in 62 bits."""
    keys = client * span + (day - base)
    if int(client.max()) < (1 << 62) // (span * max(n_groups, 1)):
        packed = np.sort(keys * n_groups + group)
        keys, group = np.divmod(packed, n_groups)
    else:
        order = np.argsort(keys)
        keys, group = keys[order], group[order]
    return keys, keys // span, group


def _order(keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """The permutation that sorts `keys` (non-negative): a plain sort of key and row
    number packed in one number when that fits in 62 bits (several times faster than
    an argsort), else an argsort."""
    bits = max(1, int(keys.size).bit_length())
    if keys.size and int(keys.max()) < (1 << (62 - bits)):
        packed = np.sort((keys << bits) | np.arange(keys.size, dtype=np.int64))
        return np.asarray(packed & ((1 << bits) - 1), dtype=np.int64)
    return np.asarray(np.argsort(keys), dtype=np.int64)


def touch_effect(
    touch_client: ArrayLike,
    touch_day: ArrayLike,
    touch_group: ArrayLike,
    n_groups: int,
    *,
    order_client: ArrayLike,
    order_day: ArrayLike,
    order_amount: ArrayLike,
    move_client: ArrayLike,
    move_day: ArrayLike,
    as_of_day: int,
    horizons: tuple[int, ...] = HORIZONS,
    seed: int = 0,
) -> TouchEffect:
    """See the module. Touches must be on or before `as_of_day`; a touch with a group
    outside 0..n_groups-1 is ignored. Orders and moves may be of any clients and days
    (only those after the first touch and up to `as_of_day` matter)."""
    t_client = np.asarray(touch_client, dtype=np.int64)
    t_day = np.asarray(touch_day, dtype=np.int64)
    t_group = np.asarray(touch_group, dtype=np.int64)
    keep = (t_group >= 0) & (t_group < n_groups) & (t_day <= as_of_day)
    if not keep.all():
        t_client, t_day, t_group = t_client[keep], t_day[keep], t_group[keep]
    longest = max(horizons)
    zeros = np.zeros(n_groups, dtype=np.int64)
    if t_client.size == 0:
        return TouchEffect(
            touches=zeros,
            reach=zeros.copy(),
            horizons=[
                Horizon(h, zeros, zeros, np.zeros(n_groups), zeros, zeros, zeros, zeros)
                for h in horizons
            ],
            total_reach=0,
        )
    start = int(t_day.min())
    # Keys stay within one client's block: day offsets run from 0 (N days before the
    # first touch, for the baseline's quiet period) to after the last window.
    base = start - longest - 1
    span = as_of_day - base + longest + 2

    t_keys, t_client, t_group = _sorted_touches(t_client, t_day, t_group, base, span, n_groups)
    t_day = t_keys - t_client * span + base

    o_client = np.asarray(order_client, dtype=np.int64)
    o_day = np.asarray(order_day, dtype=np.int64)
    o_amount = np.asarray(order_amount, dtype=np.float64)
    period = (o_day > start) & (o_day <= as_of_day)
    o_keys = o_client[period] * span + (o_day[period] - base)
    o_order = _order(o_keys)
    o_keys = o_keys[o_order]
    cum_amount = np.concatenate(([0.0], np.cumsum(o_amount[period][o_order])))
    del o_order

    m_client = np.asarray(move_client, dtype=np.int64)
    m_day = np.asarray(move_day, dtype=np.int64)
    period = (m_day > start) & (m_day <= as_of_day)
    m_keys = np.sort(m_client[period] * span + (m_day[period] - base))

    touches = np.bincount(t_group, minlength=n_groups).astype(np.int64)
    # Reach: distinct (client, group); touches are sorted by client, so a client's rank
    # is the count of client changes before it.
    starts = np.concatenate(([True], t_client[1:] != t_client[:-1]))
    rank = np.cumsum(starts) - 1
    n_clients = int(rank[-1]) + 1
    if n_clients * n_groups <= _BITMAP_LIMIT:
        seen = np.zeros(n_clients * n_groups, dtype=np.bool_)
        seen[rank * n_groups + t_group] = True
        reach = seen.reshape(n_clients, n_groups).sum(axis=0).astype(np.int64)
        del seen
    else:
        pairs = np.unique(rank * n_groups + t_group)
        reach = np.bincount(pairs % n_groups, minlength=n_groups).astype(np.int64)
    del rank, starts

    # Days from each touch to the client's next order and next stage move (a key of a
    # later client is at least `span - offset` > every horizon away, as is the sentinel).
    sentinel = np.array([np.iinfo(np.int64).max // 2], dtype=np.int64)
    o_padded = np.concatenate((o_keys, sentinel))
    o_after = np.searchsorted(o_keys, t_keys, side="right")
    o_gap = o_padded[o_after] - t_keys
    m_padded = np.concatenate((m_keys, sentinel))
    m_gap = m_padded[np.searchsorted(m_keys, t_keys, side="right")] - t_keys
    t_padded = np.concatenate((t_keys, sentinel))
    age = as_of_day - t_day
    rng = np.random.default_rng(seed)
    # The baseline's sample, drawn once: at most BASELINE_PER_GROUP touches per group is
    # plenty for a rate (its standard error is under 0.4 points) and keeps it small.
    per_group = np.bincount(t_group, minlength=n_groups)
    chance = np.minimum(1.0, BASELINE_PER_GROUP / np.maximum(per_group, 1))
    if (chance < 1).any():
        sample = np.flatnonzero(rng.random(t_group.size) < chance[t_group])
    else:
        sample = np.arange(t_group.size)
    results = []
    for h in horizons:
        eligible = age >= h
        in_sample = sample[eligible[sample]]
        bought = eligible & (o_gap <= h)
        moved = eligible & (m_gap <= h)
        who = np.flatnonzero(bought)
        o_until = np.searchsorted(o_keys, t_keys[who] + h, side="right")
        revenue = cum_amount[o_until] - cum_amount[o_after[who]]
        sampled, sampled_bought = _baseline(
            t_client[in_sample],
            t_group[in_sample],
            n_groups,
            t_padded,
            o_padded,
            start=start,
            last=as_of_day - h,
            h=h,
            base=base,
            span=span,
            rng=rng,
        )
        results.append(
            Horizon(
                days=h,
                eligible=np.bincount(t_group[eligible], minlength=n_groups).astype(np.int64),
                purchased=np.bincount(t_group[who], minlength=n_groups).astype(np.int64),
                revenue=np.bincount(t_group[who], weights=revenue, minlength=n_groups).astype(
                    np.float64
                ),
                moved=np.bincount(t_group[moved], minlength=n_groups).astype(np.int64),
                either=np.bincount(t_group[bought | moved], minlength=n_groups).astype(np.int64),
                baseline_sampled=sampled,
                baseline_purchased=sampled_bought,
            )
        )
    return TouchEffect(touches=touches, reach=reach, horizons=results, total_reach=n_clients)


def _baseline(
    client: NDArray[np.int64],
    group: NDArray[np.int64],
    n_groups: int,
    t_padded: NDArray[np.int64],
    o_padded: NDArray[np.int64],
    *,
    start: int,
    last: int,
    h: int,
    base: int,
    span: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """One window (r, r + h] per (sampled) touch, r drawn uniformly from [start, last], such that
    the client had no touch on days r - h .. r + h; redrawn up to a few times. The key
    arrays end with a sentinel."""
    zeros = np.zeros(n_groups, dtype=np.int64)
    if client.size == 0 or last < start:
        return zeros, zeros.copy()
    t_keys = t_padded[:-1]
    found = np.zeros(client.size, dtype=np.bool_)
    window = np.zeros(client.size, dtype=np.int64)
    todo = np.arange(client.size)
    for _ in range(_BASELINE_DRAWS):
        r = rng.integers(start, last + 1, size=todo.size)
        key = client[todo] * span + (r - base)
        quiet = t_padded[np.searchsorted(t_keys, key - h, side="left")] > key + h
        found[todo[quiet]] = True
        window[todo[quiet]] = key[quiet]
        todo = todo[~quiet]
        if todo.size == 0:
            break
    keys = window[found]
    bought = o_padded[np.searchsorted(o_padded[:-1], keys, side="right")] - keys <= h
    sampled = np.bincount(group[found], minlength=n_groups).astype(np.int64)
    purchased = np.bincount(group[found][bought], minlength=n_groups).astype(np.int64)
    return sampled, purchased
