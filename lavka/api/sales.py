"""Sales API: pipelines and stages (read), deals (CRUD, move, products, contact person,
competitors, the quote as PDF), orders (read, create, status). The same selectors and
services as the web board and deal card."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.concurrency import expected_version, set_etag
from lavka.api.pagination import LimitOffset
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import person_get
from lavka.core.errors import NotFound, ValidationFailed
from lavka.identity.selectors import user_get
from lavka.sales.models import Deal, Order, Product
from lavka.sales.quotes import deal_quote, quote_pdf
from lavka.sales.selectors.deals import (
    deal_get,
    deal_lines,
    deal_list,
    deal_stage_times,
)
from lavka.sales.selectors.orders import order_get, order_lines, order_list
from lavka.sales.selectors.pipelines import (
    pipeline_get,
    pipelines_visible_to,
    stage_get,
    stage_list,
)
from lavka.sales.services import (
    deal_create,
    deal_delete,
    deal_lines_set,
    deal_move,
    deal_update,
    order_create,
    order_update_status,
)

router = Router(tags=["sales"])


class StageOut(Schema):
    id: int
    name: str
    order: int
    probability: int
    kind: str
    colour: str = Field(description="A colour token: neutral, accent, warn, good or risk.")


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    stages: list[StageOut]


class UserRef(Schema):
    id: int
    username: str


class DealOut(Schema):
    id: int
    title: str
    client_id: int
    person_id: int | None
    pipeline_id: int
    stage_id: int
    stage_kind: str
    amount: Decimal
    currency: str
    expected_close_on: dt.date | None
    probability: int
    lost_reason: str
    won_at: dt.datetime | None
    lost_at: dt.datetime | None
    source: str
    campaign: str
    position: int
    owner: UserRef
    team_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    competitors: list[str]

    @staticmethod
    def resolve_stage_kind(obj: Deal) -> str:
        return str(obj.stage.kind)

    @staticmethod
    def resolve_competitors(obj: Deal) -> list[str]:
        return sorted((c.name for c in obj.competitors.all()), key=str.casefold)


class DealIn(Schema):
    client_id: int
    title: str = Field(..., min_length=1, max_length=200)
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    amount: Decimal | None = None
    currency: str = Field("", max_length=3)
    expected_close_on: dt.date | None = None
    probability: int | None = Field(None, ge=0, le=100)
    source: str = Field("", max_length=100)
    campaign: str = Field("", max_length=100)
    competitors: list[str] = []
    person_id: int | None = None


class DealPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    client_id: int | None = None
    owner_id: int | None = None
    amount: Decimal | None = None
    currency: str | None = Field(None, max_length=3)
    expected_close_on: dt.date | None = None
    probability: int | None = Field(None, ge=0, le=100)
    source: str | None = Field(None, max_length=100)
    campaign: str | None = Field(None, max_length=100)
    lost_reason: str | None = Field(None, max_length=300)
    competitors: list[str] | None = None
    person_id: int | None = None


class DealFilters(Schema):
    pipeline: int | None = None
    stage: int | None = None
    owner: int | None = None
    client: int | None = None
    status: Literal["all", "open", "won", "lost"] = "all"
    q: str = ""
    ordering: Literal[
        "created_at", "-created_at", "amount", "-amount", "expected_close_on",
        "-expected_close_on", "title", "-title",
    ] = "-created_at"  # fmt: skip


class MoveIn(Schema):
    stage_id: int
    after_id: int | None = Field(
        None, description="The card the deal goes right below; null: the top of the column."
    )
    lost_reason: str = Field("", max_length=300)


class MoveOut(Schema):
    deal: DealOut
    order_id: int | None


class LineIn(Schema):
    product_id: int
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = Field(
        None, description="In the deal's currency; null: the client's catalogue price today."
    )
    discount_percent: Decimal = Decimal(0)


class LinesIn(Schema):
    lines: list[LineIn]


class LineOut(Schema):
    id: int
    product_id: int
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal


class StageTimeOut(Schema):
    stage_id: int
    stage_name: str
    seconds: int
    visits: int
    is_current: bool


class OrderLineOut(Schema):
    id: int
    product_id: int | None
    product_code: str
    product_name: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal


class OrderOut(Schema):
    id: int
    client_id: int
    number: str
    ordered_on: dt.date
    status: str
    currency: str
    total: Decimal
    source_deal_id: int | None
    source: str
    external_id: str
    owner: UserRef
    team_id: int | None
    version: int
    created_at: dt.datetime


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]


class OrderLineIn(Schema):
    product_id: int | None = None
    product_code: str = Field("", max_length=64)
    product_name: str = Field("", max_length=200)
    quantity: Decimal = Decimal(1)
    unit_price: Decimal
    discount_percent: Decimal = Decimal(0)


class OrderIn(Schema):
    client_id: int
    ordered_on: dt.date
    lines: list[OrderLineIn] = Field(..., min_length=1)
    currency: str = Field("", max_length=3)
    status: Literal["draft", "confirmed", "shipped", "paid", "cancelled"] = "confirmed"
    number: str = Field("", max_length=50)
    external_id: str = Field("", max_length=100)


class OrderStatusIn(Schema):
    status: Literal["draft", "confirmed", "shipped", "paid", "cancelled"]


class OrderFilters(Schema):
    client: int | None = None
    status: str = ""


def _body_client(request: HttpRequest, client_id: int) -> Any:
    """A client named in a body: one the caller cannot see is a 422 on the field."""
    try:
        return client_get(viewer=request.user, client_id=client_id)
    except NotFound:
        raise ValidationFailed(fields={"client_id": ["No such client."]}) from None


def _body_person(request: HttpRequest, person_id: int | None) -> Any:
    """A contact person named in a body (None: nobody); one the caller cannot see is a
    422 on the field. Whether they work at the deal's client, the service checks."""
    if person_id is None:
        return None
    try:
        return person_get(viewer=request.user, person_id=person_id)
    except NotFound:
        raise ValidationFailed(fields={"person_id": [_("No such person.")]}) from None


