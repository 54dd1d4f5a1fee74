"""The catalogue: products and services, their prices in price lists, and the
exchange rates that bring every currency to the reporting one."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.clients.models import Client, Tier
from lavka.core.models import TimeStampedModel


class ProductCategory(models.Model):
    """A node of the catalogue's category tree (a root has no parent)."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["order", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """A product or a service we sell. Products are never deleted, only made inactive,
    because order lines of the purchase history point at them."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PRODUCT)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    vat_rate = models.DecimalField(
        _("VAT, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vat_rate__isnull=True) | Q(vat_rate__gte=0, vat_rate__lte=100),
                name="product_vat_rate_percent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceList(TimeStampedModel):
    """Prices in one currency. A list belongs to one client, or to one tier, or to
    nobody; among the latter, `is_default` lists are the fallback for every client
    (see selectors.catalogue.price_for)."""

    name = models.CharField(_("name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3)
    tier = models.ForeignKey(
        Tier,
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="price_lists",
    )
    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="price_lists",
    )
    is_default = models.BooleanField(_("default price list"), default=False)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__isnull=True) | Q(client__isnull=True),
                name="price_list_tier_or_client",
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(tier__isnull=True, client__isnull=True),
                name="price_list_default_is_general",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class Price(models.Model):
    """The price of a product in a price list from a date on (until the next one)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="prices", db_index=False
    )
    amount = models.DecimalField(_("price"), max_digits=18, decimal_places=2)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ["price_list", "product", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "price_list", "valid_from"], name="price_unique_per_day"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.amount} from {self.valid_from}"


class ExchangeRate(models.Model):
    """How much one unit of `currency` is worth in the reporting currency
    (settings.DEFAULT_CURRENCY, LAVKA_CURRENCY) from `valid_on` until the next rate."""

    currency = models.CharField(_("currency"), max_length=3)
    valid_on = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=20, decimal_places=8)
    source = models.CharField(_("source"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_on"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_on"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate} on {self.valid_on}"
