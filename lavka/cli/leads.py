"""`lavka import leads`: enquiries from a file (an exhibition's visitors, another CRM's
export)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lavka.cli.base import (
    EPILOG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Counter,
    Failure,
    acting_user,
    database_required,
    django_setup,
    migrations_required,
)
from lavka.cli.transfer import import_group, import_options, mapping_resolve

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
    if (file is None) == (resume_id is None):
        raise Failure(
            "give either FILE or --resume RUN_ID", "see: lavka import leads --help", EXIT_USAGE
        )
    django_setup()
    database_required()
    migrations_required()
    from django.conf import settings

    from lavka.audit.context import audit_context
    from lavka.core.errors import DomainError
    from lavka.imports.models import ImportRun
    from lavka.imports.readers import FileProblem
    from lavka.imports.services import (
        import_can_resume,
        import_run_in_process,
        import_set_mapping,
        import_set_options,
        import_upload,
    )

    actor = acting_user(as_user)
    counter = Counter("rows")
    with audit_context(via="cli", command="import leads"):
        try:
            if resume_id is not None:
                run = ImportRun.objects.filter(pk=resume_id, target="leads").first()
                if run is None or not import_can_resume(run):
                    raise Failure(
                        f"lead import run {resume_id} cannot be resumed",
                        "only a failed import can be resumed",
                        EXIT_USAGE,
                    )
            else:
                assert file is not None
                path = Path(file)
                if not path.is_file():
                    raise Failure(f"cannot read {file}", "check the path", EXIT_FAILED)
                run = import_upload(
                    actor=actor, name=path.name, source=path, max_bytes=None, target="leads"
                )
                if campaign:
                    run = import_set_options(actor=actor, run=run, options={"campaign": campaign})
                if mapping_ref:
                    header = list(run.options.get("header", []))
                    mapping = mapping_resolve(mapping_ref, header, actor, "leads")
                    run = import_set_mapping(actor=actor, run=run, mapping=mapping)
            result = import_run_in_process(
                actor=actor,
                run=run,
                dry_run=dry_run,
                progress=None if as_json else (lambda done, total: counter(done, total or 0)),
            )
        except FileProblem as exc:
            raise Failure(
                exc.message, "fix the file and run the command again", EXIT_FAILED
            ) from None
        except DomainError as exc:
            fields = getattr(exc, "fields", {}) or {}
            detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in fields.items())
            raise Failure(
                detail or str(exc), "see: lavka import leads --help", EXIT_USAGE
            ) from None
    counts = result["counts"]
    report = str(Path(settings.DATA_DIR) / result["error_report"])
    if as_json:
        click.echo(
            json.dumps(
                {
                    "run_id": run.pk,
                    "dry_run": dry_run,
                    **{k: counts.get(k, 0) for k in COUNT_KEYS},
                    "error_report": report,
                }
            )
        )
    else:
        counter.finish()
        label = "Checked (dry run, nothing written)" if dry_run else "Imported"
        click.echo(f"{label} {run.original_name} (run {run.pk}):")
        for key in COUNT_KEYS:
            click.echo(f"  {key:<16}{counts.get(key, 0)}")
        click.echo(f"Row errors: {report}")
    return EXIT_OK
