"""The contractual block: contracts and the files attached to clients and contracts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lavka.clients.models.client import Client
from lavka.core.models import SoftDeleteModel, VersionedModel


class Contract(SoftDeleteModel, VersionedModel):
    """A contract with a client. Access follows the client's."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    class Renewal(models.TextChoices):
        NONE = "none", _("Does not renew")
        AUTOMATIC = "automatic", _("Renews automatically")
        BY_AGREEMENT = "by_agreement", _("Renewed by agreement")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contracts")
    number = models.CharField(_("number"), max_length=100)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    start_on = models.DateField(_("start date"), null=True, blank=True)
    end_on = models.DateField(_("end date"), null=True, blank=True)
    amount = models.DecimalField(_("value"), max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    renewal = models.CharField(
        _("renewal"), max_length=16, choices=Renewal.choices, default=Renewal.NONE
    )
    renewal_notice_days = models.PositiveSmallIntegerField(
        _("notice before renewal (days)"), null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-start_on", "-id"]
        indexes = [
            models.Index(fields=["number"], name="contract_number_idx"),
            models.Index(fields=["end_on"], name="contract_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True)
                | Q(start_on__isnull=True)
                | Q(end_on__gte=models.F("start_on")),
                name="contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.number


def attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.token}"


class Attachment(SoftDeleteModel):
    """A file on a client or a contract, stored on disk in the data directory (or any
    Django storage backend configured as `default`)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="attachments")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    token = models.CharField(max_length=40, unique=True, editable=False)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(max_length=120)
    is_signed_copy = models.BooleanField(_("signed copy"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.name
