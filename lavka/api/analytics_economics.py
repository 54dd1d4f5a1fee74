"""Analytics endpoints: lifecycle and economics (see
`lavka.web.views.analytics.economics` for the page) and the costs behind them.

- `GET /analytics/economics`: the economics of the current recompute (the report
  `lavka.analytics.economics` stores), with the lifecycle stages and the cost of loss
  counted over the clients the viewer may read; `computed` false before the first run.
- `GET /analytics/costs`, `POST /analytics/costs`: the costs entered (company-wide), and
  entering one.
- `PATCH /analytics/costs/{id}`, `DELETE /analytics/costs/{id}`: with `If-Match`.
Entering, changing and deleting costs needs the analytics write scope or the manage
settings capability (403 otherwise)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from lavka.analytics.costs import cost_create, cost_delete, cost_get, cost_update, costs_visible_to
from lavka.analytics.economics import stages_visible_to
from lavka.analytics.models import CostEntry
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import run_current, sees_whole_base
from lavka.api.concurrency import expected_version, set_etag
from lavka.api.pagination import LimitOffset
from lavka.core.errors import NotFound

router = Router(tags=["analytics"])


class EconomicsOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    currency: str | None = None
    whole_base: bool = False
    window: list[str] = []
    margin_percent: float | None = None
    stages: list[dict[str, Any]] = Field(
        [], description="Per stage: code, clients, share (0..1), average_days."
    )
    cac: float | None = Field(None, description="Acquisition cost per new client.")
    cac_by_channel: dict[str, float | None] = {}
    channels: list[dict[str, Any]] = []
    cac_by_month: list[dict[str, Any]] = []
    acquisition: dict[str, Any] = {}
    retention: dict[str, Any] = {}
    cost_ratio: float | None = Field(
        None, description="CAC / retention cost per client kept (the seeds say 5-10)."
    )
    cost_of_loss: dict[str, Any] = {}
    revenue: dict[str, Any] = {}
    payback: dict[str, Any] = {}
    first_year: dict[str, Any] = {}
    simulation: dict[str, Any] = {}
    costs_skipped: int = 0


@router.get("/analytics/economics", response=EconomicsOut, operation_id="get_economics")
def get_economics(request: HttpRequest) -> dict[str, Any]:
    """Lifecycle stages, CAC (overall, by channel, by month), retention cost, cost of
    loss, revenue per touch and per contact hour, payback month, the share of clients
    paying off only after a year and the retention simulation, in the reporting
    currency. Definitions: lavka/analytics/engine/economics.py."""
    viewer = request.user
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics", id="economics")
    run = run_current(viewer=viewer)
    report = (run.reports or {}).get("economics") if run is not None else None
    if run is None or not report or "error" in report:
        return {"computed": False}
    whole_base = sees_whole_base(viewer)
    data = {**report, "computed": True, "as_of": run.as_of, "whole_base": whole_base}
    if not whole_base:
        stages, loss = stages_visible_to(viewer=viewer, run=run)
        data["stages"] = stages
        data["cost_of_loss"] = {**loss, "months": report["cost_of_loss"].get("months")}
    return data


class CostOut(Schema):
    id: int
    month: str = Field(..., description='"YYYY-MM"')
    kind: str
    channel: str
    campaign: str
    amount: Decimal
    currency: str
    note: str
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @staticmethod
    def resolve_month(obj: CostEntry) -> str:
        return obj.month.strftime("%Y-%m")


class CostIn(Schema):
    month: str = Field(..., description='A month, "2026-05" (or any date in it).')
    kind: Literal["acquisition", "retention"]
    amount: Decimal
    channel: str = Field("", description="The clients' source; empty for the company.")
    campaign: str = ""
    currency: str = Field("", description="Empty: the reporting currency.")
    note: str = ""


class CostPatch(Schema):
    month: str | None = None
    kind: Literal["acquisition", "retention"] | None = None
    amount: Decimal | None = None
    channel: str | None = None
    campaign: str | None = None
    currency: str | None = None
    note: str | None = None


@router.get("/analytics/costs", response=list[CostOut], operation_id="list_costs")
@paginate(LimitOffset)
def list_costs(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Every cost entered, newest month first."""
    return costs_visible_to(request.user)


@router.post("/analytics/costs", response={201: CostOut}, operation_id="create_cost")
def create_cost(request: HttpRequest, response: HttpResponse, payload: CostIn):  # type: ignore[no-untyped-def]
    cost = cost_create(actor=request.user, **payload.dict())
    set_etag(response, cost)
    response["Location"] = f"/api/v1/analytics/costs/{cost.pk}"
    return Status(201, cost)


@router.get("/analytics/costs/{cost_id}", response=CostOut, operation_id="get_cost")
def get_cost(request: HttpRequest, response: HttpResponse, cost_id: int):  # type: ignore[no-untyped-def]
    cost = cost_get(viewer=request.user, cost_id=cost_id)
    set_etag(response, cost)
    return cost


@router.patch("/analytics/costs/{cost_id}", response=CostOut, operation_id="update_cost")
def update_cost(  # type: ignore[no-untyped-def]
    request: HttpRequest, response: HttpResponse, cost_id: int, payload: CostPatch
):
    cost = cost_get(viewer=request.user, cost_id=cost_id)
    version = expected_version(request, cost)
    cost = cost_update(
        actor=request.user,
        cost=cost,
        expected_version=version,
        **payload.dict(exclude_unset=True),
    )
    set_etag(response, cost)
    return cost


@router.delete("/analytics/costs/{cost_id}", response={204: None}, operation_id="delete_cost")
def delete_cost(request: HttpRequest, cost_id: int):  # type: ignore[no-untyped-def]
    cost = cost_get(viewer=request.user, cost_id=cost_id)
    cost_delete(actor=request.user, cost=cost, expected_version=expected_version(request, cost))
    return Status(204, None)
