"""Duplicate candidates and merges (kept so a merge can be undone)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lavka.clients.models.client import Client


class DuplicateCandidate(models.Model):
    """Two clients that look like the same one; `a_id < b_id` always."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not a duplicate")

    a = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("similarity, %"))
    reasons = models.JSONField(_("why"), default=list)  # ["email", "phone", "inn", "name"]
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    detected_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(a__lt=models.F("b")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_open_idx")]

    def __str__(self) -> str:
        return f"{self.a_id} ~ {self.b_id} ({self.score}%)"


class ClientMerge(models.Model):
    """A merge of `merged` into `survivor`, with what is needed to undo it: the
    survivor's fields before, and the ids of every row moved from one to the other."""

    survivor = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    survivor_before = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)  # {"touchpoints": [ids], "contracts": [ids], ...}
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.survivor_id}"
