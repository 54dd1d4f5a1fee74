"""The forecast report (see `reports.py`): revenue by month, its forecast for the next
twelve months with 80% and 95% intervals (`engine.forecast`), and the weighted pipeline
by expected close month.

What it stores in `ComputeRun.reports["forecast"]` (amounts in the run's currency,
rounded to cents; months as "YYYY-MM"):

    {"currency", "as_of", "scope": "all",
     "history": [[month, revenue], ...],            whole months, oldest first
     "current": [month, revenue so far] | None,     the month of as_of, when not over
     "forecast": [[month, value, lo80, hi80, lo95, hi95], ...],
     "model": {"name", "reason", "months", "params", "aicc", "candidates", "clipped"},
     "accuracy": {"mape", "months", "compared"} | None,
     "pipeline": [[month | "overdue" | "none", weighted, unweighted, deals], ...],
     "pipeline_skipped": {currency: deals}}

The weighted pipeline: open deals (stage of kind open, not in the trash), amount x
probability / 100, converted at the latest rate on or before `as_of`; by the month of
the expected close date from the month of `as_of` on; open deals whose date has passed
are "overdue", those without a date "none". A deal in a currency without a rate is
left out and counted in `pipeline_skipped`.

Who sees what (`forecast_for`): a viewer who reads the whole base gets the stored
report. Anyone else with analytics access gets the same computed on the fly over the
clients whose analytics they may read (`analytics_clients_visible_to`): their orders
summed by day and currency in SQL (a few thousand rows), the same model, the open deals
of those clients; `scope` is "own". That result is cached per run and viewer for an
hour (a fit takes up to a second).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from django.core.cache import cache
from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum

from lavka.analytics.engine.forecast import (
    HORIZON,
    MonthlySeries,
    RevenueForecast,
    forecast_revenue,
    month_first_day,
    monthly_series,
)
from lavka.analytics.loading import Columns, convert_to_reporting, pack_currency
from lavka.analytics.models import ComputeRun
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import analytics_clients_visible_to, sees_whole_base
from lavka.core.errors import NotFound
from lavka.sales.models import Deal, Order, Stage
from lavka.sales.models.orders import SALE_STATUSES

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext

OVERDUE = "overdue"
NO_DATE = "none"
CACHE_SECONDS = 3600


def _day(on: dt.date) -> int:
    return (on - dt.date(1970, 1, 1)).days


def month_key(month: int) -> str:
    """ "YYYY-MM" of a month counted from 1970-01."""
    return f"{1970 + month // 12:04d}-{month % 12 + 1:02d}"


def _money(value: float) -> float:
    return round(float(value), 2)


# --- the pieces --------------------------------------------------------------------------


def _open_deals(clients: QuerySet[Any] | None) -> QuerySet[Any]:
    deals = Deal.objects.filter(stage__kind=Stage.Kind.OPEN)
    if clients is not None:
        deals = deals.filter(client_id__in=clients.values("pk"))
    return (
        deals.values_list("expected_close_on", "currency")
        .annotate(
            weighted=Sum(
                ExpressionWrapper(
                    F("amount") * F("probability"),
                    output_field=DecimalField(max_digits=24, decimal_places=2),
                )
            ),
            unweighted=Sum("amount"),
            deals=Count("id"),
        )
        .order_by()
    )


def weighted_pipeline(
    *, as_of: dt.date, currency: str, clients: QuerySet[Any] | None = None
) -> tuple[list[list[Any]], dict[str, int]]:
    """Open deals (of `clients`, or all) by expected close month: one grouped query by
    (date, currency), converted at the rate of `as_of`. Returns the rows described in
    the module docstring and the deals left out per currency."""
    rows = list(_open_deals(clients))
    if not rows:
        return [], {}
    as_of_day = _day(as_of)
    n = len(rows)
    undated = np.array([on is None for on, *_ in rows])
    days = np.array([as_of_day if on is None else _day(on) for on, *_ in rows], dtype=np.int64)
    weighted = np.array([float(w or Decimal(0)) / 100 for _, _, w, _, _ in rows])
    unweighted = np.array([float(a or Decimal(0)) for _, _, _, a, _ in rows])
    counts = np.array([c for *_, c in rows], dtype=np.int64)
    codes = np.array([pack_currency(c) for _, c, *_ in rows], dtype=np.int32)
    # The rate of `as_of` for each row: converting ones gives the factor (and drops
    # the rows of a currency without a rate).
    factors = convert_to_reporting(
        Columns(
            key=np.arange(n, dtype=np.int64),
            day=np.full(n, as_of_day, dtype=np.int64),
            amount=np.ones(n),
            currency=codes,
        ),
        currency,
    ).columns
    kept = factors.key
    w_conv = weighted[kept] * factors.amount
    u_conv = unweighted[kept] * factors.amount
    skipped: dict[str, int] = {}
    for i in np.setdiff1d(np.arange(n), kept).tolist():
        code = str(rows[i][1]).strip().upper()
        skipped[code] = skipped.get(code, 0) + int(counts[i])
    buckets: dict[str, list[float]] = {}
    as_of_month = int(np.datetime64(as_of, "M").astype(np.int64))
    for j, i in enumerate(kept.tolist()):
        if undated[i]:
            key = NO_DATE
        elif days[i] < as_of_day:
            key = OVERDUE
        else:
            month = int(np.datetime64(int(days[i]), "D").astype("datetime64[M]").astype(np.int64))
            key = month_key(max(month, as_of_month))
        bucket = buckets.setdefault(key, [0.0, 0.0, 0])
        bucket[0] += float(w_conv[j])
        bucket[1] += float(u_conv[j])
        bucket[2] += int(counts[i])
    order = sorted(k for k in buckets if k not in (OVERDUE, NO_DATE))
    order += [k for k in (OVERDUE, NO_DATE) if k in buckets]
    return [
        [k, _money(buckets[k][0]), _money(buckets[k][1]), int(buckets[k][2])] for k in order
    ], skipped


def build(
    *,
    series: MonthlySeries,
    result: RevenueForecast,
    as_of: dt.date,
    currency: str,
    pipeline: list[list[Any]],
    pipeline_skipped: dict[str, int],
    scope: str,
) -> dict[str, Any]:
    """The JSON stored for a run (and returned for one viewer)."""
    history = [[month_key(series.first_month + i), _money(v)] for i, v in enumerate(series.revenue)]
    start = series.next_month
    forecast = [
        [month_key(start + i), *(_money(a[i]) for a in arrays)]
        for i in range(result.value.size)
        for arrays in [(result.value, result.lo80, result.hi80, result.lo95, result.hi95)]
    ]
    partial = month_first_day(series.current_month + 1) - 1 != _day(as_of)
    accuracy = result.accuracy
    return {
        "currency": currency,
        "as_of": as_of.isoformat(),
        "scope": scope,
        "history": history,
        "current": [month_key(series.current_month), _money(series.current_revenue)]
        if partial
        else None,
        "forecast": forecast,
        "model": {
            "name": str(result.model) if result.model else None,
            "reason": int(result.reason),
            "months": result.months,
            "params": {k: float(f"{v:.6g}") for k, v in result.params.items()},
            "aicc": None if result.aicc is None else round(result.aicc, 3),
            "candidates": {
                k: None if v is None else round(v, 3) for k, v in result.candidates.items()
            },
            "clipped": result.clipped,
        },
        "accuracy": None
        if accuracy is None
        else {
            "mape": round(accuracy.mape, 4),
            "months": accuracy.months,
            "compared": accuracy.compared,
        },
        "pipeline": pipeline,
        "pipeline_skipped": pipeline_skipped,
    }


# --- the report --------------------------------------------------------------------------


def report(context: ReportContext) -> dict[str, Any] | None:
    orders = context.orders
    series = monthly_series(orders.day, orders.amount, as_of_day=_day(context.as_of))
    result = forecast_revenue(series.revenue, horizon=HORIZON)
    currency = context.run.currency
    pipeline, skipped = weighted_pipeline(as_of=context.as_of, currency=currency)
    return build(
        series=series,
        result=result,
        as_of=context.as_of,
        currency=currency,
        pipeline=pipeline,
        pipeline_skipped=skipped,
        scope="all",
    )


# --- one viewer's share ------------------------------------------------------------------


def _own_forecast(viewer: Any, run: ComputeRun) -> dict[str, Any]:
    clients = analytics_clients_visible_to(viewer)
    rows = list(
        Order.objects.filter(
            status__in=SALE_STATUSES,
            ordered_on__lte=run.as_of,
            client_id__in=clients.values("pk"),
        )
        .values_list("ordered_on", "currency")
        .annotate(total=Sum("total"))
        .order_by()
    )
    columns = Columns(
        key=np.zeros(len(rows), dtype=np.int64),
        day=np.array([_day(on) for on, _, _ in rows], dtype=np.int64),
        amount=np.array([float(t or 0) for _, _, t in rows], dtype=np.float64),
        currency=np.array([pack_currency(c) for _, c, _ in rows], dtype=np.int32),
    )
    converted = convert_to_reporting(columns, run.currency).columns
    series = monthly_series(converted.day, converted.amount, as_of_day=_day(run.as_of))
    result = forecast_revenue(series.revenue, horizon=HORIZON)
    pipeline, skipped = weighted_pipeline(as_of=run.as_of, currency=run.currency, clients=clients)
    return build(
        series=series,
        result=result,
        as_of=run.as_of,
        currency=run.currency,
        pipeline=pipeline,
        pipeline_skipped=skipped,
        scope="own",
    )


def forecast_for(*, viewer: Any, run: ComputeRun) -> dict[str, Any] | None:
    """The forecast report of `run` as `viewer` may see it (see the module docstring):
    None when the run has none (computed before forecasts existed) or it failed
    (then `{"error": ...}` is returned as stored)."""
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics run", id=run.pk)
    if sees_whole_base(viewer):
        stored = (run.reports or {}).get("forecast")
        return stored if isinstance(stored, dict) else None
    key = f"analytics:forecast:{run.pk}:{run.started_at.timestamp()}:{viewer.pk}"
    found = cache.get(key)
    if found is None:
        found = _own_forecast(viewer, run)
        cache.set(key, found, CACHE_SECONDS)
    return found
