"""Reads of the KPI dashboard: every figure for a period and filters, compared with the
previous period of equal length and with the plan, scoped to the viewer.

All figures come from the `kpi` report's pre-aggregated tables (`models/kpi.py`) of
the current run: one GROUP BY per table over the rows of one grain, so a page costs
the same at a hundred clients and at a million. A viewer who does not see the whole
base reads the detail rows (owner and team kept) filtered by the access policy, as
clients are: the clients area's read scope and the analytics area's read scope over
the client's owner and team; deals by the sales and analytics scopes over the deal's.

Definitions (a period is a run of whole months [a, b] of length L; the previous period
is [a - L, a - 1]):
- active clients: bought at least once in the period; new: first purchase ever in it;
- retained: active in the previous period and in this one; lost: active in the
  previous period and not in this one; retention = retained / active before, churn =
  lost / active before;
- average order = revenue / orders; purchase frequency = orders / active clients;
- CLV: the mean over clients with a CLV, at the run's date (not per period);
- win rate = deals won / (won + lost) closed in the period; cycle = mean days from
  creation to the win of the deals won in it; pipeline = open deals now.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from lavka.analytics.engine.lifecycle import STAGE_LABELS, STAGES
from lavka.analytics.engine.rfm import SEGMENT_LABELS, SEGMENTS
from lavka.analytics.models import ComputeRun
from lavka.analytics.models.kpi import (
    ALL,
    BY_SEGMENT,
    BY_TIER,
    BY_WHO,
    KpiClients,
    KpiClv,
    KpiDeals,
    KpiMonth,
)
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import ABC, XYZ
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, Scope, record_filter, scope_for

GAP_MAX = KpiMonth.GAP_MAX
TREND_MONTHS = 12
PRESETS = ("month", "3m", "12m", "custom")
MONTH_NAMES_SHORT = (
    _("Jan"),
    _("Feb"),
    _("Mar"),
    _("Apr"),
    _("May"),
    _("Jun"),
    _("Jul"),
    _("Aug"),
    _("Sep"),
    _("Oct"),
    _("Nov"),
    _("Dec"),
)

# --- months and filters ------------------------------------------------------------------

Month = int  # year * 12 + month - 1


def month_index(day: dt.date) -> Month:
    return day.year * 12 + day.month - 1


def month_day(month: Month) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


def month_key(month: Month) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def month_after(key: str, offset: int) -> str:
    """ "2026-01" and 5 -> "2026-06" (a client-list month parameter `offset` months on)."""
    return month_key(int(key[:4]) * 12 + int(key[5:7]) - 1 + offset)


def month_label(month: Month) -> str:
    return f"{MONTH_NAMES_SHORT[month % 12]} {month // 12}"


def parse_month(text: str) -> Month | None:
    year, _sep, month = (text or "").strip().partition("-")
    if year.isdigit() and month.isdigit() and 1900 <= int(year) <= 9999 and 1 <= int(month) <= 12:
        return int(year) * 12 + int(month) - 1
    return None


def _int(text: Any) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isdigit() else None


@dataclass(frozen=True)
class Filters:
    start: Month
    end: Month
    preset: str = "12m"
    owner_id: int | None = None
    team_id: int | None = None
    tier_id: int | None = None
    segment: int | None = None  # index into SEGMENTS

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def previous(self) -> tuple[Month, Month]:
        return self.start - self.length, self.start - 1

    def query(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of these filters (with `changes`), empty ones left out."""
        values = {
            "period": self.preset,
            "from": month_key(self.start),
            "to": month_key(self.end),
            "owner": "" if self.owner_id is None else str(self.owner_id),
            "team": "" if self.team_id is None else str(self.team_id),
            "tier": "" if self.tier_id is None else str(self.tier_id),
            "segment": "" if self.segment is None else str(SEGMENTS[self.segment]),
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}

    def client_query(self) -> dict[str, str]:
        """The client list's parameters for the same owner, team, tier and segment."""
        values = {
            "owner": "" if self.owner_id is None else str(self.owner_id),
            "team": "" if self.team_id is None else str(self.team_id),
            "tier": "" if self.tier_id is None else str(self.tier_id),
            "segment": "" if self.segment is None else str(SEGMENTS[self.segment]),
        }
        return {k: v for k, v in values.items() if v}


