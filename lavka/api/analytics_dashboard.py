"""Analytics endpoints: dashboard (see `lavka.web.views.analytics.dashboard` for the page).

`GET /analytics/kpi?from=YYYY-MM&to=YYYY-MM&team=&owner=&tier=&segment=` returns the
dashboard's figures for the period and filters, each with the previous period of equal
length and the plan, in the viewer's scope (`lavka.analytics.dashboard`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from lavka.analytics.dashboard import filters_parse, kpi_dashboard, kpi_run, month_key
from lavka.analytics.permissions import can_read_analytics
from lavka.core.errors import NotFound

router = Router(tags=["analytics"])


class FigureOut(Schema):
    code: str
    label: str
    kind: str
    value: float | None
    previous: float | None
    change: float | None
    plan: float | None
    missing: str = ""


class MonthOut(Schema):
    month: str
    revenue: float
    orders: int
    active: int
    new: int
    plan: float | None


class KpiOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    currency: str | None = None
    period_from: str | None = None
    period_to: str | None = None
    previous_from: str | None = None
    previous_to: str | None = None
    figures: list[FigureOut] = []
    trend: list[MonthOut] = []
    abc_xyz: dict[str, int] = {}
    stages: dict[str, int] = {}


@router.get("/analytics/kpi", response=KpiOut, url_name="analytics_kpi")
def get_kpi(
    request: HttpRequest,
    period: str = "",
    start: str = Query("", alias="from"),
    to: str = "",
    team: str = "",
    owner: str = "",
    tier: str = "",
    segment: str = "",
) -> dict[str, Any]:
    """The dashboard's figures for the period (`from`, `to` as YYYY-MM, or `period` =
    month | 3m | 12m) and filters (`team`, `owner`, `tier` ids, `segment` code)."""
    viewer = request.user
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics run", id=0)
    run = kpi_run(viewer=viewer)
    if run is None or not isinstance((run.reports or {}).get("kpi"), dict):
        return {"computed": False}
    filters = filters_parse(
        {
            "period": period,
            "from": start,
            "to": to,
            "team": team,
            "owner": owner,
            "tier": tier,
            "segment": segment,
        },
        run=run,
    )
    board = kpi_dashboard(viewer=viewer, run=run, filters=filters)
    previous = filters.previous
    return {
        "computed": True,
        "as_of": run.as_of,
        "currency": run.currency,
        "period_from": month_key(filters.start),
        "period_to": month_key(filters.end),
        "previous_from": month_key(previous[0]),
        "previous_to": month_key(previous[1]),
        "figures": [
            {
                "code": f.code,
                "label": str(f.label),
                "kind": f.kind,
                "value": f.value,
                "previous": f.previous,
                "change": f.change,
                "plan": f.plan,
                "missing": str(f.missing or ""),
            }
            for f in board.figures
        ],
        "trend": [
            {
                "month": t["month"],
                "revenue": t["revenue"],
                "orders": t["orders"],
                "active": t["active"],
                "new": t["new"],
                "plan": t["plan"],
            }
            for t in board.trend
            if t["in_period"]
        ],
        "abc_xyz": {c["abc"] + c["xyz"]: c["clients"] for row in board.matrix for c in row},
        "stages": {s["code"]: s["clients"] for s in board.stages},
    }
