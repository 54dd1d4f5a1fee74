"""The fields an order import maps a file's columns to, with the header names each is
recognised by (Russian and English, as accounting systems such as 1C export them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from lavka.imports.mapping import auto_map_with, synonyms_index

# field -> (label, header synonyms); synonyms are matched after `normalise`.
ORDER_FIELDS: dict[str, tuple[object, list[str]]] = {
    "number": (
        _("Order number"),
        [
            "номер документа",
            "номер",
            "номер заказа",
            "номер накладной",
            "документ",
            "заказ",
            "n",
            "no",
            "order number",
            "order no",
            "order",
            "order id",
            "document number",
            "invoice",
            "invoice number",
        ],
    ),
    "ordered_on": (
        _("Date"),
        [
            "дата",
            "дата документа",
            "дата заказа",
            "дата продажи",
            "период",
            "date",
            "order date",
            "invoice date",
        ],
    ),
    "client_name": (
        _("Client"),
        [
            "клиент",
            "контрагент",
            "покупатель",
            "наименование контрагента",
            "наименование клиента",
            "client",
            "customer",
            "client name",
            "customer name",
            "company",
            "account",
        ],
    ),
    "client_external_id": (
        _("Client's external ID"),
        [
            "код клиента",
            "код контрагента",
            "id клиента",
            "ид клиента",
            "client id",
            "customer id",
            "client code",
            "customer code",
            "client external id",
        ],
    ),
    "client_inn": (
        _("Client's INN"),
        ["инн", "инн клиента", "инн контрагента", "инн покупателя", "inn", "tax id"],
    ),
    "client_email": (
        _("Client's email"),
        ["email", "e mail", "почта", "email клиента", "электронная почта", "customer email"],
    ),
    "product_code": (
        _("Product code"),
        [
            "артикул",
            "код товара",
            "код номенклатуры",
            "код",
            "sku",
            "product code",
            "item code",
            "article",
        ],
    ),
    "product_name": (
        _("Product"),
        [
            "товар",
            "номенклатура",
            "наименование товара",
            "наименование",
            "продукт",
            "услуга",
            "товар услуга",
            "product",
            "product name",
            "item",
            "item name",
        ],
    ),
    "category": (
        _("Product category"),
        [
            "категория",
            "группа",
            "группа товаров",
            "группа номенклатуры",
            "category",
            "product category",
        ],
    ),
    "quantity": (_("Quantity"), ["количество", "кол во", "qty", "quantity"]),
    "unit_price": (_("Unit price"), ["цена", "цена за единицу", "price", "unit price"]),
    "amount": (
        _("Amount"),
        ["сумма", "сумма с ндс", "стоимость", "итого", "amount", "total", "line total", "sum"],
    ),
    "currency": (_("Currency"), ["валюта", "currency"]),
    "status": (_("Status"), ["статус", "состояние", "status"]),
}
ORDER_IMPORTED_FIELDS = list(ORDER_FIELDS)

_SYNONYMS = synonyms_index(ORDER_FIELDS)


def order_auto_map(header: list[str]) -> dict[int, str]:
    """Column index -> order field for the recognised column names (each field once,
    the first matching column wins)."""
    return auto_map_with(_SYNONYMS, header)


def order_field_choices() -> list[tuple[str, str]]:
    return [(name, str(label)) for name, (label, _n) in ORDER_FIELDS.items()]
