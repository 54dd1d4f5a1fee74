"""Deals: a sale in progress, its products, and its way through the stages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lavka.clients.models import Client, Person
from lavka.core.models import SoftDeleteModel, VersionedModel
from lavka.identity.models import OwnedModel
from lavka.sales.models.catalogue import Product
from lavka.sales.models.pipeline import Pipeline, Stage

# Board positions are spaced this far apart, so a card dropped between two others
# takes the midpoint; only after ~10 drops into the same gap do the cards below it
# shift (see services.deals.deal_move).
POSITION_STEP = 1024


class Competitor(models.Model):
    """A company we compete with for deals (a managed list, grown as deals name them)."""

    name = models.CharField(_("name"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Deal(OwnedModel, SoftDeleteModel, VersionedModel):
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="deals"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    # The stage belongs to the pipeline; the pipeline is kept on the deal too so that
    # lists and forecasts filter by it without a join.
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="deals",
        db_index=False,  # deal_board_idx starts with the stage
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    expected_close_on = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=0)
    competitors = models.ManyToManyField(
        Competitor, verbose_name=_("competitors"), blank=True, related_name="deals"
    )
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    won_at = models.DateTimeField(_("won"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost"), null=True, blank=True)
    # The card's place in its board column: ascending, ties broken by id.
    position = models.BigIntegerField(default=0, editable=False)
    source = models.CharField(_("source"), max_length=100, blank=True)
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["position", "id"]
        indexes = [
            # A board column's page is a range of this index: WHERE stage = S AND
            # (position, id) > cursor ORDER BY position, id LIMIT n.
            models.Index(
                fields=["stage", "position", "id"],
                name="deal_board_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            # The same for a rep who sees only their own deals.
            models.Index(
                fields=["owner", "stage", "position", "id"],
                name="deal_owner_board_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["team", "stage"], name="deal_team_stage_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="deal_probability_percent"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class DealLine(models.Model):
    """A product on a deal: quantity, unit price in the deal's currency, discount."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=0
    )
    amount = models.DecimalField(_("line total"), max_digits=18, decimal_places=2)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["deal", "order", "id"]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class DealStageChange(models.Model):
    """One step of a deal's way through the stages (the first has no `from_stage`).
    Time spent in a stage is the gap to the next step."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", db_index=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["deal", "changed_at", "id"]
        indexes = [models.Index(fields=["to_stage", "changed_at"], name="deal_stage_entered_idx")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


class DealColumnTotal(models.Model):
    """How many live deals a board column holds and their sum, per owner, team and
    currency: what the board's column heads show, read in a few rows instead of an
    aggregate over every deal.

    Kept by database triggers on sales_deal (migration 0003), so every write path
    keeps it right: the services, the trash's generic restore, bulk imports, client
    merges and raw updates alike. `owner_id` and `team_id` are plain numbers (0: no
    team) so that the access scope filters these rows as it filters deals."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+", db_index=False)
    owner_id = models.BigIntegerField()
    team_id = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    deals = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=24, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "owner_id", "team_id", "currency"], name="deal_column_total_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage_id}/{self.owner_id}/{self.currency}: {self.deals}"
