"""Who sees and sets plans: reps their own (and set none), managers their team's and
the teams below, administrators all."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lavka.audit.models import AuditEvent
from lavka.core.errors import NotFound, NotPermitted, ValidationFailed
from lavka.plans.models import Plan
from lavka.plans.periods import Period
from lavka.plans.selectors import plan_get, plans_visible_to
from lavka.plans.services import plan_create, plan_update
from tests.plans.conftest import d

DECEMBER = Period(d("2026-12-01"), "month")


@pytest.fixture
def plans(org):
    def plan(level, target, **subject):
        return Plan.objects.create(
            level=level,
            period_start=DECEMBER.start,
            granularity="month",
            currency="RUB",
            target_amount=Decimal(target),
            generated_amount=Decimal(target),
            **subject,
        )

    return {
        "rep": plan("user", "100", user=org.rep, team=org.moscow),
        "colleague": plan("user", "200", user=org.colleague, team=org.moscow),
        "north": plan("user", "300", user=org.north_rep, team=org.north),
        "spb": plan("user", "400", user=org.spb_rep, team=org.spb),
        "moscow": plan("team", "500", team=org.moscow),
        "spb_team": plan("team", "600", team=org.spb),
    }


def visible(user, plans):
    names = {p.pk: name for name, p in plans.items()}
    return sorted(names[pk] for pk in plans_visible_to(user).values_list("pk", flat=True))


def test_a_rep_sees_only_their_own_plan(org, plans):
    assert visible(org.rep, plans) == ["rep"]


def test_a_manager_sees_their_team_and_the_teams_below(org, plans):
    assert visible(org.manager, plans) == ["colleague", "moscow", "north", "rep"]


def test_an_administrator_sees_all_plans(org, plans):
    assert visible(org.admin, plans) == sorted(plans)


def test_a_role_without_sales_sees_no_plan(org, plans):
    assert visible(org.marketer, plans) == []
    assert visible(org.nobody, plans) == []


def test_a_plan_of_another_team_is_not_found(org, plans):
    with pytest.raises(NotFound):
        plan_get(viewer=org.manager, plan_id=plans["spb"].pk)


def test_a_manager_adjusts_a_reps_target_and_the_generated_value_stays(org, plans):
    plan = plan_update(actor=org.manager, plan=plans["rep"], target_amount="150,50")

    plan.refresh_from_db()
    assert plan.target_amount == Decimal("150.50")
    assert plan.generated_amount == Decimal("100.00")
    assert plan.adjustment == Decimal("50.50")
    assert plan.set_by == org.manager
    assert plan.version == 2
    event = AuditEvent.objects.get(object_id=str(plan.pk), action="update")
    assert event.actor == org.manager
    assert event.changes["target_amount"] == ["100.00", "150.50"]


def test_a_rep_cannot_change_their_own_target(org, plans):
    with pytest.raises(NotPermitted):
        plan_update(actor=org.rep, plan=plans["rep"], target_amount="1000000")

    plans["rep"].refresh_from_db()
    assert plans["rep"].target_amount == Decimal("100.00")
    assert not AuditEvent.objects.filter(object_id=str(plans["rep"].pk)).exists()


def test_a_manager_cannot_change_a_plan_of_another_team(org, plans):
    with pytest.raises(NotFound):
        plan_update(actor=org.manager, plan=plans["spb"], target_amount="1")

    plans["spb"].refresh_from_db()
    assert plans["spb"].target_amount == Decimal("400.00")


def test_an_administrator_changes_any_plan(org, plans):
    plan_update(actor=org.admin, plan=plans["spb_team"], target_amount="650", target_count=3)

    plans["spb_team"].refresh_from_db()
    assert (plans["spb_team"].target_amount, plans["spb_team"].target_count) == (
        Decimal("650.00"),
        3,
    )


def test_a_bad_target_names_the_field(org, plans):
    with pytest.raises(ValidationFailed) as error:
        plan_update(actor=org.manager, plan=plans["rep"], target_amount="lots", target_count=-1)

    assert set(error.value.fields) == {"target_amount", "target_count"}


def test_a_manager_sets_a_plan_by_hand_for_a_rep_of_the_team(org):
    plan = plan_create(actor=org.manager, period=DECEMBER, user=org.north_rep, target_amount="1000")

    assert (plan.level, plan.team, plan.generated_amount, plan.set_by) == (
        "user",
        org.north,
        None,
        org.manager,
    )
    assert AuditEvent.objects.filter(object_id=str(plan.pk), action="create").exists()


def test_a_manager_cannot_set_a_plan_for_another_team(org):
    with pytest.raises(NotPermitted):
        plan_create(actor=org.manager, period=DECEMBER, team=org.spb, target_amount="1000")

    assert not Plan.objects.exists()


def test_a_second_plan_for_the_same_period_is_refused(org, plans):
    with pytest.raises(ValidationFailed) as error:
        plan_create(actor=org.manager, period=DECEMBER, user=org.rep, target_amount="1")

    assert "period_start" in error.value.fields


def test_a_period_must_start_a_month_or_a_quarter(org):
    with pytest.raises(ValidationFailed) as error:
        plan_create(
            actor=org.manager,
            period=Period(d("2026-11-01"), "quarter"),
            user=org.rep,
            target_amount="1",
        )

    assert "period_start" in error.value.fields
