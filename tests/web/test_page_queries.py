"""The three pages people open all day (the client list, the client card and search as
you type) read a fixed, small number of SQL queries, whatever they show: fifty rows
or five, a card with every block filled or an empty one, many results or none. The
limits are the counts measured when they were set (bench/client_base_load): raise
one only with a reason."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lavka.clients.models import Tier
from lavka.clients.services import client_create, client_update
from lavka.clients.services.blocks import (
    address_add,
    attachment_add,
    consent_record,
    contact_point_add,
    contract_create,
    important_date_add,
    person_create,
)
from lavka.clients.services.merge import client_merge
from lavka.clients.services.timeline import task_create, touchpoint_log
from lavka.sales.services import deal_create
from lavka.sales.services.orders import order_create
from tests.factories import ClientFactory

# session, user, the viewer's team tree, saved views, the page's rows, their tags,
# tiers, tags and owners for the filters, the unread notifications; and how many
# clients the list holds when the first page does not hold them all (SQLite counts;
# PostgreSQL asks its planner, then counts when the estimate is small).
LIST_QUERIES = 12
# session, user, the client (and which blocks hold anything), one per non-empty block
# (10 here: every block filled), custom fields, merges, touchpoints, tasks, people for
# the touchpoint form, unread count, history, and the "Deals and orders" block: open
# deals, last orders and (when there are orders) the revenue; the analytics scores of
# the current run, and the key account (a badge when the client is one). The blocks' edit forms
# are not on the card (each loads when opened), so no tiers, assignees or people for
# their selects. (A viewer with a team scope adds one: their team tree.) An empty card
# takes 15.
CARD_QUERIES = 26
# session, user, team tree; clients and people: the query as typed and its other
# alphabet (an exact query each, the second only while results are short), then one
# fuzzy query (and, inside a test's transaction, setting pg_trgm's threshold again);
# contracts; no page shell for htmx. Outside a transaction, on PostgreSQL: 6 to 9.
SEARCH_QUERIES = 12

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def _logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def _count(http, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = http.get(path, **headers)
    assert response.status_code == 200
    return len(queries), response


def _clients(org, first, count):
    vip = Tier.objects.get(code="vip")
    for i in range(first, first + count):
        client = client_create(actor=org.manager, name=f"Client {i:03}", tags=["a", "b"])
        if i % 2:
            client_update(actor=org.manager, client=client, tier=vip)


def test_the_list_takes_the_same_queries_for_five_rows_and_fifty(
    org, django_assert_max_num_queries
):
    http = _logged_in(org.manager)
    _clients(org, 0, 5)
    few, _ = _count(http, "/clients/")
    _clients(org, 5, 55)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = http.get("/clients/", {"sort": "-updated_at"})
    many, _ = _count(http, "/clients/")

    assert len(response.context["page"].clients) == 50
    # One page holds all five: nothing to count. Sixty: the total, in one query (or
    # two on PostgreSQL, whose planner expects a small list: then it counts).
    assert few + 1 <= many <= few + 2


def test_the_list_says_how_many_clients_it_holds(org):
    http = _logged_in(org.manager)
    _clients(org, 0, 3)
    assert "Clients 1–3 of 3" in http.get("/clients/").content.decode()
    _clients(org, 3, 57)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE clients_client")

    first = http.get("/clients/").content.decode()
    second = http.get("/clients/", {"page": 2}).content.decode()
    persons = http.get("/clients/", {"kind": "person"}).content.decode()

    assert "Clients 1–50 of 60" in first
    assert "Clients 51–60 of 60" in second
    assert "No clients" in persons


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite always counts")
def test_a_large_list_shows_the_planners_estimate(org, monkeypatch):
    from lavka.clients.selectors import lists

    _clients(org, 0, 60)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE clients_client")
    monkeypatch.setattr(lists, "EXACT_COUNT_UP_TO", 10)  # as if 60 were a million

    html = _logged_in(org.manager).get("/clients/").content.decode()

    total = re.search(r"Clients 1–50 of about ([\d,]+)", html)
    assert total is not None
    assert 51 <= int(total.group(1).replace(",", "")) <= 100


@pytest.mark.parametrize(
    ("number", "shown"),
    [(7, 7), (99, 99), (100, 100), (1234, 1200), (748_213, 750_000), (1_000_102, 1_000_000)],
)
def test_estimates_are_shown_to_two_significant_digits(number, shown):
    from lavka.clients.selectors.lists import _round_estimate

    assert _round_estimate(number) == shown


def test_an_htmx_list_update_skips_the_page_shell(org):
    http = _logged_in(org.manager)
    _clients(org, 0, 5)

    full, _ = _count(http, "/clients/")
    rows, response = _count(http, "/clients/", HTTP_HX_REQUEST="true")

    assert rows == full - 1  # no unread count: the rows have no top bar
    assert 'name="ids" value="' in response.content.decode()


def test_row_checkboxes_carry_ids_a_bulk_action_can_read(org):
    # Ids render without a thousands separator, or a bulk action over client 1,234
    # would receive "1,234" and leave it out.
    ClientFactory(id=12345, owner=org.manager, team=org.moscow, name="Big id")
    http = _logged_in(org.manager)

    html = http.get("/clients/").content.decode()

    assert 'name="ids" value="12345"' in html


def _fill_card(org, client, count):
    """`count` of every block's items, and a client merged into this one."""
    at = timezone.now() - dt.timedelta(days=3)
    for i in range(count):
        contact_point_add(actor=org.rep, client=client, kind="email", value=f"p{i}@example.org")
        contact_point_add(actor=org.rep, client=client, kind="phone", value=f"+7 495 123-45-6{i}")
        address_add(actor=org.rep, client=client, city=f"City {i}")
        contract = contract_create(actor=org.rep, client=client, number=f"N-{i}")
        attachment_add(
            actor=org.rep,
            client=client,
            contract=contract,
            upload=SimpleUploadedFile(f"signed-{i}.pdf", PDF),
        )
        attachment_add(actor=org.rep, client=client, upload=SimpleUploadedFile(f"f{i}.pdf", PDF))
        person_create(actor=org.rep, last_name=f"Person {i}", organisation=client)
        important_date_add(actor=org.rep, client=client, kind="birthday", month=3, day=i + 1)
        consent_record(actor=org.rep, client=client, channel="email", granted=bool(i % 2))
        touchpoint_log(
            actor=org.rep, client=client, kind="call", subject=f"Call {i}", occurred_at=at
        )
        task_create(
            actor=org.rep, client=client, title=f"Step {i}", due_at=at + dt.timedelta(days=9)
        )
        client_update(
            actor=org.rep, client=client, tier=Tier.objects.get(code=("vip", "mass")[i % 2])
        )
        client_create(actor=org.rep, name=f"Subsidiary {i}", parent=client)
        twin = client_create(actor=org.rep, name=f"Twin {i}")
        client_merge(actor=org.rep, survivor=client, merged=twin)
        deal_create(actor=org.rep, client=client, title=f"Deal {i}", amount=100 + i)
        order_create(
            actor=org.rep,
            client=client,
            ordered_on=at.date(),
            lines=[{"product_name": "Tea", "quantity": 1, "unit_price": 10 + i}],
        )


