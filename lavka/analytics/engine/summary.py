"""Per-client purchase summary from transaction columns, as the models need it.

A purchase occasion is a day with at least one transaction: same-day orders count as
one purchase whose value is their sum (as in the CDNOW data of Fader, Hardie and Lee).
Orders with a zero or negative amount (free items, returns) are kept: they are
purchase occasions, and they lower the day's value.

For each client, over the transactions up to and including `observation_end`:

- `x`: repeat purchases (purchase days after the first one);
- `t_x`: time from the first to the last purchase day; `T`: time from the first
  purchase day to `observation_end`; both in the chosen `TimeUnit`;
- `monetary`: the mean value of the repeat purchase days (the Gamma-Gamma input; the
  first purchase is left out, NaN when x = 0);
- `first_on`, `last_on`, `frequency` (purchase days, x + 1), `total` (sum of all
  amounts), `transactions` (rows).

Everything is array arithmetic after one sort of (client, day, row) keys packed into
one int64 each; there is no Python loop per client.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lavka.analytics.engine.bgnbd import compress
from lavka.analytics.engine.units import TimeUnit

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
DayArray = NDArray[np.datetime64]

DateLike = dt.date | np.datetime64 | int


@dataclass(frozen=True, slots=True)
class FitGroups:
    """Distinct (x, t_x, T) rows with `weight` clients each; `inverse[i]` is the group
    of client i, so a quantity computed per group expands with `values[inverse]`."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    inverse: NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class ClientSummary:
    """One row per client that bought anything up to `observation_end`, ordered by
    `client_id`. See the module docstring for the meaning of each column."""

    client_id: IntArray
    first_on: DayArray
    last_on: DayArray
    x: IntArray
    t_x: FloatArray
    T: FloatArray
    monetary: FloatArray
    frequency: IntArray
    total: FloatArray
    transactions: IntArray
    observation_end: np.datetime64
    unit: TimeUnit

    def __len__(self) -> int:
        return int(self.client_id.size)

    def recency_days(self) -> IntArray:
        """Days from the last purchase to `observation_end` (0 = bought that day)."""
        return (self.observation_end - self.last_on).astype(np.int64)

    def groups(self) -> FitGroups:
        """Group clients with identical (x, t_x, T), for fitting and scoring once per
        distinct history (a million clients typically have far fewer)."""
        first = self.first_on.astype(np.int64)
        tx_days = self.last_on.astype(np.int64) - first
        T_days = self.observation_end.astype(np.int64) - first
        n = len(self)
        if n == 0:
            empty = np.zeros(0)
            return FitGroups(empty, empty, empty, empty, np.zeros(0, dtype=np.intp))
        day_bits = _bits(int(T_days.max()))
        x_bits = _bits(int(self.x.max()))
        if x_bits + 2 * day_bits > 63:
            xs, txs, Ts, weight = compress(self.x, self.t_x, self.T)
            inverse = _inverse_by_lexsort(self.x, self.t_x, self.T)
            return FitGroups(xs, txs, Ts, weight, inverse)
        key = (self.x << (2 * day_bits)) | (tx_days << day_bits) | T_days
        sorted_key, order = _sort_with_order(key, x_bits + 2 * day_bits)
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(sorted_key[1:], sorted_key[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        inverse = np.empty(n, dtype=np.intp)
        inverse[order] = np.cumsum(new) - 1
        unit = float(self.unit)
        group_key = sorted_key[starts]
        day_mask = (1 << day_bits) - 1
        return FitGroups(
            x=(group_key >> (2 * day_bits)).astype(np.float64),
            t_x=((group_key >> day_bits) & day_mask) / unit,
            T=(group_key & day_mask) / unit,
            weight=np.diff(np.append(starts, n)).astype(np.float64),
            inverse=inverse,
        )


def _bits(value: int) -> int:
    return max(int(value).bit_length(), 1)


def _sort_with_order(key: IntArray, key_bits: int) -> tuple[IntArray, NDArray[np.intp]]:
    """Sort non-negative int64 keys and return the permutation. When the row number
    fits beside the key in 63 bits, the key and the row are packed into one int64 and
    sorted as plain integers (several times faster than argsort)."""
    n = key.size
    row_bits = _bits(n - 1)
    if key_bits + row_bits <= 63:
        packed = key << row_bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        order = (packed & ((1 << row_bits) - 1)).astype(np.intp)
        packed >>= row_bits
        return packed, order
    order = np.argsort(key, kind="stable")
    return key[order], order


def _inverse_by_lexsort(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> NDArray[np.intp]:
    xs, txs, Ts = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    order = np.lexsort((Ts, txs, xs))
    xs, txs, Ts = xs[order], txs[order], Ts[order]
    new = np.empty(xs.size, dtype=bool)
    new[:1] = True
    new[1:] = (xs[1:] != xs[:-1]) | (txs[1:] != txs[:-1]) | (Ts[1:] != Ts[:-1])
    inverse = np.empty(xs.size, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return inverse


def to_days(dates: ArrayLike) -> IntArray:
    """Days since 1970-01-01 from datetime64 values (any unit, floored to the day) or
    from integers that already are such days."""
    array = np.asarray(dates)
    if np.issubdtype(array.dtype, np.datetime64):
        if np.isnat(array).any():
            raise ValueError("dates must not be NaT")
        return array.astype("datetime64[D]").astype(np.int64)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    raise ValueError("dates must be datetime64 or integer days since 1970-01-01")


def _day(value: DateLike) -> int:
    if isinstance(value, dt.datetime):
        raise ValueError("observation_end must be a date, not a datetime")
    if isinstance(value, dt.date):
        return int(np.datetime64(value, "D").astype(np.int64))
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[D]").astype(np.int64))
    return int(value)


def summarize(
    client_ids: ArrayLike,
    dates: ArrayLike,
    amounts: ArrayLike,
    *,
    observation_end: DateLike,
    unit: TimeUnit = TimeUnit.DAYS,
) -> ClientSummary:
    """Summarise transactions per client (see the module docstring).

    `client_ids` are integers (any range; a compact range sorts fastest), `dates`
    datetime64 or integer days since the epoch, `amounts` floats (any sign, finite).
    Transactions after `observation_end` are ignored, so the same data gives the
    summary "as of" any date. Raises ValueError on mismatched or invalid columns."""
    cid = np.asarray(client_ids)
    if not np.issubdtype(cid.dtype, np.integer):
        raise ValueError("client_ids must be integers")
    cid = cid.astype(np.int64, copy=False)
    days = to_days(dates)
    amount = np.asarray(amounts, dtype=np.float64)
    if not (cid.ndim == days.ndim == amount.ndim == 1) or not (
        cid.size == days.size == amount.size
    ):
        raise ValueError("client_ids, dates and amounts must be 1-D and of one length")
    if not np.isfinite(amount).all():
        raise ValueError("amounts must be finite")
    end = _day(observation_end)
    keep = days <= end
    if not keep.all():
        cid, days, amount = cid[keep], days[keep], amount[keep]
    if cid.size == 0:
        return _empty(end, unit)

    d_min = int(days.min())
    day = days - d_min
    day_bits = _bits(int(day.max()))
    c_min, c_max = int(cid.min()), int(cid.max())
    if _bits(c_max - c_min) + day_bits <= 32 and c_max - c_min <= 8 * cid.size + 1_000_000:
        return _summarize_compact(cid - c_min, c_min, day, d_min, day_bits, amount, end, unit)
    if _bits(c_max - c_min) + day_bits <= 63:
        client = cid - c_min
        ranked_ids: IntArray | None = None
    else:  # ids spread too far to pack beside the day: rank them first
        ranked_ids, client = np.unique(cid, return_inverse=True)
        client = client.astype(np.int64)
        c_min = 0
    key_bits = _bits(int(client.max())) + day_bits
    key = client << day_bits
    key |= day
    del day, client
    key, order = _sort_with_order(key, key_bits)
    row_amount = amount[order]
    del order

    # Purchase days: runs of equal (client, day) keys.
    n = key.size
    new_day = np.empty(n, dtype=bool)
    new_day[0] = True
    np.not_equal(key[1:], key[:-1], out=new_day[1:])
    day_starts = np.flatnonzero(new_day)
    del new_day
    day_value = np.add.reduceat(row_amount, day_starts)
    del row_amount
    day_key = key[day_starts]
    del key
    day_client = day_key >> day_bits
    day_day = day_key & ((1 << day_bits) - 1)
    del day_key

    # Clients: runs of equal client among the purchase days.
    m = day_client.size
    new_client = np.empty(m, dtype=bool)
    new_client[0] = True
    np.not_equal(day_client[1:], day_client[:-1], out=new_client[1:])
    client_starts = np.flatnonzero(new_client)
    client_ends = np.append(client_starts[1:], m)
    frequency = (client_ends - client_starts).astype(np.int64)
    first = day_day[client_starts] + d_min
    last = day_day[client_ends - 1] + d_min
    total = np.add.reduceat(day_value, client_starts)
    day_value[client_starts] = 0.0  # leave each client's first purchase out
    repeat_total = np.add.reduceat(day_value, client_starts)
    x = frequency - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, repeat_total / np.maximum(x, 1), np.nan)
    row_starts = day_starts[client_starts]
    transactions = np.diff(np.append(row_starts, n)).astype(np.int64)

    unit_days = float(unit)
    return ClientSummary(
        client_id=(
            day_client[client_starts] + c_min
            if ranked_ids is None
            else ranked_ids[day_client[client_starts]]
        ),
        first_on=first.astype("datetime64[D]"),
        last_on=last.astype("datetime64[D]"),
        x=x,
        t_x=(last - first) / unit_days,
        T=(end - first) / unit_days,
        monetary=monetary,
        frequency=frequency,
        total=total,
        transactions=transactions,
        observation_end=np.datetime64(end, "D"),
        unit=unit,
    )


def _summarize_compact(
    client: IntArray,
    c_min: int,
    day: IntArray,
    d_min: int,
    day_bits: int,
    amount: FloatArray,
    end: int,
    unit: TimeUnit,
) -> ClientSummary:
    """`summarize` when (client, day) packs into 32 bits and the ids are compact: the
    distinct purchase days come from one sort of uint32 keys (several times faster than
    the int64 sort that carries each row's amount along), and everything else is
    per-client tables indexed by id (`bincount`, `minimum.at`): no permutation of the
    rows at all. The same figures as the general path."""
    size = int(client.max()) + 1
    key = client.astype(np.uint32)
    key <<= np.uint32(day_bits)
    key |= day.astype(np.uint32)
    key.sort()
    distinct = np.empty(key.size, dtype=bool)
    distinct[0] = True
    np.not_equal(key[1:], key[:-1], out=distinct[1:])
    purchases = key[distinct]  # (client, day) of each purchase day, in order
    del key, distinct
    buyer = (purchases >> np.uint32(day_bits)).astype(np.intp)
    bought_on = (purchases & np.uint32((1 << day_bits) - 1)).astype(np.int64)
    del purchases
    # Each client's purchase days are a run: its first and last days end the run.
    new_client = np.empty(buyer.size, dtype=bool)
    new_client[0] = True
    np.not_equal(buyer[1:], buyer[:-1], out=new_client[1:])
    starts = np.flatnonzero(new_client)
    del new_client
    ends = np.append(starts[1:], buyer.size)
    present = buyer[starts]
    frequency = (ends - starts).astype(np.int64)
    first_day = bought_on[starts]
    last_day = bought_on[ends - 1]
    del buyer, bought_on
    first_all = np.zeros(size, dtype=np.int64)
    first_all[present] = first_day
    transactions_all = np.bincount(client, minlength=size)
    total_all = np.bincount(client, weights=amount, minlength=size)
    # Rows after the client's first purchase day (the others add 0: no mask copies).
    repeat = np.where(day != first_all[client], amount, 0.0)
    repeat_all = np.bincount(client, weights=repeat, minlength=size)
    del repeat

    first = first_day + d_min
    last = last_day + d_min
    x = frequency - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, repeat_all[present] / np.maximum(x, 1), np.nan)
    unit_days = float(unit)
    return ClientSummary(
        client_id=present.astype(np.int64) + c_min,
        first_on=first.astype("datetime64[D]"),
        last_on=last.astype("datetime64[D]"),
        x=x,
        t_x=(last - first) / unit_days,
        T=(end - first) / unit_days,
        monetary=monetary,
        frequency=frequency,
        total=total_all[present].astype(np.float64),
        transactions=transactions_all[present].astype(np.int64),
        observation_end=np.datetime64(end, "D"),
        unit=unit,
    )


def _empty(end: int, unit: TimeUnit) -> ClientSummary:
    no_ints = np.zeros(0, dtype=np.int64)
    no_floats = np.zeros(0)
    no_days = np.zeros(0, dtype="datetime64[D]")
    return ClientSummary(
        client_id=no_ints,
        first_on=no_days,
        last_on=no_days,
        x=no_ints,
        t_x=no_floats,
        T=no_floats,
        monetary=no_floats,
        frequency=no_ints,
        total=no_floats,
        transactions=no_ints,
        observation_end=np.datetime64(end, "D"),
        unit=unit,
    )
