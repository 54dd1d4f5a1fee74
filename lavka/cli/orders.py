"""`lavka import orders` (filled in by the orders-import work)."""
