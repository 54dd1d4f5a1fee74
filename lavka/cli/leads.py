"""`lavka import leads`: enquiries from a file (an exhibition's visitors, another CRM's
export)."""

from __future__ import annotations

import click

from lavka.cli.base import EPILOG
from lavka.cli.transfer import (
    import_group,
    import_options,
    import_outcome_echo,
    run_file_import,
)

COUNT_KEYS = ("created", "updated", "unchanged", "duplicates", "client_matches", "rejected")


@import_group.command(name="leads", epilog=EPILOG)
@import_options
@click.option(
    "--campaign",
    default="",
    metavar="TEXT",
    help="The campaign of every new lead whose row names none.",
)
def import_leads(
    file: str | None,
    mapping_ref: str | None,
    dry_run: bool,
    as_json: bool,
    as_user: str | None,
    resume_id: int | None,
    campaign: str,
) -> int:
    """Import leads from FILE, CSV or XLSX: company, contact name, email, phone, INN,
    message, source, campaign, utm_source/utm_medium/utm_campaign, external id, owner
    (username or email). A new lead's source is "import" unless the file names one.
    Leads are found by external id, email or phone and updated, not created twice, so
    running the same file again changes nothing; a lead like an existing client is
    imported and counted in client_matches. Exits 0 when the import ran (even with
    rejected rows), 1 when the file cannot be read."""
    run, result, counter = run_file_import(
        target="leads",
        file=file,
        resume_id=resume_id,
        mapping_ref=mapping_ref,
        as_user=as_user,
        dry_run=dry_run,
        as_json=as_json,
        options={"campaign": campaign} if campaign else None,
    )
    return import_outcome_echo(
        run, result, counter, keys=COUNT_KEYS, dry_run=dry_run, as_json=as_json
    )
