"""Analytics pages: cohorts (retention and revenue by month of the first purchase, as a
heatmap table) and touchpoint effectiveness (per kind and channel, what followed a
touch within 7, 14 or 30 days). Both read the reports stored with the current run
(`lavka.analytics.cohorts.cohorts_read`, `lavka.analytics.touchpoints.touchpoints_read`):
one query for the run, one for tier names.

Both reports cover the whole base. A viewer whose role sees only part of it (a sales
manager's teams, a rep's own clients) gets a page that says so instead of figures, since
totals over clients hidden from them would leak what they may not see, and recomputing
them per viewer from the orders would cost a pass over the history on every view.

`?export=csv` downloads what the page shows (cohorts: every group of the chosen
breakdown, one row per cohort and month; touchpoints: every horizon)."""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lavka.analytics.cohorts import BREAKDOWNS, Cohorts, WholeBaseOnly, cohorts_read
from lavka.analytics.dashboard import month_after
from lavka.analytics.engine.touch_effect import HORIZONS
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current
from lavka.analytics.touchpoints import SORTS, Touchpoints, touchpoints_read
from lavka.core.errors import NotFound
from lavka.web.requests import AuthedRequest
from lavka.web.templatetags.lavka import money

MEASURES = ("retention", "revenue", "per_client")


