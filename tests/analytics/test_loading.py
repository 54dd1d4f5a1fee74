from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from lavka.analytics.loading import (
    _attributes_copy,
    _attributes_fetchmany,
    _load_copy_binary,
    _load_fetchmany,
    convert_to_reporting,
    load,
    load_client_attributes,
    load_lines,
    load_lines_started,
    load_orders,
    orders_query,
    pack_currency,
    unpack_currency,
)
from lavka.clients.models import Client
from lavka.sales.models import Order, OrderLine, Product
from tests.analytics.conftest import add_orders
from tests.factories import ClientFactory, tier

AS_OF = dt.date(2026, 6, 30)


def _sorted(columns):
    order = np.lexsort((columns.amount, columns.day, columns.key))
    return [columns.key[order], columns.day[order], columns.amount[order], columns.currency[order]]


def test_orders_load_as_columns_up_to_the_date(history):
    columns = load(orders_query(AS_OF))

    assert len(columns) == 28
    mine = columns.key == history.newcomer.pk
    assert columns.amount[mine].tolist() == [2.0]
    assert [unpack_currency(c) for c in columns.currency[mine].tolist()] == ["USD"]
    assert columns.day[mine].tolist() == [int(np.datetime64("2026-06-20", "D").astype(np.int64))]


def test_foreign_currencies_are_converted_at_the_rate_of_the_day(history):
    converted = convert_to_reporting(load(orders_query(AS_OF)), "RUB")

    mine = converted.columns.key == history.newcomer.pk
    assert converted.columns.amount[mine].tolist() == [200.0]
    assert set(converted.columns.currency.tolist()) == {pack_currency("RUB")}
    assert converted.skipped == {}


def test_orders_without_a_rate_are_left_out_and_counted(history):
    # The first USD rate is valid from 2026-01-01.
    add_orders(
        history.twice, [(dt.date(2025, 12, 15), 10), (dt.date(2026, 2, 1), 1)], currency="USD"
    )
    add_orders(history.twice, [(dt.date(2026, 2, 1), 1)], currency="EUR")

    converted = convert_to_reporting(load(orders_query(AS_OF)), "RUB")

    assert converted.skipped == {"USD": 1, "EUR": 1}
    assert len(converted.columns) == 29
    twice = converted.columns.key == history.twice.pk
    assert sorted(converted.columns.amount[twice].tolist()) == [100.0, 300.0, 300.0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_binary_reads_what_fetchmany_reads(history):
    query = orders_query(AS_OF)

    copied = _load_copy_binary(query)

    assert copied is not None
    for a, b in zip(_sorted(copied), _sorted(_load_fetchmany(query)), strict=True):
        assert a.tolist() == b.tolist()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psql and COPY are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_parallel_psql_copies_read_what_one_session_reads(history):
    # Committed data (a transactional test): what the recompute reads outside a transaction.
    assert not connection.in_atomic_block

    parallel = load_orders(AS_OF, "RUB", workers=2)

    # Two ranges of pages, one pass each over every currency (27 orders in roubles,
    # one in dollars), read as one session reads them.
    assert parallel.method == "psql x2"
    for a, b in zip(_sorted(parallel), _sorted(load(orders_query(AS_OF))), strict=True):
        assert a.tolist() == b.tolist()
    assert len(parallel) == 28
    assert sorted(unpack_currency(c) for c in set(parallel.currency.tolist())) == ["RUB", "USD"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psql and COPY are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_currency_code_that_cannot_be_packed_is_read_the_slow_way(history):
    Order.objects.filter(client=history.newcomer, currency="USD").update(currency="usd")

    parallel = load_orders(AS_OF, "RUB", workers=2)

    assert parallel.method == "copy"
    for a, b in zip(_sorted(parallel), _sorted(load(orders_query(AS_OF))), strict=True):
        assert a.tolist() == b.tolist()
    assert sorted(unpack_currency(c) for c in set(parallel.currency.tolist())) == ["RUB", "usd"]


def _lines_history(history):
    """Lines on three orders: a live rouble sale, a USD sale, a cancelled one, plus a
    line without a product and a line of the deleted order."""
    tea = Product.objects.create(code="TEA-L", name="Tea")
    cup = Product.objects.create(code="CUP-L", name="Cup")
    twice = Order.objects.filter(client=history.twice).order_by("ordered_on").first()
    usd = Order.objects.get(client=history.newcomer, currency="USD")
    cancelled = Order.objects.get(client=history.newcomer, status=Order.Status.CANCELLED)
    deleted = Order.all_objects.get(deleted_at__isnull=False)
    line = {"quantity": Decimal("1"), "unit_price": Decimal("1")}
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=twice, product=tea, amount=Decimal("120.50"), **line),
            OrderLine(order=twice, product=cup, amount=Decimal("179.50"), **line),
            OrderLine(order=twice, product=None, amount=Decimal("5"), **line),
            OrderLine(order=usd, product=cup, amount=Decimal("2"), **line),
            OrderLine(order=cancelled, product=tea, amount=Decimal("5000"), **line),
            OrderLine(order=deleted, product=tea, amount=Decimal("777"), **line),
        ]
    )
    return tea, cup


