"""Reads of orders (the purchase history): every read starts from
`orders_visible_to(viewer)`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lavka.clients.models import Client
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, scope_queryset
from lavka.sales.models import Order, OrderLine


def orders_visible_to(viewer: Any) -> QuerySet[Order]:
    """Every live order `viewer` may read (the sales area's read scope, by the order's
    owner and team)."""
    return scope_queryset(Order.objects.all(), viewer, Area.SALES, Action.READ)


def order_get(*, viewer: Any, order_id: int) -> Order:
    try:
        return (
            orders_visible_to(viewer)
            .select_related("client", "owner", "source_deal")
            .get(pk=order_id)
        )
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="order", id=order_id) from None


def order_list(*, viewer: Any, client_id: int | None = None, status: str = "") -> QuerySet[Order]:
    """Orders, newest first (the client card's purchase history with `client_id`)."""
    orders = orders_visible_to(viewer).select_related("client")
    if client_id is not None:
        orders = orders.filter(client_id=client_id)
    if status:
        orders = orders.filter(status=status)
    return orders.order_by("-ordered_on", "-id")


def client_orders(*, viewer: Any, client: Client) -> QuerySet[Order]:
    return order_list(viewer=viewer, client_id=client.pk)


def order_lines(*, viewer: Any, order: Order) -> list[OrderLine]:
    if not orders_visible_to(viewer).filter(pk=order.pk).exists():
        raise NotFound(resource="order", id=order.pk)
    return list(OrderLine.objects.filter(order_id=order.pk).order_by("id"))
