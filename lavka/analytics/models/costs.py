"""Costs of acquiring and keeping clients, typed in per month by channel and/or
campaign (`lavka.analytics.costs` writes them; the economics report reads them).

A cost of kind *acquisition* with a channel is matched to the clients of that channel
(`Client.source`); one without a channel counts for the whole company. A cost of kind
*retention* (loyalty programmes, mailings, gifts) adds to the cost of touches. Amounts
are kept in the currency they were entered in and converted to the reporting currency
when the report runs, at the latest rate on or before the month's last day."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.core.models import SoftDeleteModel, VersionedModel

__all__ = ["CostEntry"]


class CostEntry(SoftDeleteModel, VersionedModel):
    class Kind(models.TextChoices):
        ACQUISITION = "acquisition", _("Acquisition")
        RETENTION = "retention", _("Retention")

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=100, blank=True)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("cost")
        verbose_name_plural = _("costs")
        ordering = ["-month", "kind", "channel", "campaign", "id"]
        indexes = [models.Index(fields=["month", "kind"], name="cost_month_kind_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="cost_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(kind__in=["acquisition", "retention"]), name="cost_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        label = self.campaign or self.channel or self.get_kind_display()
        return f"{label} {self.month:%Y-%m}"
