"""Writes of orders, the purchase history: entered by hand, made from a won deal,
status changes, delete. (Bulk imports of millions of lines go through the import
engine, which writes rows in batches and records one audit event per run.)

Events: order.created, order.status_changed, order.deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients.models import Client
from lavka.clients.selectors import clients_visible_to
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.sales.models import Deal, DealLine, Order, OrderLine, Product, ProductCategory
from lavka.sales.permissions import (
    can_create_sales_record,
    can_edit_sales_record,
    can_read_sales_record,
)
from lavka.sales.selectors.catalogue import reporting_currency
from lavka.sales.services.values import (
    QUANTITY_LIMIT,
    Errors,
    currency_clean,
    date_clean,
    decimal_clean,
    line_amount,
    percent_clean,
    text_clean,
)

AUDITED = [
    "client",
    "number",
    "ordered_on",
    "status",
    "currency",
    "total",
    "source_deal",
    "source",
    "external_id",
    "owner",
    "team",
]
LINE_KEYS = {
    "product",
    "product_code",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "discount_percent",
}
# Where an order may go from each status. A cancelled order can be reopened as a draft.
TRANSITIONS: dict[str, set[str]] = {
    Order.Status.DRAFT: {Order.Status.CONFIRMED, Order.Status.CANCELLED},
    Order.Status.CONFIRMED: {Order.Status.SHIPPED, Order.Status.PAID, Order.Status.CANCELLED},
    Order.Status.SHIPPED: {Order.Status.PAID, Order.Status.CANCELLED},
    Order.Status.PAID: {Order.Status.CANCELLED},
    Order.Status.CANCELLED: {Order.Status.DRAFT},
}


def _line_clean(index: int, line: dict[str, Any], errors: Errors) -> OrderLine | None:
    prefix = f"lines.{index}."
    for name in sorted(set(line) - LINE_KEYS):
        errors[prefix + name] = [_("Unknown field.")]
    product = line.get("product")
    if product is not None and not isinstance(product, Product):
        errors[prefix + "product"] = [_("Choose a product.")]
        return None
    category = line.get("category", product.category if product else None)
    if category is not None and not isinstance(category, ProductCategory):
        errors[prefix + "category"] = [_("Choose a category.")]
    code = text_clean(
        line.get("product_code") or (product.code if product else ""),
        prefix + "product_code",
        64,
        errors,
    )
    name = text_clean(
        line.get("product_name") or (product.name if product else ""),
        prefix + "product_name",
        200,
        errors,
    )
    if not (product or code or name):
        errors[prefix + "product"] = [_("Choose a product or give its code or name.")]
    quantity = decimal_clean(
        line.get("quantity", 1),
        prefix + "quantity",
        errors,
        places=3,
        limit=QUANTITY_LIMIT,
        required=True,
        allow_zero=False,
    )
    unit_price = decimal_clean(line.get("unit_price"), prefix + "unit_price", errors, required=True)
    discount = percent_clean(line.get("discount_percent"), prefix + "discount_percent", errors)
    if quantity is None or unit_price is None:
        return None
    return OrderLine(
        product=product,
        product_code=code,
        product_name=name,
        category=category,
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        amount=line_amount(quantity, unit_price, discount),
    )


def _save_order(*, actor: Any, order: Order, lines: list[OrderLine]) -> Order:
    """Insert the order and its lines, audit and publish (the caller has checked)."""
    order.total = sum((line.amount for line in lines), Decimal(0))
    order.save()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    audit_record(
        action=Action.CREATE,
        subject=order,
        actor=actor,
        changes={**diff({}, snapshot(order, AUDITED)), "lines": [None, len(lines)]},
    )
    outbox_publish(
        kind="order.created",
        payload={
            "order_id": order.pk,
            "client_id": order.client_id,
            "deal_id": order.source_deal_id,
            "status": order.status,
        },
    )
    return order


@transaction.atomic
def order_create(
    *,
    actor: Any,
    client: Client,
    ordered_on: dt.date | str,
    lines: Sequence[dict[str, Any]],
    currency: str = "",
    status: str = Order.Status.CONFIRMED,
    number: str = "",
    owner: Any = None,
    source: str = "manual",
    external_id: str = "",
) -> Order:
    """An order entered by hand (or by a small import): `client` (which the actor must
    see), date, at least one line (product and/or product code/name, quantity,
    unit_price, discount_percent), currency (default: the client's). Owned by `owner`
    (default: the actor) in the owner's team. Confirmed unless `status` says otherwise:
    confirmed, shipped and paid orders count as purchases in the analytics."""
    if not can_create_sales_record(actor):
        raise NotPermitted(action="create", resource="order")
    if not clients_visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound(resource="client", id=client.pk)
    errors: Errors = {}
    day = date_clean(ordered_on, "ordered_on", errors, required=True)
    code = currency_clean(currency or client.currency or reporting_currency(), "currency", errors)
    if status not in Order.Status.values:
        errors["status"] = [_("Choose one of the statuses.")]
    cleaned_number = text_clean(number, "number", 50, errors)
    cleaned_source = text_clean(source, "source", 40, errors)
    cleaned_external_id = text_clean(external_id, "external_id", 100, errors)
    if not lines:
        errors["lines"] = [_("Add at least one line.")]
    order_lines = [_line_clean(i, dict(line), errors) for i, line in enumerate(lines)]
    if (
        cleaned_external_id
        and Order.objects.filter(source=cleaned_source, external_id=cleaned_external_id).exists()
    ):
        errors["external_id"] = [_("An order with this external ID from this source exists.")]
    if errors or day is None:
        raise ValidationFailed(fields=errors)
    owner = owner or actor
    order = Order(
        client=client,
        ordered_on=day,
        currency=code,
        status=status,
        number=cleaned_number,
        source=cleaned_source,
        external_id=cleaned_external_id,
        owner=owner,
        team_id=owner.team_id,
    )
    if not can_edit_sales_record(actor, order):
        raise NotPermitted(action="create", resource="order")
    return _save_order(actor=actor, order=order, lines=[x for x in order_lines if x is not None])


@transaction.atomic
def order_from_deal(*, actor: Any, deal: Deal) -> Order:
    """The confirmed order of a won deal: its products as lines (a deal without
    products gives one line: the deal's title for its amount), dated the day it was
    won, in its currency, owned like the deal. Called by deal_move when a deal is won;
    safe to call again: the deal's order (unless cancelled or in the trash) is
    returned, not made twice."""
    existing = (
        Order.objects.filter(source_deal_id=deal.pk)
        .exclude(status=Order.Status.CANCELLED)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    if not can_edit_sales_record(actor, deal):
        raise NotPermitted(action="create", resource="order")
    deal_lines = list(DealLine.objects.filter(deal_id=deal.pk).select_related("product"))
    if deal_lines:
        lines = [
            OrderLine(
                product=line.product,
                product_code=line.product.code,
                product_name=line.product.name[:200],
                category_id=line.product.category_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=line.amount,
            )
            for line in sorted(deal_lines, key=lambda x: (x.order, x.pk))
        ]
    else:
        lines = [
            OrderLine(
                product_name=deal.title[:200],
                quantity=Decimal(1),
                unit_price=deal.amount,
                amount=deal.amount,
            )
        ]
    won_on = timezone.localdate(deal.won_at) if deal.won_at else timezone.localdate()
    order = Order(
        client_id=deal.client_id,
        ordered_on=won_on,
        currency=deal.currency,
        status=Order.Status.CONFIRMED,
        source_deal=deal,
        source="deal",
        owner_id=deal.owner_id,
        team_id=deal.team_id,
    )
    return _save_order(actor=actor, order=order, lines=lines)


def _lock_order(actor: Any, order_id: int, action: str) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not can_read_sales_record(actor, order):
        raise NotFound(resource="order", id=order_id)
    if not can_edit_sales_record(actor, order):
        raise NotPermitted(action=action, resource="order")
    return order


@transaction.atomic
def order_update_status(
    *, actor: Any, order: Order, status: str, expected_version: int | None = None
) -> Order:
    """Move an order along draft → confirmed → shipped → paid, or cancel it (see
    TRANSITIONS); anything else is refused with the allowed next statuses."""
    locked = _lock_order(actor, order.pk, "update")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    if status == locked.status:
        return locked
    if status not in TRANSITIONS.get(locked.status, set()):
        allowed = ", ".join(
            str(Order.Status(s).label)
            for s in Order.Status.values
            if s in TRANSITIONS[locked.status]
        )
        raise ValidationFailed(
            fields={
                "status": [
                    _("A %(status)s order can become: %(allowed)s.")
                    % {"status": str(locked.get_status_display()).lower(), "allowed": allowed}
                ]
            }
        )
    before = locked.status
    locked.status = status
    locked.version += 1
    locked.save(update_fields=["status", "version", "updated_at"])
    audit_record(
        action=Action.UPDATE, subject=locked, actor=actor, changes={"status": [before, status]}
    )
    outbox_publish(
        kind="order.status_changed",
        payload={"order_id": locked.pk, "from": before, "to": status},
    )
    return locked


@transaction.atomic
def order_delete(*, actor: Any, order: Order, expected_version: int | None = None) -> Order:
    """Move an order to the trash (an administrator can restore it); its lines stay
    with it. The analytics leave trashed orders out."""
    locked = _lock_order(actor, order.pk, "delete")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    trash.soft_delete(actor=actor, obj=locked)
    outbox_publish(kind="order.deleted", payload={"order_id": locked.pk})
    return locked
