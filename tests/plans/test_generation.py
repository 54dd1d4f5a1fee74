"""Generation from past periods against values computed by hand (see the history in
conftest.py and the formula in lavka/plans/README.md):

    plan = V × S × R
    V = sales in the 12 months ending with the last month of the target's quarter, a
        year earlier
    S = (the target's months in the two years before) / (those two years' sales)
    R = (the last 3 complete months) / (the same 3 months a year earlier); 1 if no sales
        a year earlier
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lavka.audit.models import AuditEvent
from lavka.core.errors import NotPermitted
from lavka.plans.models import Plan
from lavka.plans.periods import Period
from lavka.plans.selectors import plan_proposals
from lavka.plans.services import plans_generate
from lavka.sales.errors import ExchangeRateMissing
from tests.plans.conftest import TODAY, d

DECEMBER = Period(d("2026-12-01"), "month")


def by_name(proposals):
    return {(p.level, p.name, p.category.name if p.category else None): p for p in proposals}


def test_a_month_plan_is_last_year_volume_times_seasonal_share_times_trend(org, history):
    proposals = by_name(plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY))

    rep = proposals[("user", str(org.rep), None)]
    # V = 2025: 90 000 (1 000 USD x 90) + 3 x 10 000 + 30 000 = 150 000
    # S = (Dec 2025 30 000 + Dec 2024 20 000) / (150 000 + 120 000) = 50 000 / 270 000
    # R = Aug-Oct 2026 36 000 / Aug-Oct 2025 30 000 = 1.2
    # 150 000 x 50 000 / 270 000 = 27 777.777...; x 1.2 = 33 333.33
    assert rep.amount == Decimal("33333.33")
    assert rep.last_year == Decimal("30000.00")
    assert rep.volume == Decimal("150000.00")
    assert rep.seasonal_share == Decimal("0.1852")
    assert rep.trend == Decimal("1.2000")
    # orders: V 5, S (1 + 1) / (5 + 2) = 2/7, R 3 / 3 = 1: 5 x 2/7 = 1.43 -> 1
    assert rep.count == 1


def test_a_subject_without_earlier_sales_keeps_last_year_and_a_trend_of_one(org, history):
    proposals = by_name(plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY))

    colleague = proposals[("user", str(org.colleague), None)]
    # V 10 000, S 10 000 / 10 000 = 1, no sales in Aug-Oct 2025: R = 1
    assert colleague.amount == Decimal("10000.00")
    assert colleague.trend == Decimal("1.0000")
    assert colleague.count == 1


def test_a_team_plan_adds_up_its_people_before_the_formula(org, history):
    proposals = by_name(plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY))

    moscow = proposals[("team", "Sales Moscow", None)]
    # V 150 000 + 10 000 = 160 000; S (40 000 + 20 000) / (160 000 + 120 000) = 60/280
    # R 36 000 / 30 000 = 1.2: 160 000 x 60 000 / 280 000 = 34 285.714...; x 1.2 = 41 142.857
    assert moscow.amount == Decimal("41142.86")
    spb = proposals[("team", "Sales St Petersburg", None)]
    # V 99 000, S 1, R 1 (no recent sales, none a year earlier)
    assert spb.amount == Decimal("99000.00")


def test_a_quarter_plan_is_the_sum_of_its_months(org, history):
    q4 = Period(d("2026-10-01"), "quarter")

    quarter = by_name(plan_proposals(viewer=org.admin, period=q4, as_of=TODAY))
    months = [
        by_name(plan_proposals(viewer=org.admin, period=Period(d(day), "month"), as_of=TODAY))
        for day in ("2026-10-01", "2026-11-01", "2026-12-01")
    ]

    key = ("user", str(org.rep), None)
    # S = (Oct 2025 10 000 + Dec 2025 30 000 + Dec 2024 20 000) / 270 000 = 60 000 / 270 000
    # 150 000 x 60 000 / 270 000 x 1.2 = 40 000.00
    assert quarter[key].amount == Decimal("40000.00")
    # October: 150 000 x 10 000 / 270 000 x 1.2 = 6 666.67; November: nothing sold in
    # Novembers, 0; December 33 333.33 (above)
    assert [m[key].amount for m in months] == [
        Decimal("6666.67"),
        Decimal("0.00"),
        Decimal("33333.33"),
    ]
    assert sum(m[key].amount for m in months) == quarter[key].amount


def test_more_trend_months_change_the_trend(org, history):
    proposals = by_name(
        plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY, trend_months=4)
    )

    rep = proposals[("user", str(org.rep), None)]
    # R = Jul-Oct 2026 36 000 / Jul-Oct 2025 30 000 = 1.2 still; with 5 months
    # (Jun-Oct) the same; with 9 months (Feb-Oct) 2025 adds the 90 000 of March:
    assert rep.trend == Decimal("1.2000")
    nine = by_name(plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY, trend_months=9))[
        ("user", str(org.rep), None)
    ]
    # R = 36 000 / 120 000 = 0.3; 27 777.777... x 0.3 = 8 333.33
    assert nine.trend == Decimal("0.3000")
    assert nine.amount == Decimal("8333.33")


def test_plans_by_category_read_the_order_lines(org, rates, sell, categories):
    tea, cups = categories.tea, categories.cups
    sell(org.rep, "2024-12-03", "5000", lines=[(tea, "5000")])
    sell(org.rep, "2025-06-03", "2000", lines=[(tea, "2000")])
    sell(org.rep, "2025-12-03", "10000", lines=[(tea, "8000"), (cups, "2000")])

    proposals = by_name(
        plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY, by_category=True)
    )

    # tea: V 2 000 + 8 000 = 10 000; S (8 000 + 5 000) / (10 000 + 5 000) = 13/15; R 1
    # 10 000 x 13 / 15 = 8 666.67; orders: 2 x (1 + 1) / (2 + 1) = 1.33 -> 1
    assert proposals[("user", str(org.rep), "Tea")].amount == Decimal("8666.67")
    assert proposals[("user", str(org.rep), "Tea")].count == 1
    # cups: V 2 000, S 1, R 1
    assert proposals[("user", str(org.rep), "Cups")].amount == Decimal("2000.00")
    assert proposals[("team", "Sales Moscow", "Tea")].amount == Decimal("8666.67")


def test_a_manager_generates_for_their_teams_only(org, history):
    proposals = by_name(plan_proposals(viewer=org.manager, period=DECEMBER, as_of=TODAY))

    assert set(proposals) == {
        ("team", "Sales Moscow", None),
        ("user", str(org.colleague), None),
        ("user", str(org.rep), None),
    }


def test_saving_a_generation_creates_plans_with_their_basis_and_history(org, history):
    plans = plans_generate(actor=org.manager, period=DECEMBER, as_of=TODAY)

    saved = {(p.level, p.user_id or p.team_id): p for p in plans}
    rep_plan = Plan.objects.get(pk=saved[("user", org.rep.pk)].pk)
    assert rep_plan.target_amount == rep_plan.generated_amount == Decimal("33333.33")
    assert rep_plan.currency == "RUB"
    assert rep_plan.set_by == org.manager
    assert rep_plan.basis["trend"] == "1.200000"
    assert rep_plan.team == org.moscow
    assert AuditEvent.objects.filter(object_id=str(rep_plan.pk), action="create").count() == 1


def test_generating_again_resets_the_target_and_keeps_the_old_one_in_history(org, history):
    plans_generate(actor=org.manager, period=DECEMBER, as_of=TODAY)
    plan = Plan.objects.get(user=org.rep)
    Plan.objects.filter(pk=plan.pk).update(target_amount=Decimal("50000"))

    plans_generate(actor=org.manager, period=DECEMBER, as_of=TODAY, trend_months=9)

    plan.refresh_from_db()
    assert plan.target_amount == plan.generated_amount == Decimal("8333.33")
    event = AuditEvent.objects.filter(object_id=str(plan.pk), action="update").get()
    assert event.changes["target_amount"] == ["50000.00", "8333.33"]
    assert Plan.objects.filter(user=org.rep).count() == 1


def test_a_rep_cannot_generate_plans(org, history):
    with pytest.raises(NotPermitted):
        plans_generate(actor=org.rep, period=DECEMBER, as_of=TODAY)

    assert not Plan.objects.exists()


def test_a_missing_exchange_rate_is_named(org, sell):
    sell(org.rep, "2025-12-05", "100", currency="EUR")

    with pytest.raises(ExchangeRateMissing) as error:
        plan_proposals(viewer=org.admin, period=DECEMBER, as_of=TODAY)

    assert error.value.currency == "EUR"
    assert error.value.on == d("2025-12-05")
