"""Clients: the organisations and people we sell to.

This is the first domain model under the access policy; the client-base work grows
it into the four-block card (address, contact, commercial, contractual).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from lavka.core.models import SoftDeleteModel, VersionedModel
from lavka.identity.models import OwnedModel


class Client(OwnedModel, SoftDeleteModel, VersionedModel):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        PERSON = "person", _("Private person")

    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.ORGANISATION
    )
    name = models.CharField(_("name"), max_length=300)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["owner", "name"], name="client_owner_name_idx"),
            models.Index(fields=["team", "name"], name="client_team_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name
