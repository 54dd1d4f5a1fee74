"""Analytics endpoints: forecast (see `lavka.web.views.analytics.forecast` for the page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from lavka.analytics.engine.forecast import MODEL_LABELS, REASON_LABELS, Model, Reason
from lavka.analytics.forecast import forecast_for
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current
from lavka.core.errors import NotFound

router = Router(tags=["analytics"])


class ForecastModelOut(Schema):
    name: str | None = None
    label: str = ""
    reason: int = 0
    reason_label: str = ""
    months: int = 0
    params: dict[str, float] = {}
    aicc: float | None = None
    candidates: dict[str, float | None] = {}
    clipped: bool = False


class ForecastAccuracyOut(Schema):
    mape: float
    months: int
    compared: int


class ForecastOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    currency: str | None = None
    scope: str | None = None
    history: list[tuple[str, float]] = []
    current: tuple[str, float] | None = None
    forecast: list[tuple[str, float, float, float, float, float]] = []
    model: ForecastModelOut | None = None
    accuracy: ForecastAccuracyOut | None = None
    pipeline: list[tuple[str, float, float, int]] = []
    pipeline_skipped: dict[str, int] = {}


def _model(model: dict[str, Any]) -> dict[str, Any]:
    name = model.get("name")
    reason = Reason(int(model.get("reason", 0)))
    return {
        **model,
        "label": str(MODEL_LABELS[Model(name)]) if name else "",
        "reason_label": "" if reason == Reason.OK else str(REASON_LABELS[reason]),
    }


@router.get("/analytics/forecast", response=ForecastOut)
def get_forecast(request: HttpRequest) -> dict[str, Any]:
    """Revenue by whole month (`history`, oldest first; `current`: the month of `as_of`
    so far when it is not over), its forecast for the next 12 months as [month, value,
    lo80, hi80, lo95, hi95], the model (ETS: Holt-Winters with a yearly season from 24
    months of history, a damped trend from 6; `reason_label` says why there is no
    forecast), its accuracy on the last months left out (`mape`, 0.08 = 8%), and the
    weighted pipeline of open deals as [month | "overdue" | "none", amount x
    probability, amount, deals]. Amounts in `currency`, from the current recompute.
    `scope` is "all" for a viewer who reads the whole base, "own" for anyone else (their
    clients' revenue and deals). `computed` is false before the first recompute, or
    when the forecast could not be computed."""
    if not can_read_analytics(request.user):
        raise NotFound(resource="analytics run", id=0)
    run = run_current(viewer=request.user)
    payload = forecast_for(viewer=request.user, run=run) if run is not None else None
    if not payload or "error" in payload:
        return {"computed": False}
    return {**payload, "computed": True, "model": _model(payload.get("model") or {})}
