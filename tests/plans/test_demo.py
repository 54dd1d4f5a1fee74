"""The demo's plans: generated for the current and the next month from the orders."""

from __future__ import annotations

from decimal import Decimal

from lavka.demo.plans import demo_plans_ensure
from lavka.plans.models import Plan
from tests.plans.conftest import TODAY


def test_the_demo_generates_this_and_next_months_plans_once(org, history):
    created = demo_plans_ensure(actor=org.admin, today=TODAY)

    # November and December 2026, for each user and team with sales in the months read.
    periods = sorted({p.period.key for p in Plan.objects.all()})
    assert periods == ["2026-11", "2026-12"]
    assert created == Plan.objects.count()
    december = Plan.objects.get(user=org.rep, period_start=TODAY.replace(month=12, day=1))
    assert december.generated_amount == Decimal("33333.33")
    # November's plans are 0 (no sales in the Novembers before): December's rep plan is
    # the one raised by hand.
    adjusted = [p for p in Plan.objects.all() if p.adjustment]
    assert len(adjusted) == 1
    # the first person by name: the rep (33 333.33 x 1.1) or the colleague (10 000 x 1.1)
    assert (adjusted[0].user, adjusted[0].target_amount) in {
        (org.rep, Decimal("36667.00")),
        (org.colleague, Decimal("11000.00")),
    }

    assert demo_plans_ensure(actor=org.admin, today=TODAY) == 0
    assert Plan.objects.count() == created
