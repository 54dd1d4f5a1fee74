"""Reads of plans: the plans a viewer may see, the sales of past months (one grouped
query), the proposals of generation, and plan versus actual with the weighted pipeline.

Every read starts from the viewer's scope: plans through `plans_visible_to`, orders and
deals through the sales area's record filter. Amounts are in the reporting currency:
an order (or a line) at the rate of its date, a deal at today's rate, summed in SQL
and rounded half up to cents at the end. See README.md for the generation formula.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import ExtractMonth, ExtractYear

from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, record_filter, scope_queryset
from lavka.identity.models import Team
from lavka.plans.models import Plan
from lavka.plans.periods import MonthIndex, Period, month_first_day, month_index, month_last_day
from lavka.plans.permissions import can_set_plan_for
from lavka.sales.errors import ExchangeRateMissing
from lavka.sales.models import (
    SALE_STATUSES,
    Deal,
    DealLine,
    ExchangeRate,
    Order,
    OrderLine,
    ProductCategory,
    Stage,
)
from lavka.sales.selectors.catalogue import money, reporting_currency

TREND_MONTHS = 3
SEASONAL_YEARS = 2
WIDE: Any = DecimalField(max_digits=38, decimal_places=10)


def plans_visible_to(viewer: Any) -> QuerySet[Plan]:
    """Every plan `viewer` may read (the sales area's read scope; a user's plan by its
    user and team, a team's plan by its team)."""
    return scope_queryset(Plan.objects.all(), viewer, Area.SALES, Action.READ, owner_field="user")


def plan_get(*, viewer: Any, plan_id: int) -> Plan:
    try:
        return (
            plans_visible_to(viewer)
            .select_related("user", "team", "category", "set_by")
            .get(pk=plan_id)
        )
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="plan", id=plan_id) from None


def plan_list(
    *,
    viewer: Any,
    period: Period | None = None,
    level: str = "",
    category_id: int | None = None,
    any_category: bool = False,
) -> QuerySet[Plan]:
    """Plans, by period, level, then name. Without `any_category`, only plans of the
    given category (None: plans of all categories together)."""
    plans = plans_visible_to(viewer).select_related("user", "team", "category", "set_by")
    if period is not None:
        plans = plans.filter(period_start=period.start, granularity=period.granularity)
    if level:
        plans = plans.filter(level=level)
    if not any_category:
        plans = plans.filter(category_id=category_id)
    return plans.order_by(
        "period_start", "granularity", "level", "team__name", "user__last_name", "id"
    )


# --- sales of past months: one grouped query ----------------------------------------------


@dataclass(frozen=True)
class MonthSales:
    owner_id: int
    team_id: int | None
    category_id: int | None
    month: MonthIndex
    amount: Decimal
    orders: int


def _day(on: str | dt.date) -> Any:
    return OuterRef(on) if isinstance(on, str) else on


def _rate(currency: str, on: str | dt.date) -> Subquery:
    """The rate of `currency` (an outer field) on `on` (an outer field, or a date): the
    latest on or before it."""
    return Subquery(
        ExchangeRate.objects.filter(currency=OuterRef(currency), valid_on__lte=_day(on))
        .order_by("-valid_on")
        .values("rate")[:1]
    )


def _has_rate(currency: str, on: str | dt.date) -> Exists:
    return Exists(ExchangeRate.objects.filter(currency=OuterRef(currency), valid_on__lte=_day(on)))


def _in_reporting(amount: Any, currency: str, on: str | dt.date) -> Case:
    """`amount` (an expression) in the reporting currency at the rate of `on`."""
    return Case(
        When(**{currency: reporting_currency()}, then=ExpressionWrapper(amount, output_field=WIDE)),
        default=ExpressionWrapper(amount * _rate(currency, on), output_field=WIDE),
        output_field=WIDE,
    )


