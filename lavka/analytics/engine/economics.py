"""Lifecycle economics: what a client costs to acquire and to keep, when a new client
pays off, what is lost with the clients who left, and what a rise in retention would
do to profit (seeds 000, 001, 004). Pure functions over NumPy arrays; days are counted
since 1970-01-01, money is in one currency, `margin` is a share (0.3 for 30%).

Definitions:

- **CAC** (customer acquisition cost) = acquisition costs / new clients, where a new
  client is one whose first purchase falls in the period (`cac`).
- **Retention cost per retained client** = (retention costs + cost of touches) /
  clients who had bought before the period and bought again in it.
- **Life month** k (1, 2, ...) of a client: days [(k-1) m, k m) after their first
  purchase, m = 365.25 / 12 days. The first purchase is in life month 1.
- **Average cumulative revenue by life month** (`life_curve`): for each life month k,
  the revenue in month k of the clients observed through the whole of it, divided by
  their number; summed over months 1..K it is what an average client brings in their
  first K months. Clients acquired recently count only for the months they have lived
  through, so the curve is not dragged down by months that have not happened yet.
- **Payback month** (`payback_month`): the first life month K in which margin x the
  average cumulative revenue reaches CAC; none within the curve's months otherwise.
- **Paying off only after a year** (`first_year_payback`): among clients acquired at
  least a year ago, those whose margin in their first 12 life months stayed below
  their acquisition cost; split into those who paid off later and those not yet.
- **Cost of loss** (`cost_of_loss`): for lost clients, the lifetime value they would
  still bring had they stayed, CLV / P(alive) (the model's CLV is P(alive) times the
  value of an active client with the same history). Clients without a CLV (one
  purchase, or no spend model) are counted but carry no value.
- **Retention simulation** (`retention_simulation`), see its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lavka.analytics.engine import bgnbd
from lavka.analytics.engine.units import DAYS_PER_MONTH

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

YEAR_DAYS = 365.25
LIFE_MONTHS = 60
# The simulation removes at most this share of the mean dropout after a purchase (a
# retention already above 1 - x points cannot rise by x points).
MAX_DROPOUT_CUT = 0.99


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when the denominator is not positive."""
    return float(numerator) / float(denominator) if denominator > 0 else None


def rows_of(keys: IntArray, client_ids: IntArray) -> IntArray:
    """Row in `client_ids` (ascending) of each key, -1 for a key not there. Ids are
    compact integers, so a table indexed by id finds them without sorting."""
    result = np.full(keys.size, -1, dtype=np.int64)
    if client_ids.size == 0 or keys.size == 0:
        return result
    low, high = int(client_ids[0]), int(client_ids[-1])
    inside = (keys >= low) & (keys <= high)
    if high - low > 8 * client_ids.size + 1_000_000:
        at = np.searchsorted(client_ids, keys[inside])
        at = np.minimum(at, client_ids.size - 1)
        result[inside] = np.where(client_ids[at] == keys[inside], at, -1)
        return result
    table = np.full(high - low + 1, -1, dtype=np.int64)
    table[client_ids - low] = np.arange(client_ids.size)
    result[inside] = table[keys[inside] - low]
    return result


def cac(cost: float, new_clients: int) -> float | None:
    """Acquisition cost per new client; None without new clients or without costs."""
    return ratio(cost, new_clients) if cost > 0 else None


