"""The KPI dashboard's pre-aggregated figures, written by the `kpi` report after every
recompute (`lavka.analytics.kpi`) and read by `lavka.analytics.dashboard`.

Every row is keyed by the run and by the dimensions the dashboard filters on: the
client's owner and team (the access policy filters rows by them as it filters clients),
tier and RFM segment at the run's date. Each table also holds roll-ups: `grain` says
which dimensions a row keeps (a bit mask of `BY_WHO` = owner and team, `BY_TIER`,
`BY_SEGMENT`); a dimension rolled up holds `ALL` (-1). So a figure for any combination
of filters is one small GROUP BY over the rows of a single grain: a viewer who sees
the whole base and filters nothing reads grain 0, a handful of rows per month.

Codes: owner, team and tier 0 = none; segment = `engine.rfm.SEGMENTS` index, 8 = a
client with no purchase yet (deals only); stage = `engine.lifecycle.STAGES` index.
"""

from __future__ import annotations

from django.db import models

from lavka.analytics.models.runs import ComputeRun

__all__ = ["KpiClients", "KpiClv", "KpiDeals", "KpiMonth"]

ALL = -1
BY_WHO, BY_TIER, BY_SEGMENT = 1, 2, 4
DETAIL = BY_WHO | BY_TIER | BY_SEGMENT


class _Keyed(models.Model):
    # No database constraint on the run (rows are COPYed in bulk, like the scores);
    # they are deleted with the run.
    run = models.ForeignKey(
        ComputeRun, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    grain = models.SmallIntegerField()
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    tier_id = models.BigIntegerField()
    segment = models.SmallIntegerField()

    class Meta:
        abstract = True


class KpiMonth(_Keyed):
    """Clients who bought in a month, their orders and revenue (reporting currency), by
    `gap`: 0 = the client's first purchase ever, 1..GAP_MAX = months since the client's
    previous purchase month, GAP_MAX + 1 = longer ago. Distinct buyers over any run of
    months [a, b] are the rows with gap 0 or gap > month - a (exact for runs up to
    GAP_MAX + 1 months)."""

    GAP_MAX = 24

    month = models.DateField()  # the first day of the month
    gap = models.SmallIntegerField()
    clients = models.IntegerField()
    orders = models.IntegerField()
    revenue = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["run", "grain", "month"], name="kpi_month_idx")]

    def __str__(self) -> str:
        return f"kpi {self.month} in run {self.run_id}"


class KpiClients(_Keyed):
    """Clients at the run's date by lifecycle stage and ABC-XYZ class: how many, the
    sum of their CLV over the clients that have one, and their revenue in the ABC/XYZ
    window."""

    stage = models.SmallIntegerField()
    abc = models.SmallIntegerField()
    xyz = models.SmallIntegerField()
    clients = models.IntegerField()
    clv_clients = models.IntegerField()
    clv = models.FloatField()
    window_revenue = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["run", "grain"], name="kpi_clients_idx")]

    def __str__(self) -> str:
        return f"kpi clients in run {self.run_id}"


class KpiClv(_Keyed):
    """The CLV distribution: clients per bin (edges in the run's `reports["kpi"]
    ["clv_bins"]`; bin -1 = no CLV: not enough data)."""

    bin = models.SmallIntegerField()
    clients = models.IntegerField()
    clv = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["run", "grain"], name="kpi_clv_idx")]

    def __str__(self) -> str:
        return f"kpi clv bin {self.bin} in run {self.run_id}"


class KpiDeals(_Keyed):
    """Deals by what happened in a month, keyed by the deal's owner and team and its
    client's tier and segment. `kind`: CREATED, WON (days = the sum of days from
    creation to the win), LOST in `month`; OPEN now (month = the expected close month,
    1970-01-01 without one; `weighted` = amount x probability); REACHED: deals created
    in `month` that entered `stage_id` at some time (the funnel). Amounts in the
    reporting currency at the latest rate."""

    CREATED, WON, LOST, OPEN, REACHED = range(5)

    kind = models.SmallIntegerField()
    month = models.DateField()
    stage_id = models.BigIntegerField(default=0)
    deals = models.IntegerField()
    amount = models.FloatField()
    weighted = models.FloatField(default=0)
    days = models.FloatField(default=0)

    class Meta:
        indexes = [models.Index(fields=["run", "grain", "kind"], name="kpi_deals_idx")]

    def __str__(self) -> str:
        return f"kpi deals {self.kind} {self.month} in run {self.run_id}"
