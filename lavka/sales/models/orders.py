"""Orders: the purchase history (what a client bought, when, for how much) that the
analytics read. Lines are kept lean: there will be tens of millions of them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from lavka.clients.models import Client
from lavka.core.models import SoftDeleteModel, VersionedModel
from lavka.identity.models import OwnedModel
from lavka.sales.models.catalogue import Product, ProductCategory
from lavka.sales.models.deals import Deal


class Order(OwnedModel, SoftDeleteModel, VersionedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        SHIPPED = "shipped", _("Shipped")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        Client,
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # order_client_date_idx starts with the client
    )
    number = models.CharField(_("number"), max_length=50, blank=True)
    ordered_on = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.CONFIRMED
    )
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=0)
    source_deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,  # order_deal_idx, partial: most orders have no deal
    )
    # Where the order came from ("deal", "manual", or an import's source such as "1c")
    # and its id there; an import finds its earlier rows by the pair.
    source = models.CharField(_("source"), max_length=40, blank=True)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_on", "-id"]
        indexes = [
            # The client's purchase history, and the analytics' per-client scans.
            models.Index(fields=["client", "ordered_on"], name="order_client_date_idx"),
            # Period scans (revenue of a month, a plan's actuals).
            models.Index(fields=["ordered_on"], name="order_date_idx"),
            models.Index(
                fields=["source_deal"],
                name="order_deal_idx",
                condition=Q(source_deal__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id="") & Q(deleted_at__isnull=True),
                name="order_external_id_unique",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def counts_as_sale(self) -> bool:
        """Whether the analytics count this order as a purchase."""
        return self.status in SALE_STATUSES


SALE_STATUSES = (Order.Status.CONFIRMED, Order.Status.SHIPPED, Order.Status.PAID)


class OrderLine(models.Model):
    """One line of an order. The product's code and name are kept as text too (an
    imported line may name a product the catalogue does not have), and the category
    is copied so that sales by category need no join through products."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    product_code = models.CharField(_("product code"), max_length=64, blank=True)
    product_name = models.CharField(_("product"), max_length=200, blank=True)
    category = models.ForeignKey(
        ProductCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=0
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.product_code or self.product_name} × {self.quantity}"
