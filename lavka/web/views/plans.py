"""The plans page of the sales area: plan versus actual by team and user for a period
(progress bars: sold so far, then the weighted pipeline), a period switcher, inline
edit of a target, and "Generate from past periods" (a preview, then save).

Reads go through lavka.plans.selectors (a fixed number of queries whatever the number
of plans), writes through lavka.plans.services.

Next to the plans, for a viewer with analytics access and no category chosen, the
revenue forecast of the current recompute for the period (`_model_forecast`): the
statistical forecast of the period's months (the whole base, or the viewer's own
clients: `lavka.analytics.forecast.forecast_for`), the weighted pipeline of the deals
expected to close in them, and the gap between the plans and that forecast. The plans
app itself knows nothing of analytics; only this page joins the two."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from lavka.analytics.forecast import forecast_for, month_key
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current
from lavka.audit.selectors import audit_events_for_record
from lavka.core.errors import DomainError, NotFound, NotPermitted
from lavka.plans.models import Plan
from lavka.plans.periods import Granularity, Period
from lavka.plans.permissions import can_set_plan_for, can_set_plans
from lavka.plans.selectors import (
    TREND_MONTHS,
    PlanProgress,
    plan_get,
    plan_proposals,
    plan_vs_actual,
)
from lavka.plans.services import TREND_MONTHS_MAX, plan_update, plans_generate
from lavka.sales.permissions import can_read_sales
from lavka.sales.selectors.catalogue import categories_visible_to, reporting_currency
from lavka.web.requests import AuthedRequest
from lavka.web.templatetags.lavka import money
from lavka.web.views.analytics.forecast import ForecastView

# The gap to plan read as the plans read theirs: good when the forecast reaches the
# target, amber from 90% of it, red below.
GAP_WARN_SHARE = 0.9


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _period(request: AuthedRequest) -> Period:
    """The period of the URL (`?period=2026-12` or `2026-Q4`), else the current month;
    `?granularity=quarter` turns a month into its quarter."""
    today = timezone.localdate()
    found = Period.parse(request.GET.get("period", "")) or Period.containing(today)
    wanted = request.GET.get("granularity", "")
    if wanted in Granularity.values and wanted != found.granularity:
        found = Period.containing(found.start, wanted)
    return found


def _category(request: AuthedRequest, categories: list[Any]) -> Any:
    wanted = _int(request.GET.get("category"))
    return next((c for c in categories if c.pk == wanted), None)


def _grouped(rows: list[PlanProgress]) -> list[dict[str, Any]]:
    """Team rows, each followed by its people (users of a team without a team plan come
    under the team's name)."""
    teams: dict[int | None, dict[str, Any]] = {}
    people: dict[int | None, list[PlanProgress]] = defaultdict(list)
    for row in rows:
        if row.plan.level == Plan.Level.TEAM:
            teams[row.plan.team_id] = {"row": row, "name": str(row.plan.team)}
        else:
            people[row.plan.team_id].append(row)
    for team_id, members in people.items():
        if team_id not in teams:
            name = str(members[0].plan.team) if members[0].plan.team else _("No team")
            teams[team_id] = {"row": None, "name": name}
    groups = []
    for team_id, group in sorted(teams.items(), key=lambda item: item[1]["name"]):
        members = sorted(people.get(team_id, []), key=lambda r: str(r.plan.user))
        groups.append({**group, "people": members})
    return groups


def _prepare(rows: list[PlanProgress], actor: Any) -> None:
    for row in rows:
        row.can_edit = can_set_plan_for(actor, team_id=row.plan.team_id)  # type: ignore[attr-defined]


def _model_forecast(
    request: AuthedRequest, period: Period, category: Any, target: float | None, currency: str
) -> dict[str, Any] | None:
    """The recompute's forecast for `period` next to the plans' `target` (None: no
    plans); None when there is nothing to show (no analytics access, a category chosen,
    no recompute or no forecast stored with it)."""
    if category is not None or not can_read_analytics(request.user):
        return None
    run = run_current(viewer=request.user)
    if run is None:
        return None
    payload = forecast_for(viewer=request.user, run=run)
    if not payload or "error" in payload:
        return None
    view = ForecastView(payload)
    # Period months count from year 0; the forecast's from 1970-01.
    figures = view.period([month_key(m - 1970 * 12) for m in period.months])
    same_currency = view.currency == currency
    gap = tone = None
    if figures is not None and target is not None and same_currency:
        gap = target - figures["value"]
        share = figures["value"] / target if target else 1.0
        tone = "good" if share >= 1 else "warn" if share >= GAP_WARN_SHARE else "risk"
    return {
        "view": view,
        "run": run,
        "figures": figures,
        "reason": view.reason_label,
        "target": target if same_currency else None,
        "gap": gap,
        "tone": tone,
    }


@login_required
@require_GET
def plans(request: AuthedRequest) -> HttpResponse:
    if not can_read_sales(request.user):
        raise NotFound(resource="page")
    request.nav_section = "sales"  # type: ignore[attr-defined]
    period = _period(request)
    categories = list(categories_visible_to(request.user).order_by("order", "name"))
    category = _category(request, categories)
    today = timezone.localdate()
    rows = plan_vs_actual(
        viewer=request.user,
        period=period,
        today=today,
        category_id=category.pk if category else None,
    )
    _prepare(rows, request.user)
    totals = [r for r in rows if r.plan.level == Plan.Level.TEAM] or [
        r for r in rows if r.plan.level == Plan.Level.USER
    ]
    currency = reporting_currency()
    target = float(sum((r.target for r in totals), 0)) if rows else None
    return render(
        request,
        "web/plans/plans.html",
        {
            "period": period,
            "previous": period.shifted(-1),
            "following": period.shifted(1),
            "granularities": Granularity.choices,
            "categories": categories,
            "category": category,
            "groups": _grouped(rows),
            "rows": rows,
            "currency": currency,
            "can_set": can_set_plans(request.user),
            "model_forecast": _model_forecast(request, period, category, target, currency),
            "summary": {
                "target": sum((r.target for r in totals), 0),
                "actual": sum((r.actual for r in totals), 0),
                "pipeline": sum((r.pipeline for r in totals), 0),
                "forecast": sum((r.forecast for r in totals), 0),
            }
            if rows
            else None,
            "is_current": period.start <= today <= period.end,
        },
    )


def _row_context(request: AuthedRequest, plan: Plan, **extra: Any) -> dict[str, Any]:
    (row,) = [
        r
        for r in plan_vs_actual(
            viewer=request.user,
            period=plan.period,
            today=timezone.localdate(),
            category_id=plan.category_id,
        )
        if r.plan.pk == plan.pk
    ]
    _prepare([row], request.user)
    return {"row": row, "currency": reporting_currency(), "editing": False, "errors": {}, **extra}


@login_required
def plan_target(request: AuthedRequest, plan_id: int) -> HttpResponse:
    """Inline edit of a plan's target: GET the row's form, POST the new target (htmx
    swaps the row; without htmx, a redirect to the page)."""
    plan = plan_get(viewer=request.user, plan_id=plan_id)
    if not can_set_plan_for(request.user, team_id=plan.team_id):
        raise NotPermitted(action="update", resource="plan")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            plan = plan_update(
                actor=request.user,
                plan=plan,
                expected_version=_int(request.POST.get("version")),
                target_amount=request.POST.get("target_amount", ""),
                target_count=request.POST.get("target_count", ""),
            )
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            errors = {k: list(v) for k, v in (exc.fields or {}).items()} or {
                "target_amount": [str(exc.detail)]
            }
        if not request.htmx:  # type: ignore[attr-defined]
            for field_errors in errors.values():
                for message in field_errors:
                    messages.error(request, message)
            return redirect(_page_url(plan.period, plan.category_id))
        plan = plan_get(viewer=request.user, plan_id=plan.pk)
    context = _row_context(
        request,
        plan,
        editing=request.method == "GET" or bool(errors),
        errors=errors,
        posted=request.POST,
    )
    return render(request, "web/plans/_row.html", context, status=422 if errors else 200)


HISTORY_LIMIT = 20


@login_required
@require_GET
def plan_history(request: AuthedRequest, plan_id: int) -> HttpResponse:
    """Who set the target, when, and what it was before (the plan's audit events,
    newest first): a fragment the row's "History" loads when opened."""
    plan = plan_get(viewer=request.user, plan_id=plan_id)
    events = list(
        audit_events_for_record(viewer=request.user, record=plan).order_by("-at", "-id")[
            :HISTORY_LIMIT
        ]
    )
    for event in events:
        event.lines = [  # type: ignore[attr-defined]
            {
                "label": capfirst(getattr(Plan._meta.get_field(name), "verbose_name", name)),
                "old": _history_value(name, pair[0], plan.currency),
                "new": _history_value(name, pair[1], plan.currency),
            }
            for name in HISTORY_FIELDS
            if isinstance(pair := (event.changes or {}).get(name), list) and len(pair) == 2
        ]
    return render(request, "web/plans/_history.html", {"plan": plan, "events": events})


HISTORY_FIELDS = ["target_amount", "target_count", "generated_amount", "generated_count"]


def _history_value(name: str, value: Any, currency: str) -> str:
    if value in (None, ""):
        return ""
    if name.endswith("_amount"):
        return money(value, currency)
    return str(value)


def _page_url(period: Period, category_id: int | None = None) -> str:
    url = f"{reverse('plans:list')}?period={period.key}"
    return f"{url}&category={category_id}" if category_id else url


@login_required
def generate(request: AuthedRequest) -> HttpResponse:
    """GET: the preview of what generation proposes for the period (nothing saved).
    POST: save it, then back to the plans of the period."""
    if not can_set_plans(request.user):
        raise NotPermitted(action="generate", resource="plan")
    request.nav_section = "sales"  # type: ignore[attr-defined]
    source = request.POST if request.method == "POST" else request.GET
    period = Period.parse(source.get("period", "")) or Period.containing(
        timezone.localdate()
    ).shifted(1)
    trend_months = _int(source.get("trend_months")) or TREND_MONTHS
    trend_months = max(1, min(trend_months, TREND_MONTHS_MAX))
    by_category = source.get("by_category") == "1"
    if request.method == "POST":
        saved = plans_generate(
            actor=request.user,
            period=period,
            by_category=by_category,
            trend_months=trend_months,
        )
        messages.success(
            request,
            ngettext(
                "%(count)s plan saved for %(period)s.",
                "%(count)s plans saved for %(period)s.",
                len(saved),
            )
            % {"count": len(saved), "period": period.label},
        )
        return redirect(_page_url(period))
    proposals = plan_proposals(
        viewer=request.user,
        period=period,
        as_of=timezone.localdate(),
        by_category=by_category,
        trend_months=trend_months,
    )
    return render(
        request,
        "web/plans/generate.html",
        {
            "period": period,
            "previous": period.shifted(-1),
            "following": period.shifted(1),
            "granularities": Granularity.choices,
            "trend_months": trend_months,
            "trend_choices": range(1, TREND_MONTHS_MAX + 1),
            "by_category": by_category,
            "proposals": proposals,
            "currency": reporting_currency(),
            "replaces": sum(1 for p in proposals if p.current is not None),
        },
    )


app_name = "plans"
urlpatterns = [
    path("sales/plans/", plans, name="list"),
    path("sales/plans/generate/", generate, name="generate"),
    path("sales/plans/<int:plan_id>/target/", plan_target, name="target"),
    path("sales/plans/<int:plan_id>/history/", plan_history, name="history"),
]