def _products(ids: list[int | None], key: str = "lines") -> dict[int, Product]:
    found = {p.pk: p for p in Product.objects.filter(pk__in=[i for i in ids if i])}
    missing = [i for i, pk in enumerate(ids) if pk is not None and pk not in found]
    if missing:
        raise ValidationFailed(
            fields={f"{key}.{i}.product_id": ["No such product."] for i in missing}
        )
    return found


# --- pipelines ---------------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut], operation_id="list_pipelines")
def list_pipelines(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [
        {
            "id": p.pk,
            "name": p.name,
            "is_default": p.is_default,
            "stages": stage_list(viewer=request.user, pipeline=p),
        }
        for p in pipelines_visible_to(request.user)
    ]


@router.get("/pipelines/{pipeline_id}", response=PipelineOut, operation_id="get_pipeline")
def get_pipeline(request: HttpRequest, pipeline_id: int):  # type: ignore[no-untyped-def]
    pipeline = pipeline_get(viewer=request.user, pipeline_id=pipeline_id)
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "is_default": pipeline.is_default,
        "stages": stage_list(viewer=request.user, pipeline=pipeline),
    }


# --- deals -------------------------------------------------------------------------------


@router.get("/deals", response=list[DealOut], operation_id="list_deals")
@paginate(LimitOffset)
def list_deals(request: HttpRequest, filters: Query[DealFilters]):  # type: ignore[no-untyped-def]
    deals = (
        deal_list(
            viewer=request.user,
            pipeline_id=filters.pipeline,
            stage_id=filters.stage,
            owner_id=filters.owner,
            client_id=filters.client,
            status=filters.status,
            query=filters.q,
        )
        .select_related("stage", "owner")
        .prefetch_related("competitors")
    )
    return deals.order_by(filters.ordering, "-id" if filters.ordering.startswith("-") else "id")


@router.get("/deals/{deal_id}", response=DealOut, operation_id="get_deal")
def get_deal(request: HttpRequest, response: HttpResponse, deal_id: int):  # type: ignore[no-untyped-def]
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    set_etag(response, deal)
    return deal


@router.post("/deals", response={201: DealOut}, operation_id="create_deal")
def create_deal(request: HttpRequest, response: HttpResponse, payload: DealIn):  # type: ignore[no-untyped-def]
    data = payload.dict()
    client = _body_client(request, data.pop("client_id"))
    pipeline_id, stage_id, owner_id = (
        data.pop("pipeline_id"),
        data.pop("stage_id"),
        data.pop("owner_id"),
    )
    person = _body_person(request, data.pop("person_id"))
    deal = deal_create(
        actor=request.user,
        client=client,
        person=person,
        pipeline=pipeline_get(viewer=request.user, pipeline_id=pipeline_id)
        if pipeline_id
        else None,
        stage=stage_get(viewer=request.user, stage_id=stage_id) if stage_id else None,
        owner=user_get(viewer=request.user, user_id=owner_id) if owner_id else None,
        **data,
    )
    deal = deal_get(viewer=request.user, deal_id=deal.pk)
    set_etag(response, deal)
    response["Location"] = f"/api/v1/deals/{deal.pk}"
    return Status(201, deal)


@router.patch("/deals/{deal_id}", response=DealOut, operation_id="update_deal")
def update_deal(
    request: HttpRequest,
    response: HttpResponse,
    deal_id: int,  # type: ignore[no-untyped-def]
    payload: DealPatch,
):
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    version = expected_version(request, deal)
    changes = payload.dict(exclude_unset=True)
    if "client_id" in changes:
        changes["client"] = _body_client(request, changes.pop("client_id"))
    if changes.get("owner_id") is not None:
        changes["owner"] = user_get(viewer=request.user, user_id=changes.pop("owner_id"))
    changes.pop("owner_id", None)
    if "person_id" in changes:
        changes["person"] = _body_person(request, changes.pop("person_id"))
    deal_update(actor=request.user, deal=deal, expected_version=version, **changes)
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    set_etag(response, deal)
    return deal


@router.delete("/deals/{deal_id}", response={204: None}, operation_id="delete_deal")
def delete_deal(request: HttpRequest, deal_id: int):  # type: ignore[no-untyped-def]
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    deal_delete(actor=request.user, deal=deal, expected_version=expected_version(request, deal))
    return Status(204, None)


@router.post("/deals/{deal_id}/move", response=MoveOut, operation_id="move_deal")
def move_deal(request: HttpRequest, response: HttpResponse, deal_id: int, payload: MoveIn):  # type: ignore[no-untyped-def]
    """The board's drop. `If-Match` is optional here: with it, a stale ETag is 409."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    version = expected_version(request, deal) if request.headers.get("If-Match") else None
    try:
        stage = stage_get(viewer=request.user, stage_id=payload.stage_id)
    except NotFound:
        raise ValidationFailed(fields={"stage_id": ["No such stage."]}) from None
    deal_move(
        actor=request.user,
        deal=deal,
        stage=stage,
        after_id=payload.after_id,
        lost_reason=payload.lost_reason,
        expected_version=version,
    )
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    set_etag(response, deal)
    order = (
        Order.objects.filter(source_deal_id=deal.pk, deleted_at__isnull=True)
        .exclude(status=Order.Status.CANCELLED)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
        if deal.stage.kind == "won"
        else None
    )
    return {"deal": deal, "order_id": order}


@router.get("/deals/{deal_id}/lines", response=list[LineOut], operation_id="list_deal_lines")
def list_deal_lines(request: HttpRequest, deal_id: int):  # type: ignore[no-untyped-def]
    return deal_lines(viewer=request.user, deal=deal_get(viewer=request.user, deal_id=deal_id))


@router.put("/deals/{deal_id}/lines", response=list[LineOut], operation_id="set_deal_lines")
def set_deal_lines(
    request: HttpRequest,
    response: HttpResponse,
    deal_id: int,  # type: ignore[no-untyped-def]
    payload: LinesIn,
):
    """Replace the deal's products; the deal's amount becomes their sum. Needs If-Match."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    version = expected_version(request, deal)
    products = _products([line.product_id for line in payload.lines])
    lines = []
    for line in payload.lines:
        item: dict[str, Any] = {
            "product": products[line.product_id],
            "quantity": line.quantity,
            "discount_percent": line.discount_percent,
        }
        if line.unit_price is not None:
            item["unit_price"] = line.unit_price
        lines.append(item)
    created = deal_lines_set(actor=request.user, deal=deal, lines=lines, expected_version=version)
    set_etag(response, deal_get(viewer=request.user, deal_id=deal_id))
    return created


