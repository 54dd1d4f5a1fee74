"""Personal details: fields administrators define without code, and important dates
that remind the owner before they come (seed 001: a car, a hobby, a cat's birthday)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.clients.models.client import Client
from lavka.clients.models.people import Person


class CustomField(models.Model):
    class Entity(models.TextChoices):
        CLIENT = "client", _("Client")
        PERSON = "person", _("Person")
        CONTRACT = "contract", _("Contract")

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Several choices")
        BOOLEAN = "boolean", _("Yes/no")
        LINK = "link", _("Link")

    entity = models.CharField(_("for"), max_length=16, choices=Entity.choices)
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="customfield_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class ImportantDate(models.Model):
    """A yearly date of a client or a contact person; the owner is reminded
    `remind_days_before` days ahead."""

    class Kind(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        ANNIVERSARY = "anniversary", _("Anniversary")
        PET_BIRTHDAY = "pet_birthday", _("Pet's birthday")
        OTHER = "other", _("Other")

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="important_dates"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="important_dates"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    label = models.CharField(_("what"), max_length=150, blank=True)
    month = models.PositiveSmallIntegerField(_("month"))
    day = models.PositiveSmallIntegerField(_("day"))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    remind_days_before = models.PositiveSmallIntegerField(_("remind days before"), default=7)
    last_reminded_for = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["month", "day", "id"]
        indexes = [models.Index(fields=["month", "day"], name="importantdate_md_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False) | Q(person__isnull=False),
                name="importantdate_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12, day__gte=1, day__lte=31),
                name="importantdate_valid_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.day:02d}.{self.month:02d}"