def filters_parse(params: Mapping[str, Any], *, run: ComputeRun) -> Filters:
    """Filters from URL parameters (`period` = month | 3m | 12m | custom, `from`/`to`
    = YYYY-MM, `owner`, `team`, `tier` ids, `segment` code); what does not parse falls
    back to the default (the last 12 months up to the run's date, no filter)."""
    last = month_index(run.as_of)
    preset = str(params.get("period") or "")
    start = parse_month(str(params.get("from") or ""))
    end = parse_month(str(params.get("to") or ""))
    if preset not in PRESETS:
        preset = "custom" if start is not None or end is not None else "12m"
    if preset == "month":
        start, end = last, last
    elif preset == "3m":
        start, end = last - 2, last
    elif preset == "12m" or (start is None and end is None):
        start, end = last - 11, last
    else:
        end = min(end if end is not None else last, last)
        start = start if start is not None else end - 11
        if start > end:
            start, end = end, start
        start = max(start, end - 59)
    segment_code = str(params.get("segment") or "")
    segment = next((i for i, s in enumerate(SEGMENTS) if str(s) == segment_code), None)
    return Filters(
        start=start,
        end=end,
        preset=preset,
        owner_id=_int(params.get("owner")),
        team_id=_int(params.get("team")),
        tier_id=_int(params.get("tier")),
        segment=segment,
    )


# --- scope -------------------------------------------------------------------------------


def _scope(viewer: Any, area: str) -> Q | None:
    """Rows of `viewer`'s scope (None: all), by owner_id and team_id."""
    conditions = [record_filter(viewer, a, Action.READ) for a in (area, Area.ANALYTICS)]
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    combined = present[0]
    for condition in present[1:]:
        combined &= condition
    return combined


def sees_whole_base(viewer: Any) -> bool:
    return (
        scope_for(viewer, Area.ANALYTICS, Action.READ) == Scope.ALL
        and scope_for(viewer, Area.CLIENTS, Action.READ) == Scope.ALL
    )


def _rows(model: Any, *, viewer: Any, run: ComputeRun, filters: Filters, area: str) -> QuerySet:
    scope = _scope(viewer, area)
    grain = (
        (
            BY_WHO
            if scope is not None or filters.owner_id is not None or filters.team_id is not None
            else 0
        )
        | (BY_TIER if filters.tier_id is not None else 0)
        | (BY_SEGMENT if filters.segment is not None else 0)
    )
    rows = model.objects.filter(run_id=run.pk, grain=grain)
    if scope is not None:
        rows = rows.filter(scope)
    if filters.owner_id is not None:
        rows = rows.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        rows = rows.filter(team_id=filters.team_id)
    if filters.tier_id is not None:
        rows = rows.filter(tier_id=filters.tier_id)
    if filters.segment is not None:
        rows = rows.filter(segment=filters.segment)
    return rows.order_by()


# --- the figures -------------------------------------------------------------------------


@dataclass
class Figure:
    code: str
    label: Any
    value: float | None
    kind: str  # money, count, percent, days, ratio
    previous: float | None = None
    plan: float | None = None
    better: str = "up"  # which way is good: up or down
    note: Any = ""
    drill: str = ""  # client list query string
    missing: Any = ""  # why there is no value

    @property
    def change(self) -> float | None:
        """Change against the previous period: relative for amounts and counts, in
        percentage points for rates."""
        if self.value is None or self.previous is None:
            return None
        if self.kind == "percent":
            return (self.value - self.previous) * 100
        if not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)

    @property
    def tone(self) -> str:
        change = self.change
        if change is None or abs(change) < 1e-9:
            return "neutral"
        good = change > 0 if self.better == "up" else change < 0
        return "good" if good else "risk"

    @property
    def plan_share(self) -> float | None:
        if self.value is None or not self.plan:
            return None
        return self.value / self.plan


