"""What a recompute stores: one `ComputeRun` per recompute (its date, parameters,
fit quality, counts and timings), a `ClientScore` per client that bought anything and
a `ProductScore` per product sold, both keyed by (run, id). Old runs stay, so that
movement between segments can be shown; the run with `is_current` is the one every
page reads. `AnalyticsSettings` is the one row of configuration (thresholds, shares,
the CLV horizon)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.analytics.engine.abcxyz import DEFAULT_ABC_SHARES, DEFAULT_XYZ_THRESHOLDS
from lavka.analytics.engine.rfm import SEGMENT_LABELS, SEGMENTS

SEGMENT_CHOICES = [(i, SEGMENT_LABELS[s]) for i, s in enumerate(SEGMENTS)]
ABC_CHOICES = [(0, "A"), (1, "B"), (2, "C")]
XYZ_CHOICES = [(0, "X"), (1, "Y"), (2, "Z")]


class ComputeRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("done")
        FAILED = "failed", _("failed")

    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    is_current = models.BooleanField(_("current"), default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    # {"bgnbd": {...} | {"not_enough_data": ...}, "gamma_gamma": ..., "settings": ...}
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    bgnbd_log_likelihood = models.FloatField(null=True, blank=True)
    gamma_gamma_log_likelihood = models.FloatField(null=True, blank=True)
    clients = models.PositiveIntegerField(_("clients"), default=0)
    orders = models.PositiveBigIntegerField(_("orders"), default=0)
    orders_skipped = models.PositiveBigIntegerField(default=0)
    # {segment code: clients}
    segment_counts = models.JSONField(default=dict, blank=True)
    # {"counts": 3x3, "revenue": 3x3} rows A, B, C by columns X, Y, Z
    abc_xyz = models.JSONField(default=dict, blank=True)
    product_abc_xyz = models.JSONField(default=dict, blank=True)
    # [[step, seconds], ...] in the order they ran
    step_times = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    # What the reports after the scores computed (`reports.py`): {name: data}, and
    # [[step, seconds], ...] of those steps. Empty until they have run.
    reports = models.JSONField(default=dict, blank=True)
    report_times = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("analytics run")
        verbose_name_plural = _("analytics runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="run_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.as_of.isoformat()} #{self.pk}"


class ClientScore(models.Model):
    """A client's scores in one run. Written in bulk (COPY); never edited. Floats are
    NULL where the model gives no number: `purchases_reason` / `spend_reason` say why
    (`engine.sufficiency.Reason`, 0 = a number)."""

    pk = models.CompositePrimaryKey("run_id", "client_id")
    # No database constraint on either key: a million rows written by COPY would queue a
    # million deferred checks for the commit (3.4 s of a 21 s recompute at 1M clients).
    # The run's scores are written by the run itself and deleted with it (runs_prune).
    # No index of their own either: every read names the run, so the primary key
    # (run, client) serves them, and each index cost the write of a million rows
    # about 0.6 s.
    run = models.ForeignKey(
        ComputeRun,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    first_on = models.DateField()
    last_on = models.DateField()
    recency_days = models.IntegerField()
    frequency = models.IntegerField()  # purchase days
    revenue = models.FloatField()  # all purchases up to as_of, reporting currency
    r = models.SmallIntegerField()
    f = models.SmallIntegerField()
    m = models.SmallIntegerField()
    segment = models.SmallIntegerField(choices=SEGMENT_CHOICES)
    abc = models.SmallIntegerField(choices=ABC_CHOICES)
    xyz = models.SmallIntegerField(choices=XYZ_CHOICES)
    window_revenue = models.FloatField()  # revenue in the ABC/XYZ window
    p_alive = models.FloatField(null=True)
    expected_30 = models.FloatField(null=True)
    expected_90 = models.FloatField(null=True)
    expected_365 = models.FloatField(null=True)
    expected_spend = models.FloatField(null=True)
    clv = models.FloatField(null=True)
    next_purchase_on = models.DateField(null=True)
    purchases_reason = models.SmallIntegerField(default=0)
    spend_reason = models.SmallIntegerField(default=0)
    # Lifecycle stage (`lifecycle.STAGES` index) and days since the first purchase.
    stage = models.SmallIntegerField(default=0)
    lifecycle_days = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("client score")
        verbose_name_plural = _("client scores")
        # The client list filtered or sorted by a score (lavka.analytics.filters) reads
        # a page of an ABC-XYZ cell by CLV (the dashboard's drill-down) in this index's
        # order and stops after it; "everyone by CLV" merges the nine cells' ranges.
        # One index only: each costs the recompute's write of a million rows some 3 s
        # (bench/client_list_scores/README.md).
        indexes = [
            models.Index(fields=["run", "abc", "xyz", "clv"], name="score_run_abc_xyz_clv"),
        ]

    def __str__(self) -> str:
        return f"client {self.client_id} in run {self.run_id}"


class ProductScore(models.Model):
    """A product's ABC and XYZ class in one run (by revenue in the window)."""

    pk = models.CompositePrimaryKey("run_id", "product_id")
    run = models.ForeignKey(
        ComputeRun, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    product = models.ForeignKey(
        "sales.Product", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    revenue = models.FloatField()
    abc = models.SmallIntegerField(choices=ABC_CHOICES)
    xyz = models.SmallIntegerField(choices=XYZ_CHOICES)
    cv = models.FloatField(null=True)

    class Meta:
        verbose_name = _("product score")
        verbose_name_plural = _("product scores")

    def __str__(self) -> str:
        return f"product {self.product_id} in run {self.run_id}"


def _default_abc() -> list[float]:
    return list(DEFAULT_ABC_SHARES)


def _default_xyz() -> list[float]:
    return list(DEFAULT_XYZ_THRESHOLDS)


class AnalyticsSettings(models.Model):
    """The one row of analytics configuration (pk = 1), changed with
    `analytics_settings_update` (the economics fields with
    `costs.economics_settings_update`). Empty RFM thresholds mean quintiles of the
    base."""

    abc_shares = models.JSONField(default=_default_abc)
    xyz_thresholds = models.JSONField(default=_default_xyz)
    window_months = models.PositiveSmallIntegerField(default=12)
    rfm_recency_days = models.JSONField(default=list, blank=True)
    rfm_frequency = models.JSONField(default=list, blank=True)
    rfm_monetary = models.JSONField(default=list, blank=True)
    clv_months = models.PositiveSmallIntegerField(default=12)
    monthly_discount_rate = models.FloatField(default=0.01)
    keep_daily_runs = models.PositiveSmallIntegerField(default=14)
    # Economics (`lavka.analytics.costs.economics_settings_update`): the gross margin
    # that turns revenue into profit, what one touch costs by kind ({kind: "amount"},
    # reporting currency) and what an hour of contact time costs, and the rise in
    # retention to simulate (percentage points).
    gross_margin_percent = models.FloatField(default=30.0)
    touch_costs = models.JSONField(default=dict, blank=True)
    contact_hour_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    retention_uplift_points = models.FloatField(default=5.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")

    def __str__(self) -> str:
        return "analytics settings"
