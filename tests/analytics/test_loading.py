from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection

from lavka.analytics.loading import (
    _load_copy_binary,
    _load_fetchmany,
    _load_psql,
    _page_ranges,
    _reporting_only,
    convert_to_reporting,
    load,
    load_orders,
    orders_query,
    pack_currency,
    unpack_currency,
)
from tests.analytics.conftest import add_orders

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

    pieces = _load_psql(
        [(_reporting_only(AS_OF, "RUB", pages), pack_currency("RUB")) for pages in _page_ranges(2)]
        + [(orders_query(AS_OF).exclude(currency="RUB"), None)]
    )
    parallel = load_orders(AS_OF, "RUB", workers=2)

    assert pieces is not None
    # Two ranges of pages share the 27 orders in roubles; the USD one comes alone.
    assert len(pieces[0]) + len(pieces[1]) == 27 and len(pieces[2]) == 1
    for a, b in zip(_sorted(parallel), _sorted(load(orders_query(AS_OF))), strict=True):
        assert a.tolist() == b.tolist()
    assert len(parallel) == 28
