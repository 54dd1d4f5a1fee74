"""Writes of sales. Each checks permission, validates, writes in one transaction,
records an audit event and (for deals and orders) publishes an outbox event.

Modules: `catalogue` (products, price lists, prices, exchange rates), `pipelines`
(pipelines and stages, administrators only), `deals`, `orders`; `values` holds the
input cleaners they share.
"""

from lavka.sales.services.deals import (
    deal_create,
    deal_delete,
    deal_lines_set,
    deal_move,
    deal_update,
)
from lavka.sales.services.orders import (
    order_create,
    order_delete,
    order_from_deal,
    order_update_status,
)

__all__ = [
    "deal_create",
    "deal_delete",
    "deal_lines_set",
    "deal_move",
    "deal_update",
    "order_create",
    "order_delete",
    "order_from_deal",
    "order_update_status",
]
