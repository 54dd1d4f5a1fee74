"""The analytics endpoints: a client's scores from the current recompute (the numbers
the client card shows), in the same access scope as the card."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from lavka.analytics.selectors import CardScores, client_scores
from lavka.clients.selectors import client_get

router = Router(tags=["analytics"])


class SuggestionOut(Schema):
    """From the buying report of the current recompute; null fields: nothing to say."""

    offer_product_id: int | None = None
    offer_product: str | None = None
    offer_reason: str = ""
    due_category_id: int | None = None
    due_category: str | None = None
    due_on: dt.date | None = None
    due_cycle_days: float | None = None
    is_overdue: bool = False


class ScoresOut(Schema):
    computed: bool
    as_of: dt.date | None = None
    currency: str | None = None
    segment: str | None = None
    segment_label: str | None = None
    r: int | None = None
    f: int | None = None
    m: int | None = None
    abc_xyz: str | None = None
    leave_probability: float | None = None
    expected_purchases_30: float | None = None
    expected_purchases_90: float | None = None
    expected_purchases_365: float | None = None
    expected_order_value: float | None = None
    clv: float | None = None
    clv_months: int | None = None
    next_purchase_on: dt.date | None = None
    not_enough_data: list[str] = []
    stage: str | None = None
    stage_label: str | None = None
    lifecycle_days: int | None = None
    tier: str | None = None
    suggestion: SuggestionOut | None = None


def _suggestion(insight: Any) -> dict[str, Any] | None:
    if insight is None:
        return None
    return {
        "offer_product_id": insight.offer_product_id,
        "offer_product": insight.offer_product,
        "offer_reason": str(insight.offer_reason or ""),
        "due_category_id": insight.due_category_id,
        "due_category": insight.due_category,
        "due_on": insight.due_on,
        "due_cycle_days": insight.due_cycle_days,
        "is_overdue": bool(insight.is_overdue),
    }


def _out(scores: CardScores | None, tier: str | None = None) -> dict[str, Any]:
    if scores is None:
        return {"computed": False, "tier": tier}
    reasons = [str(r) for r in (scores.purchases_reason, scores.spend_reason) if r]
    return {
        "computed": True,
        "as_of": scores.as_of,
        "currency": scores.currency,
        "segment": str(scores.segment),
        "segment_label": str(scores.segment_label),
        "r": scores.r,
        "f": scores.f,
        "m": scores.m,
        "abc_xyz": scores.abc_xyz,
        "leave_probability": scores.leave_probability,
        "expected_purchases_30": scores.expected_30,
        "expected_purchases_90": scores.expected_90,
        "expected_purchases_365": scores.expected_365,
        "expected_order_value": scores.expected_spend,
        "clv": scores.clv,
        "clv_months": scores.clv_months,
        "next_purchase_on": scores.next_purchase_on,
        "not_enough_data": list(dict.fromkeys(reasons)),
        "stage": scores.stage or None,
        "stage_label": str(scores.stage_label) if scores.stage else None,
        "lifecycle_days": scores.lifecycle_days,
        "tier": tier,
        "suggestion": _suggestion(scores.insight),
    }


@router.get("/clients/{client_id}/scores", response=ScoresOut)
def get_scores(request: HttpRequest, client_id: int) -> dict[str, Any]:
    """RFM segment and scores, ABC-XYZ class, probability of leaving (1 - P(alive)),
    expected purchases in 30/90/365 days, expected order value, CLV over the configured
    horizon, the predicted next purchase date, the lifecycle stage and its length in
    days, and the buying report's suggestion (the product to offer, the category due and
    when), from the current recompute in the reporting currency; `tier` is the client's
    tier code. `computed` is false when the client has no scores yet (never
    recomputed since it first bought, or the viewer's role has no analytics access);
    `not_enough_data` says why a number is missing. 404 for a client the viewer cannot
    see."""
    client = client_get(viewer=request.user, client_id=client_id)
    tier = client.tier.code if client.tier_id and client.tier else None
    return _out(client_scores(viewer=request.user, client=client, with_insight=True), tier)
