"""The plans page: plan versus actual, the period switcher, inline edit of a target,
generation's preview and save, and who may do what. Periods are relative to today."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from lavka.plans.models import Plan
from lavka.plans.periods import Period, month_first_day, month_index

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def http():
    return HttpClient()


def login(http, user):
    http.force_login(user)
    return http


def months_ago(period: Period, months: int) -> str:
    first = period.months[0] - months
    return month_first_day(first).replace(day=10).isoformat()


@pytest.fixture
def past(org, sell):
    """Two months ago: the rep sold 6 000 + 3 000 against a plan of 12 000 (generated
    10 000, adjusted by hand)."""
    period = Period.containing(timezone.localdate()).shifted(-2)
    sell(org.rep, months_ago(period, 0), "6000")
    sell(org.rep, months_ago(period, 0), "3000")
    plan = Plan.objects.create(
        level="user",
        user=org.rep,
        team=org.moscow,
        period_start=period.start,
        granularity="month",
        currency="RUB",
        target_amount=Decimal("12000"),
        generated_amount=Decimal("10000"),
        set_by=org.manager,
    )
    return period, plan


def test_the_page_shows_plan_versus_actual(org, past, http):
    period, plan = past

    page = login(http, org.manager).get(reverse("plans:list"), {"period": period.key})

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="plan-{plan.pk}"' in html
    assert "75.0%" in html  # 9 000 of 12 000
    assert "3,000.00 short" in html
    assert "generated ₽10,000.00 · +₽2,000.00" in html
    assert period.label in html


def test_the_period_switcher_moves_by_month_and_quarter(org, past, http):
    period, _plan = past

    quarter = login(http, org.manager).get(
        reverse("plans:list"), {"period": period.key, "granularity": "quarter"}
    )

    assert Period.containing(period.start, "quarter").label in quarter.content.decode()
    assert "plans-empty" in quarter.content.decode()


def test_a_rep_sees_their_plan_and_no_edit_or_generate_button(org, past, http):
    period, plan = past

    html = login(http, org.rep).get(reverse("plans:list"), {"period": period.key}).content
    html = html.decode()

    assert f'data-testid="plan-{plan.pk}"' in html
    assert 'data-testid="edit-target"' not in html
    assert 'data-testid="generate-plans"' not in html


def test_a_rep_cannot_open_generation_nor_edit_a_target(org, past, http):
    period, plan = past
    login(http, org.rep)

    assert http.get(reverse("plans:generate"), {"period": period.key}).status_code == 403
    response = http.post(reverse("plans:target", args=[plan.pk]), {"target_amount": "1"}, **HTMX)

    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.target_amount == Decimal("12000.00")


def test_a_role_without_sales_gets_no_page(org, http):
    assert login(http, org.marketer).get(reverse("plans:list")).status_code == 404


def test_a_manager_edits_a_target_inline(org, past, http):
    _period, plan = past
    login(http, org.manager)

    form = http.get(reverse("plans:target", args=[plan.pk]), **HTMX)
    saved = http.post(
        reverse("plans:target", args=[plan.pk]),
        {"target_amount": "9 500,50", "target_count": "4", "version": plan.version},
        **HTMX,
    )

    assert 'name="target_amount"' in form.content.decode()
    assert saved.status_code == 200
    assert "−₽499.50" in saved.content.decode()  # 9 500.50 - 10 000 generated
    plan.refresh_from_db()
    assert (plan.target_amount, plan.target_count) == (Decimal("9500.50"), 4)


def test_a_bad_target_is_refused_next_to_the_field(org, past, http):
    _period, plan = past

    response = login(http, org.manager).post(
        reverse("plans:target", args=[plan.pk]), {"target_amount": "a lot"}, **HTMX
    )

    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert "Enter a number." in response.content.decode()
    plan.refresh_from_db()
    assert plan.target_amount == Decimal("12000.00")


@pytest.fixture
def last_years(org, sell):
    """Next month: the rep sold 10 000 in that month last year and 5 000 the year
    before; nothing in the recent months nor a year before them (trend 1)."""
    target = Period.containing(timezone.localdate()).shifted(1)
    sell(org.rep, months_ago(target, 12), "10000")
    sell(org.rep, months_ago(target, 24), "5000")
    return target


def test_generation_previews_then_saves(org, last_years, http):
    login(http, org.manager)

    preview = http.get(reverse("plans:generate"), {"period": last_years.key})
    # V 10 000 x S (10 000 + 5 000) / (10 000 + 5 000) x R 1 = 10 000
    assert preview.status_code == 200
    assert "₽10,000.00" in preview.content.decode()
    assert not Plan.objects.exists()

    saved = http.post(reverse("plans:generate"), {"period": last_years.key, "trend_months": "3"})

    assert saved.status_code == 302
    plans = {(p.level, p.user_id or p.team_id): p.target_amount for p in Plan.objects.all()}
    assert plans == {
        ("user", org.rep.pk): Decimal("10000.00"),
        ("team", org.moscow.pk): Decimal("10000.00"),
    }


def test_the_page_reads_a_fixed_number_of_queries(
    org, past, http, sell, django_assert_max_num_queries
):
    period, _plan = past
    for user in (org.colleague, org.north_rep):
        sell(user, months_ago(period, 0), "100")
        Plan.objects.create(
            level="user",
            user=user,
            team=user.team,
            period_start=period.start,
            granularity="month",
            currency="RUB",
            target_amount=Decimal("1000"),
        )
    login(http, org.manager)

    # session, user, categories, team tree, plans, grouped sales, (grouped deals of a
    # current period), notifications: the same for 3 plans as for 300.
    with django_assert_max_num_queries(8):
        assert http.get(reverse("plans:list"), {"period": period.key}).status_code == 200


def test_period_keys_round_trip():
    assert Period.parse("2026-Q4").label == "Q4 2026"
    assert Period.parse("2026-12").key == "2026-12"
    assert Period.parse("2026-13") is None
    assert Period.parse("2026-12").shifted(1).key == "2027-01"
    assert Period.parse("2026-Q4").shifted(1).key == "2027-Q1"
    assert month_index(2026, 12) - month_index(2025, 12) == 12


def test_a_plans_history_shows_who_changed_the_target(org, past, http):
    _period, plan = past
    login(http, org.manager)
    http.post(reverse("plans:target", args=[plan.pk]), {"target_amount": "13000"}, **HTMX)

    history = login(http, org.rep).get(reverse("plans:history", args=[plan.pk]), **HTMX)

    html = history.content.decode()
    assert history.status_code == 200
    assert str(org.manager) in html
    assert "₽12,000.00" in html and "₽13,000.00" in html
    assert "Target amount" in html


def test_another_teams_plan_history_is_not_found(org, past, http):
    _period, plan = past

    response = login(http, org.spb_rep).get(reverse("plans:history", args=[plan.pk]))

    assert response.status_code == 404
