"""Who buys what and when (`lavka.analytics.buying`): per client and run, the product
category due first with its repeat cycle, the date the client is expected to buy next,
and the product to offer, with why."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lavka.analytics.models.runs import ComputeRun

__all__ = ["ClientInsight"]


class ClientInsight(models.Model):
    """One row per client scored in a run, written in bulk (COPY) by the `buying`
    report; never edited. No database constraint on any key, like `ClientScore`.

    `due_on` is what the due-to-buy list sorts on: the earlier of the due category's
    expected date (`category_due_on`) and the model's next purchase date
    (`next_purchase_on`, copied from the client's score). `last_on`, `clv` and
    `leave_probability` are copied from the score too, so that the list is one query
    over one table."""

    pk = models.CompositePrimaryKey("run_id", "client_id")
    run = models.ForeignKey(
        ComputeRun, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    due_on = models.DateField(null=True)
    next_purchase_on = models.DateField(null=True)
    due_category = models.ForeignKey(
        "sales.ProductCategory",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    category_due_on = models.DateField(null=True)
    cycle_days = models.FloatField(null=True)  # median days between purchases
    category_purchases = models.IntegerField(default=0)  # purchase days in the category
    category_last_on = models.DateField(null=True)
    product = models.ForeignKey(
        "sales.Product",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    because = models.ForeignKey(
        "sales.Product",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    offer_score = models.FloatField(null=True)  # sum of cosines (engine.copurchase)
    offer_share = models.FloatField(null=True)  # of `because`'s buyers, who bought `product`
    last_on = models.DateField()
    clv = models.FloatField(null=True)
    leave_probability = models.FloatField(null=True)  # 1 - P(alive)

    # Only the primary key (run, client) and (run, due_on) are indexed: every read
    # starts from a run, and each index slows the COPY of a million rows.

    class Meta:
        verbose_name = _("client insight")
        verbose_name_plural = _("client insights")
        indexes = [models.Index(fields=["run", "due_on"], name="insight_run_due_idx")]

    def __str__(self) -> str:
        return f"client {self.client_id} in run {self.run_id}"