@dataclass(frozen=True, slots=True)
class LifeCurve:
    """Per group (rows) and life month (columns, month 1 first): revenue of the
    clients observed through that month, and their number."""

    revenue: FloatArray
    exposed: FloatArray

    def average(self) -> FloatArray:
        """Average revenue per client in each life month (NaN where nobody is observed)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.exposed > 0, self.revenue / np.maximum(self.exposed, 1), np.nan)

    def cumulative(self) -> FloatArray:
        """Average cumulative revenue per client through each life month; NaN from the
        first month nobody has lived through."""
        average = self.average()
        total = np.cumsum(np.nan_to_num(average), axis=-1)
        observed = np.cumprod(~np.isnan(average), axis=-1).astype(bool)
        return np.where(observed, total, np.nan)


def life_curve(
    *,
    order_rows: IntArray,
    order_day: IntArray,
    amount: FloatArray,
    first_on: IntArray,
    as_of_day: int,
    group: IntArray,
    n_groups: int,
    months: int = LIFE_MONTHS,
) -> LifeCurve:
    """Revenue by life month per group (see the module docstring). `order_rows` gives
    each order's client row (-1: ignored), `group` each client's group (0..n_groups-1)."""
    lived = np.floor((as_of_day - first_on) / DAYS_PER_MONTH).astype(np.int64)
    lived = np.clip(lived, 0, months)  # whole life months observed
    known = order_rows >= 0
    rows = order_rows[known]
    month = np.floor((order_day[known] - first_on[rows]) / DAYS_PER_MONTH).astype(np.int64)
    keep = (month >= 0) & (month < lived[rows])
    cells = group[rows[keep]] * months + month[keep]
    revenue = np.bincount(cells, weights=amount[known][keep], minlength=n_groups * months)
    # exposed[g, k] = clients of g who lived through month k+1 = lived >= k+1.
    counts = np.bincount(group * (months + 1) + lived, minlength=n_groups * (months + 1))
    counts = counts.reshape(n_groups, months + 1)
    at_least = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]  # lived >= j
    return LifeCurve(
        revenue=revenue.reshape(n_groups, months).astype(np.float64),
        exposed=at_least[:, 1:].astype(np.float64),
    )


def payback_month(cumulative: FloatArray, cost: float | None, margin: float) -> int | None:
    """The first life month (1-based) in which margin x `cumulative` (average
    cumulative revenue per client) reaches `cost`; None when it never does within the
    observed months, or there is no cost."""
    if cost is None or not np.isfinite(cost) or margin <= 0:
        return None
    with np.errstate(invalid="ignore"):
        reached = np.flatnonzero(margin * cumulative >= cost)
    return int(reached[0]) + 1 if reached.size else None


@dataclass(frozen=True, slots=True)
class FirstYearPayback:
    clients: int  # acquired at least a year before the date, with a known cost
    paid_in_year: int
    paid_later: int
    not_yet: int

    @property
    def share_after_year(self) -> float | None:
        """Share of `clients` that did not pay off within their first year."""
        return ratio(self.paid_later + self.not_yet, self.clients)


def first_year_payback(
    *,
    revenue_first_year: FloatArray,
    revenue_total: FloatArray,
    cost: FloatArray,
    tenure_days: IntArray,
    margin: float,
) -> FirstYearPayback:
    """Per client: did margin x revenue of the first 12 life months cover their
    acquisition cost (`cost`, NaN = unknown)? Clients acquired less than a year before
    the date are left out."""
    eligible = (tenure_days >= YEAR_DAYS) & np.isfinite(cost)
    covered_in_year = margin * revenue_first_year >= cost
    covered = margin * revenue_total >= cost
    in_year = eligible & covered_in_year
    later = eligible & ~covered_in_year & covered
    return FirstYearPayback(
        clients=int(eligible.sum()),
        paid_in_year=int(in_year.sum()),
        paid_later=int(later.sum()),
        not_yet=int((eligible & ~covered).sum()),
    )


@dataclass(frozen=True, slots=True)
class CostOfLoss:
    clients: int  # lost clients
    with_value: int  # of them, with a CLV
    value: float  # sum of CLV / P(alive) over those

    @property
    def per_client(self) -> float | None:
        return ratio(self.value, self.with_value)


def cost_of_loss(*, clv: FloatArray, p_alive: FloatArray, lost: NDArray[np.bool_]) -> CostOfLoss:
    """The lifetime value lost clients would still bring had they stayed (see the
    module docstring); `clv` and `p_alive` NaN where the model gives no number."""
    usable = lost & np.isfinite(clv) & np.isfinite(p_alive) & (p_alive > 0)
    value = float(np.sum(clv[usable] / p_alive[usable]))
    return CostOfLoss(clients=int(lost.sum()), with_value=int(usable.sum()), value=value)


@dataclass(frozen=True, slots=True)
class Scenario:
    retention: float  # chance of staying after a purchase, 1 - E[p]
    p_alive: float  # mean over the clients
    purchases_365: float  # expected purchases of all clients in the next 365 days
    revenue: float  # expected revenue over the horizon, discounted
    profit: float  # margin x revenue - costs


@dataclass(frozen=True, slots=True)
class RetentionSimulation:
    uplift_points: float
    months: int
    clients: int
    costs: float
    base: Scenario
    scenario: Scenario
    b: float  # the fitted b and the b giving the higher retention
    b_scenario: float

    @property
    def clv_base(self) -> float | None:
        return ratio(self.base.revenue, self.clients)

    @property
    def clv_scenario(self) -> float | None:
        return ratio(self.scenario.revenue, self.clients)

    @property
    def profit_change(self) -> float:
        return self.scenario.profit - self.base.profit

    @property
    def profit_change_share(self) -> float | None:
        """Relative change of profit; None when the base profit is not positive."""
        return ratio(self.profit_change, self.base.profit) if self.base.profit > 0 else None

    @property
    def revenue_change_share(self) -> float | None:
        return ratio(self.scenario.revenue - self.base.revenue, self.base.revenue)


def raised_b(a: float, b: float, uplift_points: float) -> float:
    """The b' of Beta(a, b') whose mean dropout a / (a + b') is the fitted a / (a + b)
    less `uplift_points` percentage points, or 1% of the fitted dropout where that
    would leave less (`MAX_DROPOUT_CUT`): the scenario never lowers retention."""
    dropout = a / (a + b)
    target = max(dropout - uplift_points / 100.0, dropout * (1.0 - MAX_DROPOUT_CUT))
    return a * (1.0 - target) / target


def _scenario(
    params: bgnbd.BgNbdFit,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    spend: FloatArray,
    *,
    months: int,
    monthly_discount_rate: float,
    margin: float,
    costs: float,
) -> Scenario:
    scored = bgnbd.score(
        params,
        x,
        t_x,
        T,
        horizons_days=(365,),
        months=months,
        monthly_discount_rate=monthly_discount_rate,
    )
    revenue = float(np.dot(spend, scored.discounted_purchases))
    return Scenario(
        retention=params.b / (params.a + params.b),
        p_alive=float(scored.p_alive.mean()) if x.size else 0.0,
        purchases_365=float(scored.expected[365].sum()),
        revenue=revenue,
        profit=margin * revenue - costs,
    )


def retention_simulation(
    params: bgnbd.BgNbdFit,
    *,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    spend: FloatArray,
    uplift_points: float,
    months: int,
    monthly_discount_rate: float,
    margin: float,
    costs: float,
) -> RetentionSimulation:
    """What a rise in retention would do to profit, on the fitted BG/NBD model.

    In BG/NBD a client leaves right after a purchase with probability p, p ~ Beta(a, b)
    across clients, so the chance of staying after a purchase -- the retention rate --
    is 1 - a / (a + b) on average. The scenario raises it by `uplift_points`
    percentage points by giving the dropout probability the distribution Beta(a, b')
    with a / (a + b') lower by that much (`raised_b`; the purchase rates are unchanged).
    Every client is then rescored with (r, alpha, a, b'): P(alive) given their own
    history (so those who would have stayed are still here) and their expected
    purchases over the next `months`, discounted at `monthly_discount_rate` a month as
    in the CLV. Expected revenue = sum over clients of spend x discounted expected
    purchases (`spend` is the expected order value per client, the Gamma-Gamma
    estimate where there is one). Profit = margin x revenue - `costs`, the costs of
    serving the base over the horizon, the same in both cases (what it would take to
    raise retention is not modelled). The result is the expected revenue, profit and
    average CLV in the base case and the scenario, and the change of profit.
    x, t_x, T are in the fit's unit (days)."""
    xs, txs, Ts = bgnbd.validate(x, t_x, T)
    spend_values = np.nan_to_num(np.asarray(spend, dtype=np.float64))
    b_scenario = raised_b(params.a, params.b, uplift_points)
    raised = bgnbd.BgNbdFit(
        r=params.r,
        alpha=params.alpha,
        a=params.a,
        b=b_scenario,
        log_likelihood=params.log_likelihood,
        n=params.n,
        converged=params.converged,
        iterations=params.iterations,
        unit=params.unit,
    )
    base, scenario = (
        _scenario(
            fit,
            xs,
            txs,
            Ts,
            spend_values,
            months=months,
            monthly_discount_rate=monthly_discount_rate,
            margin=margin,
            costs=costs,
        )
        for fit in (params, raised)
    )
    return RetentionSimulation(
        uplift_points=uplift_points,
        months=months,
        clients=int(xs.size),
        costs=costs,
        base=base,
        scenario=scenario,
        b=params.b,
        b_scenario=b_scenario,
    )