def _check_lines(lines, history, tea, cup):
    rows = sorted(
        zip(
            lines.key.tolist(),
            lines.client.tolist(),
            lines.day.tolist(),
            lines.amount.tolist(),
            [unpack_currency(c) for c in lines.currency.tolist()],
            strict=True,
        )
    )
    day = lambda d: int(np.datetime64(d, "D").astype(np.int64))  # noqa: E731
    # Only lines of the sales that were read, with their order's client, day, currency.
    assert rows == sorted(
        [
            (tea.pk, history.twice.pk, day("2026-01-10"), 120.5, "RUB"),
            (cup.pk, history.twice.pk, day("2026-01-10"), 179.5, "RUB"),
            (cup.pk, history.newcomer.pk, day("2026-06-20"), 2.0, "USD"),
        ]
    )


def test_lines_are_matched_to_the_orders_read(history):
    tea, cup = _lines_history(history)

    lines = load_lines(load(orders_query(AS_OF)))

    _check_lines(lines, history, tea, cup)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psql and COPY are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_lines_read_by_parallel_psql_match_the_orders(history):
    tea, cup = _lines_history(history)
    assert not connection.in_atomic_block

    lines = load_lines(load_orders(AS_OF, "RUB", workers=2), workers=2)

    assert lines.method == "psql x2"
    _check_lines(lines, history, tea, cup)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psql and COPY are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_lines_read_in_the_background_match_the_orders(history):
    tea, cup = _lines_history(history)
    orders = load_orders(AS_OF, "RUB", workers=2)

    finish = load_lines_started(orders)
    lines = finish()

    assert lines.method == "psql x1"
    _check_lines(lines, history, tea, cup)


def test_inside_a_transaction_lines_are_read_when_asked_for(history):
    # Other sessions could not see this one's uncommitted lines.
    tea, cup = _lines_history(history)
    finish = load_lines_started(load(orders_query(AS_OF)))

    _check_lines(finish(), history, tea, cup)


def _attributes_base(org):
    vip = tier("vip")
    made = [
        ClientFactory(owner=org.rep, source=" web ", tier=vip),
        ClientFactory(owner=org.colleague, source=""),
        ClientFactory(owner=org.spb_rep, source="partner"),
        ClientFactory(owner=org.rep, source="web"),
    ]
    gone = ClientFactory(owner=org.rep, source="fair")
    Client.objects.filter(pk=gone.pk).update(deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    Client.objects.filter(pk=made[2].pk).update(team=None)
    return made, vip


def _check_attributes(attributes, made, vip, org):
    assert attributes.client_id.tolist() == [c.pk for c in made]  # the trash left out
    assert attributes.owner_id.tolist() == [
        org.rep.pk,
        org.colleague.pk,
        org.spb_rep.pk,
        org.rep.pk,
    ]
    assert attributes.team_id.tolist() == [org.moscow.pk, org.moscow.pk, -1, org.moscow.pk]
    assert attributes.tier_id.tolist()[0] == vip.pk
    assert [attributes.sources[i] for i in attributes.source.tolist()] == [
        "web",
        "",
        "partner",
        "web",
    ]
    assert attributes.sources[0] == ""
    today = int(np.datetime64(dt.datetime.now(dt.UTC).date(), "D").astype(np.int64))
    assert set(attributes.created_day.tolist()) <= {today - 1, today}


def test_client_attributes_are_read_with_their_channel(org):
    made, vip = _attributes_base(org)

    _check_attributes(load_client_attributes(), made, vip, org)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psql and COPY are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_client_attributes_by_psql_match_fetchmany(org):
    made, vip = _attributes_base(org)
    assert not connection.in_atomic_block

    copied = _attributes_copy()

    assert copied is not None
    _check_attributes(copied, made, vip, org)
    _check_attributes(_attributes_fetchmany(), made, vip, org)
