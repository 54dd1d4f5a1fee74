"""The catalogue: who changes it, which price a client pays, and currency conversion
at the rate of a date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from lavka.audit.models import AuditEvent
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.sales.errors import ExchangeRateMissing
from lavka.sales.models import ExchangeRate, Product
from lavka.sales.selectors.catalogue import (
    convert,
    exchange_rate_on,
    price_for,
    product_list,
    products_visible_to,
    reporting_currency,
)
from lavka.sales.services.catalogue import (
    category_create,
    exchange_rate_set,
    price_list_create,
    price_list_update,
    price_set,
    product_create,
    product_update,
)
from tests.factories import ClientFactory, tier

DAY = dt.date(2026, 3, 10)


# --- products -------------------------------------------------------------------------


def test_an_administrator_builds_the_catalogue(org):
    teas = category_create(actor=org.admin, name="Tea")
    green = category_create(actor=org.admin, name="Green", parent=teas)

    product = product_create(
        actor=org.admin, code=" G-1 ", name="Sencha", unit="kg", category=green, vat_rate="20"
    )

    assert (product.code, product.category.parent, product.vat_rate) == ("G-1", teas, Decimal(20))
    assert AuditEvent.objects.for_record(product).get().changes["code"] == [None, "G-1"]


def test_a_product_code_is_unique_and_other_fields_are_checked(org):
    product_create(actor=org.admin, code="G-1", name="Sencha")

    with pytest.raises(ValidationFailed) as error:
        product_create(actor=org.admin, code="G-1", name="", kind="gadget", vat_rate="120")

    assert sorted(error.value.fields) == ["code", "kind", "name", "vat_rate"]
    assert Product.objects.count() == 1


def test_only_administrators_change_the_catalogue(org, products):
    with pytest.raises(NotPermitted):
        product_create(actor=org.manager, code="X", name="X")
    with pytest.raises(NotPermitted):
        product_update(actor=org.rep, product=products.tea, name="Black tea")
    with pytest.raises(NotPermitted):
        exchange_rate_set(actor=org.manager, currency="USD", valid_on=DAY, rate="90")

    products.tea.refresh_from_db()
    assert products.tea.name == "Green tea"
    assert not ExchangeRate.objects.exists()


def test_a_product_off_sale_leaves_the_list_but_stays_readable(org, products):
    product_update(actor=org.admin, product=products.cup, is_active=False)

    assert [p.code for p in product_list(viewer=org.rep)] == ["TEA-1", "SRV-1"]
    assert products_visible_to(org.rep).filter(pk=products.cup.pk).exists()
    assert not products_visible_to(org.marketer).exists()


# --- the price a client pays ----------------------------------------------------------


@pytest.fixture
def lists(org, products):
    """A default list, a VIP tier list and a client list, each pricing tea."""

    def make(name, prices, **kwargs):
        price_list = price_list_create(actor=org.admin, name=name, currency="RUB", **kwargs)
        for product, amount, valid_from in prices:
            price_set(
                actor=org.admin,
                price_list=price_list,
                product=product,
                amount=amount,
                valid_from=valid_from,
            )
        return price_list

    client = ClientFactory(owner=org.rep, tier=tier("vip"), currency="RUB")
    return {
        "client": client,
        "default": make(
            "Retail",
            [
                (products.tea, "1000", dt.date(2025, 1, 1)),
                (products.cup, "200", dt.date(2025, 1, 1)),
                (products.setup, "3000", dt.date(2025, 1, 1)),
            ],
            is_default=True,
        ),
        "vip": make(
            "VIP",
            [
                (products.tea, "900", dt.date(2025, 1, 1)),
                (products.cup, "180", dt.date(2025, 1, 1)),
            ],
            tier=tier("vip"),
        ),
        "own": make(
            "Ромашка",
            [
                (products.tea, "800", dt.date(2026, 1, 1)),
                (products.tea, "850", dt.date(2026, 4, 1)),
            ],
            client=client,
        ),
    }


def test_the_clients_own_list_comes_first_then_its_tier_then_the_default(lists, products):
    client = lists["client"]

    prices = {
        product.code: price_for(client, product, on=DAY).amount
        for product in (products.tea, products.cup, products.setup)
    }

    assert prices == {"TEA-1": Decimal(800), "CUP-1": Decimal(180), "SRV-1": Decimal(3000)}


def test_the_price_valid_on_the_date_is_used(lists, products):
    client = lists["client"]

    before_own_list = price_for(client, products.tea, on=dt.date(2025, 12, 31))
    later = price_for(client, products.tea, on=dt.date(2026, 4, 1))

    assert (before_own_list.amount, before_own_list.price_list_id) == (900, lists["vip"].pk)
    assert (later.amount, later.valid_from) == (Decimal(850), dt.date(2026, 4, 1))


def test_a_client_of_another_tier_pays_the_default_price(lists, products):
    mass_client = ClientFactory(tier=tier("mass"), currency="RUB")

    assert price_for(mass_client, products.tea, on=DAY).amount == Decimal(1000)


def test_a_list_out_of_use_gives_way_and_no_price_is_none(org, lists, products):
    price_list_update(actor=org.admin, price_list=lists["own"], is_active=False)
    unpriced = Product.objects.create(code="NEW", name="New")

    assert price_for(lists["client"], products.tea, on=DAY).amount == Decimal(900)
    assert price_for(lists["client"], unpriced, on=DAY) is None


def test_a_list_in_the_clients_currency_is_preferred(org, products):
    client = ClientFactory(currency="USD")
    for currency, amount in (("RUB", "1000"), ("USD", "11")):
        price_list = price_list_create(
            actor=org.admin, name=currency, currency=currency, client=client
        )
        price_set(
            actor=org.admin,
            price_list=price_list,
            product=products.tea,
            amount=amount,
            valid_from=DAY,
        )

    price = price_for(client, products.tea, on=DAY)

    assert (price.amount, price.currency) == (Decimal(11), "USD")


def test_a_price_list_is_for_a_client_or_a_tier_not_both(org):
    client = ClientFactory()

    with pytest.raises(ValidationFailed) as error:
        price_list_create(
            actor=org.admin,
            name="X",
            currency="RUB",
            tier=tier("vip"),
            client=client,
            is_default=True,
        )

    assert sorted(error.value.fields) == ["client", "is_default"]


# --- exchange rates -----------------------------------------------------------------------


@pytest.fixture
def rates(org):
    for currency, day, rate in (
        ("USD", dt.date(2026, 3, 1), "90"),
        ("USD", dt.date(2026, 3, 9), "92.5"),
        ("EUR", dt.date(2026, 3, 1), "100"),
        ("USD", dt.date(2026, 3, 20), "95"),
    ):
        exchange_rate_set(actor=org.admin, currency=currency, valid_on=day, rate=rate, source="cbr")


def test_the_reporting_currency_comes_from_the_settings(settings):
    settings.DEFAULT_CURRENCY = "eur"

    assert reporting_currency() == "EUR"


def test_conversion_uses_the_latest_rate_on_or_before_the_date(rates):
    assert convert(Decimal("10"), "usd", "RUB", on=DAY) == Decimal("925.00")
    assert convert(Decimal("10"), "USD", "RUB", on=dt.date(2026, 3, 8)) == Decimal("900.00")
    assert convert(Decimal("925"), "RUB", "USD", on=DAY) == Decimal("10.00")
    assert convert(Decimal("100"), "EUR", "USD", on=DAY) == Decimal("108.11")
    assert convert(Decimal("1.005"), "RUB", "RUB", on=DAY) == Decimal("1.01")


def test_a_missing_rate_is_a_clear_error(rates):
    with pytest.raises(ExchangeRateMissing) as error:
        convert(Decimal("10"), "USD", "RUB", on=dt.date(2026, 2, 28))
    with translation.override("en"), pytest.raises(ExchangeRateMissing) as no_currency:
        exchange_rate_on("CNY", DAY)

    assert (error.value.code, error.value.currency) == ("exchange_rate_missing", "USD")
    assert "USD" in error.value.detail and "2026-02-28" in error.value.detail
    assert no_currency.value.detail == (
        "There is no exchange rate for CNY on or before 2026-03-10. Enter one."
    )


def test_a_rate_entered_again_for_the_same_day_replaces_it(org, rates):
    exchange_rate_set(actor=org.admin, currency="USD", valid_on="2026-03-09", rate="93")

    assert exchange_rate_on("USD", DAY) == Decimal("93")
    assert ExchangeRate.objects.filter(currency="USD").count() == 3
    event = AuditEvent.objects.filter(action="update").latest("id")
    assert event.changes == {"rate": ["92.50000000", "93.00000000"]}


def test_rates_are_checked(org):
    with pytest.raises(ValidationFailed) as error:
        exchange_rate_set(actor=org.admin, currency="RUB", valid_on="soon", rate="0")

    assert sorted(error.value.fields) == ["currency", "rate", "valid_on"]
