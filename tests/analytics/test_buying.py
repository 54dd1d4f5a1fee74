"""Who buys what and when, end to end: the recompute's `buying` report on a hand-made
base, the client card's insight and the due-to-buy list with its scope.

As of 2026-06-30. Categories Coffee and Tea; products Beans and Filter (Coffee), Green
tea (Tea), Old grinder (no category, no longer on sale). Clients A, B, C, F belong to
the rep, D and E to a colleague (same team). Purchase days:

| client | lines (day: products)                       | coffee days       | cycle | next  |
|--------|---------------------------------------------|-------------------|------:|-------|
| A      | 05-01 tea; 06-01 beans, tea; 06-11, 06-21   | 06-01 06-11 06-21 | 10    | 07-01 |
|        | beans                                       |                   |       |       |
| B      | 06-10 beans, filter, grinder; 06-24 beans   | 06-10 06-24       | 14    | 07-08 |
| C      | 06-20 tea                                   | -                 | -     | -     |
| D      | 06-05 beans, filter, grinder; 06-19 beans,  | 06-05 06-19       | 14    | 07-03 |
|        | tea                                         |                   |       |       |
| E      | 06-15 beans, filter, grinder                | 06-15             | -     | -     |
| F      | 06-25 filter                                | 06-25             | -     | -     |

A's tea (05-01, 06-01: cycle 31, next 07-02) comes after its coffee. Also a cancelled
order of C with beans and a line without a product: left out. With six clients the
purchase model is not fitted, so no model dates: the due date is the category's.

Co-purchase (at least 3 clients buying both): buyers beans 4 (A B D E), filter 4
(B D E F), tea 3 (A C D), grinder 3 (B D E). Pairs with 3 clients: beans-filter (B D E,
cosine 3/sqrt(16) = 0.75), beans-grinder and filter-grinder (3/sqrt(12) = 0.8660);
beans-tea has 2. The grinder is not on sale, so: A (beans, tea) gets filter (0.75,
because of beans: 3 of its 4 buyers), F (filter) gets beans (0.75, because of filter: 3
of 4); B, D, E have both; C's tea has no partner.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest

from lavka.analytics.buying import (
    Purchases,
    client_insight,
    due_list,
    due_rows,
    insights_compute,
    purchases_load,
)
from lavka.analytics.models import ClientInsight, ComputeRun
from lavka.analytics.services import analytics_recompute
from lavka.sales.models import Order, OrderLine, Product, ProductCategory
from tests.factories import ClientFactory

D = dt.date
AS_OF = D(2026, 6, 30)
COS = 3 / math.sqrt(12)


def _order(client, on, products, *, status=Order.Status.PAID):
    order = Order.objects.create(
        client=client,
        owner_id=client.owner_id,
        team_id=client.team_id,
        ordered_on=on,
        total=Decimal("100"),
        currency="RUB",
        status=status,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product=p,
                product_name=p.name if p else "Delivery",
                category=p.category if p else None,
                quantity=Decimal("1"),
                unit_price=Decimal("100"),
                amount=Decimal("100"),
            )
            for p in products
        ]
    )


def make_buying_base(org, *, shift_days=0):
    """The base of the module docstring, every date moved by `shift_days` (pages read
    "today" from the clock: their tests move the base to end today)."""

    def on(month, day):
        return D(2026, month, day) + dt.timedelta(days=shift_days)

    coffee = ProductCategory.objects.create(name="Coffee")
    tea = ProductCategory.objects.create(name="Tea")
    beans = Product.objects.create(code="B", name="Beans", category=coffee)
    filt = Product.objects.create(code="F", name="Filter", category=coffee)
    green = Product.objects.create(code="G", name="Green tea", category=tea)
    grinder = Product.objects.create(code="O", name="Old grinder", is_active=False)
    a = ClientFactory(name="Alpha", owner=org.rep)
    b = ClientFactory(name="Bravo", owner=org.rep)
    c = ClientFactory(name="Charlie", owner=org.rep)
    d = ClientFactory(name="Delta", owner=org.colleague)
    e = ClientFactory(name="Echo", owner=org.colleague)
    f = ClientFactory(name="Foxtrot", owner=org.rep)
    _order(a, on(5, 1), [green])
    _order(a, on(6, 1), [beans, green])
    _order(a, on(6, 11), [beans])
    _order(a, on(6, 21), [beans])
    _order(b, on(6, 10), [beans, filt, grinder])
    _order(b, on(6, 24), [beans])
    _order(c, on(6, 20), [green, None])
    _order(c, on(6, 22), [beans], status=Order.Status.CANCELLED)
    _order(d, on(6, 5), [beans, filt, grinder])
    _order(d, on(6, 19), [beans, green])
    _order(e, on(6, 15), [beans, filt, grinder])
    _order(f, on(6, 25), [filt])

    class Base:
        pass

    base = Base()
    base.a, base.b, base.c, base.d, base.e, base.f = a, b, c, d, e, f
    base.coffee, base.tea = coffee, tea
    base.beans, base.filter, base.green, base.grinder = beans, filt, green, grinder
    base.as_of = on(6, 30)
    return base


@pytest.fixture
def buying_base(org):
    return make_buying_base(org)


@pytest.fixture
def computed(buying_base, org):
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    return buying_base


def test_report_stores_each_clients_due_category_and_offer(computed):
    b = computed
    run = ComputeRun.objects.get(is_current=True)

    rows = {
        i.client_id: i
        for i in ClientInsight.objects.filter(run=run).select_related(
            "due_category", "product", "because"
        )
    }

    assert set(rows) == {b.a.pk, b.b.pk, b.c.pk, b.d.pk, b.e.pk, b.f.pk}
    got = {
        name: (
            r.due_category.name if r.due_category else None,
            r.category_due_on,
            r.cycle_days,
            r.category_purchases,
            r.category_last_on,
            r.due_on,
            r.next_purchase_on,
        )
        for name, r in ((c.name, rows[c.pk]) for c in (b.a, b.b, b.c, b.d, b.e, b.f))
    }
    assert got == {
        "Alpha": ("Coffee", D(2026, 7, 1), 10.0, 3, D(2026, 6, 21), D(2026, 7, 1), None),
        "Bravo": ("Coffee", D(2026, 7, 8), 14.0, 2, D(2026, 6, 24), D(2026, 7, 8), None),
        "Charlie": (None, None, None, 0, None, None, None),
        "Delta": ("Coffee", D(2026, 7, 3), 14.0, 2, D(2026, 6, 19), D(2026, 7, 3), None),
        "Echo": (None, None, None, 0, None, None, None),
        "Foxtrot": (None, None, None, 0, None, None, None),
    }
    offers = {
        c.name: (
            rows[c.pk].product.name if rows[c.pk].product else None,
            rows[c.pk].because.name if rows[c.pk].because else None,
            None if rows[c.pk].offer_score is None else round(rows[c.pk].offer_score, 4),
            rows[c.pk].offer_share,
        )
        for c in (b.a, b.b, b.c, b.d, b.e, b.f)
    }
    assert offers == {
        "Alpha": ("Filter", "Beans", 0.75, 0.75),
        "Bravo": (None, None, None, None),
        "Charlie": (None, None, None, None),
        "Delta": (None, None, None, None),
        "Echo": (None, None, None, None),
        "Foxtrot": ("Beans", "Filter", 0.75, 0.75),
    }
    assert rows[b.a.pk].last_on == D(2026, 6, 21)


def test_report_summary_counts_and_strongest_pairs(computed):
    b = computed
    summary = ComputeRun.objects.get(is_current=True).reports["buying"]

    assert summary["clients"] == 6
    assert summary["with_cycle"] == 3
    assert summary["with_due_category"] == 3
    assert summary["with_offer"] == 2
    assert summary["overdue"] == 0
    assert summary["due_within"] == {"7": 2, "14": 3, "30": 3, "60": 3}
    pairs = [(p["first_name"], p["second_name"], p["together"]) for p in summary["pairs"]]
    assert pairs == [
        ("Beans", "Old grinder", 3),
        ("Filter", "Old grinder", 3),
        ("Beans", "Filter", 3),
    ]
    assert summary["pairs"][0]["cosine"] == round(COS, 4)
    # lift = 3 clients x 6 / (4 x 3)
    assert summary["pairs"][0]["lift"] == 1.5
    assert summary["categories"] == [
        {"category": b.coffee.pk, "clients": 3, "median_cycle_days": 14.0, "name": "Coffee"},
        {"category": b.tea.pk, "clients": 1, "median_cycle_days": 31.0, "name": "Tea"},
    ]


def test_card_shows_offer_due_category_and_live_cycles(computed, org):
    card = client_insight(viewer=org.rep, client=computed.a)

    assert card is not None
    assert (card.due_category, card.due_on, card.due_cycle_days) == ("Coffee", D(2026, 7, 1), 10.0)
    assert (card.offer_product, card.offer_because, card.offer_share) == ("Filter", "Beans", 0.75)
    assert card.offer_reason == "75% of clients who buy Beans also buy Filter"
    assert [(c.name, c.purchases, c.cycle_days, c.next_on) for c in card.cycles] == [
        ("Coffee", 3, 10.0, D(2026, 7, 1)),
        ("Tea", 2, 31.0, D(2026, 7, 2)),
    ]


def test_card_insight_is_none_for_someone_elses_client(computed, org):
    assert client_insight(viewer=org.rep, client=computed.d) is None
    assert client_insight(viewer=org.agent, client=computed.a) is None
    assert client_insight(viewer=org.manager, client=computed.d) is not None


def test_card_insight_takes_two_queries(computed, org, django_assert_num_queries):
    with django_assert_num_queries(2):
        client_insight(viewer=org.analyst, client=computed.a)


def test_rep_sees_only_their_own_clients_due(computed, org):
    week = due_list(viewer=org.rep, within_days=7, today=AS_OF)
    fortnight = due_list(viewer=org.rep, within_days=14, today=AS_OF)

    assert [r.client for r in week.rows] == ["Alpha"]
    assert week.total == 1
    assert [r.client for r in fortnight.rows] == ["Alpha", "Bravo"]
    first = week.rows[0]
    assert (first.due_on, first.days, first.is_overdue, first.by_model) == (
        D(2026, 7, 1),
        1,
        False,
        False,
    )
    assert first.offer_reason == "75% of clients who buy Beans also buy Filter"


def test_manager_sees_the_team_sorted_by_due_date_and_can_pick_a_rep(computed, org):
    team = due_list(viewer=org.manager, within_days=14, today=AS_OF)
    colleague = due_list(viewer=org.manager, within_days=14, owner=org.colleague.pk, today=AS_OF)

    assert [(r.client, r.due_on) for r in team.rows] == [
        ("Alpha", D(2026, 7, 1)),
        ("Delta", D(2026, 7, 3)),
        ("Bravo", D(2026, 7, 8)),
    ]
    assert [r.client for r in colleague.rows] == ["Delta"]


def test_rep_cannot_widen_the_list_by_naming_a_colleague(computed, org):
    page = due_list(viewer=org.rep, within_days=60, owner=org.colleague.pk, today=AS_OF)

    assert page.rows == []
    assert page.total == 0


def test_overdue_clients_stay_on_the_list_for_a_while(computed, org):
    # Ten days later Alpha's coffee (07-01) is 9 days overdue and still listed.
    page = due_list(viewer=org.rep, within_days=7, today=D(2026, 7, 10))

    assert [(r.client, r.days, r.is_overdue) for r in page.rows] == [
        ("Alpha", -9, True),
        ("Bravo", -2, True),
    ]


def test_category_filter_and_pages(computed, org):
    tea = due_list(viewer=org.analyst, within_days=60, category=computed.tea.pk, today=AS_OF)
    second = due_list(viewer=org.analyst, within_days=60, per_page=2, page=2, today=AS_OF)

    assert tea.rows == []
    assert (second.total, second.pages, [r.client for r in second.rows]) == (3, 2, ["Bravo"])


def test_due_rows_stream_everything(computed, org):
    rows = list(due_rows(viewer=org.analyst, within_days=60, today=AS_OF))

    assert [r.client for r in rows] == ["Alpha", "Delta", "Bravo"]


def test_nothing_computed_gives_an_empty_list(buying_base, org):
    page = due_list(viewer=org.rep, within_days=30, today=AS_OF)

    assert (page.as_of, page.rows, page.total) == (None, [], 0)


def test_lines_are_read_from_the_database_when_the_recompute_has_no_clients(buying_base):
    b = buying_base

    loaded = purchases_load(AS_OF)

    got = sorted(
        zip(loaded.client.tolist(), loaded.product.tolist(), loaded.day.tolist(), strict=True)
    )
    # 19 lines naming a product in live sales (the cancelled order and the line without
    # a product are not read); Alpha's first is tea on 2026-05-01.
    assert len(got) == 19
    assert min(got, key=lambda row: row[2]) == (
        b.a.pk,
        b.green.pk,
        (D(2026, 5, 1) - D(1970, 1, 1)).days,
    )
    assert loaded.method in {"copy", "fetchmany"}


def test_the_model_date_wins_when_it_comes_first():
    # One client bought category 7 on days 100 and 110 (cycle 10, next 120); the
    # purchase model expects them on day 115: due on 115, by the model. The other has
    # no cycle and no model date: nothing due.
    purchases = Purchases(
        client=np.array([1, 1, 2]),
        product=np.array([50, 50, 50]),
        day=np.array([100, 110, 112]),
        method="test",
    )
    arrays, summary = insights_compute(
        purchases=purchases,
        client_id=np.array([1, 2]),
        last_on=np.array([110, 112]),
        next_purchase_on=np.array([115, -1]),
        clv=np.array([10.0, np.nan]),
        p_alive=np.array([0.9, np.nan]),
        as_of=D(1970, 4, 21),  # day 110
        catalogue=(np.array([50]), np.array([7]), np.array([True])),
    )

    assert arrays.due_on.tolist() == [115, -1]
    assert arrays.category_due_on.tolist() == [120, -1]
    assert arrays.due_category.tolist() == [7, -1]
    assert arrays.product.tolist() == [-1, -1]
    np.testing.assert_allclose(arrays.leave_probability, [0.1, np.nan])
    assert summary["due_within"]["7"] == 1


def test_card_insight_without_cycles_takes_one_query(computed, org, django_assert_num_queries):
    with django_assert_num_queries(1):
        card = client_insight(viewer=org.analyst, client=computed.a, with_cycles=False)

    assert (card.offer_product, card.due_category, card.cycles) == ("Filter", "Coffee", [])


def test_the_count_stops_at_the_cap(computed, org):
    page = due_list(viewer=org.analyst, within_days=60, today=AS_OF, count_cap=2, per_page=2)

    assert (page.total, page.total_is_exact, page.pages) == (2, False, 1)
    assert [r.client for r in page.rows] == ["Alpha", "Delta"]


def test_team_filter_keeps_that_teams_clients(computed, org):
    moscow = due_list(viewer=org.manager, within_days=14, team=org.moscow.pk, today=AS_OF)
    north = due_list(viewer=org.manager, within_days=14, team=org.north.pk, today=AS_OF)

    assert [r.client for r in moscow.rows] == ["Alpha", "Delta", "Bravo"]
    assert north.rows == []