@dataclass
class MonthTotals:
    """KpiMonth rows of the months read: per month, (gap, clients, orders, revenue)."""

    months: dict[Month, list[tuple[int, float, float, float]]] = field(default_factory=dict)

    def _rows(self, a: Month, b: Month) -> list[tuple[Month, int, float, float, float]]:
        return [(m, *row) for m in range(a, b + 1) for row in self.months.get(m, ())]

    def active(self, a: Month, b: Month) -> float:
        return sum(
            c for m, gap, c, _o, _r in self._rows(a, b) if gap == 0 or gap > GAP_MAX or gap > m - a
        )

    def new(self, a: Month, b: Month) -> float:
        return sum(c for _m, gap, c, _o, _r in self._rows(a, b) if gap == 0)

    def orders(self, a: Month, b: Month) -> float:
        return sum(o for _m, _g, _c, o, _r in self._rows(a, b))

    def revenue(self, a: Month, b: Month) -> float:
        return sum(r for _m, _g, _c, _o, r in self._rows(a, b))


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


@dataclass
class Period:
    active: float
    new: float
    orders: float
    revenue: float
    retained: float | None
    active_before: float

    @property
    def lost(self) -> float | None:
        return None if self.retained is None else self.active_before - self.retained

    @property
    def retention(self) -> float | None:
        return _ratio(self.retained, self.active_before)

    @property
    def churn(self) -> float | None:
        return _ratio(self.lost, self.active_before)


def _period(totals: MonthTotals, a: Month, b: Month) -> Period:
    length = b - a + 1
    active = totals.active(a, b)
    before = totals.active(a - length, a - 1)
    both = totals.active(a - length, b)
    return Period(
        active=active,
        new=totals.new(a, b),
        orders=totals.orders(a, b),
        revenue=totals.revenue(a, b),
        retained=before + active - both,
        active_before=before,
    )


@dataclass
class DealTotals:
    created: dict[Month, tuple[float, float]] = field(default_factory=dict)
    won: dict[Month, tuple[float, float, float]] = field(default_factory=dict)
    lost: dict[Month, tuple[float, float]] = field(default_factory=dict)
    open_by_stage: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    reached: dict[int, tuple[float, float]] = field(default_factory=dict)

    def sum_won(self, a: Month, b: Month) -> tuple[float, float, float]:
        rows = [v for m, v in self.won.items() if a <= m <= b]
        return (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows))

    def sum_lost(self, a: Month, b: Month) -> float:
        return sum(v[0] for m, v in self.lost.items() if a <= m <= b)

    def win_rate(self, a: Month, b: Month) -> float | None:
        won = self.sum_won(a, b)[0]
        return _ratio(won, won + self.sum_lost(a, b))

    def cycle(self, a: Month, b: Month) -> float | None:
        won, _amount, days = self.sum_won(a, b)
        return _ratio(days, won)


@dataclass
class FunnelStage:
    stage_id: int
    name: str
    kind: str
    reached: int
    reached_amount: float
    open: int
    open_amount: float
    weighted: float


@dataclass
class ClvBin:
    index: int
    low: float
    high: float | None  # None: open
    clients: int


@dataclass
class Dashboard:
    run: ComputeRun
    filters: Filters
    currency: str
    figures: list[Figure]
    trend: list[dict[str, Any]]
    funnel: list[FunnelStage]
    matrix: list[list[dict[str, Any]]]
    stages: list[dict[str, Any]]
    clv_bins: list[ClvBin]
    clv_without: int
    cohorts: dict[str, Any] | None
    cohorts_hidden: bool
    months_available: tuple[Month, Month] | None
    whole_base: bool

    def figure(self, code: str) -> Figure:
        return next(f for f in self.figures if f.code == code)


