"""Orders, the purchase history: entered by hand, who sees them, their statuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.sales.models import Order, OrderLine, ProductCategory
from lavka.sales.selectors.orders import client_orders, order_get, order_lines, orders_visible_to
from lavka.sales.services import order_create, order_delete, order_update_status
from tests.factories import ClientFactory


def make_order(user, *, client=None, **fields):
    fields.setdefault("lines", [{"product_name": "Tea", "quantity": 1, "unit_price": "100"}])
    return order_create(
        actor=user,
        client=client or ClientFactory(owner=user),
        ordered_on=fields.pop("ordered_on", dt.date(2026, 3, 1)),
        **fields,
    )


def test_an_order_is_entered_with_its_lines_and_total(org, products, client_of_rep):
    black = ProductCategory.objects.create(name="Black tea")

    order = order_create(
        actor=org.rep,
        client=client_of_rep,
        ordered_on="2026-03-01",
        number="A-17",
        lines=[
            {
                "product": products.tea,
                "quantity": "1,5",
                "unit_price": "1000",
                "discount_percent": 10,
            },
            {
                "product_code": "X-9",
                "product_name": "Assam",
                "category": black,
                "quantity": 2,
                "unit_price": "333.33",
            },
        ],
    )

    assert (order.number, order.status, order.currency, order.total) == (
        "A-17",
        "confirmed",
        "RUB",
        Decimal("2016.66"),
    )
    assert (order.owner, order.team, order.source) == (org.rep, org.moscow, "manual")
    assert [
        (line.product_id, line.product_code, line.product_name, line.category_id, line.amount)
        for line in order_lines(viewer=org.rep, order=order)
    ] == [
        (products.tea.pk, "TEA-1", "Green tea", None, Decimal("1350.00")),
        (None, "X-9", "Assam", black.pk, Decimal("666.66")),
    ]
    assert AuditEvent.objects.for_record(order).get().changes["lines"] == [None, 2]
    assert OutboxEvent.objects.filter(kind="order.created").count() == 1


def test_an_order_needs_a_date_and_good_lines(org, client_of_rep):
    with pytest.raises(ValidationFailed) as no_lines:
        order_create(actor=org.rep, client=client_of_rep, ordered_on="", lines=[])
    with pytest.raises(ValidationFailed) as bad_line:
        order_create(
            actor=org.rep,
            client=client_of_rep,
            ordered_on="2026-03-01",
            lines=[{"quantity": "-1", "unit_price": "x"}],
        )

    assert sorted(no_lines.value.fields) == ["lines", "ordered_on"]
    assert sorted(bad_line.value.fields) == [
        "lines.0.product",
        "lines.0.quantity",
        "lines.0.unit_price",
    ]
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_an_external_id_is_unique_per_source(org, client_of_rep):
    make_order(org.rep, client=client_of_rep, source="1c", external_id="0001")
    make_order(org.rep, client=client_of_rep, source="shop", external_id="0001")

    with pytest.raises(ValidationFailed) as error:
        make_order(org.rep, client=client_of_rep, source="1c", external_id="0001")

    assert list(error.value.fields) == ["external_id"]


def test_reps_see_their_own_orders_and_managers_their_teams(org):
    mine = make_order(org.rep)
    colleague = make_order(org.colleague)
    spb = make_order(org.spb_rep)

    assert list(orders_visible_to(org.rep)) == [mine]
    assert set(orders_visible_to(org.manager)) == {mine, colleague}
    with pytest.raises(NotFound):
        order_get(viewer=org.manager, order_id=spb.pk)
    with pytest.raises(NotFound):
        order_update_status(actor=org.rep, order=colleague, status="paid")
    with pytest.raises(NotPermitted):
        order_update_status(actor=org.analyst, order=mine, status="paid")
    mine.refresh_from_db()
    assert mine.status == "confirmed"


def test_an_order_for_a_client_the_user_cannot_see_is_refused(org):
    with pytest.raises(NotFound):
        make_order(org.rep, client=ClientFactory(owner=org.spb_rep))


def test_an_order_moves_through_its_statuses(org):
    order = make_order(org.rep, status="draft")

    for status in ("confirmed", "shipped", "paid"):
        order = order_update_status(actor=org.rep, order=order, status=status)

    assert (order.status, order.version) == ("paid", 4)
    assert OutboxEvent.objects.filter(kind="order.status_changed").count() == 3


def test_a_status_it_cannot_reach_is_refused_with_the_ones_it_can(org):
    order = make_order(org.rep, status="draft")

    with pytest.raises(ValidationFailed) as error:
        order_update_status(actor=org.rep, order=order, status="paid")

    assert error.value.fields == {"status": ["A draft order can become: Confirmed, Cancelled."]}
    order.refresh_from_db()
    assert order.status == "draft"


def test_a_stale_status_change_is_refused(org):
    order = make_order(org.rep)
    order_update_status(actor=org.rep, order=order, status="shipped")

    with pytest.raises(StaleVersion):
        order_update_status(actor=org.rep, order=order, status="cancelled", expected_version=1)


def test_a_deleted_order_leaves_the_purchase_history(org, client_of_rep):
    order = make_order(org.rep, client=client_of_rep)

    order_delete(actor=org.rep, order=order)

    assert list(client_orders(viewer=org.rep, client=client_of_rep)) == []
    assert Order.all_objects.get(pk=order.pk).lines.count() == 1
