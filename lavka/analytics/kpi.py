"""The kpi report (see `reports.py`): the dashboard's figures, pre-aggregated so that a
page reads a few small GROUP BYs whatever the size of the base (`models/kpi.py`).

From the orders the recompute loaded (reporting currency), per month of the last
`MONTHS` months up to `as_of`, and per client dimensions (owner, team, tier from the
client; RFM segment from this run's scores):

- buyers, orders and revenue, split by `gap` (months since the client's previous
  purchase month, 0 = first purchase ever), so that distinct buyers over any run of
  months, new clients, retained and lost clients are sums (`KpiMonth`);
- clients by lifecycle stage and ABC-XYZ class with their CLV (`KpiClients`) and the
  CLV distribution in bins (`KpiClv`);
- deals created, won (with the days to win) and lost per month, open deals by expected
  close month and the stages reached by the deals created each month (`KpiDeals`).

Each set is written at its detail and at every roll-up of the three dimension groups
(who, tier, segment), one `grain` each. NumPy throughout; the client-month presence is
a uint8 grid (clients x months), so 10M orders need no sort.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection, transaction
from numpy.typing import NDArray

from lavka.analytics.loading import Columns, convert_to_reporting, pack_currency
from lavka.analytics.models.kpi import (
    ALL,
    BY_SEGMENT,
    BY_TIER,
    BY_WHO,
    KpiClients,
    KpiClv,
    KpiDeals,
    KpiMonth,
)
from lavka.analytics.storage import Column, bulk_create_columns, copy_columns

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext

MONTHS = 60  # months of history kept per run (five years)
GAP_MAX = KpiMonth.GAP_MAX
CLV_BINS = 20  # equal bins up to about the 99th percentile, then one open bin
NO_SEGMENT = 8  # a deal's client without a purchase yet
I64 = np.int64


def month_of_days(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Months since 1970-01 of days since 1970-01-01."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(I64)


def months_of(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """`month_of_days` through a table of the days spanned (10M days in a fraction of
    the time of two datetime conversions)."""
    if days.size == 0:
        return days.astype(I64)
    low, high = int(days.min()), int(days.max())
    table = month_of_days(np.arange(low, high + 1, dtype=I64))
    return table[days - low]


def month_first_day(months: NDArray[np.int64]) -> NDArray[np.int64]:
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(I64)


@dataclass
class Table:
    """Rows of one model: key columns and measures, all NumPy arrays of equal length."""

    keys: dict[str, NDArray[Any]]
    measures: dict[str, NDArray[Any]]


def dense(columns: list[NDArray[Any]]) -> tuple[list[NDArray[np.int64]], NDArray[np.int64]]:
    """The distinct rows of `columns` (as one array per column, in key order) and each
    row's index among them. Each column becomes dense codes, combined into one int64
    (mixed radix), so there is one 1-D unique instead of a row-wise one, which is
    several times slower on a million rows."""
    combined = np.zeros(columns[0].size, dtype=I64)
    distinct_values: list[NDArray[np.int64]] = []
    radix = 1
    for column in columns:
        distinct, codes = np.unique(column.astype(I64), return_inverse=True)
        distinct_values.append(distinct)
        radix *= max(distinct.size, 1)
        if radix >= 2**62:
            raise ValueError("too many key combinations")  # far beyond any real base
        combined = combined * distinct.size + codes.reshape(-1)
    unique, inverse = np.unique(combined, return_inverse=True)
    out: list[NDArray[np.int64]] = [np.zeros(0, I64)] * len(columns)
    rest = unique
    for j in range(len(columns) - 1, -1, -1):
        distinct = distinct_values[j]
        out[j] = distinct[rest % distinct.size]
        rest = rest // distinct.size
    return out, inverse.reshape(-1).astype(I64)


def group(keys: dict[str, NDArray[Any]], measures: dict[str, NDArray[Any]]) -> Table:
    """Sum `measures` over equal `keys` (rows in key order)."""
    names = list(keys)
    if not names or keys[names[0]].size == 0:
        return Table({k: v[:0].astype(I64) for k, v in keys.items()}, dict(measures))
    distinct, inverse = dense([keys[k] for k in names])
    size = distinct[0].size
    out = {
        name: np.bincount(inverse, weights=values, minlength=size)
        for name, values in measures.items()
    }
    return Table(dict(zip(names, distinct, strict=True)), out)


def rollups(detail: Table) -> list[tuple[int, Table]]:
    """The detail (`owner_id`, `team_id`, `tier_id`, `segment` kept) and its seven
    roll-ups, each with the rolled-up dimensions set to ALL."""
    result = []
    for grain in range(8):
        keys = dict(detail.keys)
        if not grain & BY_WHO:
            keys["owner_id"] = np.full_like(keys["owner_id"], ALL)
            keys["team_id"] = np.full_like(keys["team_id"], ALL)
        if not grain & BY_TIER:
            keys["tier_id"] = np.full_like(keys["tier_id"], ALL)
        if not grain & BY_SEGMENT:
            keys["segment"] = np.full_like(keys["segment"], ALL)
        table = detail if grain == 7 else group(keys, detail.measures)
        result.append((grain, table))
    return result


KIND = {
    "owner_id": "int8",
    "team_id": "int8",
    "tier_id": "int8",
    "stage_id": "int8",
    "month": "date",
    "revenue": "float8",
    "clv": "float8",
    "window_revenue": "float8",
    "amount": "float8",
    "weighted": "float8",
    "days": "float8",
}


def write(model: Any, run_id: int, parts: list[tuple[int, Table]]) -> int:
    """Write every grain's rows of `model` (COPY on PostgreSQL, bulk_create elsewhere)."""
    tables = [(g, t) for g, t in parts if next(iter(t.keys.values())).size]
    if not tables:
        return 0
    names = list(tables[0][1].keys) + list(tables[0][1].measures)
    columns = [
        Column(
            "run_id",
            np.concatenate(
                [np.full(next(iter(t.keys.values())).size, run_id, I64) for _, t in tables]
            ),
            "int8",
        )
    ]
    columns.append(
        Column(
            "grain",
            np.concatenate([np.full(next(iter(t.keys.values())).size, g, I64) for g, t in tables]),
            "int2",
        )
    )
    for name in names:
        values = np.concatenate([{**t.keys, **t.measures}[name] for _, t in tables])
        kind = KIND.get(
            name, "int4" if name in {"clients", "orders", "deals", "clv_clients"} else "int2"
        )
        if kind in {"int2", "int4", "int8"}:
            values = np.rint(values).astype(I64)
        columns.append(Column(name, values, kind))
    if connection.vendor == "postgresql":
        copy_columns(model._meta.db_table, columns)
    else:
        bulk_create_columns(model, columns)
    return int(columns[0].values.size)


