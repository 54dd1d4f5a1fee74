"""Reads of the catalogue: products, price lists, the price a client pays, and
currency conversion at the rate of a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from lavka.clients.models import Client
from lavka.core.errors import NotFound
from lavka.sales.errors import ExchangeRateMissing
from lavka.sales.models import ExchangeRate, Price, PriceList, Product, ProductCategory
from lavka.sales.permissions import can_read_sales

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """An amount rounded to cents, half up (as accountants round)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def reporting_currency() -> str:
    """The one currency reports and plans are in: LAVKA_CURRENCY (default RUB)."""
    return str(settings.DEFAULT_CURRENCY).upper()


# --- products and categories -----------------------------------------------------------


def products_visible_to(viewer: Any) -> QuerySet[Product]:
    """The catalogue is shared: everyone with any access to sales reads all of it."""
    products = Product.objects.select_related("category")
    return products if can_read_sales(viewer) else products.none()


def product_get(*, viewer: Any, product_id: int) -> Product:
    try:
        return products_visible_to(viewer).get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="product", id=product_id) from None


def product_list(
    *, viewer: Any, query: str = "", category_id: int | None = None, active_only: bool = True
) -> QuerySet[Product]:
    products = products_visible_to(viewer)
    if active_only:
        products = products.filter(is_active=True)
    if category_id is not None:
        products = products.filter(category_id=category_id)
    for word in query.split():
        products = products.filter(Q(code__icontains=word) | Q(name__icontains=word))
    return products.order_by("name", "id")


def categories_visible_to(viewer: Any) -> QuerySet[ProductCategory]:
    categories = ProductCategory.objects.all()
    return categories if can_read_sales(viewer) else categories.none()


def price_lists_visible_to(viewer: Any) -> QuerySet[PriceList]:
    lists = PriceList.objects.select_related("tier", "client")
    return lists if can_read_sales(viewer) else lists.none()


# --- the price a client pays -------------------------------------------------------------


@dataclass(frozen=True)
class ClientPrice:
    amount: Decimal
    currency: str
    price_list_id: int
    valid_from: dt.date


def price_for(client: Client, product: Product, *, on: dt.date) -> ClientPrice | None:
    """The price `client` pays for `product` on `on`, or None when no list has one.

    Precedence: a price list of this client, then one of the client's tier, then a
    default list. Within each, a list in the client's own currency comes first. The
    price of a list is its latest one valid on or before `on`; a list that has no
    price for the product gives way to the next in precedence. One query.
    The caller has the client from a selector (the viewer may read it)."""
    general = Q(client__isnull=True, tier__isnull=True, is_default=True)
    applicable = Q(client_id=client.pk) | general
    rank = [When(price_list__client_id=client.pk, then=Value(0))]
    if client.tier_id is not None:
        applicable |= Q(client__isnull=True, tier_id=client.tier_id)
        rank.append(When(price_list__tier_id=client.tier_id, then=Value(1)))
    found = (
        Price.objects.filter(
            product_id=product.pk,
            valid_from__lte=on,
            price_list__is_active=True,
            price_list__in=PriceList.objects.filter(applicable),
        )
        .annotate(
            rank=Case(*rank, default=Value(2), output_field=IntegerField()),
            foreign=Case(
                When(price_list__currency=client.currency, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("rank", "foreign", "-valid_from", "price_list_id")
        .values_list("amount", "price_list__currency", "price_list_id", "valid_from")
        .first()
    )
    if found is None:
        return None
    amount, currency, list_id, valid_from = found
    return ClientPrice(
        amount=amount, currency=currency, price_list_id=list_id, valid_from=valid_from
    )


# --- exchange rates ----------------------------------------------------------------------


def exchange_rate_on(currency: str, on: dt.date) -> Decimal:
    """Units of the reporting currency per unit of `currency`: the latest rate entered
    on or before `on` (1 for the reporting currency). Raises ExchangeRateMissing."""
    currency = currency.upper()
    if currency == reporting_currency():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(currency=currency, valid_on__lte=on)
        .order_by("-valid_on")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ExchangeRateMissing(currency=currency, on=on)
    return Decimal(rate)


def convert(amount: Decimal, currency: str, to: str, *, on: dt.date) -> Decimal:
    """`amount` in `currency` expressed in `to` at the rates of `on`, in cents.
    Cross rates go through the reporting currency. Raises ExchangeRateMissing."""
    currency, to = currency.upper(), to.upper()
    if currency == to:
        return money(Decimal(amount))
    in_reporting = Decimal(amount) * exchange_rate_on(currency, on)
    return money(in_reporting / exchange_rate_on(to, on))


def exchange_rates_visible_to(viewer: Any) -> QuerySet[ExchangeRate]:
    rates = ExchangeRate.objects.all()
    return rates if can_read_sales(viewer) else rates.none()
