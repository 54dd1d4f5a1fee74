"""The recompute's arithmetic: from order columns to every client's scores, calling the
engine. No database here; `services.recompute` loads, calls `compute_clients` and
`compute_products`, and writes.

Definitions (documented in the app README):
- RFM: recency = days from the last purchase to `as_of`, frequency = purchase days,
  monetary = revenue of all purchases up to `as_of` (reporting currency).
- ABC and XYZ: revenue per month over the *window*, the last `window_months` whole
  months that have ended by `as_of` (the month of `as_of` counts when `as_of` is its
  last day). ABC by the window's revenue, XYZ by its monthly coefficient of variation.
- Next purchase date: the day on which the client's expected purchases (BG/NBD,
  conditional on their history) reach one, interpolated on a grid of horizons up to
  two years; none when fewer than one purchase is expected within two years.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lavka.analytics.engine import abcxyz, bgnbd, gamma_gamma, lifecycle, rfm
from lavka.analytics.engine.sufficiency import NotEnoughData, Reason
from lavka.analytics.engine.summary import summarize
from lavka.analytics.loading import Columns

NEXT_PURCHASE_GRID = (7, 14, 30, 60, 90, 120, 180, 270, 365, 540, 730)
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Config:
    abc_shares: tuple[float, float, float] = abcxyz.DEFAULT_ABC_SHARES
    xyz_thresholds: tuple[float, float] = abcxyz.DEFAULT_XYZ_THRESHOLDS
    window_months: int = 12
    rfm: rfm.RfmConfig = field(default_factory=rfm.RfmConfig)
    clv_months: int = 12
    monthly_discount_rate: float = 0.01


class Steps:
    """Wall time per named step, in the order they ran."""

    def __init__(self, on_step: Callable[[str], None] | None = None) -> None:
        self.times: list[tuple[str, float]] = []
        self.on_step = on_step

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.on_step is not None:
            self.on_step(name)
        start = time.perf_counter()
        yield
        self.times.append((name, round(time.perf_counter() - start, 3)))


def window(as_of: dt.date, months: int) -> tuple[np.datetime64, np.datetime64]:
    """The first and last month of the ABC/XYZ window (see the module docstring)."""
    complete = (as_of + dt.timedelta(days=1)).month != as_of.month
    last_index = int(np.datetime64(as_of, "M").astype(np.int64)) - (0 if complete else 1)
    first = np.datetime64(last_index - (months - 1), "M")
    return first, np.datetime64(last_index, "M")


@dataclass
class ClientResults:
    client_id: NDArray[np.int64]
    first_on: NDArray[np.int64]  # days since 1970-01-01
    last_on: NDArray[np.int64]
    recency_days: NDArray[np.int64]
    frequency: NDArray[np.int64]
    revenue: FloatArray
    r: NDArray[np.int8]
    f: NDArray[np.int8]
    m: NDArray[np.int8]
    segment: NDArray[np.int8]
    abc: NDArray[np.int8]
    xyz: NDArray[np.int8]
    window_revenue: FloatArray
    p_alive: FloatArray
    expected_30: FloatArray
    expected_90: FloatArray
    expected_365: FloatArray
    expected_spend: FloatArray
    clv: FloatArray
    next_purchase_on: NDArray[np.int64]  # -1 = none
    purchases_reason: NDArray[np.uint8]
    spend_reason: NDArray[np.uint8]
    stage: NDArray[np.int8]
    lifecycle_days: NDArray[np.int64]
    parameters: dict[str, Any]
    segment_counts: dict[str, int]
    stage_counts: dict[str, int]
    abc_xyz: dict[str, Any]

    def __len__(self) -> int:
        return int(self.client_id.size)


def _fit_summary(result: Any) -> dict[str, Any]:
    if isinstance(result, NotEnoughData):
        return {
            "not_enough_data": int(result.reason),
            "detail": result.detail,
            "required": result.required,
            "available": result.available,
        }
    data = {k: getattr(result, k) for k in result.__dataclass_fields__ if k != "unit"}
    return {k: (float(v) if isinstance(v, float) else v) for k, v in data.items()}


def monthly_by_client(
    orders: Columns,
    client_ids: NDArray[np.int64],
    *,
    first_month: np.datetime64,
    last_month: np.datetime64,
) -> tuple[FloatArray, FloatArray]:
    """Per client of `client_ids` (ascending, every client in `orders` up to as_of):
    revenue in the window and the coefficient of variation of its monthly revenue,
    exactly as `engine.abcxyz.monthly_variation(..., all_keys=client_ids)` computes
    them (population deviation, empty months 0, NaN when the mean is not positive),
    but without sorting or searching 10M rows: orders outside the window are dropped
    by day, a client's row is found through a table indexed by id (ids are compact
    integers), and a day's month through a table of the window's days."""
    n = client_ids.size
    n_months = int((last_month - first_month).astype(np.int64)) + 1
    if n == 0:
        return np.zeros(0), np.zeros(0)
    first_day = int(first_month.astype("datetime64[D]").astype(np.int64))
    end_day = int((last_month + np.timedelta64(1, "M")).astype("datetime64[D]").astype(np.int64))
    inside = (orders.day >= first_day) & (orders.day < end_day)
    keys, days, amounts = orders.key[inside], orders.day[inside], orders.amount[inside]
    low = int(client_ids[0])
    if int(client_ids[-1]) - low > 8 * n + 1_000_000:
        # Sparse ids: the table would be too big; sort and search instead.
        variation = abcxyz.monthly_variation(
            orders.key,
            orders.day,
            orders.amount,
            first_month=first_month,
            last_month=last_month,
            all_keys=client_ids,
        )
        return variation.mean * variation.months, variation.cv
    table = np.full(int(client_ids[-1]) - low + 1, -1, dtype=np.int64)
    table[client_ids - low] = np.arange(n)
    in_range = (keys >= low) & (keys <= int(client_ids[-1]))
    rows = np.full(keys.size, -1, dtype=np.int64)
    rows[in_range] = table[keys[in_range] - low]
    known = rows >= 0
    month_of_day = np.arange(first_day, end_day).astype("datetime64[D]").astype(
        "datetime64[M]"
    ).astype(np.int64) - first_month.astype(np.int64)
    cells = rows[known] * n_months + month_of_day[days[known] - first_day]
    grid = np.bincount(cells, weights=amounts[known], minlength=n * n_months).reshape(n, n_months)
    mean = grid.mean(axis=1)
    std = grid.std(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, std / np.where(mean > 0, mean, 1.0), np.nan)
    return mean * n_months, cv


def next_purchase_days(grid_days: tuple[int, ...], expected: list[FloatArray]) -> FloatArray:
    """Days until the expected purchases reach one, by linear interpolation on the
    grid (0 -> 0 purchases first); NaN when they stay below one on the whole grid."""
    n = expected[0].size if expected else 0
    result = np.full(n, np.nan)
    previous_days, previous = 0.0, np.zeros(n)
    for days, values in zip(grid_days, expected, strict=True):
        crossing = np.isnan(result) & (values >= 1.0)
        if crossing.any():
            low, high = previous[crossing], values[crossing]
            share = (1.0 - low) / np.maximum(high - low, 1e-12)
            result[crossing] = previous_days + share * (days - previous_days)
        previous_days, previous = float(days), values
    return result


def compute_clients(orders: Columns, as_of: dt.date, config: Config, steps: Steps) -> ClientResults:
    with steps.step("summary"):
        summary = summarize(orders.key, orders.day, orders.amount, observation_end=as_of)
        n = len(summary)
        recency = summary.recency_days()
        groups = summary.groups()

    with steps.step("rfm"):
        scores = rfm.score(recency, summary.frequency, summary.total, config.rfm)

    with steps.step("abc_xyz"):
        first, last = window(as_of, config.window_months)
        window_revenue, cv = monthly_by_client(
            orders, summary.client_id, first_month=first, last_month=last
        )
        abc = abcxyz.abc_classes(window_revenue, config.abc_shares)
        xyz = abcxyz.xyz_classes(cv, config.xyz_thresholds)
        matrix = abcxyz.abc_xyz_matrix(abc, xyz, window_revenue)

    with steps.step("bgnbd_fit"):
        purchases = bgnbd.fit(groups.x, groups.t_x, groups.T, weights=groups.weight)

    with steps.step("gamma_gamma_fit"):
        spend = gamma_gamma.fit(summary.x, summary.monetary)

    with steps.step("scoring"):
        horizons = tuple(sorted({30, 90, 365, *NEXT_PURCHASE_GRID}))
        nan = np.full(n, np.nan)
        if isinstance(purchases, NotEnoughData):
            p_alive = expected_30 = expected_90 = expected_365 = nan
            next_days = nan
            purchases_reason = np.full(n, np.uint8(purchases.reason), dtype=np.uint8)
            clv = gamma_gamma.customer_lifetime_value(
                purchases, spend, summary.x, summary.t_x, summary.T, summary.monetary
            )
        else:
            scored = bgnbd.score(
                purchases,
                groups.x,
                groups.t_x,
                groups.T,
                horizons_days=horizons,
                months=config.clv_months,
                monthly_discount_rate=config.monthly_discount_rate,
            )
            inverse = groups.inverse
            p_alive = scored.p_alive[inverse]
            expected_30 = scored.expected[30][inverse]
            expected_90 = scored.expected[90][inverse]
            expected_365 = scored.expected[365][inverse]
            next_days = next_purchase_days(
                NEXT_PURCHASE_GRID, [scored.expected[d] for d in NEXT_PURCHASE_GRID]
            )[inverse]
            purchases_reason = np.zeros(n, dtype=np.uint8)
            clv = gamma_gamma.customer_lifetime_value(
                purchases,
                spend,
                summary.x,
                summary.t_x,
                summary.T,
                summary.monetary,
                months=config.clv_months,
                monthly_discount_rate=config.monthly_discount_rate,
                discounted_purchases=scored.discounted_purchases[inverse],
            )
        average = gamma_gamma.conditional_expected_average_spend(spend, summary.x, summary.monetary)
        as_of_day = int(np.datetime64(as_of, "D").astype(np.int64))
        next_on = np.where(
            np.isnan(next_days), -1, as_of_day + np.ceil(np.nan_to_num(next_days))
        ).astype(np.int64)
        spend_reason = np.where(purchases_reason != Reason.OK, purchases_reason, clv.reason).astype(
            np.uint8
        )
        life = lifecycle.stages(
            first_on=summary.first_on.astype(np.int64),
            last_on=summary.last_on.astype(np.int64),
            frequency=summary.frequency,
            p_alive=p_alive,
            as_of_day=as_of_day,
        )

    counts = scores.counts()
    return ClientResults(
        client_id=summary.client_id,
        first_on=summary.first_on.astype(np.int64),
        last_on=summary.last_on.astype(np.int64),
        recency_days=recency,
        frequency=summary.frequency,
        revenue=summary.total,
        r=scores.r,
        f=scores.f,
        m=scores.m,
        segment=scores.segment,
        abc=abc,
        xyz=xyz,
        window_revenue=window_revenue,
        p_alive=p_alive,
        expected_30=expected_30,
        expected_90=expected_90,
        expected_365=expected_365,
        expected_spend=average.value,
        clv=clv.value,
        next_purchase_on=next_on,
        purchases_reason=purchases_reason,
        spend_reason=spend_reason,
        stage=life.stage,
        lifecycle_days=life.days,
        stage_counts=lifecycle.stage_counts(life.stage),
        parameters={"bgnbd": _fit_summary(purchases), "gamma_gamma": _fit_summary(spend)},
        segment_counts={str(k): v for k, v in counts.items()},
        abc_xyz={
            "counts": matrix.counts.tolist(),
            "revenue": [[round(float(v), 2) for v in row] for row in matrix.values],
            "window": [str(first), str(last)],
        },
    )


@dataclass
class ProductResults:
    product_id: NDArray[np.int64]
    revenue: FloatArray
    abc: NDArray[np.int8]
    xyz: NDArray[np.int8]
    cv: FloatArray
    abc_xyz: dict[str, Any]

    def __len__(self) -> int:
        return int(self.product_id.size)


def compute_products(lines: Columns, as_of: dt.date, config: Config) -> ProductResults:
    first, last = window(as_of, config.window_months)
    variation = abcxyz.monthly_variation(
        lines.key, lines.day, lines.amount, first_month=first, last_month=last
    )
    revenue = variation.mean * variation.months
    abc = abcxyz.abc_classes(revenue, config.abc_shares)
    xyz = abcxyz.xyz_classes(variation.cv, config.xyz_thresholds)
    matrix = abcxyz.abc_xyz_matrix(abc, xyz, revenue)
    return ProductResults(
        product_id=variation.keys,
        revenue=revenue,
        abc=abc,
        xyz=xyz,
        cv=variation.cv,
        abc_xyz={
            "counts": matrix.counts.tolist(),
            "revenue": [[round(float(v), 2) for v in row] for row in matrix.values],
        },
    )