# --- the parts ---------------------------------------------------------------------------


@dataclass
class Dimensions:
    """Per client row of `context.clients`: owner, team, tier (0 = none) and segment."""

    owner: NDArray[np.int64]
    team: NDArray[np.int64]
    tier: NDArray[np.int64]
    segment: NDArray[np.int64]

    def keys(self, rows: NDArray[np.int64]) -> dict[str, NDArray[np.int64]]:
        return {
            "owner_id": self.owner[rows],
            "team_id": self.team[rows],
            "tier_id": self.tier[rows],
            "segment": self.segment[rows],
        }


def client_dimensions(context: ReportContext) -> Dimensions:
    clients = context.clients
    attributes = context.client_attributes
    at = attributes.rows_of(clients.client_id)
    known = at >= 0
    safe = np.where(known, at, 0)

    def pick(values: NDArray[np.int64]) -> NDArray[np.int64]:
        if values.size == 0:
            return np.zeros(at.size, I64)
        return np.where(known, np.maximum(values[safe], 0), 0).astype(I64)

    return Dimensions(
        owner=pick(attributes.owner_id),
        team=pick(attributes.team_id),
        tier=pick(attributes.tier_id),
        segment=clients.segment.astype(I64),
    )


def client_rows(client_ids: NDArray[np.int64], keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Row in `client_ids` (ascending) of each key, -1 where it is not there."""
    if client_ids.size == 0:
        return np.full(keys.size, -1, I64)
    low, high = int(client_ids[0]), int(client_ids[-1])
    if high - low <= 8 * client_ids.size + 1_000_000:
        table = np.full(high - low + 1, -1, I64)
        table[client_ids - low] = np.arange(client_ids.size)
        inside = (keys >= low) & (keys <= high)
        rows = np.full(keys.size, -1, I64)
        rows[inside] = table[keys[inside] - low]
        return rows
    at = np.minimum(np.searchsorted(client_ids, keys), client_ids.size - 1)
    return np.where(client_ids[at] == keys, at, -1)


def months_part(context: ReportContext, dims: Dimensions) -> tuple[Table, dict[str, Any]]:
    orders = context.orders
    n = len(context.clients)
    last = int(np.datetime64(context.as_of, "M").astype(I64))
    first_possible = last - MONTHS + 1
    rows = client_rows(context.clients.client_id, orders.key)
    month = months_of(orders.day)
    ok = (rows >= 0) & (month <= last)
    rows, month, amount = rows[ok], month[ok], orders.amount[ok]
    if rows.size == 0:
        empty = {k: np.zeros(0, I64) for k in ("owner_id", "team_id", "tier_id", "segment")}
        return Table(
            {**empty, "month": np.zeros(0, I64), "gap": np.zeros(0, I64)},
            {"clients": np.zeros(0), "orders": np.zeros(0), "revenue": np.zeros(0)},
        ), {"first_month": None, "last_month": None}
    first = max(int(month.min()), first_possible)
    width = last - first + 1
    # The last purchase month before the grid, for each client (`never` if none).
    before = month < first
    never = -(10**9)
    prior = np.full(n, never, I64)
    if before.any():
        np.maximum.at(prior, rows[before], month[before] - first)
        inside = ~before
        rows, month, amount = rows[inside], month[inside] - first, amount[inside]
    else:
        month = month - first
    # Month-major grids (a month's row of clients is contiguous): bought or not, and
    # the gap to the previous purchase month.
    cell = month * n + rows
    present = np.zeros(width * n, dtype=np.uint8)
    present[cell] = 1
    present_grid = present.reshape(width, n)
    gap_grid = np.zeros((width, n), dtype=np.int8)
    latest = prior.copy()  # month index relative to `first` (negative: before the grid)
    seen = prior != never
    for j in range(width):
        np.copyto(gap_grid[j], np.minimum(j - latest, GAP_MAX + 1), where=seen, casting="unsafe")
        bought = present_grid[j].view(np.bool_)
        latest[bought] = j
        seen |= bought
    gap_flat = gap_grid.reshape(-1)
    # Group keys: client dimension code x month x gap, dense.
    dim_unique, dim_code = dense([dims.owner, dims.team, dims.tier, dims.segment])
    gaps = GAP_MAX + 2
    space = dim_unique[0].size * width * gaps
    order_key = (dim_code[rows] * width + month) * gaps + gap_flat[cell]
    cells = np.flatnonzero(present)
    cell_month = cells // n
    cell_key = (dim_code[cells - cell_month * n] * width + cell_month) * gaps + gap_flat[cells]
    if space <= 50_000_000:
        orders_n = np.bincount(order_key, minlength=space)
        revenue = np.bincount(order_key, weights=amount, minlength=space)
        clients = np.bincount(cell_key, minlength=space)
        used = np.flatnonzero(orders_n)
        keys, orders_v, revenue_v, clients_v = used, orders_n[used], revenue[used], clients[used]
    else:
        keys, inverse = np.unique(order_key, return_inverse=True)
        orders_v = np.bincount(inverse, minlength=keys.size)
        revenue_v = np.bincount(inverse, weights=amount, minlength=keys.size)
        clients_v = np.bincount(np.searchsorted(keys, cell_key), minlength=keys.size)
    gap_v = keys % gaps
    month_v = (keys // gaps) % width + first
    code_v = keys // gaps // width
    detail = Table(
        {
            "owner_id": dim_unique[0][code_v],
            "team_id": dim_unique[1][code_v],
            "tier_id": dim_unique[2][code_v],
            "segment": dim_unique[3][code_v],
            "month": month_first_day(month_v),
            "gap": gap_v,
        },
        {
            "clients": clients_v.astype(np.float64),
            "orders": orders_v.astype(np.float64),
            "revenue": revenue_v.astype(np.float64),
        },
    )
    info = {
        "first_month": str(np.datetime64(first, "M")),
        "last_month": str(np.datetime64(last, "M")),
    }
    return detail, info


def nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is at least `value` (> 0)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value:
            return float(factor * power)
    return float(10 * power)


def clients_part(context: ReportContext, dims: Dimensions) -> tuple[Table, Table, dict[str, Any]]:
    clients = context.clients
    n = len(clients)
    everyone = np.arange(n)
    clv = clients.clv.astype(np.float64)
    has_clv = np.isfinite(clv)
    clv0 = np.where(has_clv, clv, 0.0)
    snapshot = group(
        {
            **dims.keys(everyone),
            "stage": clients.stage.astype(I64),
            "abc": clients.abc.astype(I64),
            "xyz": clients.xyz.astype(I64),
        },
        {
            "clients": np.ones(n),
            "clv_clients": has_clv.astype(np.float64),
            "clv": clv0,
            "window_revenue": clients.window_revenue.astype(np.float64),
        },
    )
    finite = clv[has_clv]
    top = float(np.quantile(finite, 0.99)) if finite.size else 0.0
    step = nice_step(top / CLV_BINS) if top > 0 else 1.0
    bins = np.where(has_clv, np.clip(np.floor(clv0 / step), 0, CLV_BINS).astype(I64), -1).astype(
        I64
    )
    histogram = group(
        {**dims.keys(everyone), "bin": bins},
        {"clients": np.ones(n), "clv": clv0},
    )
    counts = np.bincount(bins[bins >= 0], minlength=CLV_BINS + 1) if n else np.zeros(0)
    info = {
        "step": step,
        "bins": CLV_BINS + 1,
        "edges": [round(step * k, 2) for k in range(CLV_BINS + 1)],
        "counts": [int(c) for c in counts],
        "no_clv": int((~has_clv).sum()),
        "clients_with_clv": int(finite.size),
        "mean": float(finite.mean()) if finite.size else None,
        "median": float(np.median(finite)) if finite.size else None,
    }
    return snapshot, histogram, info


def deals_part(context: ReportContext, dims: Dimensions) -> tuple[Table, dict[str, Any]]:
    from lavka.sales.models import Deal, DealStageChange, Stage

    rows = list(
        Deal.objects.values_list(
            "id",
            "client_id",
            "owner_id",
            "team_id",
            "amount",
            "currency",
            "probability",
            "created_at",
            "won_at",
            "lost_at",
            "stage__kind",
            "stage_id",
            "expected_close_on",
        ).order_by()
    )
    empty = Table(
        {
            "owner_id": np.zeros(0, I64),
            "team_id": np.zeros(0, I64),
            "tier_id": np.zeros(0, I64),
            "segment": np.zeros(0, I64),
            "kind": np.zeros(0, I64),
            "month": np.zeros(0, I64),
            "stage_id": np.zeros(0, I64),
        },
        {
            "deals": np.zeros(0),
            "amount": np.zeros(0),
            "weighted": np.zeros(0),
            "days": np.zeros(0),
        },
    )
    if not rows:
        return empty, {"deals": 0, "skipped": {}}
    (ids, client, owner, team, amount, currency, probability, created, won, lost, kind, stage,
     expected) = zip(*rows, strict=True)  # fmt: skip
    as_of_day = int(np.datetime64(context.as_of, "D").astype(I64))
    n = len(ids)
    columns = Columns(
        key=np.arange(n, dtype=I64),
        day=np.full(n, as_of_day, I64),
        amount=np.array([float(a) for a in amount], np.float64),
        currency=np.array([pack_currency(c) for c in currency], np.int32),
    )
    converted = convert_to_reporting(columns, context.run.currency)
    keep = converted.columns.key
    value = np.zeros(n)
    value[keep] = converted.columns.amount
    valid = np.zeros(n, dtype=bool)
    valid[keep] = True

    def days_of(values: tuple[Any, ...]) -> NDArray[np.int64]:
        out = np.full(n, -1, I64)
        for i, v in enumerate(values):
            if v is not None:
                out[i] = (v.date() if hasattr(v, "date") else v).toordinal() - 719163
        return out

    created_day, won_day, lost_day = days_of(created), days_of(won), days_of(lost)
    expected_day = days_of(expected)
    client_ids = np.array(client, I64)
    at = client_rows(context.clients.client_id, client_ids)
    scored = at >= 0
    attributes = context.client_attributes
    arow = attributes.rows_of(client_ids)
    tier = np.where(arow >= 0, np.maximum(attributes.tier_id[np.maximum(arow, 0)], 0), 0)
    segment = np.where(scored, dims.segment[np.maximum(at, 0)], NO_SEGMENT)
    base = {
        "owner_id": np.array(owner, I64),
        "team_id": np.array([t or 0 for t in team], I64),
        "tier_id": tier.astype(I64),
        "segment": segment.astype(I64),
    }
    kinds = np.array(kind)
    probability_v = np.array(probability, np.float64)
    stage_v = np.array(stage, I64)
    last_month = int(np.datetime64(context.as_of, "M").astype(I64))
    parts: list[tuple[NDArray[np.int64], dict[str, Any]]] = []

    def add(
        select: NDArray[np.bool_], kind_code: int, day: NDArray[np.int64], **extra: Any
    ) -> None:
        select = select & valid
        if not select.any():
            return
        month = np.where(
            day[select] >= 0, month_first_day(month_of_days(np.maximum(day[select], 0))), 0
        )
        parts.append(
            (
                np.flatnonzero(select),
                {
                    "kind": np.full(int(select.sum()), kind_code, I64),
                    "month": month,
                    "stage_id": extra.get("stage", np.zeros(n, I64))[select],
                    "weighted": extra.get("weighted", np.zeros(n))[select],
                    "days": extra.get("days", np.zeros(n))[select],
                },
            )
        )

    in_time = month_of_days(np.maximum(created_day, 0)) <= last_month
    add(in_time & (created_day >= 0), KpiDeals.CREATED, created_day)
    is_won = (kinds == Stage.Kind.WON) & (won_day >= 0)
    add(is_won, KpiDeals.WON, won_day, days=np.maximum(won_day - created_day, 0).astype(float))
    add((kinds == Stage.Kind.LOST) & (lost_day >= 0), KpiDeals.LOST, lost_day)
    is_open = kinds == Stage.Kind.OPEN
    add(
        is_open,
        KpiDeals.OPEN,
        expected_day,
        stage=stage_v,
        weighted=value * probability_v / 100.0,
    )
    # The funnel: every stage a deal has entered (its current one included).
    reached = set(
        DealStageChange.objects.filter(deal__deleted_at__isnull=True)
        .values_list("deal_id", "to_stage_id")
        .distinct()
        .order_by()
    )
    reached.update(zip(ids, stage, strict=True))
    index = {deal_id: i for i, deal_id in enumerate(ids)}
    pairs = [(index[d], s) for d, s in reached if d in index]
    if pairs:
        at_deal = np.array([p[0] for p in pairs], I64)
        at_stage = np.array([p[1] for p in pairs], I64)
        select = valid[at_deal] & in_time[at_deal]
        at_deal, at_stage = at_deal[select], at_stage[select]
        if at_deal.size:
            parts.append(
                (
                    at_deal,
                    {
                        "kind": np.full(at_deal.size, KpiDeals.REACHED, I64),
                        "month": month_first_day(month_of_days(created_day[at_deal])),
                        "stage_id": at_stage,
                        "weighted": np.zeros(at_deal.size),
                        "days": np.zeros(at_deal.size),
                    },
                )
            )
    if not parts:
        return empty, {"deals": n, "skipped": converted.skipped}
    which = np.concatenate([p[0] for p in parts])
    extra = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
    keys = {
        **{k: v[which] for k, v in base.items()},
        "kind": extra["kind"],
        "month": extra["month"],
        "stage_id": extra["stage_id"],
    }
    detail = group(
        keys,
        {
            "deals": np.ones(which.size),
            "amount": value[which],
            "weighted": extra["weighted"],
            "days": extra["days"],
        },
    )
    return detail, {"deals": n, "skipped": converted.skipped}


def report(context: ReportContext) -> dict[str, Any] | None:
    """Compute and store the dashboard's tables for `context.run`; return what the page
    needs besides them (the months covered, the CLV bins)."""
    dims = client_dimensions(context)
    months, month_info = months_part(context, dims)
    snapshot, histogram, clv_info = clients_part(context, dims)
    deals, deal_info = deals_part(context, dims)
    run_id = int(context.run.pk)
    written = {}
    with transaction.atomic():
        for model in (KpiMonth, KpiClients, KpiClv, KpiDeals):
            model.objects.filter(run_id=run_id).delete()
        for name, model, table in (
            ("months", KpiMonth, months),
            ("clients", KpiClients, snapshot),
            ("clv", KpiClv, histogram),
            ("deals", KpiDeals, deals),
        ):
            written[name] = write(model, run_id, rollups(table))
    return {
        **month_info,
        "gap_max": GAP_MAX,
        "clv_bins": clv_info,
        "deals": deal_info,
        "rows": written,
    }
