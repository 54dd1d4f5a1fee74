"""Writes of the catalogue: categories, products, price lists, prices, exchange rates.
All are settings: only users with the "manage settings" capability change them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, snapshot
from lavka.clients.models import Client, Tier
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.sales.models import ExchangeRate, Price, PriceList, Product, ProductCategory
from lavka.sales.permissions import can_manage_sales_settings
from lavka.sales.selectors.catalogue import reporting_currency
from lavka.sales.services.values import (
    Errors,
    currency_clean,
    date_clean,
    decimal_clean,
    percent_clean,
    text_clean,
)

PRODUCT_FIELDS = ["code", "name", "kind", "unit", "category", "vat_rate", "is_active"]
PRICE_LIST_FIELDS = ["name", "currency", "tier", "client", "is_default", "is_active"]


def _require_settings(actor: Any, resource: str) -> None:
    if not can_manage_sales_settings(actor):
        raise NotPermitted(action="manage", resource=resource)


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationFailed(fields=errors)


@transaction.atomic
def category_create(
    *, actor: Any, name: str, parent: ProductCategory | None = None, order: int = 0
) -> ProductCategory:
    _require_settings(actor, "product_category")
    errors: Errors = {}
    cleaned = text_clean(name, "name", 120, errors, required=True)
    _raise(errors)
    category = ProductCategory.objects.create(name=cleaned, parent=parent, order=order)
    audit_record(
        action=Action.CREATE,
        subject=category,
        actor=actor,
        changes=diff({}, snapshot(category, ["name", "parent", "order"])),
    )
    return category


def _product_clean(fields: dict[str, Any], current: Product | None) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(PRODUCT_FIELDS)):
        errors[name] = [_("Unknown field.")]
    for name, value in fields.items():
        if name == "code":
            cleaned[name] = text_clean(value, name, 64, errors, required=True)
        elif name == "name":
            cleaned[name] = text_clean(value, name, 200, errors, required=True)
        elif name == "unit":
            cleaned[name] = text_clean(value, name, 20, errors)
        elif name == "kind":
            if value not in Product.Kind.values:
                errors[name] = [_("Choose product or service.")]
            cleaned[name] = value
        elif name == "vat_rate":
            cleaned[name] = None if value in (None, "") else percent_clean(value, name, errors)
        elif name in ("category", "is_active"):
            cleaned[name] = value if name == "category" else bool(value)
    code = cleaned.get("code")
    others = Product.objects.exclude(pk=current.pk) if current is not None else Product.objects
    if code and others.filter(code=code).exists():
        errors.setdefault("code", []).append(_("Another product has this code."))
    _raise(errors)
    return cleaned


@transaction.atomic
def product_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str = Product.Kind.PRODUCT,
    unit: str = "",
    category: ProductCategory | None = None,
    vat_rate: Any = None,
    is_active: bool = True,
) -> Product:
    _require_settings(actor, "product")
    cleaned = _product_clean(
        {
            "code": code,
            "name": name,
            "kind": kind,
            "unit": unit,
            "category": category,
            "vat_rate": vat_rate,
            "is_active": is_active,
        },
        None,
    )
    product = Product.objects.create(**cleaned)
    audit_record(
        action=Action.CREATE,
        subject=product,
        actor=actor,
        changes=diff({}, snapshot(product, PRODUCT_FIELDS)),
    )
    return product


@transaction.atomic
def product_update(*, actor: Any, product: Product, **changes: Any) -> Product:
    """Change a product. To take it off sale, set `is_active` to False: products are
    never deleted, because the purchase history points at them."""
    _require_settings(actor, "product")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    cleaned = _product_clean(changes, locked)
    before = snapshot(locked, PRODUCT_FIELDS)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, PRODUCT_FIELDS))
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


def _price_list_clean(fields: dict[str, Any], current: PriceList | None) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(PRICE_LIST_FIELDS)):
        errors[name] = [_("Unknown field.")]
    for name, value in fields.items():
        if name == "name":
            cleaned[name] = text_clean(value, name, 120, errors, required=True)
        elif name == "currency":
            cleaned[name] = currency_clean(value, name, errors)
        elif name == "tier":
            if value is not None and not isinstance(value, Tier):
                errors[name] = [_("Choose a tier.")]
            cleaned[name] = value
        elif name == "client":
            if value is not None and not isinstance(value, Client):
                errors[name] = [_("Choose a client.")]
            cleaned[name] = value
        elif name in ("is_default", "is_active"):
            cleaned[name] = bool(value)
    tier = cleaned.get("tier", getattr(current, "tier", None))
    client = cleaned.get("client", getattr(current, "client", None))
    is_default = cleaned.get("is_default", getattr(current, "is_default", False))
    if tier is not None and client is not None:
        errors.setdefault("client", []).append(
            _("A price list is for one client or for one tier, not both.")
        )
    if is_default and (tier is not None or client is not None):
        errors.setdefault("is_default", []).append(
            _("A default price list is for every client: leave the tier and client empty.")
        )
    _raise(errors)
    return cleaned


@transaction.atomic
def price_list_create(
    *,
    actor: Any,
    name: str,
    currency: str,
    tier: Tier | None = None,
    client: Client | None = None,
    is_default: bool = False,
) -> PriceList:
    """A price list for one client, for a tier, or a default one (for every client)."""
    _require_settings(actor, "price_list")
    cleaned = _price_list_clean(
        {
            "name": name,
            "currency": currency,
            "tier": tier,
            "client": client,
            "is_default": is_default,
        },
        None,
    )
    price_list = PriceList.objects.create(**cleaned)
    audit_record(
        action=Action.CREATE,
        subject=price_list,
        actor=actor,
        changes=diff({}, snapshot(price_list, PRICE_LIST_FIELDS)),
    )
    return price_list


@transaction.atomic
def price_list_update(*, actor: Any, price_list: PriceList, **changes: Any) -> PriceList:
    _require_settings(actor, "price_list")
    locked = PriceList.objects.select_for_update().get(pk=price_list.pk)
    cleaned = _price_list_clean(changes, locked)
    before = snapshot(locked, PRICE_LIST_FIELDS)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, PRICE_LIST_FIELDS))
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


@transaction.atomic
def price_set(
    *, actor: Any, price_list: PriceList, product: Product, amount: Any, valid_from: Any
) -> Price:
    """The product's price in the list from `valid_from` on (replacing the price of that
    same day, if any). Earlier prices stay: they priced earlier dates."""
    _require_settings(actor, "price")
    errors: Errors = {}
    cleaned_amount = decimal_clean(amount, "amount", errors, required=True)
    day = date_clean(valid_from, "valid_from", errors, required=True)
    _raise(errors)
    price, created = Price.objects.update_or_create(
        price_list=price_list, product=product, valid_from=day, defaults={"amount": cleaned_amount}
    )
    audit_record(
        action=Action.CREATE if created else Action.UPDATE,
        subject=price_list,
        actor=actor,
        changes={
            "price": [
                None,
                {"product": product.code, "amount": cleaned_amount, "valid_from": day},
            ]
        },
    )
    return price


@transaction.atomic
def exchange_rate_set(
    *, actor: Any, currency: str, valid_on: dt.date | str, rate: Any, source: str = ""
) -> ExchangeRate:
    """Units of the reporting currency per unit of `currency` from `valid_on` on
    (entered by hand, or by an import with its `source`, e.g. "cbr")."""
    _require_settings(actor, "exchange_rate")
    errors: Errors = {}
    code = currency_clean(currency, "currency", errors)
    day = date_clean(valid_on, "valid_on", errors, required=True)
    value = decimal_clean(rate, "rate", errors, places=8, required=True, allow_zero=False)
    label = text_clean(source, "source", 40, errors)
    if code and code == reporting_currency():
        errors.setdefault("currency", []).append(
            _("Rates are to the reporting currency (%(currency)s); it needs none.")
            % {"currency": code}
        )
    if errors or day is None:
        raise ValidationFailed(fields=errors)
    existing = ExchangeRate.objects.select_for_update().filter(currency=code, valid_on=day).first()
    before = None if existing is None else str(existing.rate)
    rate_row, _created = ExchangeRate.objects.update_or_create(
        currency=code, valid_on=day, defaults={"rate": value, "source": label}
    )
    audit_record(
        action=Action.UPDATE if existing else Action.CREATE,
        subject=rate_row,
        actor=actor,
        changes={"rate": [before, str(value)]},
    )
    return rate_row
