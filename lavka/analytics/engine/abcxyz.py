"""ABC by value, XYZ by the variation of monthly values, and the 3x3 ABC-XYZ matrix,
for any keys: clients, products, categories.

**ABC.** Keys are ranked by value (revenue or margin: whatever the caller passes).
Class A is the smallest group of the most valuable keys that together hold at least
the first share (default 80%), B the next (default 15%, so up to 95%), C the rest.
Precisely: a key is A when the keys strictly more valuable than it hold less than 80%
of the total, B when they hold less than 95%, C otherwise. So the most valuable key is
always A, equal values always share a class, and keys with zero or negative value
(no sales, returns) are C; shares are of the positive total. With no positive value
at all, every key is C.

**XYZ.** For each key, the coefficient of variation of its monthly values over a
window of whole months, CV = sigma / mu, with the population standard deviation
(divide by the number of months) and months without sales counted as 0. X: CV <= 0.10,
Y: CV <= 0.25, Z: above, or no positive mean (nothing sold in the window). The
thresholds are the ones of the Russian-language practice this CRM's source texts come
from: the "XYZ-анализ" article of the Russian Wikipedia (X 0-10%, Y 10-25%, Z over
25%), repeated in the logistics and retail textbooks that cite it; both are
configurable. (English-language inventory texts often use wider bands for weekly
demand, e.g. 0.5 / 1.0; pass them as `thresholds`.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_ABC_SHARES = (0.80, 0.15, 0.05)
DEFAULT_XYZ_THRESHOLDS = (0.10, 0.25)


class Abc(IntEnum):
    A = 0
    B = 1
    C = 2


class Xyz(IntEnum):
    X = 0
    Y = 1
    Z = 2


def value_by_key(
    keys: ArrayLike, values: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sum `values` per key (e.g. order lines per client or per product): the distinct
    keys, ascending, and their totals."""
    key_array = np.asarray(keys, dtype=np.int64)
    value_array = np.asarray(values, dtype=np.float64)
    if key_array.shape != value_array.shape or key_array.ndim != 1:
        raise ValueError("keys and values must be 1-D and of one length")
    unique, index = np.unique(key_array, return_inverse=True)
    return unique, _sum_by(index, value_array, unique.size)


