"""The client: an organisation or a private person we sell to, with its four blocks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lavka.core.models import SoftDeleteModel, VersionedModel
from lavka.identity.models import OwnedModel


class Tier(models.Model):
    """A managed client category (VIP / affiliated / mass by default; editable list).

    `contact_norm_days`: a client of this tier is flagged when nobody has been in
    touch for longer than this."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    contact_norm_days = models.PositiveIntegerField(
        _("contact at least every (days)"), null=True, blank=True
    )
    colour = models.CharField(_("colour"), max_length=16, default="neutral")
    is_default = models.BooleanField(_("default for new clients"), default=False)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        builtin = {"vip": _("VIP"), "affiliated": _("Affiliated"), "mass": _("Mass")}
        label = builtin.get(self.code)
        return str(label) if label is not None and self.name == self.default_name else self.name

    @property
    def default_name(self) -> str:
        return {"vip": "VIP", "affiliated": "Affiliated", "mass": "Mass"}.get(self.code, "")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    colour = models.CharField(_("colour"), max_length=16, default="neutral")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Client(OwnedModel, SoftDeleteModel, VersionedModel):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Organisation")
        PERSON = "person", _("Private person")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        MESSENGER = "messenger", _("Messenger")
        SMS = "sms", pgettext_lazy("channel", "SMS")
        MEETING = "meeting", _("Meeting")
        POST = "post", _("Post")

    class Size(models.TextChoices):
        MICRO = "1-10", "1–10"
        SMALL = "11-50", "11–50"
        MEDIUM = "51-250", "51–250"
        LARGE = "251-1000", "251–1000"
        ENTERPRISE = "1000+", "1000+"

    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.ORGANISATION
    )
    name = models.CharField(_("name"), max_length=300)
    legal_name = models.CharField(_("legal name"), max_length=500, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clients",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="clients")

    # Contact block: the primary email and phone are kept here for lists and search;
    # all of them live in ContactPoint.
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=16, choices=Channel.choices, blank=True
    )
    preferred_time = models.CharField(_("preferred time"), max_length=100, blank=True)

    # Address block: the primary city for lists; addresses live in Address.
    city = models.CharField(_("city"), max_length=120, blank=True)

    # Commercial block.
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    size = models.CharField(_("company size"), max_length=16, choices=Size.choices, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True
    )
    price_list = models.CharField(_("price list"), max_length=100, blank=True)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    vat = models.CharField(_("VAT number"), max_length=20, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_bic = models.CharField(_("BIC"), max_length=11, blank=True)
    bank_account = models.CharField(_("account number"), max_length=34, blank=True)
    bank_correspondent_account = models.CharField(
        _("correspondent account"), max_length=20, blank=True
    )

    # Personal details: values of the administrator-defined custom fields.
    custom = models.JSONField(_("personal details"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    # Kept up to date by the timeline services, so lists need no aggregation.
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    next_step_at = models.DateTimeField(_("next step"), null=True, blank=True)
    next_step_title = models.CharField(_("next step"), max_length=200, blank=True)

    # Case-folded text (names, emails, phone digits, tax ids, contract numbers) for
    # search that works for Cyrillic on SQLite too.
    search_text = models.TextField(default="", blank=True, editable=False)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "id"]
        indexes = [
            # The list's default order; with the access filter on top, PostgreSQL walks
            # it in order and stops at the page size instead of sorting every row.
            models.Index(
                fields=["name", "id"],
                name="client_name_id_idx",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["owner", "name"], name="client_owner_name_idx"),
            models.Index(fields=["team", "name"], name="client_team_name_idx"),
            models.Index(fields=["inn"], name="client_inn_idx", condition=~Q(inn="")),
            models.Index(fields=["email"], name="client_email_idx", condition=~Q(email="")),
            models.Index(fields=["phone"], name="client_phone_idx", condition=~Q(phone="")),
            models.Index(fields=["tier", "name"], name="client_tier_name_idx"),
            models.Index(fields=["last_contact_at"], name="client_last_contact_idx"),
            models.Index(fields=["updated_at"], name="client_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id="") & Q(deleted_at__isnull=True),
                name="client_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TierChange(models.Model):
    """The history of a client's tier: who moved it, from what to what, when, why."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.from_tier_id} -> {self.to_tier_id}"
