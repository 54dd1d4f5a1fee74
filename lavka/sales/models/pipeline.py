"""Pipelines and their stages: data that administrators edit, not code."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

STAGE_COLOURS = ("neutral", "accent", "good", "warn", "risk")


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=120)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    """A column of a pipeline. `kind` says whether a deal in it is still open, won or
    lost; `probability` is what a deal gets when it enters the stage."""

    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=0)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices, default=Kind.OPEN)
    colour = models.CharField(_("colour"), max_length=16, default="neutral")
    # A deleted stage that deals have passed through stays, hidden, so their history
    # keeps its name and the time spent in it.
    is_archived = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="stage_probability_percent"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN
