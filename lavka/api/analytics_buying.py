"""Analytics endpoints: who buys what and when (see `lavka.web.views.analytics.buying`
for the page): the due-to-buy list and a client's insight."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from lavka.analytics.buying import ClientInsightCard, DueRow, client_insight, due_list
from lavka.clients.selectors import client_get

router = Router(tags=["analytics"])


class DueIn(Schema):
    within_days: int = Field(14, ge=1, le=365)
    owner: int | None = None
    team: int | None = None
    category: int | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class DueItemOut(Schema):
    client_id: int
    client: str
    owner: str
    due_on: dt.date | None
    days: int | None  # from today; negative = late
    is_overdue: bool
    basis: str  # "category" (the category's cycle) or "model" (BG/NBD next purchase)
    due_category_id: int | None
    due_category: str | None
    category_due_on: dt.date | None
    cycle_days: float | None
    next_purchase_on: dt.date | None
    offer_product_id: int | None
    offer_product: str | None
    offer_because: str | None
    offer_share: float | None
    offer_reason: str
    last_purchase_on: dt.date
    clv: float | None
    leave_probability: float | None


class DueOut(Schema):
    computed: bool
    as_of: dt.date | None
    currency: str
    today: dt.date
    within_days: int
    items: list[DueItemOut]
    count: int
    limit: int
    offset: int
    next: str | None


class CycleOut(Schema):
    category_id: int
    category: str
    purchases: int
    last_on: dt.date
    cycle_days: float | None
    next_on: dt.date | None
    is_overdue: bool
    is_lapsed: bool


class InsightOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    next_purchase_on: dt.date | None = None
    due_category_id: int | None = None
    due_category: str | None = None
    due_on: dt.date | None = None
    due_cycle_days: float | None = None
    is_overdue: bool = False
    offer_product_id: int | None = None
    offer_product: str | None = None
    offer_because_id: int | None = None
    offer_because: str | None = None
    offer_share: float | None = None
    offer_score: float | None = None
    offer_reason: str = ""
    cycles: list[CycleOut] = []


def _item(r: DueRow) -> dict[str, Any]:
    return {
        "client_id": r.client_id,
        "client": r.client,
        "owner": r.owner,
        "due_on": r.due_on,
        "days": r.days,
        "is_overdue": r.is_overdue,
        "basis": "model" if r.by_model else "category",
        "due_category_id": r.due_category_id,
        "due_category": r.due_category,
        "category_due_on": r.category_due_on,
        "cycle_days": r.cycle_days,
        "next_purchase_on": r.next_purchase_on,
        "offer_product_id": r.offer_product_id,
        "offer_product": r.offer_product,
        "offer_because": r.offer_because,
        "offer_share": r.offer_share,
        "offer_reason": r.offer_reason,
        "last_purchase_on": r.last_on,
        "clv": r.clv,
        "leave_probability": r.leave_probability,
    }


@router.get("/analytics/due", response=DueOut)
def list_due_clients(request: HttpRequest, filters: Query[DueIn]) -> dict[str, Any]:
    """The due-to-buy list: clients whose next purchase is expected within
    `within_days` days from today (the page offers 7, 14, 30 and 60) or who are late by
    up to 30 days, by a category's repeat cycle or the purchase model, whichever is
    first, with the suggested offer, the last purchase, CLV and the probability of
    leaving; sorted by the expected date. Only the clients whose analytics the caller
    may read (a rep: their own; a manager: their team's); `owner` / `team` narrow it
    further, `category` keeps those whose due category it is. `computed` is false before
    the first recompute."""
    page = due_list(
        viewer=request.user,
        within_days=filters.within_days,
        owner=filters.owner,
        team=filters.team,
        category=filters.category,
        per_page=filters.limit,
        offset=filters.offset,
        count_cap=None,
    )
    next_url = None
    if filters.offset + filters.limit < page.total:
        query = request.GET.copy()
        query["offset"] = str(filters.offset + filters.limit)
        query["limit"] = str(filters.limit)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {
        "computed": page.as_of is not None,
        "as_of": page.as_of,
        "currency": page.currency,
        "today": page.today,
        "within_days": page.within_days,
        "items": [_item(r) for r in page.rows],
        "count": page.total,
        "limit": filters.limit,
        "offset": filters.offset,
        "next": next_url,
    }


def _insight(card: ClientInsightCard | None) -> dict[str, Any]:
    if card is None:
        return {"computed": False}
    return {
        "computed": True,
        "as_of": card.as_of,
        "next_purchase_on": card.next_purchase_on,
        "due_category_id": card.due_category_id,
        "due_category": card.due_category,
        "due_on": card.due_on,
        "due_cycle_days": card.due_cycle_days,
        "is_overdue": card.is_overdue,
        "offer_product_id": card.offer_product_id,
        "offer_product": card.offer_product,
        "offer_because_id": card.offer_because_id,
        "offer_because": card.offer_because,
        "offer_share": card.offer_share,
        "offer_score": card.offer_score,
        "offer_reason": card.offer_reason,
        "cycles": [
            {
                "category_id": c.category_id,
                "category": c.name,
                "purchases": c.purchases,
                "last_on": c.last_on,
                "cycle_days": c.cycle_days,
                "next_on": c.next_on,
                "is_overdue": c.is_overdue,
                "is_lapsed": c.is_lapsed,
            }
            for c in card.cycles
        ],
    }


@router.get("/clients/{client_id}/insight", response=InsightOut)
def get_client_insight(request: HttpRequest, client_id: int) -> dict[str, Any]:
    """Who buys what and when for one client: the product category due first with its
    repeat cycle and expected date, the suggested product with its reason ("75% of
    clients who buy X also buy Y") from the current recompute, and the client's repeat
    cycle in every category it has bought, computed from its orders now. `computed` is
    false when there is no insight yet or the caller's role has no analytics access to
    this client. 404 for a client the caller cannot see."""
    client = client_get(viewer=request.user, client_id=client_id)
    return _insight(client_insight(viewer=request.user, client=client))
