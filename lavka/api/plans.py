"""Plans API: list, get, create and change plans; generation (a preview, and saving
it); plan versus actual. The same selectors and services as the plans page.

A period is named by its key: "2026-12" for a month, "2026-Q4" for a quarter."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.concurrency import expected_version, set_etag
from lavka.api.pagination import LimitOffset
from lavka.audit.selectors import audit_events_for_record
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.identity.selectors import team_get, user_get
from lavka.plans.models import Plan
from lavka.plans.periods import Period
from lavka.plans.permissions import can_set_plans
from lavka.plans.selectors import (
    SEASONAL_YEARS,
    TREND_MONTHS,
    PlanProgress,
    Proposal,
    plan_get,
    plan_list,
    plan_proposals,
    plan_vs_actual,
)
from lavka.plans.services import plan_create, plan_update, plans_generate
from lavka.sales.models import ProductCategory
from lavka.sales.selectors.catalogue import categories_visible_to

router = Router(tags=["plans"])

PERIOD_HELP = 'A month "2026-12" or a quarter "2026-Q4".'


def _period(key: str) -> Period:
    period = Period.parse(key)
    if period is None:
        raise ValidationFailed(
            fields={"period": [_("Use a month such as 2026-12 or a quarter such as 2026-Q4.")]}
        )
    return period


def _category(request: HttpRequest, category_id: int | None) -> ProductCategory | None:
    if category_id is None:
        return None
    found = categories_visible_to(request.user).filter(pk=category_id).first()
    if found is None:
        raise ValidationFailed(fields={"category_id": [_("Choose an existing category.")]})
    return found


class PlanOut(Schema):
    id: int
    level: str
    period: str
    period_start: dt.date
    granularity: str
    user_id: int | None
    team_id: int | None
    category_id: int | None
    currency: str
    target_amount: Decimal
    target_count: int | None
    generated_amount: Decimal | None
    generated_count: int | None
    adjustment: Decimal | None = Field(description="Target minus the generated amount.")
    generated_at: dt.datetime | None
    basis: dict[str, Any]
    set_by_id: int | None
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_period(obj: Plan) -> str:
        return obj.period.key


class PlanIn(Schema):
    period: str = Field(..., description=PERIOD_HELP)
    user_id: int | None = None
    team_id: int | None = None
    category_id: int | None = None
    target_amount: Decimal = Field(..., ge=0)
    target_count: int | None = Field(None, ge=0)


class PlanPatch(Schema):
    target_amount: Decimal | None = Field(None, ge=0)
    target_count: int | None = Field(None, ge=0)


class PlanFilters(Schema):
    period: str | None = Field(None, description=PERIOD_HELP)
    level: Literal["", "user", "team"] = ""
    category: int | None = Field(None, description="A category id; without it, all plans.")


class HistoryOut(Schema):
    at: dt.datetime
    action: str
    actor: str
    changes: dict[str, Any]


class GenerateIn(Schema):
    period: str = Field(..., description=PERIOD_HELP)
    trend_months: int = Field(TREND_MONTHS, ge=1, le=12)
    by_category: bool = False
    as_of: dt.date | None = Field(None, description="The day the trend is read up to; today.")


class ProposalOut(Schema):
    level: str
    user_id: int | None
    team_id: int | None
    category_id: int | None
    last_year: Decimal
    volume: Decimal
    seasonal_share: Decimal
    trend: Decimal
    amount: Decimal
    count: int
    current_plan_id: int | None
    current_target: Decimal | None

    @staticmethod
    def resolve_user_id(obj: Proposal) -> int | None:
        return obj.user.pk if obj.user is not None else None

    @staticmethod
    def resolve_team_id(obj: Proposal) -> int | None:
        return obj.team.pk if obj.team is not None else None

    @staticmethod
    def resolve_category_id(obj: Proposal) -> int | None:
        return obj.category.pk if obj.category is not None else None

    @staticmethod
    def resolve_current_plan_id(obj: Proposal) -> int | None:
        return obj.current.pk if obj.current is not None else None

    @staticmethod
    def resolve_current_target(obj: Proposal) -> Decimal | None:
        return obj.current.target_amount if obj.current is not None else None


class ProgressOut(Schema):
    plan: PlanOut
    actual: Decimal
    actual_count: int
    done_percent: Decimal | None
    weighted_pipeline: Decimal
    forecast: Decimal
    forecast_percent: Decimal | None
    gap: Decimal = Field(description="Target minus forecast; negative when above the plan.")

    @staticmethod
    def resolve_weighted_pipeline(obj: PlanProgress) -> Decimal:
        return obj.pipeline


@router.get("/plans", response=list[PlanOut], operation_id="list_plans")
@paginate(LimitOffset)
def list_plans(request: HttpRequest, filters: Query[PlanFilters]):  # type: ignore[no-untyped-def]
    return plan_list(
        viewer=request.user,
        period=_period(filters.period) if filters.period else None,
        level=filters.level,
        category_id=filters.category,
        any_category=filters.category is None,
    )


@router.get("/plans/progress", response=list[ProgressOut], operation_id="get_plan_progress")
def get_plan_progress(  # type: ignore[no-untyped-def]
    request: HttpRequest, period: str, category: int | None = None
):
    """Plan versus actual of the viewer's plans of a period: sold so far, the weighted
    pipeline (open deals expected to close from today to the period's end, amount ×
    probability), forecast = actual + pipeline, and the gap to the target."""
    return plan_vs_actual(
        viewer=request.user,
        period=_period(period),
        today=timezone.localdate(),
        category_id=category,
    )


@router.post("/plans/generate/preview", response=list[ProposalOut], operation_id="preview_plans")
def preview_plans(request: HttpRequest, payload: GenerateIn):  # type: ignore[no-untyped-def]
    """What generation proposes (nothing is saved). See lavka/plans/README.md."""
    if not can_set_plans(request.user):
        raise NotPermitted(action="generate", resource="plan")
    return plan_proposals(
        viewer=request.user,
        period=_period(payload.period),
        as_of=payload.as_of or timezone.localdate(),
        by_category=payload.by_category,
        trend_months=payload.trend_months,
        seasonal_years=SEASONAL_YEARS,
    )


@router.post("/plans/generate", response=list[PlanOut], operation_id="generate_plans")
def generate_plans(request: HttpRequest, payload: GenerateIn):  # type: ignore[no-untyped-def]
    """Save the generated plans (an existing plan of the same subject gets the new
    generated values as its target)."""
    return plans_generate(
        actor=request.user,
        period=_period(payload.period),
        as_of=payload.as_of,
        by_category=payload.by_category,
        trend_months=payload.trend_months,
    )


@router.get("/plans/{plan_id}", response=PlanOut, operation_id="get_plan")
def get_plan(request: HttpRequest, response: HttpResponse, plan_id: int):  # type: ignore[no-untyped-def]
    plan = plan_get(viewer=request.user, plan_id=plan_id)
    set_etag(response, plan)
    return plan


@router.get("/plans/{plan_id}/history", response=list[HistoryOut], operation_id="plan_history")
def plan_history(request: HttpRequest, plan_id: int):  # type: ignore[no-untyped-def]
    """Who set what, when: the plan's audit events, newest first."""
    plan = plan_get(viewer=request.user, plan_id=plan_id)
    return [
        {"at": e.at, "action": e.action, "actor": e.actor_repr, "changes": e.changes}
        for e in audit_events_for_record(viewer=request.user, record=plan).order_by("-at", "-id")
    ]


@router.post("/plans", response={201: PlanOut}, operation_id="create_plan")
def create_plan(request: HttpRequest, response: HttpResponse, payload: PlanIn):  # type: ignore[no-untyped-def]
    plan = plan_create(
        actor=request.user,
        period=_period(payload.period),
        user=user_get(viewer=request.user, user_id=payload.user_id) if payload.user_id else None,
        team=team_get(viewer=request.user, team_id=payload.team_id) if payload.team_id else None,
        category=_category(request, payload.category_id),
        target_amount=payload.target_amount,
        target_count=payload.target_count,
    )
    set_etag(response, plan)
    response["Location"] = f"/api/v1/plans/{plan.pk}"
    return Status(201, plan)


@router.patch("/plans/{plan_id}", response=PlanOut, operation_id="update_plan")
def update_plan(  # type: ignore[no-untyped-def]
    request: HttpRequest, response: HttpResponse, plan_id: int, payload: PlanPatch
):
    plan = plan_get(viewer=request.user, plan_id=plan_id)
    version = expected_version(request, plan)
    plan = plan_update(
        actor=request.user,
        plan=plan,
        expected_version=version,
        **payload.dict(exclude_unset=True),
    )
    set_etag(response, plan)
    return plan
