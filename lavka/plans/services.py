"""Writes of plans: set one by hand, change its target, save a generation.

Every write checks that the actor sets plans for that user or team (a manager for
their team and the teams below, an administrator for all), runs in one transaction,
records an audit event per plan (the plan's history: who set what, when) and
publishes an outbox event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.identity.models import Team
from lavka.plans.models import Plan
from lavka.plans.periods import Period
from lavka.plans.permissions import can_read_plan, can_set_plan_for, can_set_plans
from lavka.plans.selectors import SEASONAL_YEARS, TREND_MONTHS, plan_proposals
from lavka.sales.models import ProductCategory
from lavka.sales.selectors.catalogue import reporting_currency
from lavka.sales.services.values import Errors, decimal_clean

AUDITED = [
    "level",
    "period_start",
    "granularity",
    "user",
    "team",
    "category",
    "currency",
    "target_amount",
    "target_count",
    "generated_amount",
    "generated_count",
    "set_by",
]
TREND_MONTHS_MAX = 12


def _count_clean(value: Any, name: str, errors: Errors) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= 10**9:
        errors.setdefault(name, []).append(_("Enter a whole number of orders, 0 or more."))
        return None
    return number


def _period_clean(period: Period, errors: Errors) -> None:
    if not period.is_valid:
        errors.setdefault("period_start", []).append(
            _("A period starts on the first day of a month, or of a quarter for a quarter.")
        )


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    period: Period,
    target_amount: Any,
    user: Any = None,
    team: Team | None = None,
    category: ProductCategory | None = None,
    target_count: Any = None,
) -> Plan:
    """A plan typed in by hand for `user` (in the user's team) or for `team`, in the
    reporting currency. One plan per subject, category and period."""
    if not can_set_plans(actor):
        raise NotPermitted(action="create", resource="plan")
    errors: Errors = {}
    if (user is None) == (team is None):
        errors["user"] = [_("Choose a user or a team, not both.")]
    _period_clean(period, errors)
    amount = decimal_clean(target_amount, "target_amount", errors, required=True)
    count = _count_clean(target_count, "target_count", errors)
    if errors or amount is None:
        raise ValidationFailed(fields=errors)
    team_id = user.team_id if user is not None else team.pk  # type: ignore[union-attr]
    if not can_set_plan_for(actor, team_id=team_id):
        raise NotPermitted(action="create", resource="plan")
    level = Plan.Level.USER if user is not None else Plan.Level.TEAM
    existing = Plan.objects.filter(
        level=level,
        period_start=period.start,
        granularity=period.granularity,
        category=category,
        **({"user": user} if user is not None else {"team": team}),
    )
    if existing.exists():
        raise ValidationFailed(
            fields={"period_start": [_("There is already a plan for this period. Change it.")]}
        )
    plan = Plan.objects.create(
        level=level,
        period_start=period.start,
        granularity=period.granularity,
        user=user,
        team_id=team_id,
        category=category,
        currency=reporting_currency(),
        target_amount=amount,
        target_count=count,
        set_by=actor,
    )
    audit_record(
        action=Action.CREATE, subject=plan, actor=actor, changes=diff({}, snapshot(plan, AUDITED))
    )
    outbox_publish(kind="plan.created", payload={"plan_id": plan.pk, "actor_id": actor.pk})
    return plan


@transaction.atomic
def plan_update(
    *,
    actor: Any,
    plan: Plan,
    expected_version: int | None = None,
    **changes: Any,
) -> Plan:
    """Change a plan's target (`target_amount`, `target_count`): the hand adjustment.
    The generated values stay as they were, so the adjustment remains visible."""
    unknown = set(changes) - {"target_amount", "target_count"}
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = Plan.objects.select_for_update().filter(pk=plan.pk).first()
    if locked is None or not can_read_plan(actor, locked):
        raise NotFound(resource="plan", id=plan.pk)
    if not can_set_plan_for(actor, team_id=locked.team_id):
        raise NotPermitted(action="update", resource="plan")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    errors: Errors = {}
    if "target_amount" in changes:
        amount = decimal_clean(changes["target_amount"], "target_amount", errors, required=True)
    if "target_count" in changes:
        count = _count_clean(changes["target_count"], "target_count", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(locked, AUDITED)
    if "target_amount" in changes:
        locked.target_amount = amount  # type: ignore[assignment]
    if "target_count" in changes:
        locked.target_count = count
    locked.set_by = actor
    changed = diff(before, snapshot(locked, AUDITED))
    if changed:
        locked.version += 1
        locked.save(
            update_fields=["target_amount", "target_count", "set_by", "version", "updated_at"]
        )
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="plan.updated", payload={"plan_id": locked.pk, "fields": sorted(changed)}
        )
    return locked


@transaction.atomic
def plans_generate(
    *,
    actor: Any,
    period: Period,
    as_of: dt.date | None = None,
    by_category: bool = False,
    trend_months: int = TREND_MONTHS,
    seasonal_years: int = SEASONAL_YEARS,
) -> list[Plan]:
    """Save what generation proposes for `period` (see plan_proposals): new plans are
    created; an existing plan of the same subject gets the new generated values and
    its target is reset to them (the earlier target stays in the plan's history)."""
    if not can_set_plans(actor):
        raise NotPermitted(action="generate", resource="plan")
    errors: Errors = {}
    _period_clean(period, errors)
    if not 1 <= trend_months <= TREND_MONTHS_MAX:
        errors["trend_months"] = [
            _("Enter a number of months from 1 to %(max)s.") % {"max": TREND_MONTHS_MAX}
        ]
    if errors:
        raise ValidationFailed(fields=errors)
    as_of = as_of or timezone.localdate()
    proposals = plan_proposals(
        viewer=actor,
        period=period,
        as_of=as_of,
        by_category=by_category,
        trend_months=trend_months,
        seasonal_years=seasonal_years,
    )
    now = timezone.now()
    current_ids = [p.current.pk for p in proposals if p.current is not None]
    locked = {p.pk: p for p in Plan.objects.select_for_update().filter(pk__in=current_ids)}
    saved: list[Plan] = []
    created: list[Plan] = []
    for proposal in proposals:
        plan = locked.get(proposal.current.pk) if proposal.current is not None else None
        values = {
            "target_amount": proposal.amount,
            "target_count": proposal.count,
            "generated_amount": proposal.amount,
            "generated_count": proposal.count,
            "generated_at": now,
            "basis": proposal.basis,
            "set_by": actor,
        }
        if plan is None:
            plan = Plan(
                level=proposal.level,
                period_start=period.start,
                granularity=period.granularity,
                user=proposal.user,
                team=proposal.team,
                category=proposal.category,
                currency=reporting_currency(),
                **values,
            )
            created.append(plan)
        else:
            before = snapshot(plan, AUDITED)
            for name, value in values.items():
                setattr(plan, name, value)
            plan.version += 1
            plan.save(update_fields=[*values, "version", "updated_at"])
            audit_record(
                action=Action.UPDATE,
                subject=plan,
                actor=actor,
                changes=diff(before, snapshot(plan, AUDITED)),
                meta={"via": "generation"},
            )
        saved.append(plan)
    Plan.objects.bulk_create(created)
    for plan in created:
        audit_record(
            action=Action.CREATE,
            subject=plan,
            actor=actor,
            changes=diff({}, snapshot(plan, AUDITED)),
            meta={"via": "generation"},
        )
    outbox_publish(
        kind="plans.generated",
        payload={
            "period": period.key,
            "plan_ids": [p.pk for p in saved],
            "actor_id": actor.pk,
        },
    )
    return saved