@router.get(
    "/deals/{deal_id}/stage-times", response=list[StageTimeOut], operation_id="deal_stage_times"
)
def get_deal_stage_times(request: HttpRequest, deal_id: int):  # type: ignore[no-untyped-def]
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    return [
        {
            "stage_id": t.stage_id,
            "stage_name": t.stage_name,
            "seconds": int(t.duration.total_seconds()),
            "visits": t.visits,
            "is_current": t.is_current,
        }
        for t in deal_stage_times(viewer=request.user, deal=deal)
    ]


@router.get("/deals/{deal_id}/quote.pdf", operation_id="get_deal_quote_pdf")
def get_deal_quote_pdf(request: HttpRequest, deal_id: int) -> HttpResponse:
    """The deal's quote (positions, discounts, VAT, totals, the client's requisites,
    valid for QUOTE_VALID_DAYS days) as a PDF in the caller's language."""
    deal = deal_get(viewer=request.user, deal_id=deal_id)
    response = HttpResponse(
        quote_pdf(deal_quote(viewer=request.user, deal=deal)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="quote-{deal.pk}.pdf"'
    return response


def _order_detail(request: HttpRequest, order: Order) -> dict[str, Any]:
    data = {name: getattr(order, name) for name in OrderOut.model_fields}
    data["lines"] = order_lines(viewer=request.user, order=order)
    return data


# --- orders ------------------------------------------------------------------------------


@router.get("/orders", response=list[OrderOut], operation_id="list_orders")
@paginate(LimitOffset)
def list_orders(request: HttpRequest, filters: Query[OrderFilters]):  # type: ignore[no-untyped-def]
    return order_list(
        viewer=request.user, client_id=filters.client, status=filters.status
    ).select_related("owner")


@router.get("/orders/{order_id}", response=OrderDetailOut, operation_id="get_order")
def get_order(request: HttpRequest, response: HttpResponse, order_id: int):  # type: ignore[no-untyped-def]
    order = order_get(viewer=request.user, order_id=order_id)
    set_etag(response, order)
    return _order_detail(request, order)


@router.post("/orders", response={201: OrderDetailOut}, operation_id="create_order")
def create_order(request: HttpRequest, response: HttpResponse, payload: OrderIn):  # type: ignore[no-untyped-def]
    client = _body_client(request, payload.client_id)
    products = _products([line.product_id for line in payload.lines])
    lines = []
    for line in payload.lines:
        item = line.dict()
        product_id = item.pop("product_id")
        if product_id:
            item["product"] = products[product_id]
        lines.append({k: v for k, v in item.items() if v != ""})
    order = order_create(
        actor=request.user,
        client=client,
        ordered_on=payload.ordered_on,
        lines=lines,
        currency=payload.currency.upper(),
        status=payload.status,
        number=payload.number,
        source="api",
        external_id=payload.external_id,
    )
    order = order_get(viewer=request.user, order_id=order.pk)
    set_etag(response, order)
    response["Location"] = f"/api/v1/orders/{order.pk}"
    return Status(201, _order_detail(request, order))


@router.post("/orders/{order_id}/status", response=OrderDetailOut, operation_id="set_order_status")
def set_order_status(
    request: HttpRequest,
    response: HttpResponse,
    order_id: int,  # type: ignore[no-untyped-def]
    payload: OrderStatusIn,
):
    """Move the order along draft → confirmed → shipped → paid, or cancel it; a step
    the order cannot take is a 422 naming the statuses it can."""
    order = order_get(viewer=request.user, order_id=order_id)
    order_update_status(
        actor=request.user,
        order=order,
        status=payload.status,
        expected_version=expected_version(request, order),
    )
    order = order_get(viewer=request.user, order_id=order_id)
    set_etag(response, order)
    return _order_detail(request, order)