def _month_totals(
    *, viewer: Any, run: ComputeRun, filters: Filters, first: Month, last: Month
) -> MonthTotals:
    rows = (
        _rows(KpiMonth, viewer=viewer, run=run, filters=filters, area=Area.CLIENTS)
        .filter(month__gte=month_day(first), month__lte=month_day(last))
        .values_list("month", "gap")
        .annotate(c=Sum("clients"), o=Sum("orders"), r=Sum("revenue"))
    )
    totals = MonthTotals()
    for month, gap, c, o, r in rows:
        totals.months.setdefault(month_index(month), []).append(
            (int(gap), float(c or 0), float(o or 0), float(r or 0))
        )
    return totals


def _deal_totals(*, viewer: Any, run: ComputeRun, filters: Filters, first: Month) -> DealTotals:
    rows = (
        _rows(KpiDeals, viewer=viewer, run=run, filters=filters, area=Area.SALES)
        .filter(
            Q(kind=KpiDeals.OPEN)
            | Q(month__gte=month_day(first), month__lte=month_day(filters.end))
        )
        .values_list("kind", "month", "stage_id")
        .annotate(n=Sum("deals"), amount=Sum("amount"), weighted=Sum("weighted"), days=Sum("days"))
    )
    totals = DealTotals()
    reached: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    open_by_stage: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for kind, month, stage_id, n, amount, weighted, days in rows:
        m = month_index(month)
        n, amount = float(n or 0), float(amount or 0)
        if kind == KpiDeals.CREATED:
            old = totals.created.get(m, (0.0, 0.0))
            totals.created[m] = (old[0] + n, old[1] + amount)
        elif kind == KpiDeals.WON:
            old3 = totals.won.get(m, (0.0, 0.0, 0.0))
            totals.won[m] = (old3[0] + n, old3[1] + amount, old3[2] + float(days or 0))
        elif kind == KpiDeals.LOST:
            old = totals.lost.get(m, (0.0, 0.0))
            totals.lost[m] = (old[0] + n, old[1] + amount)
        elif kind == KpiDeals.OPEN:
            bucket = open_by_stage[int(stage_id)]
            bucket[0] += n
            bucket[1] += amount
            bucket[2] += float(weighted or 0)
        elif kind == KpiDeals.REACHED and filters.start <= m <= filters.end:
            bucket2 = reached[int(stage_id)]
            bucket2[0] += n
            bucket2[1] += amount
    totals.open_by_stage = {k: (v[0], v[1], v[2]) for k, v in open_by_stage.items()}
    totals.reached = {k: (v[0], v[1]) for k, v in reached.items()}
    return totals


def _funnel(totals: DealTotals) -> list[FunnelStage]:
    from lavka.sales.models import Stage

    ids = set(totals.reached) | set(totals.open_by_stage)
    if not ids:
        return []
    stages = Stage.objects.filter(pk__in=ids).select_related("pipeline")
    ordered = sorted(
        stages,
        key=lambda s: (
            s.pipeline.order,
            s.pipeline_id,
            {"open": 0, "won": 1, "lost": 2}.get(s.kind, 0),
            s.order,
            s.pk,
        ),
    )
    result = []
    for stage in ordered:
        reached = totals.reached.get(stage.pk, (0.0, 0.0))
        open_ = totals.open_by_stage.get(stage.pk, (0.0, 0.0, 0.0))
        result.append(
            FunnelStage(
                stage_id=stage.pk,
                name=stage.name,
                kind=stage.kind,
                reached=int(reached[0]),
                reached_amount=reached[1],
                open=int(open_[0]),
                open_amount=open_[1],
                weighted=open_[2],
            )
        )
    return result


