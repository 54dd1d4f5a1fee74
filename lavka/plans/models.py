"""Sales plans: a target for a user or a team (optionally for one product category) in
one period (a month or a quarter), in the reporting currency."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.core.models import VersionedModel
from lavka.identity.models import Team
from lavka.plans.periods import Granularity, Period
from lavka.sales.models import ProductCategory


class Plan(VersionedModel):
    """A target. A user's plan has `user` and the team the user was in when it was set
    (the access policy reads it like a record's owner and team); a team's plan has only
    `team`. `generated_*` keep what generation proposed, so that the hand adjustment
    (target minus generated) stays visible; `basis` keeps the generation's inputs."""

    class Level(models.TextChoices):
        USER = "user", _("User")
        TEAM = "team", _("Team")

    Granularity = Granularity

    level = models.CharField(_("level"), max_length=4, choices=Level.choices)
    period_start = models.DateField(_("period start"))
    granularity = models.CharField(
        _("period"), max_length=7, choices=Granularity.choices, default=Granularity.MONTH
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("product category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    currency = models.CharField(_("currency"), max_length=3)
    target_amount = models.DecimalField(_("target amount"), max_digits=18, decimal_places=2)
    target_count = models.PositiveIntegerField(_("target number of orders"), null=True, blank=True)
    generated_amount = models.DecimalField(
        _("generated amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    generated_count = models.PositiveIntegerField(
        _("generated number of orders"), null=True, blank=True
    )
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    basis = models.JSONField(_("generation inputs"), default=dict, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["period_start", "granularity", "level", "id"]
        indexes = [models.Index(fields=["period_start", "granularity"], name="plan_period_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level="user") & Q(user__isnull=False))
                | (Q(level="team") & Q(user__isnull=True) & Q(team__isnull=False)),
                name="plan_subject",
            ),
            models.CheckConstraint(condition=Q(target_amount__gte=0), name="plan_target_positive"),
            models.UniqueConstraint(
                fields=["period_start", "granularity", "user"],
                condition=Q(level="user", category__isnull=True),
                name="plan_unique_user",
            ),
            models.UniqueConstraint(
                fields=["period_start", "granularity", "user", "category"],
                condition=Q(level="user", category__isnull=False),
                name="plan_unique_user_category",
            ),
            models.UniqueConstraint(
                fields=["period_start", "granularity", "team"],
                condition=Q(level="team", category__isnull=True),
                name="plan_unique_team",
            ),
            models.UniqueConstraint(
                fields=["period_start", "granularity", "team", "category"],
                condition=Q(level="team", category__isnull=False),
                name="plan_unique_team_category",
            ),
        ]

    def __str__(self) -> str:
        subject = self.user if self.level == self.Level.USER else self.team
        return f"{subject} · {self.period.label}"

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.granularity)

    @property
    def adjustment(self) -> Decimal | None:
        """Target minus the generated value (None for a plan typed in by hand)."""
        if self.generated_amount is None:
            return None
        return Decimal(self.target_amount) - Decimal(self.generated_amount)

    @property
    def adjustment_size(self) -> Decimal | None:
        adjustment = self.adjustment
        return None if adjustment is None else abs(adjustment)
