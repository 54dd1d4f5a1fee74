"""Analytics endpoints: the cohort and touchpoint reports of the current recompute (see
`lavka.web.views.analytics.reports` for the pages). Both cover the whole base: a viewer
whose role sees only part of it gets 403 `analytics_whole_base_only`; without analytics
access, 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from lavka.analytics.cohorts import cohorts_read, report_readable
from lavka.analytics.engine.touch_effect import HORIZONS
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current
from lavka.analytics.touchpoints import touchpoints_read
from lavka.core.errors import NotFound, ValidationFailed

router = Router(tags=["analytics"])


class CohortGroupOut(Schema):
    key: str
    label: str
    clients: list[int]
    retention: list[list[float | None]]
    revenue: list[list[float | None]]


class CohortsOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    currency: str | None = None
    by: str | None = None
    months: list[str] = []
    groups: list[CohortGroupOut] = []


class TouchRowOut(Schema):
    kind: str
    kind_label: str
    channel: str
    touches: int
    reach: int
    eligible: int
    purchased: int
    purchase_rate: float | None
    revenue: float
    moved: int
    move_rate: float | None
    either: int
    either_rate: float | None
    baseline_sampled: int
    baseline_rate: float | None
    lift: float | None


class TouchpointsOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    from_date: dt.date | None = None
    currency: str | None = None
    within_days: int | None = None
    touches: int = 0
    clients: int = 0
    rows: list[TouchRowOut] = []


def _run(request: HttpRequest) -> Any:
    if not can_read_analytics(request.user):
        raise NotFound(resource="analytics report")
    run = run_current(viewer=request.user)
    if run is not None:
        report_readable(viewer=request.user, run=run)  # WholeBaseOnly for a partial view
    return run


@router.get("/analytics/cohorts", response=CohortsOut)
def get_cohorts(
    request: HttpRequest, by: Literal["all", "channel", "tier"] = "all"
) -> dict[str, Any]:
    """Retention and revenue by monthly acquisition cohort (the month of a client's first
    purchase; at most the last 36) for the whole base (`by=all`), per acquisition
    channel (`by=channel`, group key = the client's source, "" for none) or per tier
    (`by=tier`, key = the tier id, "none"). `retention[c][k]` is the share of cohort c's
    clients who bought in month k after the first (k = 0 is the first month itself);
    `revenue[c][k]` their revenue in the reporting currency. A cohort's row ends at the
    as-of month. `computed` is false before the first recompute that made the report."""
    run = _run(request)
    report = None if run is None else cohorts_read(viewer=request.user, run=run, by=by)
    if report is None:
        return {"computed": False}
    return {
        "computed": True,
        "as_of": report.as_of,
        "currency": report.currency,
        "by": report.by,
        "months": report.months,
        "groups": [
            {
                "key": g.key,
                "label": g.label,
                "clients": g.clients,
                "retention": g.retention,
                "revenue": g.revenue,
            }
            for g in report.groups
        ],
    }


@router.get("/analytics/touchpoints", response=TouchpointsOut)
def get_touchpoints(request: HttpRequest, within_days: int = 30) -> dict[str, Any]:
    """Touchpoint effectiveness over the 12 months up to the current recompute's date,
    per kind and channel: touches, distinct clients reached, and of the touches at least
    `within_days` old (`eligible`), those followed by a purchase of the same client
    within that many days (`purchased`, `purchase_rate`, `revenue`), by a move of one of
    the client's deals to another stage (`moved`, `move_rate`) and by either; the
    baseline is the same clients' purchase rate in random windows of that length without
    a touch (`baseline_rate`, from `baseline_sampled` windows) and `lift` the ratio.
    `within_days` is 7, 14 or 30."""
    if within_days not in HORIZONS:
        raise ValidationFailed(fields={"within_days": [_("Choose 7, 14 or 30 days.")]})
    run = _run(request)
    report = (
        None
        if run is None
        else touchpoints_read(viewer=request.user, run=run, within_days=int(within_days))
    )
    if report is None:
        return {"computed": False}
    return {
        "computed": True,
        "as_of": report.as_of,
        "from_date": report.first,
        "currency": report.currency,
        "within_days": report.within_days,
        "touches": report.touches,
        "clients": report.clients,
        "rows": [
            {
                "kind": r.kind,
                "kind_label": r.kind_label,
                "channel": r.channel,
                "touches": r.touches,
                "reach": r.reach,
                "eligible": r.eligible,
                "purchased": r.purchased,
                "purchase_rate": r.purchase_rate,
                "revenue": r.revenue,
                "moved": r.moved,
                "move_rate": r.move_rate,
                "either": r.either,
                "either_rate": r.either_rate,
                "baseline_sampled": r.baseline_sampled,
                "baseline_rate": r.baseline_rate,
                "lift": r.lift,
            }
            for r in report.rows
        ],
    }