def _plans(*, viewer: Any, filters: Filters) -> dict[Month, tuple[float, float | None]]:
    """Plan targets per month of the period (amount, orders), for the filters: a
    user's plans with an owner filter, a team's with a team filter, otherwise the
    teams' plans (or, without any, the users'). None with a tier or segment filter
    (plans are not set per tier or segment). Quarter plans are spread evenly."""
    from lavka.plans.models import Plan
    from lavka.plans.selectors import plans_visible_to

    if filters.tier_id is not None or filters.segment is not None:
        return {}
    first = month_day(filters.start - 2)  # a quarter that began up to two months before
    plans = plans_visible_to(viewer).filter(
        category__isnull=True, period_start__gte=first, period_start__lte=month_day(filters.end)
    )
    if filters.owner_id is not None:
        plans = plans.filter(level=Plan.Level.USER, user_id=filters.owner_id)
    elif filters.team_id is not None:
        plans = plans.filter(level=Plan.Level.TEAM, team_id=filters.team_id)
    rows = list(
        plans.values_list("level", "granularity", "period_start", "target_amount", "target_count")
    )
    if filters.owner_id is None and filters.team_id is None:
        team_rows = [r for r in rows if r[0] == Plan.Level.TEAM]
        rows = team_rows or [r for r in rows if r[0] == Plan.Level.USER]
    months: dict[Month, list[float | None]] = {}
    for _level, granularity, start, amount, count in rows:
        spread = 3 if granularity == Plan.Granularity.QUARTER else 1
        for k in range(spread):
            m = month_index(start) + k
            if not filters.start <= m <= filters.end:
                continue
            cell = months.setdefault(m, [0.0, None])
            cell[0] = float(cell[0] or 0) + float(Decimal(amount)) / spread
            if count is not None:
                cell[1] = float(cell[1] or 0) + count / spread
    return {m: (float(v[0] or 0), v[1]) for m, v in months.items()}


def cac_of(economics: Any) -> float | None:
    """The acquisition cost per new client from the economics report, if it has one."""
    if not isinstance(economics, dict) or "error" in economics:
        return None
    value = economics.get("cac")
    if isinstance(value, dict):
        for key in ("value", "overall", "total", "all", "amount"):
            if isinstance(value.get(key), int | float):
                value = value[key]
                break
        else:
            return None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _client_list(filters: Filters, **extra: Any) -> str:
    from urllib.parse import urlencode

    return urlencode({**filters.client_query(), **{k: str(v) for k, v in extra.items()}})


