"""`lavka import ...` and `lavka export ...`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lavka.cli.base import (
    EPILOG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Counter,
    Failure,
    acting_user,
    cli,
    database_required,
    django_setup,
    migrations_required,
)

# --- import and export -------------------------------------------------------------------


def mapping_resolve(
    mapping_ref: str, header: list[str], actor: Any, target: str = "clients"
) -> dict[str, str]:
    """The mapping `mapping_ref` names: a JSON file {column header: field}, or the name
    of a mapping saved for `target` (clients, orders or leads)."""
    from lavka.imports.selectors import saved_mapping_find
    from lavka.imports.services import mapping_from_saved

    ref = Path(mapping_ref)
    if ref.is_file():
        try:
            by_header = json.loads(ref.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise Failure(
                f"{mapping_ref} is not JSON: {exc}",
                'write it as {"column header": "field"}',
                EXIT_USAGE,
            ) from None
        if not isinstance(by_header, dict):
            raise Failure(
                f"{mapping_ref} is not a JSON object",
                'write it as {"column header": "field"}',
                EXIT_USAGE,
            )
        return mapping_from_saved(by_header, header, target)
    saved = saved_mapping_find(viewer=actor, name=mapping_ref, target=target)
    if saved is None:
        raise Failure(
            f"there is no saved {target.rstrip('s')} mapping named {mapping_ref!r}",
            "give a mapping's name or a JSON file",
            EXIT_USAGE,
        )
    return mapping_from_saved(saved, header, target)


def import_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments every `lavka import ...` command takes: FILE, --mapping,
    --dry-run, --json, --as and --resume."""
    for option in reversed(IMPORT_OPTIONS):
        command = option(command)
    return command


IMPORT_OPTIONS = [
    click.argument("file", type=click.Path(dir_okay=False), required=False),
    click.option(
        "--mapping",
        "mapping_ref",
        metavar="NAME_OR_JSON_FILE",
        help="A saved mapping's name, or a JSON file {column header: field}.",
    ),
    click.option("--dry-run", is_flag=True, help="Check every row, write nothing."),
    click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON."),
    click.option("--as", "as_user", metavar="USERNAME", help="The user the import acts as."),
    click.option(
        "--resume",
        "resume_id",
        type=int,
        metavar="RUN_ID",
        help="Continue a failed import after its last committed row.",
    ),
]


CLIENT_COUNT_KEYS = ("created", "updated", "unchanged", "duplicates", "rejected")


def import_workers() -> int:
    """Processes that read and check rows while the command's own process matches and
    writes: one per core, at most 4 (none on Windows, which cannot fork)."""
    if sys.platform.startswith("win"):
        return 0
    return max(0, min(4, os.cpu_count() or 1))


def run_file_import(
    *,
    target: str,
    file: str | None,
    resume_id: int | None,
    mapping_ref: str | None,
    as_user: str | None,
    dry_run: bool,
    as_json: bool,
    upload: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    workers: int = 0,
) -> tuple[Any, dict[str, Any], Counter]:
    """What every `lavka import TARGET` command does: upload FILE (or find the failed
    run to resume), apply the mapping and the import-wide options, run the import in
    this process with a progress counter, and turn what goes wrong into a `Failure`
    with its exit code. Returns the run, the engine's result and the counter."""
    command = f"lavka import {target}"
    if (file is None) == (resume_id is None):
        raise Failure("give either FILE or --resume RUN_ID", f"see: {command} --help", EXIT_USAGE)
    django_setup()
    database_required()
    migrations_required()
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
    with audit_context(via="cli", command=f"import {target}"):
        try:
            if resume_id is not None:
                run = ImportRun.objects.filter(pk=resume_id, target=target).first()
                if run is None or not import_can_resume(run):
                    raise Failure(
                        f"{target} import run {resume_id} cannot be resumed",
                        "only a failed import can be resumed",
                        EXIT_USAGE,
                    )
            else:
                assert file is not None
                path = Path(file)
                if not path.is_file():
                    raise Failure(f"cannot read {file}", "check the path", EXIT_FAILED)
                run = import_upload(
                    actor=actor,
                    name=path.name,
                    source=path,
                    max_bytes=None,
                    target=target,
                    **(upload or {}),
                )
                if options:
                    run = import_set_options(actor=actor, run=run, options=options)
                if mapping_ref:
                    header = list(run.options.get("header", []))
                    mapping = mapping_resolve(mapping_ref, header, actor, target)
                    run = import_set_mapping(actor=actor, run=run, mapping=mapping)
            result = import_run_in_process(
                actor=actor,
                run=run,
                dry_run=dry_run,
                progress=None if as_json else (lambda done, total: counter(done, total or 0)),
                workers=workers,
            )
        except FileProblem as exc:
            raise Failure(
                exc.message, "fix the file and run the command again", EXIT_FAILED
            ) from None
        except DomainError as exc:
            fields = getattr(exc, "fields", {}) or {}
            detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in fields.items())
            raise Failure(detail or str(exc), f"see: {command} --help", EXIT_USAGE) from None
    return run, result, counter


