"""Sales models: see each module."""

from lavka.sales.models.catalogue import (
    ExchangeRate,
    Price,
    PriceList,
    Product,
    ProductCategory,
)
from lavka.sales.models.deals import (
    POSITION_STEP,
    Competitor,
    Deal,
    DealColumnTotal,
    DealLine,
    DealStageChange,
)
from lavka.sales.models.orders import SALE_STATUSES, Order, OrderLine
from lavka.sales.models.pipeline import STAGE_COLOURS, Pipeline, Stage

__all__ = [
    "POSITION_STEP",
    "SALE_STATUSES",
    "STAGE_COLOURS",
    "Competitor",
    "Deal",
    "DealColumnTotal",
    "DealLine",
    "DealStageChange",
    "ExchangeRate",
    "Order",
    "OrderLine",
    "Pipeline",
    "Price",
    "PriceList",
    "Product",
    "ProductCategory",
    "Stage",
]
