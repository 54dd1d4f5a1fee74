"""Demo sales plans: generated from the demo's order history for the current and the
next month, as an administrator would generate them, with one target adjusted by hand
so that the plans page shows what an adjustment looks like."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from lavka.plans.models import Plan
from lavka.plans.periods import Period
from lavka.plans.services import plan_update, plans_generate


def demo_plans_ensure(*, actor: Any, today: dt.date | None = None) -> int:
    """Generate the plans of the current and the next month from the orders (users and
    teams with sales in the months read; see lavka/plans/README.md) as `actor` (who
    must set plans for everyone: an administrator). Idempotent: a period that already
    has plans is left as it is. Returns the number of plans created."""
    today = today or timezone.localdate()
    current = Period.containing(today)
    created = 0
    adjusted = False
    for period in (current, current.shifted(1)):
        if Plan.objects.filter(period_start=period.start, granularity=period.granularity).exists():
            continue
        saved = plans_generate(actor=actor, period=period, as_of=today)
        created += len(saved)
        person = next((p for p in saved if p.level == Plan.Level.USER and p.target_amount), None)
        if person is not None and not adjusted:
            # A manager raising one target by 10% after generation.
            plan_update(
                actor=actor,
                plan=person,
                target_amount=(person.target_amount * Decimal("1.1")).quantize(Decimal(1)),
            )
            adjusted = True
    return created
