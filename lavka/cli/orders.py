"""`lavka import orders`: the purchase history from an accounting system's export."""

from __future__ import annotations

from lavka.cli.base import EPILOG
from lavka.cli.transfer import (
    import_group,
    import_options,
    import_outcome_echo,
    import_workers,
    run_file_import,
)

COUNT_KEYS = (
    "lines",
    "orders_created",
    "orders_updated",
    "orders_unchanged",
    "clients_created",
    "products_created",
    "rejected",
)
DRY_RUN_KEYS = ("lines", "orders", "clients_created", "products_created", "rejected")


@import_group.command(name="orders", epilog=EPILOG)
@import_options
def import_orders(
    file: str | None,
    mapping_ref: str | None,
    dry_run: bool,
    as_json: bool,
    as_user: str | None,
    resume_id: int | None,
) -> int:
    """Import order lines (the purchase history) from FILE, CSV or XLSX: client, date,
    product, quantity, amount; optionally order number, unit price, currency, status,
    client external id / INN / email, product code, category. Clients are found by
    external id, INN or email (else created), products by code or name (else created);
    lines are grouped into orders by order number, or by client and date. Running the
    same file again changes nothing. Exits 0 when the import ran (even with rejected
    rows), 1 when the file cannot be read."""
    run, result, counter = run_file_import(
        target="orders",
        file=file,
        resume_id=resume_id,
        mapping_ref=mapping_ref,
        as_user=as_user,
        dry_run=dry_run,
        as_json=as_json,
        upload={"read_all": False},
        workers=import_workers(),
    )
    return import_outcome_echo(
        run,
        result,
        counter,
        keys=DRY_RUN_KEYS if dry_run else COUNT_KEYS,
        dry_run=dry_run,
        as_json=as_json,
        extra={"seconds": result.get("seconds", {})},
    )