def kpi_dashboard(*, viewer: Any, run: ComputeRun, filters: Filters) -> Dashboard:
    """Every figure and chart of the dashboard for `filters`, scoped to `viewer`. About
    six queries: months, clients, CLV bins, deals, the stages named in the funnel and
    the plans."""
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics run", id=run.pk)
    report = (run.reports or {}).get("kpi") or {}
    length = filters.length
    first = min(filters.start - 2 * length, filters.end - TREND_MONTHS + 1)
    totals = _month_totals(viewer=viewer, run=run, filters=filters, first=first, last=filters.end)
    now = _period(totals, filters.start, filters.end)
    before = _period(totals, *filters.previous)

    snapshot = list(
        _rows(KpiClients, viewer=viewer, run=run, filters=filters, area=Area.CLIENTS)
        .values_list("stage", "abc", "xyz")
        .annotate(
            n=Sum("clients"), clv_n=Sum("clv_clients"), clv=Sum("clv"), rev=Sum("window_revenue")
        )
    )
    stage_counts = [0] * len(STAGES)
    counts = [[0] * 3 for _ in range(3)]
    revenue = [[0.0] * 3 for _ in range(3)]
    clv_sum, clv_n = 0.0, 0
    for stage, abc, xyz, n, n_clv, clv, rev in snapshot:
        stage_counts[stage] += int(n or 0)
        counts[abc][xyz] += int(n or 0)
        revenue[abc][xyz] += float(rev or 0)
        clv_sum += float(clv or 0)
        clv_n += int(n_clv or 0)
    clv_mean = _ratio(clv_sum, clv_n)

    bins_info = report.get("clv_bins") or {}
    step = float(bins_info.get("step") or 0)
    n_bins = int(bins_info.get("bins") or 0)
    clv_rows = dict(
        _rows(KpiClv, viewer=viewer, run=run, filters=filters, area=Area.CLIENTS)
        .values_list("bin")
        .annotate(n=Sum("clients"))
    )
    clv_bins = [
        ClvBin(
            index=k,
            low=step * k,
            high=None if k == n_bins - 1 else step * (k + 1),
            clients=int(clv_rows.get(k) or 0),
        )
        for k in range(n_bins)
    ]
    while clv_bins and not clv_bins[-1].clients:
        clv_bins.pop()

    deals = _deal_totals(viewer=viewer, run=run, filters=filters, first=filters.start - length)
    funnel = _funnel(deals)
    plans = _plans(viewer=viewer, filters=filters)
    plan_revenue = sum(v[0] for v in plans.values()) if plans else None
    plan_orders_values = [v[1] for v in plans.values() if v[1] is not None]
    plan_orders = sum(plan_orders_values) if plan_orders_values else None

    economics = (run.reports or {}).get("economics")
    cac = cac_of(economics)
    pipeline_amount = sum(v[1] for v in deals.open_by_stage.values())
    pipeline_weighted = sum(v[2] for v in deals.open_by_stage.values())
    has_deals = bool(deals.created or deals.won or deals.lost or deals.open_by_stage)
    no_deals = _("no deals yet")

    figures = [
        Figure("revenue", _("Revenue"), now.revenue, "money", before.revenue, plan_revenue),
        Figure("orders", _("Orders"), now.orders, "count", before.orders, plan_orders),
        Figure(
            "active",
            _("Active clients"),
            now.active,
            "count",
            before.active,
            note=_("bought in the period"),
        ),
        Figure(
            "new",
            _("New clients"),
            now.new,
            "count",
            before.new,
            note=_("first purchase in the period"),
            drill=_client_list(filters, cohort=month_key(filters.start)) if length == 1 else "",
        ),
        Figure(
            "lost",
            _("Lost clients"),
            now.lost,
            "count",
            before.lost,
            better="down",
            note=_("bought in the previous period, not in this one"),
        ),
        Figure("retention", _("Retention rate"), now.retention, "percent", before.retention),
        Figure("churn", _("Churn rate"), now.churn, "percent", before.churn, better="down"),
        Figure(
            "average_order",
            _("Average order"),
            _ratio(now.revenue, now.orders),
            "money",
            _ratio(before.revenue, before.orders),
        ),
        Figure(
            "frequency",
            _("Purchase frequency"),
            _ratio(now.orders, now.active),
            "ratio",
            _ratio(before.orders, before.active),
            note=_("orders per active client"),
        ),
        Figure(
            "clv",
            _("Average CLV"),
            clv_mean,
            "money",
            note=_("at the date of the scores"),
            drill=_client_list(filters, sort="-clv"),
            missing="" if clv_mean is not None else _("not enough data"),
        ),
        Figure(
            "cac",
            _("CAC"),
            cac,
            "money",
            better="down",
            note=_("acquisition cost per new client"),
            missing="" if cac is not None else _("no costs entered"),
        ),
        Figure(
            "clv_cac",
            _("CLV / CAC"),
            _ratio(clv_mean, cac),
            "ratio",
            missing="" if cac is not None and clv_mean is not None else _("no costs entered"),
        ),
        Figure(
            "pipeline",
            _("Open pipeline"),
            pipeline_amount if has_deals else None,
            "money",
            note=_("weighted by probability: %(amount)s")
            % {"amount": number_format(round(pipeline_weighted), 0, force_grouping=True)}
            if has_deals
            else "",
            missing="" if has_deals else no_deals,
        ),
        Figure(
            "win_rate",
            _("Win rate"),
            deals.win_rate(filters.start, filters.end),
            "percent",
            deals.win_rate(*filters.previous),
            note=_("won of the deals closed in the period"),
            missing="" if has_deals else no_deals,
        ),
        Figure(
            "cycle",
            _("Sales cycle"),
            deals.cycle(filters.start, filters.end),
            "days",
            deals.cycle(*filters.previous),
            better="down",
            note=_("days from creation to win"),
            missing="" if has_deals else no_deals,
        ),
    ]

    trend_first = min(filters.start, filters.end - TREND_MONTHS + 1)
    trend = []
    for m in range(trend_first, filters.end + 1):
        plan = plans.get(m)
        trend.append(
            {
                "month": month_key(m),
                "label": month_label(m),
                "revenue": round(totals.revenue(m, m), 2),
                "orders": int(totals.orders(m, m)),
                "active": int(totals.active(m, m)),
                "new": int(totals.new(m, m)),
                "plan": None if plan is None else round(plan[0], 2),
                "in_period": filters.start <= m <= filters.end,
            }
        )

    matrix = [
        [
            {
                "abc": ABC[a],
                "xyz": XYZ[x],
                "clients": counts[a][x],
                "revenue": revenue[a][x],
                "drill": _client_list(filters, abc=ABC[a], xyz=XYZ[x]),
            }
            for x in range(3)
        ]
        for a in range(3)
    ]
    stages = [
        {
            "code": code,
            "label": STAGE_LABELS[code],
            "clients": stage_counts[i],
            "drill": _client_list(filters, stage=code),
        }
        for i, code in enumerate(STAGES)
    ]
    whole = sees_whole_base(viewer)
    cohorts = (run.reports or {}).get("cohorts")
    if not isinstance(cohorts, dict) or "error" in cohorts or not cohorts.get("months"):
        cohorts = None
    months_available = None
    if report.get("first_month") and report.get("last_month"):
        months_available = (
            parse_month(report["first_month"]) or 0,
            parse_month(report["last_month"]) or 0,
        )
    return Dashboard(
        run=run,
        filters=filters,
        currency=run.currency,
        figures=figures,
        trend=trend,
        funnel=funnel,
        matrix=matrix,
        stages=stages,
        clv_bins=clv_bins,
        clv_without=int(clv_rows.get(-1) or 0),
        cohorts=cohorts if whole else None,
        cohorts_hidden=cohorts is not None and not whole,
        months_available=months_available,
        whole_base=whole,
    )