def import_outcome_echo(
    run: Any,
    result: dict[str, Any],
    counter: Counter,
    *,
    keys: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    extra: dict[str, Any] | None = None,
) -> int:
    """Print an import's counts and where its row-error report is: one JSON object
    with --json, else a few lines for a person."""
    from django.conf import settings

    counts = result["counts"]
    report = str(Path(settings.DATA_DIR) / result["error_report"])
    if as_json:
        outcome = {"run_id": run.pk, "dry_run": dry_run, **{k: counts.get(k, 0) for k in keys}}
        click.echo(json.dumps({**outcome, "error_report": report, **(extra or {})}))
        return EXIT_OK
    counter.finish()
    label = "Checked (dry run, nothing written)" if dry_run else "Imported"
    click.echo(f"{label} {run.original_name} (run {run.pk}):")
    width = max(map(len, keys)) + 2
    for key in keys:
        click.echo(f"  {key:<{width}}{counts.get(key, 0)}")
    click.echo(f"Row errors: {report}")
    return EXIT_OK


@cli.group(name="import", epilog=EPILOG, short_help="Import clients, orders or leads from a file.")
def import_group() -> None:
    """Import records from CSV, XLSX or vCard files."""


@import_group.command(name="clients", epilog=EPILOG)
@import_options
def import_clients(
    file: str | None,
    mapping_ref: str | None,
    dry_run: bool,
    as_json: bool,
    as_user: str | None,
    resume_id: int | None,
) -> int:
    """Import clients from FILE: create new ones, update those found by external id,
    email or INN. Prints the counts and where the row-error report is. Exits 0 when the
    import ran (even with rejected rows), 1 when the file cannot be read."""
    run, result, counter = run_file_import(
        target="clients",
        file=file,
        resume_id=resume_id,
        mapping_ref=mapping_ref,
        as_user=as_user,
        dry_run=dry_run,
        as_json=as_json,
        workers=import_workers(),
    )
    return import_outcome_echo(
        run, result, counter, keys=CLIENT_COUNT_KEYS, dry_run=dry_run, as_json=as_json
    )


@cli.group(name="export", epilog=EPILOG, short_help="Export clients to a file.")
def export_group() -> None:
    """Export records to CSV or XLSX."""


@export_group.command(name="clients", epilog=EPILOG)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The file to write."
)
@click.option("--as", "as_user", metavar="USERNAME", help="Export what this user can see.")
@click.option("--query", default="", help="Only clients matching this search.")
@click.option(
    "--round-trip",
    is_flag=True,
    help="Write values raw (no formula neutralising), for re-import only.",
)
def export_clients(fmt: str, out: str, as_user: str | None, query: str, round_trip: bool) -> int:
    """Export the clients a user can see to CSV or XLSX. Cells that a spreadsheet would
    run as formulas are neutralised with a leading apostrophe, unless --round-trip."""
    from pathlib import Path

    django_setup()
    database_required()
    migrations_required()
    from lavka.clients.exports import clients_write

    actor = acting_user(as_user)
    counter = Counter("clients")
    written = clients_write(
        viewer=actor,
        path=Path(out),
        fmt=fmt,
        filters={"q": query},
        round_trip=round_trip,
        progress=counter,
    )
    counter.finish()
    click.echo(f"Exported {written} clients to {out}.")
    if round_trip:
        click.echo(
            "Round-trip export: values are raw, for re-import into Lavka only; "
            "do not open it in a spreadsheet."
        )
    return EXIT_OK
