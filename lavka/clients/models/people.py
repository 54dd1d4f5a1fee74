"""Contact persons. A person can work at several organisations."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lavka.clients.models.client import Client
from lavka.core.models import SoftDeleteModel, VersionedModel
from lavka.identity.models import OwnedModel


class Person(OwnedModel, SoftDeleteModel, VersionedModel):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    custom = models.JSONField(_("personal details"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    search_text = models.TextField(default="", blank=True, editable=False)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


class Employment(models.Model):
    """A person's place at an organisation: job title and role."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="employments")
    organisation = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="employments")
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=150, blank=True)
    is_primary = models.BooleanField(_("main contact"), default=False)
    is_current = models.BooleanField(_("works there now"), default=True)

    class Meta:
        ordering = ["-is_primary", "person__last_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation"], name="employment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.organisation}"