def _missing_rates(currency: str, on: str | dt.date) -> Sum:
    """How many rows have no rate (a CASE, so that the rate lookup runs only for rows
    in another currency)."""
    return Sum(
        Case(
            When(**{currency: reporting_currency()}, then=0),
            When(~_has_rate(currency, on), then=1),
            default=0,
            output_field=IntegerField(),
        )
    )


def _raise_missing_rate(rows: QuerySet[Any], currency: str, on: str | dt.date) -> None:
    """Name one currency and date without a rate (only when the sums found one)."""
    missing = rows.exclude(**{currency: reporting_currency()}).filter(~_has_rate(currency, on))
    if isinstance(on, dt.date):
        code = missing.values_list(currency, flat=True).first()
        found = None if code is None else (code, on)
    else:
        found = missing.order_by(on).values_list(currency, on).first()
    if found is not None:
        raise ExchangeRateMissing(currency=found[0], on=found[1])


def sales_by_month(
    *, viewer: Any, start: dt.date, end: dt.date, by_category: bool = False
) -> list[MonthSales]:
    """Sales the viewer may read from `start` to `end` (inclusive) per owner, team,
    (category,) and calendar month: the amount in the reporting currency and the number
    of orders. Orders that count as sales (confirmed, shipped, paid), live. One grouped
    query (a second only to name a missing exchange rate)."""
    if by_category:
        rows: QuerySet[Any] = OrderLine.objects.filter(
            order__deleted_at__isnull=True,
            order__status__in=SALE_STATUSES,
            order__ordered_on__gte=start,
            order__ordered_on__lte=end,
        )
        condition = record_filter(
            viewer, Area.SALES, Action.READ, owner_field="order__owner", team_field="order__team"
        )
        prefix, amount = "order__", F("amount")
        keys = ["order__owner_id", "order__team_id", "category_id"]
        orders = Count("order_id", distinct=True)
    else:
        rows = Order.objects.filter(
            status__in=SALE_STATUSES, ordered_on__gte=start, ordered_on__lte=end
        )
        condition = record_filter(viewer, Area.SALES, Action.READ)
        prefix, amount = "", F("total")
        keys = ["owner_id", "team_id"]
        orders = Count("id")
    if condition is not None:
        rows = rows.filter(condition)
    currency, on = f"{prefix}currency", f"{prefix}ordered_on"
    grouped = (
        rows.annotate(y=ExtractYear(on), m=ExtractMonth(on))
        .values(*keys, "y", "m")
        .annotate(
            sales=Sum(_in_reporting(amount, currency, on)),
            orders=orders,
            missing=_missing_rates(currency, on),
        )
        .order_by()
    )
    result: list[MonthSales] = []
    missing = False
    for row in grouped:
        missing = missing or bool(row["missing"])
        result.append(
            MonthSales(
                owner_id=row[keys[0]],
                team_id=row[keys[1]],
                category_id=row["category_id"] if by_category else None,
                month=month_index(int(row["y"]), int(row["m"])),
                amount=Decimal(row["sales"] or 0),
                orders=int(row["orders"]),
            )
        )
    if missing:
        _raise_missing_rate(rows, currency, on)
    return result


# --- generation: proposals ----------------------------------------------------------------