def _sum_by(index: NDArray[np.intp], values: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    return np.asarray(np.bincount(index, weights=values, minlength=size), dtype=np.float64)


def _month(value: np.datetime64 | dt.date) -> int:
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[M]").astype(np.int64))
    return int(np.datetime64(value, "M").astype(np.int64))


def abc_classes(
    values: ArrayLike, shares: tuple[float, float, float] = DEFAULT_ABC_SHARES
) -> NDArray[np.int8]:
    """ABC class per key (`Abc` codes, int8) from each key's total value."""
    value_array = np.asarray(values, dtype=np.float64)
    if value_array.ndim != 1 or not np.isfinite(value_array).all():
        raise ValueError("values must be a finite 1-D array")
    if len(shares) != 3 or min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-9:
        raise ValueError("shares must be three non-negative numbers adding up to 1")
    classes = np.full(value_array.size, Abc.C, dtype=np.int8)
    positive = np.where(value_array > 0, value_array, 0.0)
    ascending = np.sort(positive)
    # above[k] = sum of ascending[k:], summed from the largest down.
    above = np.append(np.cumsum(ascending[::-1])[::-1], 0.0)
    total = above[0] if above.size else 0.0
    if total <= 0:
        return classes
    held_by_greater = above[np.searchsorted(ascending, positive, side="right")] / total
    # A share reached within 1e-12 counts as reached, so that 0.80 + 0.15 is 0.95 as on
    # paper (in floating point it is 0.9500000000000001).
    a_share, b_share = shares[0] - 1e-12, shares[0] + shares[1] - 1e-12
    is_positive = value_array > 0
    classes[is_positive & (held_by_greater < b_share)] = Abc.B
    classes[is_positive & (held_by_greater < a_share)] = Abc.A
    return classes


def to_months(dates: ArrayLike) -> NDArray[np.int64]:
    """Months since 1970-01 from datetime64 values (any unit) or days since the epoch."""
    array = np.asarray(dates)
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype("datetime64[D]")
    if not np.issubdtype(array.dtype, np.datetime64):
        raise ValueError("dates must be datetime64 or integer days since 1970-01-01")
    return array.astype("datetime64[M]").astype(np.int64)


@dataclass(frozen=True, slots=True)
class MonthlyVariation:
    """Per key (ascending `keys`): mean and population standard deviation of the
    monthly values over `months` months, and `cv` (NaN when the mean is not
    positive)."""

    keys: NDArray[np.int64]
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    cv: NDArray[np.float64]
    months: int


def monthly_variation(
    keys: ArrayLike,
    dates: ArrayLike,
    values: ArrayLike,
    *,
    first_month: np.datetime64 | dt.date,
    last_month: np.datetime64 | dt.date,
    all_keys: ArrayLike | None = None,
) -> MonthlyVariation:
    """Monthly totals per key over [first_month, last_month] (inclusive, whole months)
    and their variation. Rows outside the window are ignored. `all_keys` lists every
    key to report (e.g. every client, so that those without sales in the window are
    there with CV = NaN); rows of keys not in it are ignored. Memory: one float per
    key and month."""
    key_array = np.asarray(keys, dtype=np.int64)
    value_array = np.asarray(values, dtype=np.float64)
    month_array = to_months(dates)
    if not key_array.shape == value_array.shape == month_array.shape:
        raise ValueError("keys, dates and values must have one length")
    first, last = _month(first_month), _month(last_month)
    if last < first:
        raise ValueError("last_month must not be before first_month")
    n_months = last - first + 1
    inside = (month_array >= first) & (month_array <= last)
    key_array, value_array, month_array = (
        key_array[inside],
        value_array[inside],
        month_array[inside],
    )
    if all_keys is None:
        universe = np.unique(key_array)
    else:
        universe = np.unique(np.asarray(all_keys, dtype=np.int64))
        position = np.searchsorted(universe, key_array)
        known = position < universe.size
        known[known] = universe[position[known]] == key_array[known]
        key_array, value_array, month_array = (
            key_array[known],
            value_array[known],
            month_array[known],
        )
    index = np.searchsorted(universe, key_array)
    cells = index * n_months + (month_array - first)
    grid = _sum_by(cells, value_array, universe.size * n_months).reshape(universe.size, n_months)
    mean = grid.mean(axis=1)
    std = grid.std(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, std / np.where(mean > 0, mean, 1.0), np.nan)
    return MonthlyVariation(keys=universe, mean=mean, std=std, cv=cv, months=n_months)


def xyz_classes(
    cv: ArrayLike, thresholds: tuple[float, float] = DEFAULT_XYZ_THRESHOLDS
) -> NDArray[np.int8]:
    """XYZ class per key (`Xyz` codes, int8) from its coefficient of variation; NaN
    (no positive mean) is Z."""
    cv_array = np.asarray(cv, dtype=np.float64)
    x_max, y_max = thresholds
    if not 0 <= x_max < y_max:
        raise ValueError("thresholds must be 0 <= X bound < Y bound")
    classes = np.full(cv_array.shape, Xyz.Z, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        classes[cv_array <= y_max] = Xyz.Y
        classes[cv_array <= x_max] = Xyz.X
    return classes


@dataclass(frozen=True, slots=True)
class AbcXyzMatrix:
    """3x3 cells, rows A, B, C and columns X, Y, Z: number of keys and their value."""

    counts: NDArray[np.int64]
    values: NDArray[np.float64]

    def cell(self, abc: Abc, xyz: Xyz) -> tuple[int, float]:
        return int(self.counts[abc, xyz]), float(self.values[abc, xyz])


def abc_xyz_matrix(abc: ArrayLike, xyz: ArrayLike, values: ArrayLike) -> AbcXyzMatrix:
    """Count keys and add up their value per ABC-XYZ cell (arrays aligned by key)."""
    abc_array = np.asarray(abc, dtype=np.int64)
    xyz_array = np.asarray(xyz, dtype=np.int64)
    value_array = np.asarray(values, dtype=np.float64)
    if not abc_array.shape == xyz_array.shape == value_array.shape:
        raise ValueError("abc, xyz and values must have one length")
    cell = abc_array * 3 + xyz_array
    return AbcXyzMatrix(
        counts=np.bincount(cell, minlength=9).reshape(3, 3).astype(np.int64),
        values=_sum_by(cell, value_array, 9).reshape(3, 3),
    )
