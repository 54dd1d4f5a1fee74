"""Leads and the web forms that capture them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.clients.identifiers import folded, phone_display
from lavka.clients.models import Client, Person
from lavka.core.models import SoftDeleteModel, VersionedModel
from lavka.identity.models import OwnedModel, Team
from lavka.sales.models import Deal

# The fields a web form may show, in the order it shows them.
FORM_FIELDS = ["company", "contact_name", "email", "phone", "message"]


class WebForm(VersionedModel):
    """An embeddable form on a website. `key` is the public, unguessable part of its
    URL; leads it captures belong to `owner` in `team` (default: the owner's team)."""

    name = models.CharField(_("name"), max_length=120)
    key = models.CharField(max_length=48, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leads go to"),
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
    fields = models.JSONField(_("fields shown"), default=list, blank=True)
    success_message = models.TextField(_("success message"), blank=True)
    # One origin a line, e.g. https://example.com
    allowed_origins = models.TextField(_("allowed websites"), blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    source_campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    is_active = models.BooleanField(_("accepts leads"), default=True)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [
            line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()
        ]

    @property
    def shown_fields(self) -> list[str]:
        chosen = set(self.fields or FORM_FIELDS)
        return [name for name in FORM_FIELDS if name in chosen]


class Lead(OwnedModel, SoftDeleteModel, VersionedModel):
    """An enquiry not yet a client: qualified, then converted into a client, a contact
    person and a deal (which the lead keeps links to)."""

    class Source(models.TextChoices):
        WEB_FORM = "web_form", _("Web form")
        API = "api", _("API")
        IMPORT = "import", _("Import")
        MANUAL = "manual", _("Entered by hand")
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email")
        EVENT = "event", _("Event")
        REFERRAL = "referral", _("Referral")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_WORK = "in_work", _("In work")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

    company = models.CharField(_("company"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    web_form = models.ForeignKey(
        WebForm,
        verbose_name=_("web form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    utm_source = models.CharField("utm_source", max_length=100, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=100, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=100, blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    # The lead's id in the system a file came from: a re-import finds the lead by it.
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    # Case-folded names, email and phone digits (see search_text_of): what search matches.
    search_text = models.TextField(default="", blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW
    )
    disqualify_reason = models.CharField(_("disqualification reason"), max_length=300, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("converted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["owner", "status", "created_at"],
                name="lead_owner_status_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["team", "status"], name="lead_team_status_idx"),
            models.Index(fields=["created_at", "id"], name="lead_created_idx"),
            # What an import matches a row on, among live leads.
            models.Index(
                fields=["external_id"],
                name="lead_external_id_idx",
                condition=Q(deleted_at__isnull=True) & ~Q(external_id=""),
            ),
            models.Index(
                fields=["email"],
                name="lead_email_idx",
                condition=Q(deleted_at__isnull=True) & ~Q(email=""),
            ),
            models.Index(
                fields=["phone"],
                name="lead_phone_idx",
                condition=Q(deleted_at__isnull=True) & ~Q(phone=""),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def search_text_of(self) -> str:
        national = "8" + self.phone[2:] if self.phone.startswith("+7") else ""
        return folded(self.company, self.contact_name, self.email, self.phone.lstrip("+"), national)

    @property
    def phone_display(self) -> str:
        return phone_display(self.phone)

    @property
    def display_name(self) -> str:
        if self.company and self.contact_name:
            return f"{self.company} · {self.contact_name}"
        return self.company or self.contact_name or self.email or self.phone or f"#{self.pk}"