@dataclass
class Proposal:
    """What generation proposes for one subject (see README.md for the formula)."""

    level: str
    user: Any | None
    team: Team | None
    category: ProductCategory | None
    last_year: Decimal  # the same period a year earlier
    volume: Decimal  # the 12 months ending with the period's quarter's end, a year earlier
    seasonal_share: Decimal  # the period's share of its years (pooled)
    trend: Decimal  # recent months / the same months a year earlier (1 without history)
    amount: Decimal
    count: int
    current: Plan | None = None
    basis: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.user if self.user is not None else self.team)

    @property
    def share_percent(self) -> Decimal:
        return (self.seasonal_share * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def key(self) -> tuple[str, int, int | None]:
        subject = self.user if self.user is not None else self.team
        assert subject is not None
        return (self.level, subject.pk, self.category.pk if self.category else None)


@dataclass(frozen=True)
class GenerationWindows:
    """The months generation reads for a target period, relative to `as_of`."""

    period: Period
    as_of: dt.date
    trend_months: int
    seasonal_years: int

    @property
    def last(self) -> MonthIndex:
        """The last month of the quarter the period ends in: a month's years are its
        quarter's, so the months of a quarter add up to the quarter's plan."""
        end = self.period.months[-1]
        return end - end % 3 + 2

    def year_window(self, years_back: int) -> range:
        """The 12 months ending with `last`, `years_back` years earlier."""
        end = self.last - 12 * years_back
        return range(end - 11, end + 1)

    @property
    def recent(self) -> range:
        """The last `trend_months` complete months before `as_of`'s month."""
        current = month_index(self.as_of.year, self.as_of.month)
        return range(current - self.trend_months, current)

    @property
    def first(self) -> MonthIndex:
        return min(self.year_window(self.seasonal_years).start, self.recent.start - 12)

    @property
    def final(self) -> MonthIndex:
        return max(self.last - 12, self.recent.stop - 1)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    return numerator / denominator if denominator else Decimal(0)


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _propose(series: dict[MonthIndex, Decimal], w: GenerationWindows) -> dict[str, Decimal]:
    """The formula over one subject's monthly series (amounts or counts)."""
    months = w.period.months
    last_year = sum((series.get(m - 12, Decimal(0)) for m in months), Decimal(0))
    volume = sum((series.get(m, Decimal(0)) for m in w.year_window(1)), Decimal(0))
    period_sum = sum(
        (
            series.get(m - 12 * y, Decimal(0))
            for y in range(1, w.seasonal_years + 1)
            for m in months
        ),
        Decimal(0),
    )
    years_sum = sum(
        (
            series.get(m, Decimal(0))
            for y in range(1, w.seasonal_years + 1)
            for m in w.year_window(y)
        ),
        Decimal(0),
    )
    recent = sum((series.get(m, Decimal(0)) for m in w.recent), Decimal(0))
    earlier = sum((series.get(m - 12, Decimal(0)) for m in w.recent), Decimal(0))
    share = _ratio(period_sum, years_sum)
    trend = _ratio(recent, earlier) if earlier else Decimal(1)
    # One division at the end keeps the result exact to the cent.
    value = (
        volume
        * period_sum
        * (recent if earlier else 1)
        / ((years_sum or 1) * (earlier if earlier else 1))
    )
    return {
        "last_year": last_year,
        "volume": volume,
        "share": share,
        "trend": trend,
        "recent": recent,
        "earlier": earlier,
        "value": value if years_sum else Decimal(0),
    }


def _subjects_settable(
    viewer: Any, users: Iterable[Any], teams: Iterable[Team]
) -> tuple[list[Any], list[Team]]:
    return (
        [u for u in users if can_set_plan_for(viewer, team_id=u.team_id)],
        [t for t in teams if can_set_plan_for(viewer, team_id=t.pk)],
    )


def plan_proposals(
    *,
    viewer: Any,
    period: Period,
    as_of: dt.date,
    by_category: bool = False,
    trend_months: int = TREND_MONTHS,
    seasonal_years: int = SEASONAL_YEARS,
) -> list[Proposal]:
    """Generated plans for `period` for every user and team the viewer may set plans
    for and that sold anything in the months read (per category with `by_category`).
    One grouped query over the orders, then the users, teams, categories and the
    current plans of the period (one query each)."""
    w = GenerationWindows(period, as_of, trend_months, seasonal_years)
    rows = sales_by_month(
        viewer=viewer,
        start=month_first_day(w.first),
        end=month_last_day(w.final),
        by_category=by_category,
    )
    amounts: dict[tuple[str, int, int | None], dict[MonthIndex, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    counts: dict[tuple[str, int, int | None], dict[MonthIndex, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for row in rows:
        if by_category and row.category_id is None:
            continue
        keys = [("user", row.owner_id, row.category_id)]
        if row.team_id is not None:
            keys.append(("team", row.team_id, row.category_id))
        for key in keys:
            amounts[key][row.month] += row.amount
            counts[key][row.month] += row.orders
    user_ids = {k[1] for k in amounts if k[0] == "user"}
    team_ids = {k[1] for k in amounts if k[0] == "team"}
    users_by_id = {
        u.pk: u
        for u in get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True)
        .select_related("team")
    }
    teams_by_id = {t.pk: t for t in Team.objects.filter(pk__in=team_ids)}
    users, teams = _subjects_settable(viewer, users_by_id.values(), teams_by_id.values())
    allowed = {("user", u.pk) for u in users} | {("team", t.pk) for t in teams}
    category_ids = {k[2] for k in amounts if k[2] is not None}
    categories = {c.pk: c for c in ProductCategory.objects.filter(pk__in=category_ids)}
    current = {
        (p.level, p.user_id or p.team_id, p.category_id): p
        for p in Plan.objects.filter(
            period_start=period.start,
            granularity=period.granularity,
            category__isnull=not by_category,
        )
    }
    proposals = []
    for key, series in amounts.items():
        level, subject_id, category_id = key
        if (level, subject_id) not in allowed:
            continue
        money_part = _propose(series, w)
        count_part = _propose(counts[key], w)
        amount = money(money_part["value"])
        proposals.append(
            Proposal(
                level=level,
                user=users_by_id[subject_id] if level == "user" else None,
                team=teams_by_id[subject_id] if level == "team" else users_by_id[subject_id].team,
                category=categories.get(category_id) if category_id else None,
                last_year=money(money_part["last_year"]),
                volume=money(money_part["volume"]),
                seasonal_share=money_part["share"].quantize(Decimal("0.0001")),
                trend=money_part["trend"].quantize(Decimal("0.0001")),
                amount=amount,
                count=_whole(count_part["value"]),
                current=current.get(key),
                basis={
                    "as_of": as_of.isoformat(),
                    "trend_months": trend_months,
                    "seasonal_years": seasonal_years,
                    "last_year": str(money(money_part["last_year"])),
                    "volume": str(money(money_part["volume"])),
                    "seasonal_share": str(money_part["share"].quantize(Decimal("0.000001"))),
                    "trend": str(money_part["trend"].quantize(Decimal("0.000001"))),
                    "recent": str(money(money_part["recent"])),
                    "year_before": str(money(money_part["earlier"])),
                },
            )
        )
    proposals.sort(
        key=lambda p: (
            p.level != "team",
            p.category.name if p.category else "",
            str(p.team) if p.level == "team" else "",
            p.name,
        )
    )
    return proposals


# --- plan versus actual -------------------------------------------------------------------


@dataclass
class PlanProgress:
    plan: Plan
    actual: Decimal
    actual_count: int
    pipeline: Decimal  # open deals closing in the rest of the period, amount x probability

    @property
    def target(self) -> Decimal:
        return self.plan.target_amount

    @property
    def forecast(self) -> Decimal:
        return self.actual + self.pipeline

    @property
    def gap(self) -> Decimal:
        """How much the forecast falls short of the target (negative: above it)."""
        return self.target - self.forecast

    @property
    def done_percent(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.actual * 100 / self.target).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def forecast_percent(self) -> Decimal | None:
        if not self.target:
            return None
        return (self.forecast * 100 / self.target).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def bar_actual(self) -> int:
        """Widths of the progress bar's two parts, in percent of the bar (capped)."""
        done = self.done_percent
        return 0 if done is None else int(min(done, Decimal(100)))

    @property
    def bar_pipeline(self) -> int:
        forecast = self.forecast_percent
        return 0 if forecast is None else int(min(forecast, Decimal(100))) - self.bar_actual

    @property
    def status(self) -> str:
        """good: the forecast reaches the target; warn: within 10%; risk: below that."""
        if not self.target or self.forecast >= self.target:
            return "good"
        return "warn" if self.forecast >= self.target * Decimal("0.9") else "risk"


def _pipeline_rows(
    viewer: Any, *, start: dt.date, end: dt.date, today: dt.date, category_id: int | None
) -> list[dict[str, Any]]:
    """Weighted open deals expected to close from max(start, today) to `end`, per owner
    and team, at today's rates."""
    first = max(start, today)
    if first > end:
        return []
    if category_id is None:
        rows: QuerySet[Any] = Deal.objects.filter(
            stage__kind=Stage.Kind.OPEN, expected_close_on__gte=first, expected_close_on__lte=end
        )
        condition = record_filter(viewer, Area.SALES, Action.READ)
        prefix = ""
        amount = ExpressionWrapper(F("amount") * F("probability"), output_field=WIDE)
    else:
        rows = DealLine.objects.filter(
            deal__deleted_at__isnull=True,
            deal__stage__kind=Stage.Kind.OPEN,
            deal__expected_close_on__gte=first,
            deal__expected_close_on__lte=end,
            product__category_id=category_id,
        )
        condition = record_filter(
            viewer, Area.SALES, Action.READ, owner_field="deal__owner", team_field="deal__team"
        )
        prefix = "deal__"
        amount = ExpressionWrapper(F("amount") * F("deal__probability"), output_field=WIDE)
    if condition is not None:
        rows = rows.filter(condition)
    currency = f"{prefix}currency"
    grouped = (
        rows.values(f"{prefix}owner_id", f"{prefix}team_id")
        .annotate(
            weighted=Sum(_in_reporting(amount, currency, today)),
            missing=_missing_rates(currency, today),
        )
        .order_by()
    )
    result = []
    for row in grouped:
        if row["missing"]:
            _raise_missing_rate(rows, currency, today)
        result.append(
            {
                "owner_id": row[f"{prefix}owner_id"],
                "team_id": row[f"{prefix}team_id"],
                "amount": Decimal(row["weighted"] or 0) / 100,
            }
        )
    return result


def plan_vs_actual(
    *, viewer: Any, period: Period, today: dt.date, category_id: int | None = None
) -> list[PlanProgress]:
    """The viewer's plans of `period` (of one category, or of all categories together)
    with their actuals (sales in the period so far), the weighted pipeline and the
    forecast. Four queries whatever the number of plans: the plans, the sales grouped
    by owner and team, the deals grouped the same way, and (with a missing rate) one to
    name it."""
    plans = list(plan_list(viewer=viewer, period=period, category_id=category_id))
    if not plans:
        return []
    sales = (
        sales_by_month(
            viewer=viewer,
            start=period.start,
            end=min(period.end, today),
            by_category=category_id is not None,
        )
        if today >= period.start
        else []
    )
    by_user: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    by_team: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in sales:
        if category_id is not None and row.category_id != category_id:
            continue
        for bucket in [by_user[row.owner_id]] + (
            [by_team[row.team_id]] if row.team_id is not None else []
        ):
            bucket[0] += row.amount
            bucket[1] += row.orders
    weighted_user: dict[int, Decimal] = defaultdict(Decimal)
    weighted_team: dict[int, Decimal] = defaultdict(Decimal)
    for deal_row in _pipeline_rows(
        viewer, start=period.start, end=period.end, today=today, category_id=category_id
    ):
        weighted_user[deal_row["owner_id"]] += deal_row["amount"]
        if deal_row["team_id"] is not None:
            weighted_team[deal_row["team_id"]] += deal_row["amount"]
    progress = []
    for plan in plans:
        if plan.level == Plan.Level.USER:
            actual, weighted = by_user[plan.user_id or 0], weighted_user[plan.user_id or 0]
        else:
            actual, weighted = by_team[plan.team_id or 0], weighted_team[plan.team_id or 0]
        progress.append(
            PlanProgress(
                plan=plan,
                actual=money(actual[0]),
                actual_count=int(actual[1]),
                pipeline=money(weighted),
            )
        )
    return progress
