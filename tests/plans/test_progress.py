"""Plan versus actual for November 2026, "today" being 24 November 2026.

rep:       orders 2026-11-03 20 000 RUB, 2026-11-10 100 USD (x 90 = 9 000), a cancelled
           5 000 (not counted), 2026-10-31 15 000 (October, not counted)
colleague: 2026-11-12 7 000
deals:     rep, open, 40 000 RUB at 50%, closing 28 Nov          -> 20 000
           rep, open, 200 USD at 10%, closing 30 Nov (x 90)       ->  1 800
           rep, open, closing 20 Nov (already past)               -> not counted
           rep, open, closing 5 Dec (after the period)            -> not counted
           rep, won, closing 26 Nov                               -> not counted
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lavka.plans.models import Plan
from lavka.plans.periods import Period
from lavka.plans.selectors import plan_vs_actual
from lavka.sales.models import DealLine, Product
from tests.plans.conftest import TODAY, d

NOVEMBER = Period(d("2026-11-01"), "month")


@pytest.fixture
def november(org, rates, sell, deal, stages):
    sell(org.rep, "2026-11-03", "20000")
    sell(org.rep, "2026-11-10", "100", currency="USD")
    sell(org.rep, "2026-11-11", "5000", status="cancelled")
    sell(org.rep, "2026-10-31", "15000")
    sell(org.colleague, "2026-11-12", "7000")
    deal(org.rep, "40000", 50, "2026-11-28")
    deal(org.rep, "200", 10, "2026-11-30", currency="USD")
    deal(org.rep, "99000", 90, "2026-11-20")
    deal(org.rep, "99000", 90, "2026-12-05")
    deal(org.rep, "99000", 100, "2026-11-26", stage=stages.won)

    def plan(target, **subject):
        return Plan.objects.create(
            period_start=NOVEMBER.start,
            granularity="month",
            currency="RUB",
            target_amount=Decimal(target),
            **subject,
        )

    return {
        "rep": plan("50000", level="user", user=org.rep, team=org.moscow),
        "colleague": plan("10000", level="user", user=org.colleague, team=org.moscow),
        "moscow": plan("80000", level="team", team=org.moscow),
    }


def test_a_reps_actual_pipeline_forecast_and_gap(org, november):
    rows = {r.plan.pk: r for r in plan_vs_actual(viewer=org.manager, period=NOVEMBER, today=TODAY)}

    rep = rows[november["rep"].pk]
    assert rep.actual == Decimal("29000.00")  # 20 000 + 9 000
    assert rep.actual_count == 2
    assert rep.done_percent == Decimal("58.0")  # 29 000 / 50 000
    assert rep.pipeline == Decimal("21800.00")  # 40 000 x 0.5 + 200 x 0.1 x 90
    assert rep.forecast == Decimal("50800.00")
    assert rep.gap == Decimal("-800.00")  # the forecast is 800 above the target
    assert rep.status == "good"


def test_a_team_adds_up_its_people(org, november):
    rows = {r.plan.pk: r for r in plan_vs_actual(viewer=org.manager, period=NOVEMBER, today=TODAY)}

    team = rows[november["moscow"].pk]
    assert team.actual == Decimal("36000.00")  # 29 000 + 7 000
    assert team.pipeline == Decimal("21800.00")
    assert team.forecast == Decimal("57800.00")
    assert team.gap == Decimal("22200.00")  # 80 000 - 57 800
    assert team.done_percent == Decimal("45.0")
    assert team.status == "risk"  # 57 800 < 90% of 80 000
    colleague = rows[november["colleague"].pk]
    assert (colleague.actual, colleague.pipeline, colleague.gap) == (
        Decimal("7000.00"),
        Decimal("0.00"),
        Decimal("3000.00"),
    )
    assert colleague.status == "risk"


def test_a_period_in_the_future_has_no_actual_and_all_of_its_pipeline(org, november):
    december = Period(d("2026-12-01"), "month")
    plan = Plan.objects.create(
        level="user",
        user=org.rep,
        team=org.moscow,
        period_start=december.start,
        granularity="month",
        currency="RUB",
        target_amount=Decimal("100000"),
    )

    (row,) = plan_vs_actual(viewer=org.rep, period=december, today=TODAY)

    assert row.plan == plan
    assert row.actual == Decimal("0.00")
    assert row.pipeline == Decimal("89100.00")  # 99 000 x 0.9, closing 5 Dec
    assert row.bar_pipeline == 89


def test_the_page_reads_a_fixed_number_of_queries(org, november, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        rows = plan_vs_actual(viewer=org.admin, period=NOVEMBER, today=TODAY)
        assert len(rows) == 3


def test_a_category_plan_counts_only_that_categorys_lines_and_deal_lines(
    org, rates, sell, deal, categories
):
    tea, cups = categories.tea, categories.cups
    sell(org.rep, "2026-11-05", "10000", lines=[(tea, "7000"), (cups, "3000")])
    sell(org.rep, "2026-11-06", "2000", lines=[(cups, "2000")])
    green = Product.objects.create(code="TEA-1", name="Green tea", category=tea)
    mugs = Product.objects.create(code="CUP-1", name="Mug", category=cups)
    open_deal = deal(org.rep, "5000", 40, "2026-11-27")
    for product, amount in ((green, "4000"), (mugs, "1000")):
        DealLine.objects.create(
            deal=open_deal,
            product=product,
            quantity=Decimal(1),
            unit_price=Decimal(amount),
            amount=Decimal(amount),
        )
    plan = Plan.objects.create(
        level="user",
        user=org.rep,
        team=org.moscow,
        category=tea,
        period_start=NOVEMBER.start,
        granularity="month",
        currency="RUB",
        target_amount=Decimal("10000"),
    )

    (row,) = plan_vs_actual(viewer=org.rep, period=NOVEMBER, today=TODAY, category_id=tea.pk)

    assert row.plan == plan
    assert row.actual == Decimal("7000.00")  # the tea line only
    assert row.actual_count == 1
    assert row.pipeline == Decimal("1600.00")  # the tea line 4 000 x 40%
    assert row.gap == Decimal("1400.00")  # 10 000 - 8 600
    assert plan_vs_actual(viewer=org.rep, period=NOVEMBER, today=TODAY) == []


def test_a_quarter_counts_its_three_months(org, november):
    q4 = Period(d("2026-10-01"), "quarter")
    plan = Plan.objects.create(
        level="user",
        user=org.rep,
        team=org.moscow,
        period_start=q4.start,
        granularity="quarter",
        currency="RUB",
        target_amount=Decimal("200000"),
    )

    (row,) = plan_vs_actual(viewer=org.rep, period=q4, today=TODAY)

    assert row.plan == plan
    assert row.actual == Decimal("44000.00")  # 15 000 (31 Oct) + 20 000 + 9 000
    # 20 000 + 1 800 (November) + 99 000 x 0.9 = 89 100 (5 December)
    assert row.pipeline == Decimal("110900.00")
    assert row.gap == Decimal("45100.00")  # 200 000 - 154 900
