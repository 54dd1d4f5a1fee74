"""The contact and address blocks: emails, phones and messengers; typed addresses;
consent to each marketing channel, kept as a history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lavka.clients.models.client import Client


class ContactPoint(models.Model):
    """One email, phone or messenger handle of a client or of a person."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        MESSENGER = "messenger", _("Messenger")

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="contact_points"
    )
    person = models.ForeignKey(
        "clients.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contact_points",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Normalised: emails lower-cased, phones in E.164, messengers as typed.
    value = models.CharField(_("value"), max_length=254)
    label = models.CharField(_("label"), max_length=40, blank=True)  # work, mobile, telegram...
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "kind", "id"]
        indexes = [models.Index(fields=["kind", "value"], name="contactpoint_value_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False) | Q(person__isnull=False),
                name="contactpoint_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.value


class Address(models.Model):
    class Kind(models.TextChoices):
        LEGAL = "legal", _("Legal")
        POSTAL = "postal", _("Postal")
        DELIVERY = "delivery", _("Delivery")
        OFFICE = "office", _("Office")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.OFFICE)
    country = models.CharField(_("country"), max_length=2, blank=True)  # ISO 3166-1 alpha-2
    region = models.CharField(_("region"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    street = models.CharField(_("street address"), max_length=300, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "kind", "id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return ", ".join(
            p for p in (self.postcode, self.country, self.region, self.city, self.street) if p
        )


class Consent(models.Model):
    """Consent to one marketing channel, as given or withdrawn at one moment. The
    current consent for a channel is the latest record for it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        PHONE = "phone", _("Phone calls")
        MESSENGER = "messenger", _("Messengers")
        POST = "post", _("Post")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    granted = models.BooleanField(_("consent given"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    source = models.CharField(_("source"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "channel", "-at"], name="consent_latest_idx")]

    def __str__(self) -> str:
        return f"{self.channel}: {'yes' if self.granted else 'no'}"
