"""Reads of sales. Deals and orders start from `deals_visible_to(viewer)` and
`orders_visible_to(viewer)`; pipelines, stages and the catalogue are settings that
everyone with sales access reads."""

from lavka.sales.selectors.catalogue import convert, price_for, reporting_currency
from lavka.sales.selectors.deals import deal_get, deals_board, deals_visible_to
from lavka.sales.selectors.orders import order_get, orders_visible_to

__all__ = [
    "convert",
    "deal_get",
    "deals_board",
    "deals_visible_to",
    "order_get",
    "orders_visible_to",
    "price_for",
    "reporting_currency",
]
