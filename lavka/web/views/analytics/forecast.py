"""Analytics pages: the revenue forecast. Revenue by month and its forecast for the next
twelve months with the 80% and 95% intervals (a chart when Plotly is served, and always
the table), the weighted pipeline of open deals by expected close month next to it, the
model chosen and how accurate it was on the last months, and a CSV export.

A viewer who reads the whole base sees the forecast stored with the current recompute;
anyone else with analytics access sees the forecast of their own clients' revenue,
computed on the fly from their orders (`lavka.analytics.forecast.forecast_for`)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lavka.analytics.engine.forecast import MODEL_LABELS, REASON_LABELS, Model, Reason
from lavka.analytics.forecast import NO_DATE, OVERDUE, forecast_for
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current
from lavka.web.requests import AuthedRequest

# Holdout MAPE read in plain words: below 10% good, below 25% rough, else poor.
ACCURACY_GOOD = 0.10
ACCURACY_ROUGH = 0.25


def month_date(key: str) -> dt.date:
    return dt.date(int(key[:4]), int(key[5:7]), 1)


@dataclass(frozen=True, slots=True)
class ForecastView:
    """What the page and the plans page read from a forecast report."""

    payload: dict[str, Any]

    @property
    def currency(self) -> str:
        return str(self.payload.get("currency", ""))

    @property
    def has_forecast(self) -> bool:
        return bool(self.payload.get("forecast"))

    @property
    def model(self) -> dict[str, Any]:
        model: dict[str, Any] = self.payload.get("model") or {}
        return model

    @property
    def model_label(self) -> Any:
        name = self.model.get("name")
        return MODEL_LABELS[Model(name)] if name in {m.value for m in Model} else ""

    @property
    def reason_label(self) -> Any:
        code = int(self.model.get("reason", 0))
        return "" if code == Reason.OK else REASON_LABELS.get(Reason(code), "")

    def pipeline_by_month(self) -> dict[str, list[Any]]:
        return {row[0]: row for row in self.payload.get("pipeline") or []}

    def period(self, months: list[str]) -> dict[str, Any] | None:
        """The forecast over `months` ("YYYY-MM"): its sum, the interval when it is one
        month, the weighted pipeline expected to close in those months, and whether some
        months are already history (their actual revenue is counted instead). None when
        a month is neither in the history nor in the forecast."""
        history = {m: v for m, v in self.payload.get("history") or []}
        forecast = {row[0]: row for row in self.payload.get("forecast") or []}
        pipeline = self.pipeline_by_month()
        value, actual_months, interval = 0.0, 0, None
        for month in months:
            if month in forecast:
                value += forecast[month][1]
            elif month in history:
                value += history[month]
                actual_months += 1
            else:
                return None
        if len(months) == 1 and months[0] in forecast:
            interval = (forecast[months[0]][2], forecast[months[0]][3])
        weighted = sum(pipeline[m][1] for m in months if m in pipeline)
        deals = sum(pipeline[m][3] for m in months if m in pipeline)
        return {
            "value": value,
            "interval": interval,
            "actual_months": actual_months,
            "all_actual": actual_months == len(months),
            "pipeline": weighted,
            "deals": deals,
        }


def _accuracy(payload: dict[str, Any]) -> dict[str, Any] | None:
    accuracy = payload.get("accuracy")
    if not accuracy:
        return None
    mape = float(accuracy["mape"])
    tone = "good" if mape < ACCURACY_GOOD else "warn" if mape < ACCURACY_ROUGH else "risk"
    return {**accuracy, "percent": round(100 * mape, 1), "tone": tone}


def _rows(view: ForecastView) -> dict[str, Any]:
    payload = view.payload
    pipeline = view.pipeline_by_month()
    forecast = [
        {
            "month": month_date(m),
            "key": m,
            "value": v,
            "lo80": lo80,
            "hi80": hi80,
            "lo95": lo95,
            "hi95": hi95,
            "pipeline": pipeline[m][1] if m in pipeline else 0.0,
            "deals": pipeline[m][3] if m in pipeline else 0,
            "deals_url": _closing_url(m),
        }
        for m, v, lo80, hi80, lo95, hi95 in payload.get("forecast") or []
    ]
    shown = {r["key"] for r in forecast}
    dated = [r for k, r in pipeline.items() if k not in (OVERDUE, NO_DATE)]
    later = [r for r in dated if r[0] not in shown]
    extra = []
    if later:
        extra.append(
            {
                "label": _("Later") if forecast else _("With a close date"),
                "pipeline": sum(r[1] for r in later),
                "deals": sum(r[3] for r in later),
            }
        )
    for key, label in ((OVERDUE, _("Close date passed")), (NO_DATE, _("No close date"))):
        if key in pipeline:
            extra.append({"label": label, "pipeline": pipeline[key][1], "deals": pipeline[key][3]})
    history = [
        {"month": month_date(m), "key": m, "value": v, "url": _bought_url(m)}
        for m, v in payload["history"]
    ]
    forecast_total = sum(r["value"] for r in forecast)
    last_year = sum(r["value"] for r in history[-12:]) if len(history) >= 12 else 0.0
    change = None
    if len(forecast) == 12 and last_year > 0:
        change = round(100 * (forecast_total / last_year - 1), 1)
    return {
        "year_change": change,
        "year_change_abs": abs(change) if change is not None else None,
        "forecast_rows": forecast,
        "pipeline_extra": extra,
        "history_rows": history,
        "forecast_total": forecast_total,
        "pipeline_total": sum(r[1] for r in pipeline.values()),
        "pipeline_deals": sum(r[3] for r in pipeline.values()),
        "next_month": forecast[0] if forecast else None,
        "current": {"month": month_date(payload["current"][0]), "value": payload["current"][1]}
        if payload.get("current")
        else None,
    }


def _bought_url(month: str) -> str:
    """The clients who bought in a past month (the revenue of that month)."""
    return f"{reverse('clients:list')}?{urlencode({'bought': month})}"


def _closing_url(month: str) -> str:
    """The open deals expected to close in a month (its weighted pipeline)."""
    return f"{reverse('sales:deals')}?{urlencode({'status': 'open', 'closes': month})}"


def _chart(view: ForecastView) -> dict[str, Any]:
    """The numbers the chart draws (months as "YYYY-MM-01" so Plotly reads them as dates)
    and where a point leads: a past month to the clients who bought in it, a forecast
    month to the open deals expected to close in it (its revenue has no clients yet)."""
    payload = view.payload
    forecast = payload.get("forecast") or []
    return {
        "history": {
            "x": [f"{m}-01" for m, _v in payload["history"]],
            "y": [v for _m, v in payload["history"]],
            "drill": [_bought_url(m) for m, _v in payload["history"]],
        },
        "forecast": {
            "x": [f"{r[0]}-01" for r in forecast],
            "drill": [_closing_url(r[0]) for r in forecast],
            "y": [r[1] for r in forecast],
            "lo80": [r[2] for r in forecast],
            "hi80": [r[3] for r in forecast],
            "lo95": [r[4] for r in forecast],
            "hi95": [r[5] for r in forecast],
        },
        "labels": {
            "history": _("Revenue"),
            "forecast": _("Forecast"),
            "band80": _("Interval 80%"),
            "band95": _("Interval 95%"),
            "yaxis": _("Revenue, %(currency)s") % {"currency": view.currency},
        },
    }


def _plotly_url() -> str:
    try:
        return reverse("analytics:plotly_js")
    except NoReverseMatch:
        return ""


def _csv(view: ForecastView) -> HttpResponse:
    """History and forecast month by month, with the weighted pipeline (numbers only:
    nothing here a spreadsheet could take for a formula)."""
    payload = view.payload
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="revenue-forecast.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            "month",
            "kind",
            "revenue",
            "forecast",
            "lo80",
            "hi80",
            "lo95",
            "hi95",
            "weighted_pipeline",
            "pipeline_amount",
            "deals",
            "currency",
        ]
    )
    pipeline = view.pipeline_by_month()
    used: set[str] = set()

    def deals(month: str) -> list[Any]:
        row = pipeline.get(month)
        if row is None:
            return ["", "", ""]
        used.add(month)
        return [row[1], row[2], row[3]]

    for month, value in payload.get("history") or []:
        writer.writerow([month, "actual", value, "", "", "", "", "", *deals(month), view.currency])
    for month, value, lo80, hi80, lo95, hi95 in payload.get("forecast") or []:
        writer.writerow(
            [month, "forecast", "", value, lo80, hi80, lo95, hi95, *deals(month), view.currency]
        )
    for month, row in pipeline.items():
        if month not in used:
            writer.writerow([month, "pipeline", "", "", "", "", "", "", *row[1:], view.currency])
    return response


@login_required
@require_GET
def forecast(request: AuthedRequest) -> HttpResponse:
    if not can_read_analytics(request.user):
        raise Http404
    request.nav_section = "analytics"  # type: ignore[attr-defined]
    run = run_current(viewer=request.user)
    payload = forecast_for(viewer=request.user, run=run) if run is not None else None
    failed = bool(payload and "error" in payload)
    view = ForecastView(payload) if payload and not failed else None
    if request.GET.get("format") == "csv":
        if view is None:
            raise Http404
        return _csv(view)
    context: dict[str, Any] = {"run": run, "view": view, "failed": failed}
    if view is not None:
        context.update(
            _rows(view),
            chart=_chart(view),
            accuracy=_accuracy(view.payload),
            plotly_url=_plotly_url(),
            skipped=sum(view.payload.get("pipeline_skipped", {}).values()),
        )
    return render(request, "web/analytics/forecast.html", context)


urlpatterns: list[Any] = [
    path("analytics/forecast/", forecast, name="forecast"),
]