def test_the_card_takes_the_same_queries_whatever_its_blocks_hold(
    org, django_assert_max_num_queries
):
    empty = client_create(actor=org.rep, name="Empty")
    some = client_create(actor=org.rep, name="One of each", tags=["a"])
    _fill_card(org, some, 1)
    full = client_create(actor=org.rep, name="Three of each", tags=["a", "b", "c"])
    _fill_card(org, full, 3)
    http = _logged_in(org.rep)
    http.get(f"/clients/{empty.pk}/")  # the content type of the history, cached once

    with django_assert_max_num_queries(CARD_QUERIES):
        response = http.get(f"/clients/{full.pk}/")
    none, _ = _count(http, f"/clients/{empty.pk}/")
    one, _ = _count(http, f"/clients/{some.pk}/")
    three, _ = _count(http, f"/clients/{full.pk}/")

    html = response.content.decode()
    assert html.count('data-testid="open-deal"') == 3
    assert html.count('data-testid="order"') == 3
    assert html.count('data-testid="contract"') == 3
    assert html.count('data-testid="address"') == 3
    assert html.count('data-testid="touchpoint"') == 3
    assert three == one
    # Empty blocks are not read at all (the client's row says which hold anything).
    assert none < one


@pytest.mark.parametrize(
    "query",
    [
        "Romashka",  # found: clients, people and a contract; Latin and Cyrillic readings
        "Nortvind",  # nothing exact: the fuzzy pass runs too
    ],
)
def test_search_as_you_type_takes_a_fixed_number_of_queries(
    org, django_assert_max_num_queries, query
):
    for i in range(30):
        client = client_create(actor=org.manager, name=f"Romashka {i}", city="Moscow")
    contract_create(actor=org.manager, client=client, number="ROMASHKA-1")
    person_create(actor=org.manager, last_name="Romashkin", organisation=client)
    http = _logged_in(org.manager)
    with django_assert_max_num_queries(SEARCH_QUERIES):
        response = http.get("/search/", {"q": query}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
