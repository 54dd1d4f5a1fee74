"""The client card's "Deals and orders" block (issue 4): the client's open deals and
last orders that the viewer may read in sales, its revenue this year and all time,
links to the full lists and to a new deal for this client; hidden from those who
cannot read sales."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from lavka.sales.models import Pipeline, Stage
from lavka.sales.services import deal_create, deal_move
from lavka.sales.services.orders import order_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def block(html):
    match = re.search(
        r'<section class="card"[^>]*data-testid="block-sales">.*?</section>', html, re.S
    )
    return match.group(0) if match else None


@pytest.fixture
def pipeline(db):
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Test pipeline", is_default=True, order=0)
    for name, kind, order in (("Lead", "open", 10), ("Offer", "open", 20), ("Won", "won", 30)):
        Stage.objects.create(pipeline=pipeline, name=name, kind=kind, probability=10, order=order)
    return pipeline


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", currency="RUB")


def order(user, client, day, total, status="confirmed", number=""):
    return order_create(
        actor=user,
        client=client,
        ordered_on=day,
        number=number,
        status=status,
        lines=[{"product_name": "Tea", "quantity": 1, "unit_price": total}],
    )


def test_the_card_shows_open_deals_last_orders_and_revenue(org, pipeline, romashka):
    today = timezone.localdate()
    deal_create(
        actor=org.rep,
        client=romashka,
        title="Tea for the office",
        pipeline=pipeline,
        amount=120000,
        expected_close_on=today + dt.timedelta(days=30),
    )
    won = deal_create(actor=org.rep, client=romashka, title="Cups", pipeline=pipeline, amount=5)
    deal_move(actor=org.rep, deal=won, stage=Stage.objects.get(pipeline=pipeline, name="Won"))
    order(org.rep, romashka, today, 1000, number="Z-1")
    order(org.rep, romashka, today, 700, status="cancelled", number="Z-2")
    order(org.rep, romashka, today.replace(year=today.year - 1), 300, status="paid", number="Z-0")

    section = block(logged_in(org.rep).get(f"/clients/{romashka.pk}/").content.decode())

    assert section is not None
    deals = re.findall(r'data-testid="open-deal".*?</li>', section, re.S)
    assert len(deals) == 1
    assert "Tea for the office" in deals[0] and "Lead" in deals[0] and "₽120,000.00" in deals[0]
    assert "closes" in deals[0]
    assert "Cups" not in section  # won: not an open deal
    orders = re.findall(r'<li data-testid="order">.*?</li>', section, re.S)
    numbers = [re.search(r'/">([^<]+)</a>', row).group(1) for row in orders]
    assert numbers == ["Z-2", "Z-1", f"#{won.orders.get().pk}", "Z-0"]  # newest first
    assert "Cancelled" in orders[0] and "₽5.00" in orders[2] and "Paid" in orders[3]
    revenue = re.search(r'data-testid="sales-revenue">(.*?)</dl>', section, re.S).group(1)
    # The cancelled order counts in neither; last year's only in all time.
    assert f"Revenue in {today.year}</dt><dd>₽1,005.00</dd>" in revenue
    assert "Revenue, all time</dt><dd>₽1,305.00</dd>" in revenue
    assert f'href="/sales/deals/?client={romashka.pk}"' in section
    assert f'href="/sales/orders/?client={romashka.pk}"' in section
    assert f'href="/sales/deals/new/?client={romashka.pk}"' in section


def test_the_block_shows_only_the_deals_and_orders_the_viewer_may_read(org, pipeline, romashka):
    deal_create(actor=org.rep, client=romashka, title="Deal of the rep", pipeline=pipeline)
    deal_create(actor=org.manager, client=romashka, title="Deal of the manager", pipeline=pipeline)
    order(org.manager, romashka, timezone.localdate(), 500, number="M-1")

    rep = block(logged_in(org.rep).get(f"/clients/{romashka.pk}/").content.decode())
    manager = block(logged_in(org.manager).get(f"/clients/{romashka.pk}/").content.decode())

    assert "Deal of the rep" in rep and "Deal of the manager" not in rep
    assert "M-1" not in rep and "No orders yet" in rep
    assert "Deal of the rep" in manager and "Deal of the manager" in manager and "M-1" in manager


def test_the_block_is_hidden_without_sales_access_and_read_only_without_write(
    org, pipeline, romashka
):
    deal_create(actor=org.rep, client=romashka, title="Tea", pipeline=pipeline)

    marketer = logged_in(org.marketer).get(f"/clients/{romashka.pk}/")
    analyst = block(logged_in(org.analyst).get(f"/clients/{romashka.pk}/").content.decode())

    assert marketer.status_code == 200
    assert block(marketer.content.decode()) is None
    assert "Tea" in analyst
    assert 'data-testid="new-deal"' not in analyst
    assert "No open deals" not in analyst


def test_a_client_without_deals_or_orders_says_so(org, pipeline, romashka):
    section = block(logged_in(org.rep).get(f"/clients/{romashka.pk}/").content.decode())

    assert "No open deals with this client." in section
    assert "No orders yet" in section
    assert 'data-testid="sales-revenue"' not in section
