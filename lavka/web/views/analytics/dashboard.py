"""Analytics pages: the KPI dashboard (the analytics area's landing) and the Plotly
bundle its charts are drawn with, served from the installed `plotly` package (no CDN).

The page reads `lavka.analytics.dashboard.kpi_dashboard` (pre-aggregated figures, a
handful of small queries); each chart also comes as a table, as CSV
(`?export=<chart>.csv` with the same filters) and as PNG (Plotly's own export), and
drills into the client list behind it."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.resources
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lavka.analytics.dashboard import (
    Dashboard,
    Figure,
    Filters,
    filter_choices,
    filters_parse,
    kpi_dashboard,
    kpi_run,
    month_after,
    month_day,
)
from lavka.analytics.engine.rfm import SEGMENT_LABELS, SEGMENTS
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import segment_moves
from lavka.web.requests import AuthedRequest
from lavka.web.templatetags.lavka import money

CHARTS = ("figures", "trend", "funnel", "matrix", "stages", "cohorts", "moves", "clv")


# --- formatting --------------------------------------------------------------------------


def _fmt(value: float, decimals: int = 0, force_grouping: bool = True) -> str:
    """A number in the user's locale, rounded (Django's number_format truncates)."""
    return number_format(round(value, decimals), decimals, force_grouping=force_grouping)


def _value_text(figure: Figure, currency: str) -> str:
    value = figure.value
    if value is None:
        return "—"
    if figure.kind == "money":
        return money(round(value), currency).replace(",00", "").replace(".00", "")
    if figure.kind == "percent":
        return f"{_fmt(value * 100, 1)}\u00a0%"
    if figure.kind == "days":
        return _("%(days)s d") % {"days": _fmt(value, 0)}
    if figure.kind == "ratio":
        return _fmt(value, 2)
    return _fmt(round(value), 0, force_grouping=True)


def _change_text(figure: Figure) -> str:
    change = figure.change
    if change is None:
        return ""
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "")
    if figure.kind == "percent":
        return _("%(arrow)s%(points)s p.p.") % {
            "arrow": arrow,
            "points": _fmt(abs(change), 1),
        }
    return f"{arrow}{_fmt(abs(change) * 100, 1)}\u00a0%"


def _card(figure: Figure, currency: str, client_list: str) -> dict[str, Any]:
    previous = None
    if figure.previous is not None:
        previous = _value_text(Figure(figure.code, "", figure.previous, figure.kind), currency)
    plan_text = ""
    if figure.plan is not None:
        plan_text = _value_text(Figure(figure.code, "", figure.plan, figure.kind), currency)
    return {
        "code": figure.code,
        "label": figure.label,
        "value": _value_text(figure, currency),
        "has_value": figure.value is not None,
        "previous": previous,
        "change": _change_text(figure),
        "tone": figure.tone,
        "plan": plan_text,
        "plan_share": None
        if figure.plan_share is None
        else f"{_fmt(figure.plan_share * 100, 0)}\u00a0%",
        "plan_tone": ""
        if figure.plan_share is None
        else ("good" if figure.plan_share >= 1 else "warn" if figure.plan_share >= 0.9 else "risk"),
        "note": figure.note,
        "missing": figure.missing,
        "drill": f"{client_list}?{figure.drill}" if figure.drill else "",
    }


# --- the chart data ----------------------------------------------------------------------


SEGMENT_BY_LABEL = {str(SEGMENT_LABELS[s]): str(s) for s in SEGMENTS}


def _cohort_cell(month: str, offset: int, **extra: str) -> str:
    """The client list's query for a cohort's clients who bought `offset` months after
    their first purchase (`extra`: the breakdown's channel or tier)."""
    return urlencode({"cohort": month, "bought": month_after(month, offset), **extra})


def _cohort_rows(cohorts: dict[str, Any], list_url: str) -> list[dict[str, Any]]:
    """The whole base's cohorts (the report is computed for it, whatever the dashboard's
    filters), each cell with the list of the cohort's clients who bought that month."""
    months = list(cohorts.get("months") or [])
    everyone = cohorts.get("all") or {}
    clients = list(everyone.get("clients") or [])
    retention = list(everyone.get("retention") or [])
    largest = max((v for row in retention for v in row if isinstance(v, int | float)), default=0)
    scale = 100.0 if largest <= 1.0 else 1.0  # shares or percent
    rows = []
    for i, month in enumerate(months):
        values = retention[i] if i < len(retention) else []
        shares = [None if not isinstance(v, int | float) else round(v * scale, 1) for v in values]
        rows.append(
            {
                "month": str(month),
                "clients": int(clients[i]) if i < len(clients) and clients[i] is not None else 0,
                "retention": shares,
                "drill": f"{list_url}?{urlencode({'cohort': month})}",
                "cells": [
                    {
                        "value": v,
                        "url": None if v is None else f"{list_url}?{_cohort_cell(str(month), k)}",
                    }
                    for k, v in enumerate(shares)
                ],
            }
        )
    return rows


def _moves(request: AuthedRequest, board: Dashboard) -> dict[str, Any] | None:
    moves = segment_moves(viewer=request.user, run=board.run)
    if moves is None:
        return None
    flows = [
        {
            "before": str(f.before),
            "now": str(f.now),
            "before_code": SEGMENT_BY_LABEL.get(str(f.before), ""),
            "now_code": SEGMENT_BY_LABEL.get(str(f.now), ""),
            "clients": f.clients,
        }
        for f in moves.changes
    ]
    return {
        "from_as_of": moves.from_as_of,
        "flows": flows,
        "stayed": moves.stayed,
        "new": moves.new,
    }


def flow_drills(flow: dict[str, Any], list_url: str) -> dict[str, str]:
    """The client lists behind a flow of the movement between segments (whole base, as
    the movement is): the flow itself, everyone who left its "before" segment, everyone
    who came into its "now" segment."""
    before, now = flow["before_code"], flow["now_code"]
    if not before or not now:
        return {"drill": "", "left_drill": "", "came_drill": ""}
    codes = [str(s) for s in SEGMENTS]

    def others(code: str) -> str:
        return ",".join(c for c in codes if c != code)

    def url(**params: str) -> str:
        return f"{list_url}?{urlencode(params)}"

    return {
        "drill": url(segment_before=before, segment=now),
        "left_drill": url(segment_before=before, segment=others(before)),
        "came_drill": url(segment_before=others(now), segment=now),
    }


def _funnel_drills(filters: Filters, stage_id: int) -> dict[str, str]:
    """The deal list behind a stage of the funnel: the deals created in the period that
    reached the stage (the bar), and the stage's open deals now, with the dashboard's
    owner, team and tier. None with a segment filter: the deal list has no segment."""
    if filters.segment is not None:
        return {"drill": "", "open_drill": ""}
    who = {
        k: str(v)
        for k, v in (
            ("owner", filters.owner_id),
            ("team", filters.team_id),
            ("tier", filters.tier_id),
        )
        if v is not None
    }
    last_day = month_day(filters.end + 1) - dt.timedelta(days=1)
    deals = reverse("sales:deals")
    reached = {
        "reached": str(stage_id),
        "created_from": month_day(filters.start).isoformat(),
        "created_to": last_day.isoformat(),
        **who,
    }
    return {
        "drill": f"{deals}?{urlencode(reached)}",
        "open_drill": f"{deals}?{urlencode({'stage': str(stage_id), **who})}",
    }


def _chart_data(
    board: Dashboard, moves: dict[str, Any] | None, cohorts: list[dict[str, Any]], list_url: str
) -> dict[str, Any]:
    base = board.filters.client_query()
    step = (board.clv_bins[0].high or 1.0) if board.clv_bins else 1.0  # equal bins

    def drill(**extra: Any) -> str:
        return f"{list_url}?{urlencode({**base, **{k: str(v) for k, v in extra.items()}})}"

    return {
        "currency": board.currency,
        "labels": {
            "month": _("Month"),
            "revenue": _("Revenue"),
            "plan": _("Target"),
            "new": _("New clients"),
            "active": _("Active clients"),
            "clients": _("Clients"),
            "deals": _("Deals"),
            "stage": _("Stage"),
            "reached": _("Deals that reached the stage"),
            "clv": _("CLV"),
            "cohort": _("Cohort (month of first purchase)"),
            "months_after": _("Months after the first purchase"),
            "retention": _("Retention, %"),
            "before": _("before"),
            "now": _("now"),
            "png": _("Download PNG"),
        },
        "trend": [{**row, "drill": drill(bought=row["month"])} for row in board.trend],
        "funnel": [
            {
                "name": s.name,
                "reached": s.reached,
                "amount": s.reached_amount,
                "open": s.open,
                "open_amount": s.open_amount,
                **_funnel_drills(board.filters, s.stage_id),
            }
            for s in board.funnel
        ],
        "matrix": [
            [
                {
                    "label": cell["abc"] + cell["xyz"],
                    "clients": cell["clients"],
                    "revenue": round(cell["revenue"], 2),
                    "drill": f"{list_url}?{cell['drill']}",
                }
                for cell in row
            ]
            for row in board.matrix
        ],
        "stages": [
            {
                "label": str(s["label"]),
                "clients": s["clients"],
                "drill": f"{list_url}?{s['drill']}",
            }
            for s in board.stages
        ],
        "clv": [
            {
                "label": _clv_label(b.low, b.high),
                "middle": b.low + step / 2,
                "width": step,
                "clients": b.clients,
                "drill": drill(
                    clv_min=round(b.low), **({} if b.high is None else {"clv_max": round(b.high)})
                ),
            }
            for b in board.clv_bins
        ],
        "cohorts": cohorts,
        "moves": None
        if moves is None
        else [{**f, **flow_drills(f, list_url)} for f in moves["flows"]],
    }


def _clv_label(low: float, high: float | None) -> str:
    if high is None:
        return _("%(low)s and more") % {"low": _fmt(round(low), 0, force_grouping=True)}
    low_text = _fmt(round(low), 0, force_grouping=True)
    return f"{low_text}–{_fmt(round(high), 0, force_grouping=True)}"


# --- CSV ---------------------------------------------------------------------------------


def _csv(request: AuthedRequest, name: str, board: Dashboard, data: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kpi-{name}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)

    def safe(value: Any) -> Any:
        text = str(value) if value is not None else ""
        return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else value

    def row(values: list[Any]) -> None:
        writer.writerow([safe(v) for v in values])

    currency = board.currency
    if name == "figures":
        row([_("Figure"), _("This period"), _("Previous period"), _("Target"), _("Currency")])
        for f in board.figures:
            row(
                [
                    f.label,
                    _num(f.value),
                    _num(f.previous),
                    _num(f.plan),
                    currency if f.kind == "money" else "",
                ]
            )
    elif name == "trend":
        row(
            [
                _("Month"),
                _("Revenue"),
                _("Orders"),
                _("Active clients"),
                _("New clients"),
                _("Target"),
            ]
        )
        for t in board.trend:
            row(
                [
                    t["month"],
                    _num(t["revenue"]),
                    t["orders"],
                    t["active"],
                    t["new"],
                    _num(t["plan"]),
                ]
            )
    elif name == "funnel":
        row(
            [
                _("Stage"),
                _("Deals that reached the stage"),
                _("Amount"),
                _("Open now"),
                _("Open amount"),
                _("Weighted"),
            ]
        )
        for s in board.funnel:
            row(
                [
                    s.name,
                    s.reached,
                    _num(s.reached_amount),
                    s.open,
                    _num(s.open_amount),
                    _num(s.weighted),
                ]
            )
    elif name == "matrix":
        row([_("Class"), _("Clients"), _("Revenue in the window")])
        for cells in board.matrix:
            for cell in cells:
                row([cell["abc"] + cell["xyz"], cell["clients"], _num(cell["revenue"])])
    elif name == "stages":
        row([_("Stage"), _("Clients")])
        for stage in board.stages:
            row([stage["label"], stage["clients"]])
    elif name == "clv":
        row([_("CLV from"), _("CLV to"), _("Clients")])
        for b in board.clv_bins:
            row([_num(b.low), _num(b.high), b.clients])
        row([_("not enough data"), "", board.clv_without])
    elif name == "cohorts":
        rows = data["cohorts"]
        width = max((len(r["retention"]) for r in rows), default=0)
        row([_("Cohort"), _("Clients")] + [_("Month %(n)s") % {"n": k} for k in range(width)])
        for r in rows:
            row([r["month"], r["clients"]] + [_num(v) for v in r["retention"]])
    elif name == "moves":
        row([_("Segment before"), _("Segment now"), _("Clients")])
        for f in data["moves"] or []:
            row([f["before"], f["now"], f["clients"]])
    return response


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


# --- the page ----------------------------------------------------------------------------


@login_required
@require_GET
def show_dashboard(request: AuthedRequest) -> HttpResponse:
    if not can_read_analytics(request.user):
        raise Http404
    request.nav_section = "analytics"  # type: ignore[attr-defined]
    run = kpi_run(viewer=request.user)
    has_figures = (
        run is not None
        and isinstance((run.reports or {}).get("kpi"), dict)
        and "error" not in run.reports["kpi"]
    )
    if run is None or not has_figures:
        return render(request, "web/analytics/dashboard.html", {"run": run, "board": None})
    filters = filters_parse(request.GET, run=run)
    board = kpi_dashboard(viewer=request.user, run=run, filters=filters)
    moves = _moves(request, board)
    list_url = reverse("clients:list")
    cohorts = _cohort_rows(board.cohorts, list_url) if board.cohorts else []
    data = _chart_data(board, moves, cohorts, list_url)
    export = request.GET.get("export", "")
    if export:
        name = export.removesuffix(".csv")
        if name not in CHARTS:
            raise Http404
        return _csv(request, name, board, data)
    choices = filter_choices(viewer=request.user, run=run)
    here = reverse("analytics:dashboard")
    presets = [
        ("month", _("This month")),
        ("3m", _("Last 3 months")),
        ("12m", _("Last 12 months")),
    ]
    stages = {s["code"]: s for s in board.stages}
    context = {
        "run": run,
        "board": board,
        "filters": filters,
        "choices": choices,
        "cards": [_card(f, board.currency, list_url) for f in board.figures],
        "presets": [
            {
                "code": code,
                "label": label,
                "url": f"{here}?{urlencode(filters.query(period=code, **{'from': '', 'to': ''}))}",
                "active": filters.preset == code,
            }
            for code, label in presets
        ],
        "period_from": f"{filters.start // 12:04d}-{filters.start % 12 + 1:02d}",
        "period_to": f"{filters.end // 12:04d}-{filters.end % 12 + 1:02d}",
        "previous_from": _month_text(filters.previous[0]),
        "previous_to": _month_text(filters.previous[1]),
        "period_from_text": _month_text(filters.start),
        "period_to_text": _month_text(filters.end),
        "data": data,
        "moves": moves,
        "cohorts": cohorts,
        "cohort_width": max((len(r["retention"]) for r in cohorts), default=0),
        "export_query": urlencode(filters.query()),
        "client_list": list_url,
        "lost_now": stages["lost"]["clients"],
        "at_risk_now": stages["at_risk"]["clients"],
        "lost_now_url": f"{list_url}?{stages['lost']['drill']}",
        "at_risk_now_url": f"{list_url}?{stages['at_risk']['drill']}",
        "revenue_finding": _revenue_finding(board),
    }
    return render(request, "web/analytics/dashboard.html", context)


def _month_text(month: int) -> str:
    from lavka.analytics.dashboard import month_label

    return month_label(month)


def _revenue_finding(board: Dashboard) -> str:
    figure = board.figure("revenue")
    change = figure.change
    if change is None:
        return _("Revenue by month")
    if change >= 0:
        return _("Revenue up %(change)s on the previous period") % {
            "change": f"{_fmt(change * 100, 1)}\u00a0%"
        }
    return _("Revenue down %(change)s on the previous period") % {
        "change": f"{_fmt(-change * 100, 1)}\u00a0%"
    }


# --- the Plotly bundle -------------------------------------------------------------------


@cache
def _plotly_file() -> tuple[Path, str]:
    """The installed plotly package's plotly.min.js and an ETag from its version and
    size (the file changes only with the package)."""
    import plotly

    resource = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
    file = Path(str(resource))
    if not file.is_file():
        raise Http404
    stat = file.stat()
    digest = hashlib.sha256(f"{plotly.__version__}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return file, f'"plotly-{digest.hexdigest()[:16]}"'


@require_GET
def plotly_js(request: HttpRequest) -> HttpResponseBase:
    """Plotly's JS bundle from the installed package, cached for a year (the ETag
    changes with the package). Public: it is the library itself, no data."""
    file, etag = _plotly_file()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        not_modified = HttpResponseNotModified()
        for key, value in headers.items():
            not_modified[key] = value
        return not_modified
    response = FileResponse(file.open("rb"), content_type="text/javascript; charset=utf-8")
    for key, value in headers.items():
        response[key] = value
    return response


urlpatterns: list[Any] = [
    path("analytics/", show_dashboard, name="dashboard"),
    path("analytics/plotly.min.js", plotly_js, name="plotly_js"),
]
