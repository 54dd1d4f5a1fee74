"""The key-account toolkit's records (seed 003, tools 1-5).

`KeyAccount` marks a client as key and names the responsible manager (its owner; the
key-accounts area's scopes apply to it). Records hanging off a key account (stage
history, stakeholders, influence actions) are visible and editable exactly when the
key account is. Decision stages and the playbook are data administrators edit.
`Relationship` is the company's shared knowledge of who knows whom.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lavka.clients.models import Client, Person, Task, Touchpoint
from lavka.identity.models import OwnedModel
from lavka.sales.models import Deal


class DecisionStage(models.Model):
    """A stage of the client's own buying decision (Tool 1): the buyer's side, not
    our pipeline. Names are data, written in the server's language."""

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_archived = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("decision stage")
        verbose_name_plural = _("decision stages")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class PlaybookAction(models.Model):
    """An action that influences the decision at a stage (Tool 4), configurable."""

    stage = models.ForeignKey(
        DecisionStage, on_delete=models.CASCADE, related_name="playbook_actions"
    )
    title = models.CharField(_("action"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Touchpoint.Kind.choices, default=Touchpoint.Kind.MEETING
    )
    due_in_days = models.PositiveSmallIntegerField(_("due in, days"), default=7)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("playbook action")
        verbose_name_plural = _("playbook actions")
        ordering = ["stage__order", "order", "id"]

    def __str__(self) -> str:
        return self.title


class KeyAccount(OwnedModel):
    """A client handled with the key-account tools; `owner` is the responsible
    manager."""

    client = models.OneToOneField(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="key_account"
    )
    stage = models.ForeignKey(
        DecisionStage,
        verbose_name=_("decision stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="key_accounts",
    )
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    risks = models.TextField(_("risks and objections"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("key account")
        verbose_name_plural = _("key accounts")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.client)


class StageChange(models.Model):
    """One move of a key account through the decision cycle, with who, when, why."""

    key_account = models.ForeignKey(
        KeyAccount, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        DecisionStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(DecisionStage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["key_account", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.key_account_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Stakeholder(models.Model):
    """A person on the client's side and their role in the decision (Tool 3)."""

    class Role(models.TextChoices):
        ENTRY = "entry", _("Entry point")
        DISSATISFACTION = "dissatisfaction", _("Dissatisfaction point")
        POWER = "power", _("Power point")

    class Attitude(models.TextChoices):
        SUPPORTER = "supporter", _("Supporter")
        NEUTRAL = "neutral", _("Neutral")
        OPPONENT = "opponent", _("Opponent")

    key_account = models.ForeignKey(
        KeyAccount, on_delete=models.CASCADE, related_name="stakeholders"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="stakeholder_roles"
    )
    role = models.CharField(_("role in the decision"), max_length=16, choices=Role.choices)
    influence = models.PositiveSmallIntegerField(_("influence (1-5)"), default=3)
    attitude = models.CharField(
        _("attitude to us"), max_length=16, choices=Attitude.choices, default=Attitude.NEUTRAL
    )
    pain = models.CharField(_("unhappy with"), max_length=300, blank=True)
    help = models.CharField(_("how we can help"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("stakeholder")
        verbose_name_plural = _("stakeholders")
        ordering = ["key_account", "-influence", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_account", "person", "role"], name="stakeholder_unique_role"
            ),
            models.CheckConstraint(
                condition=Q(influence__gte=1, influence__lte=5), name="stakeholder_influence_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.role})"


class Relationship(models.Model):
    """Who knows whom (Tool 2): from a person or one of our staff to a person, with a
    kind and a strength from 1 (barely) to 5 (close). Entry chains treat it as
    two-way."""

    class Kind(models.TextChoices):
        KNOWS = "knows", _("knows")
        REPORTS_TO = "reports_to", _("reports to")
        INTRODUCED_BY = "introduced_by", _("introduced by")
        WORKED_TOGETHER = "worked_together", _("worked together")

    from_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.KNOWS)
    strength = models.PositiveSmallIntegerField(_("strength (1-5)"), default=3)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["to_person"], name="relationship_to_idx"),
            models.Index(fields=["from_person"], name="relationship_from_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(from_person__isnull=False) & Q(from_user__isnull=True))
                | (Q(from_person__isnull=True) & Q(from_user__isnull=False)),
                name="relationship_one_source",
            ),
            models.CheckConstraint(
                condition=Q(strength__gte=1, strength__lte=5), name="relationship_strength_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_person_id or self.from_user_id} -> {self.to_person_id}"


class InfluenceAction(models.Model):
    """A playbook action planned for a deal of a key account (Tool 4): the task it
    became, and on completion what was done and its effect."""

    key_account = models.ForeignKey(
        KeyAccount, on_delete=models.CASCADE, related_name="influence_actions"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    stage = models.ForeignKey(DecisionStage, on_delete=models.PROTECT, related_name="+")
    playbook_action = models.ForeignKey(
        PlaybookAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="influence_action")
    effect = models.TextField(_("what was done and its effect"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["key_account", "id"]

    def __str__(self) -> str:
        return f"{self.key_account_id}: {self.task_id}"