def _percent(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{number_format(value * 100, digits)}\u00a0%"


def _amount(value: float | None, currency: str) -> str:
    if value is None:
        return ""
    return money(round(value), currency).replace(",00", "").replace(".00", "")


def _csv_response(name: str) -> tuple[HttpResponse, Any]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.write("\ufeff")

    class Safe:
        """Text that a spreadsheet would run as a formula gets a leading quote."""

        def __init__(self, writer: Any) -> None:
            self.writer = writer

        def writerow(self, values: list[Any]) -> None:
            self.writer.writerow(
                [
                    "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                    for v in values
                ]
            )

    return response, Safe(csv.writer(response))


def _base_context(request: AuthedRequest, active: str) -> dict[str, Any]:
    if not can_read_analytics(request.user):
        raise Http404
    request.nav_section = "analytics"  # type: ignore[attr-defined]
    return {"active": active}


# --- cohorts -------------------------------------------------------------------------------


def _heat(value: float | None, top: float) -> str:
    """Colour strength 0..1 of a cell (as text for a CSS variable)."""
    if value is None or top <= 0:
        return "0"
    return f"{min(1.0, max(0.0, value / top)):.3f}"


def _cohort_rows(report: Cohorts, group_index: int, measure: str) -> list[dict[str, Any]]:
    """The heatmap's rows, the latest cohort first: each cell's text, colour strength,
    value (for the chart) and the list of the cohort's clients who bought that month
    (with the breakdown's channel or tier)."""
    group = report.groups[group_index]
    if measure == "retention":
        values = [list(row) for row in group.retention]
    elif measure == "revenue":
        values = [list(row) for row in group.revenue]
    else:
        values = [
            [None if v is None or not n else v / n for v in row]
            for row, n in zip(group.revenue, group.clients, strict=False)
        ]
    # Month 0 is 100% retention by definition and usually the largest revenue: the
    # colour scale is set by the later months so that their differences show.
    later = [v for row in values for v in row[1:] if v is not None]
    top = max(later, default=0.0) or max((row[0] for row in values if row and row[0]), default=0)
    list_url = reverse("clients:list")
    extra: dict[str, str] = {}
    if report.by == "channel" and group.key:
        extra["source"] = group.key
    elif report.by == "tier" and group.key.isdigit():
        extra["tier"] = group.key
    rows = []
    for i, month in enumerate(report.months):
        cells = []
        row_values = values[i] if i < len(values) else []
        clients = group.clients[i] if i < len(group.clients) else 0
        for k, value in enumerate(row_values):
            if not clients:  # nobody started then: no figure, not a zero
                value = None
            text = _percent(value) if measure == "retention" else _amount(value, report.currency)
            bought = {"cohort": month, "bought": month_after(month, k), **extra}
            cells.append(
                {
                    "offset": k,
                    "text": text,
                    "heat": _heat(value, float(top or 0)),
                    "value": value,
                    "drill": None if value is None else f"{list_url}?{urlencode(bought)}",
                }
            )
        rows.append(
            {
                "month": month,
                "clients": clients,
                "cells": cells,
                "drill": f"{list_url}?{urlencode({'cohort': month, **extra})}",
            }
        )
    return list(reversed(rows))  # the latest cohort first


def _cohort_chart(
    rows: list[dict[str, Any]], width: int, measure: str, currency: str, filename: str
) -> dict[str, Any]:
    """What the Plotly heatmap draws: one row per cohort (as the table), one column per
    month after the first purchase; retention in percent. The colour scale tops out at
    the largest value after month 0, as the table's tint does."""
    scale = 100.0 if measure == "retention" else 1.0
    z: list[list[float | None]] = []
    for row in rows:
        values = [c["value"] for c in row["cells"]] + [None] * (width - len(row["cells"]))
        z.append([None if v is None else round(v * scale, 2) for v in values])
    later = [v for line in z for v in line[1:] if v is not None]
    first = [line[0] for line in z if line and line[0]]
    value_label = {
        "retention": _("Bought, %"),
        "revenue": _("Revenue, %(currency)s") % {"currency": currency},
        "per_client": _("Revenue per client, %(currency)s") % {"currency": currency},
    }[measure]
    return {
        "months": [r["month"] for r in rows],
        "offsets": list(range(width)),
        "z": z,
        "top": max(later, default=0.0) or max(first, default=0.0),
        "text": [
            [c["text"] or "—" for c in r["cells"]] + ["—"] * (width - len(r["cells"])) for r in rows
        ],
        "drill": [
            [c["drill"] or "" for c in r["cells"]] + [""] * (width - len(r["cells"])) for r in rows
        ],
        "filename": filename,
        "labels": {
            "cohort": _("Cohort (month of first purchase)"),
            "offset": _("Months after the first purchase"),
            "value": value_label,
        },
    }


@login_required
@require_GET
def cohorts(request: AuthedRequest) -> HttpResponse:
    context = _base_context(request, "cohorts")
    by = request.GET.get("by", "all")
    by = by if by in BREAKDOWNS else "all"
    measure = request.GET.get("measure", "retention")
    measure = measure if measure in MEASURES else "retention"
    run = run_current(viewer=request.user)
    context.update(run=run, by=by, measure=measure)
    report = None
    if run is not None:
        try:
            report = cohorts_read(viewer=request.user, run=run, by=by)
        except WholeBaseOnly as denied:
            context["whole_base_only"] = denied.detail
        except NotFound:
            raise Http404 from None
    context["report"] = report
    if request.GET.get("export") == "csv":
        if report is None:
            raise Http404
        return _cohorts_csv(report)
    if report is None or not report.groups:
        return render(request, "web/analytics/cohorts.html", context)
    keys = [g.key for g in report.groups]
    chosen = request.GET.get("group", keys[0])
    index = keys.index(chosen) if chosen in keys else 0

    def link(**changes: str) -> str:
        query = {"by": by, "measure": measure, "group": report.groups[index].key, **changes}
        if query["by"] == "all" or "by" in changes:
            query.pop("group", None)
        return f"?{urlencode(query)}"

    rows = _cohort_rows(report, index, measure)
    width = max((len(r["cells"]) for r in rows), default=0)
    context.update(
        group=report.groups[index],
        group_index=index,
        rows=rows,
        offsets=list(range(width)),
        breakdowns=[
            {"code": code, "label": label, "url": link(by=code), "active": code == by}
            for code, label in (
                ("all", _("All clients")),
                ("channel", _("By channel")),
                ("tier", _("By tier")),
            )
        ],
        measures=[
            {"code": code, "label": label, "url": link(measure=code), "active": code == measure}
            for code, label in (
                ("retention", _("Retention")),
                ("revenue", _("Revenue")),
                ("per_client", _("Revenue per client")),
            )
        ],
        csv_url=f"?{urlencode({'by': by, 'export': 'csv'})}",
        client_list=reverse("clients:list"),
        chart=_cohort_chart(rows, width, measure, report.currency, f"cohorts-{by}-{measure}"),
        plotly_url=reverse("analytics:plotly_js"),
    )
    return render(request, "web/analytics/cohorts.html", context)


def _cohorts_csv(report: Cohorts) -> HttpResponse:
    response, writer = _csv_response(f"cohorts-{report.by}")
    writer.writerow(
        [
            _("Group"),
            _("Cohort"),
            _("Clients"),
            _("Months after the first purchase"),
            _("Clients who bought"),
            _("Retention"),
            _("Revenue"),
            _("Revenue per client"),
            _("Currency"),
        ]
    )
    for group in report.groups:
        for i, month in enumerate(report.months):
            clients = group.clients[i] if i < len(group.clients) else 0
            retention = group.retention[i] if i < len(group.retention) else []
            revenue = group.revenue[i] if i < len(group.revenue) else []
            for k, share in enumerate(retention):
                amount = revenue[k] if k < len(revenue) else None
                writer.writerow(
                    [
                        group.label,
                        month,
                        clients,
                        k,
                        "" if share is None else round(share * clients),
                        "" if share is None else share,
                        "" if amount is None else amount,
                        "" if amount is None or not clients else round(amount / clients, 2),
                        report.currency,
                    ]
                )
    return response


# --- touchpoints ---------------------------------------------------------------------------


def _column_labels() -> dict[str, str]:
    return {
        "kind": _("Kind"),
        "channel": _("Channel"),
        "touches": _("Touches"),
        "reach": _("Clients reached"),
        "eligible": _("Touches old enough"),
        "purchase_rate": _("Bought after the touch"),
        "baseline_rate": _("Bought without a touch"),
        "lift": _("Lift"),
        "revenue": _("Revenue after the touch"),
        "move_rate": _("Deal moved on"),
        "either_rate": _("Bought or deal moved on"),
    }


@login_required
@require_GET
def touchpoints(request: AuthedRequest) -> HttpResponse:
    context = _base_context(request, "touchpoints")
    within = request.GET.get("within", "30")
    within_days = int(within) if within.isdigit() and int(within) in HORIZONS else 30
    sort = request.GET.get("sort", "-touches")
    if sort.lstrip("-") not in SORTS:
        sort = "-touches"
    run = run_current(viewer=request.user)
    context.update(run=run, within_days=within_days, sort=sort)
    report = None
    if run is not None:
        try:
            report = touchpoints_read(
                viewer=request.user, run=run, within_days=within_days, sort=sort
            )
        except WholeBaseOnly as denied:
            context["whole_base_only"] = denied.detail
        except NotFound:
            raise Http404 from None
    context["report"] = report
    if request.GET.get("export") == "csv":
        if report is None:
            raise Http404
        return _touchpoints_csv(request, run)
    if report is None:
        return render(request, "web/analytics/touchpoints.html", context)
    labels = _column_labels()
    field, descending = sort.lstrip("-"), sort.startswith("-")
    headers = []
    for code in SORTS:
        is_sorted = code == field
        # A first click sorts text A-Z and figures largest first.
        if is_sorted:
            next_sort = code if descending else f"-{code}"
        else:
            next_sort = code if code in ("kind", "channel") else f"-{code}"
        headers.append(
            {
                "code": code,
                "label": labels[code],
                "url": f"?{urlencode({'within': within_days, 'sort': next_sort})}",
                "aria_sort": ("descending" if descending else "ascending") if is_sorted else "",
                "numeric": code not in ("kind", "channel"),
            }
        )
    rows = [
        {
            "kind": r.kind,
            "kind_label": r.kind_label,
            "channel_label": r.channel_label,
            "touches": r.touches,
            "reach": r.reach,
            "eligible": r.eligible,
            "purchase_rate": _percent(r.purchase_rate, 1),
            "purchased": r.purchased,
            "baseline_rate": _percent(r.baseline_rate, 1),
            "baseline_sampled": r.baseline_sampled,
            "lift": "" if r.lift is None else f"×{number_format(r.lift, 2)}",
            "lift_tone": ""
            if r.lift is None
            else ("good" if r.lift >= 1.1 else "risk" if r.lift < 0.9 else ""),
            "revenue": _amount(r.revenue, report.currency),
            "move_rate": _percent(r.move_rate, 1),
            "either_rate": _percent(r.either_rate, 1),
        }
        for r in report.rows
    ]
    context.update(
        headers=headers,
        rows=rows,
        horizons=[
            {
                "days": h,
                "url": f"?{urlencode({'within': h, 'sort': sort})}",
                "active": h == within_days,
            }
            for h in HORIZONS
        ],
        csv_url="?export=csv",
    )
    return render(request, "web/analytics/touchpoints.html", context)


def _touchpoints_csv(request: AuthedRequest, run: Any) -> HttpResponse:
    response, writer = _csv_response("touchpoints")
    header = [_("Kind"), _("Channel"), _("Touches"), _("Clients reached")]
    per_horizon: list[Touchpoints] = []
    for h in HORIZONS:
        found = touchpoints_read(viewer=request.user, run=run, within_days=h, sort="kind")
        if found is None:
            raise Http404
        per_horizon.append(found)
        header += [
            _("Touches old enough (%(days)s days)") % {"days": h},
            _("Bought within %(days)s days") % {"days": h},
            _("Share who bought within %(days)s days") % {"days": h},
            _("Share who bought in %(days)s days without a touch") % {"days": h},
            _("Revenue within %(days)s days") % {"days": h},
            _("Deals moved on within %(days)s days") % {"days": h},
            _("Bought or deal moved on within %(days)s days") % {"days": h},
        ]
    header.append(_("Currency"))
    writer.writerow(header)
    first = per_horizon[0]
    for i, row in enumerate(first.rows):
        line: list[Any] = [row.kind_label, row.channel_label, row.touches, row.reach]
        for report in per_horizon:
            r = report.rows[i]
            line += [
                r.eligible,
                r.purchased,
                "" if r.purchase_rate is None else r.purchase_rate,
                "" if r.baseline_rate is None else r.baseline_rate,
                r.revenue,
                r.moved,
                r.either,
            ]
        line.append(first.currency)
        writer.writerow(line)
    return response


urlpatterns: list[Any] = [
    path("analytics/cohorts/", cohorts, name="cohorts"),
    path("analytics/touchpoints/", touchpoints, name="touchpoints"),
]