# --- filter choices ----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def filter_choices(*, viewer: Any, run: ComputeRun) -> dict[str, list[Choice]]:
    """Owners and teams the viewer's figures contain, the tiers and the segments (three
    queries)."""
    from lavka.clients.models import Tier
    from lavka.identity.models import Team, User

    rows = KpiClients.objects.filter(run_id=run.pk, grain=BY_WHO)
    scope = _scope(viewer, Area.CLIENTS)
    if scope is not None:
        rows = rows.filter(scope)
    pairs = set(rows.values_list("owner_id", "team_id").distinct().order_by())
    owner_ids = {o for o, _t in pairs if o > 0}
    team_ids = {t for _o, t in pairs if t > 0}
    names: dict[int, str] = {}
    teams: list[Choice] = []
    if owner_ids or team_ids:
        users = User.objects.filter(pk__in=owner_ids).only("first_name", "last_name", "username")
        names = {u.pk: (u.get_full_name() or u.username) for u in users}
        teams = [
            Choice(str(t.pk), t.name)
            for t in Team.objects.filter(pk__in=team_ids).only("name").order_by("name")
        ]
    owners = sorted((Choice(str(k), v) for k, v in names.items()), key=lambda c: c.label)
    tiers = [Choice(str(t.pk), t.name) for t in Tier.objects.order_by("order", "name")]
    segments = [Choice(str(s), str(SEGMENT_LABELS[s])) for s in SEGMENTS]
    return {"owners": owners, "teams": teams, "tiers": tiers, "segments": segments}


def kpi_run(*, viewer: Any) -> ComputeRun | None:
    """The current run, if it has the dashboard's figures."""
    from lavka.analytics.selectors import run_current

    run = run_current(viewer=viewer)
    return run


__all__ = [
    "ALL",
    "Choice",
    "Dashboard",
    "Figure",
    "Filters",
    "cac_of",
    "filter_choices",
    "filters_parse",
    "kpi_dashboard",
    "kpi_run",
    "month_key",
    "sees_whole_base",
]
