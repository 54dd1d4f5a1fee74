"""Writes for imports: upload a file, map its columns, save a mapping, dry-run, start
and resume an import run (a background job)."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.clients.permissions import can_create_client
from lavka.core.errors import NotFound, NotPermitted, ValidationFailed
from lavka.identity.access import Capability, has_capability
from lavka.imports.engine import (
    COUNT_KEYS,
    IMPORTED_FIELDS,
    column_fields,
    import_execute,
    items_process,
)
from lavka.imports.mapping import auto_map
from lavka.imports.models import ImportRun, SavedMapping
from lavka.imports.orders import mapping_problems, orders_import_execute
from lavka.imports.orders_fields import ORDER_IMPORTED_FIELDS, order_auto_map
from lavka.imports.readers import FileProblem, open_table
from lavka.imports.targets import import_target
from lavka.jobs.models import Job
from lavka.jobs.queue import enqueue_on_commit
from lavka.jobs.services import job_create
from lavka.sales.permissions import can_create_sales_record

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_BULK_ITEMS = 1000


TARGETS = ("clients", "orders")  # built in; others are registered (targets.py)


def target_known(target: str) -> bool:
    return target in TARGETS or import_target(target) is not None


def _require_importer(actor: Any, target: str = "clients") -> None:
    registered = import_target(target)
    if registered is not None:
        if not registered.can_import(actor):
            raise NotPermitted(action="import", resource=registered.resource)
    elif target == "orders":
        if not can_create_sales_record(actor):
            raise NotPermitted(action="import", resource="order")
    elif not can_create_client(actor):
        raise NotPermitted(action="import", resource="client")


def target_fields(target: str) -> list[str]:
    """The fields a column can be mapped to for an import of `target`."""
    registered = import_target(target)
    if registered is not None:
        return registered.fields
    return ORDER_IMPORTED_FIELDS if target == "orders" else IMPORTED_FIELDS


def _auto_map(target: str, header: list[str]) -> dict[str, str]:
    registered = import_target(target)
    if registered is not None:
        return {str(i): f for i, f in registered.auto_map(header).items()}
    if target == "orders":
        return {str(i): f for i, f in order_auto_map(header).items()}
    return {str(i): f for i, f in auto_map(header).items() if f in IMPORTED_FIELDS}


def file_too_big_message() -> str:
    return _("The file is larger than %(size)d MB. Split it into smaller files.") % {
        "size": MAX_FILE_BYTES // (1024 * 1024)
    }


def import_upload(
    *,
    actor: Any,
    name: str,
    chunks: Iterable[bytes] | None = None,
    source: Path | None = None,
    size: int | None = None,
    max_bytes: int | None = MAX_FILE_BYTES,
    target: str = "clients",
    read_all: bool = True,
) -> ImportRun:
    """Store an uploaded file (from `chunks`, or a copy of `source`) and check it can be
    read; raise FileProblem with the reason when it cannot (also when it is larger than
    `max_bytes`; None: no limit, for local files on the command line). The columns are
    pre-mapped from the header names. `target`: "clients", "orders" or a registered
    one ("leads"). Without
    `read_all` (the command line, which imports right away), a CSV file is not read
    through now: its lines are only counted, and a broken line stops the import when
    it is reached."""
    if not target_known(target):
        raise ValidationFailed(fields={"target": [_("Unknown kind of import.")]})
    _require_importer(actor, target)
    if size is None and source is not None:
        size = source.stat().st_size
    limit = max_bytes if max_bytes is not None else float("inf")
    if size is not None and size > limit:
        raise FileProblem(file_too_big_message())
    folder = Path(settings.DATA_DIR) / "imports" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    safe = Path(name).name.replace("/", "_")[:200] or "upload"
    path = folder / safe
    digest = hashlib.sha256()
    written = 0
    with path.open("wb") as out:
        if source is not None:
            with source.open("rb") as fh:
                chunks = iter(lambda: fh.read(1024 * 1024), b"")
                written = _copy(chunks, out, digest, limit)
        elif chunks is not None:
            written = _copy(chunks, out, digest, limit)
    if written > limit:
        shutil.rmtree(folder, ignore_errors=True)
        raise FileProblem(file_too_big_message())
    try:
        table = open_table(path, filename=safe)
        header = table.header
        if not read_all and table.format == "csv":
            close = getattr(table.rows, "close", None)
            if close:
                close()
            last_row = _count_lines(path)
            rows = max(0, last_row - 1)
        else:
            # Read the whole file once, so a broken line anywhere (say, an unclosed
            # quote near the end) is refused now, before anything is imported.
            rows = 0
            last_row = 0
            for number, _cells in table.rows:
                rows += 1
                last_row = number
    except FileProblem:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    with transaction.atomic():
        run = ImportRun.objects.create(
            target=target,
            file_path=str(path.relative_to(Path(settings.DATA_DIR))),
            original_name=safe[:255],
            file_sha256=digest.hexdigest(),
            format=table.format,
            encoding=table.encoding,
            delimiter=table.delimiter,
            mapping=_auto_map(target, header),
            options={"header": header, "rows": rows, "last_row": last_row},
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            action=Action.CREATE,
            subject=run,
            actor=actor,
            changes={"file": [None, run.original_name], "format": [None, run.format]},
        )
    return run


def _count_lines(path: Path) -> int:
    """The lines of a text file (a last line without a newline counts too)."""
    count = 0
    last = b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _copy(chunks: Iterable[bytes], out: IO[bytes], digest: Any, limit: float) -> int:
    written = 0
    for chunk in chunks:
        written += len(chunk)
        if written > limit:
            return written
        digest.update(chunk)
        out.write(chunk)
    return written


def _check_run(actor: Any, run: ImportRun) -> None:
    _require_importer(actor, run.target)
    if run.created_by_id != actor.pk and not has_capability(actor, Capability.MANAGE_SETTINGS):
        raise NotFound(resource="import", id=run.pk)


def _mapping_clean(
    mapping: dict[str, str], header: list[str], allowed: list[str] = IMPORTED_FIELDS
) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    used: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for index, name in mapping.items():
        if not name:
            continue
        try:
            column = int(index)
        except (TypeError, ValueError):
            errors[str(index)] = [_("Unknown column.")]
            continue
        if not 0 <= column < len(header):
            errors[str(index)] = [_("Unknown column.")]
        elif name not in allowed:
            errors[str(index)] = [_("Unknown field.")]
        elif name in used:
            errors[str(index)] = [
                _("“%(field)s” is already taken by column “%(column)s”.")
                % {"field": name, "column": used[name]}
            ]
        else:
            used[name] = header[column]
            cleaned[str(column)] = name
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def import_set_mapping(
    *, actor: Any, run: ImportRun, mapping: dict[str, str], save_as: str = ""
) -> ImportRun:
    """Set the run's column mapping ({column index: field}); with `save_as`, also keep
    it (by header names) as a saved mapping for files of the same shape."""
    _check_run(actor, run)
    if run.status not in (ImportRun.Status.UPLOADED, ImportRun.Status.MAPPED):
        raise ValidationFailed(fields={"mapping": [_("This import has already started.")]})
    header = list(run.options.get("header", []))
    cleaned = _mapping_clean(mapping, header, target_fields(run.target))
    before = run.mapping
    run.mapping = cleaned
    run.status = ImportRun.Status.MAPPED
    run.save(update_fields=["mapping", "status"])
    if save_as.strip():
        by_header = {header[int(i)]: f for i, f in cleaned.items()}
        try:
            with transaction.atomic():
                SavedMapping.objects.update_or_create(
                    target=run.target,
                    name=save_as.strip()[:100],
                    defaults={"mapping": by_header, "created_by": actor},
                )
        except IntegrityError:
            raise ValidationFailed(fields={"save_as": [_("Choose another name.")]}) from None
    audit_record(
        action=Action.UPDATE, subject=run, actor=actor, changes={"mapping": [before, cleaned]}
    )
    return run


@transaction.atomic
def import_set_options(*, actor: Any, run: ImportRun, options: dict[str, Any]) -> ImportRun:
    """Set the run's import-wide choices before it starts (a lead import's campaign for
    every new lead), as its target cleans them (ValidationFailed per option)."""
    _check_run(actor, run)
    if run.status not in (ImportRun.Status.UPLOADED, ImportRun.Status.MAPPED):
        raise ValidationFailed(fields={"options": [_("This import has already started.")]})
    registered = import_target(run.target)
    if registered is None or registered.options_clean is None:
        raise ValidationFailed(fields={"options": [_("This kind of import has no options.")]})
    cleaned = registered.options_clean(options)
    changes = {k: [run.options.get(k), v] for k, v in cleaned.items() if run.options.get(k) != v}
    if changes:
        run.options = {**run.options, **cleaned}
        run.save(update_fields=["options"])
        audit_record(action=Action.UPDATE, subject=run, actor=actor, changes=changes)
    return run


def mapping_from_saved(
    saved: SavedMapping | dict[str, str], header: list[str], target: str | None = None
) -> dict[str, str]:
    """A saved mapping ({header name: field}) applied to a file's header."""
    by_header = saved.mapping if isinstance(saved, SavedMapping) else saved
    if target is None:
        target = saved.target if isinstance(saved, SavedMapping) else "clients"
    allowed = target_fields(target)
    folded = {str(k).strip().casefold(): v for k, v in by_header.items()}
    result: dict[str, str] = {}
    for index, name in enumerate(header):
        field = folded.get(name.strip().casefold())
        if field in allowed and field not in result.values():
            result[str(index)] = field
    return result


def _start_job(*, actor: Any, run: ImportRun, dry_run: bool, title: str) -> Job:
    from lavka.imports.tasks import import_run_task

    registered = import_target(run.target)
    job = job_create(
        actor=actor,
        kind=registered.job_kind
        if registered is not None
        else ("orders.import" if run.target == "orders" else "clients.import"),
        title=title,
        params={"run_id": run.pk, "dry_run": dry_run},
    )
    run.job = job
    run.options = {**run.options, "dry_run": dry_run}
    run.save(update_fields=["job", "options"])
    enqueue_on_commit(import_run_task, job.pk)
    return job


def _require_mapping(run: ImportRun) -> None:
    registered = import_target(run.target)
    if registered is not None:
        allowed = set(registered.fields)
        problems = registered.mapping_problems(
            {f for f in (run.mapping or {}).values() if f in allowed}
        )
        if problems:
            raise ValidationFailed(fields={"mapping": problems})
        return
    if run.target == "orders":
        fields = {f for f in (run.mapping or {}).values() if f in ORDER_IMPORTED_FIELDS}
        problems = mapping_problems(fields)
        if problems:
            raise ValidationFailed(fields={"mapping": problems})
        return
    if not column_fields(run):
        raise ValidationFailed(fields={"mapping": [_("Map at least one column to a field.")]})


@transaction.atomic
def import_dry_run(*, actor: Any, run: ImportRun) -> Job:
    """Check every row as an import would, writing nothing but the report."""
    _check_run(actor, run)
    _require_mapping(run)
    if run.status not in (ImportRun.Status.UPLOADED, ImportRun.Status.MAPPED):
        raise ValidationFailed(fields={"run": [_("This import has already started.")]})
    return _start_job(
        actor=actor, run=run, dry_run=True, title=_("Check %(file)s") % {"file": run.original_name}
    )


@transaction.atomic
def import_start(*, actor: Any, run: ImportRun) -> Job:
    """Import the run's file in the background."""
    _check_run(actor, run)
    _require_mapping(run)
    if run.status not in (ImportRun.Status.UPLOADED, ImportRun.Status.MAPPED):
        raise ValidationFailed(fields={"run": [_("This import has already started.")]})
    run.status = ImportRun.Status.RUNNING
    run.save(update_fields=["status"])
    audit_record(
        action=Action.UPDATE,
        subject=run,
        actor=actor,
        changes={"status": [ImportRun.Status.MAPPED, ImportRun.Status.RUNNING]},
    )
    return _start_job(
        actor=actor,
        run=run,
        dry_run=False,
        title=_("Import %(file)s") % {"file": run.original_name},
    )


def import_can_resume(run: ImportRun) -> bool:
    if run.status == ImportRun.Status.FAILED:
        return True
    return run.status == ImportRun.Status.RUNNING and (
        run.job is None or run.job.status in (Job.Status.FAILED, Job.Status.CANCELLED)
    )


@transaction.atomic
def import_resume(*, actor: Any, run: ImportRun) -> Job:
    """Continue a failed import after its last committed row."""
    _check_run(actor, run)
    if not import_can_resume(run):
        raise ValidationFailed(fields={"run": [_("Only a failed import can be resumed.")]})
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    run.status = ImportRun.Status.RUNNING
    audit_record(
        action=Action.UPDATE,
        subject=run,
        actor=actor,
        changes={"resumed_after_row": [None, run.committed_row]},
    )
    return _start_job(
        actor=actor,
        run=run,
        dry_run=False,
        title=_("Resume import of %(file)s") % {"file": run.original_name},
    )


def users_language(actor: Any) -> contextlib.AbstractContextManager[Any]:
    """The actor's own language, if they chose one, for the reasons in the row-error
    report (a background job otherwise runs in the site's default language)."""
    language = getattr(actor, "language", "")
    return translation.override(language) if language else contextlib.nullcontext()


def import_run_in_process(
    *, actor: Any, run: ImportRun, dry_run: bool = False, progress: Any = None, workers: int = 0
) -> dict[str, Any]:
    """Run the import here and now (the command line), not as a background job."""
    _check_run(actor, run)
    _require_mapping(run)
    registered = import_target(run.target)
    try:
        with users_language(actor):
            if registered is not None:
                return registered.execute(
                    run=run, actor=actor, dry_run=dry_run, progress=progress, workers=workers
                )
            if run.target == "orders":
                return orders_import_execute(
                    run=run, actor=actor, dry_run=dry_run, progress=progress, workers=workers
                )
            return import_execute(
                run=run, actor=actor, dry_run=dry_run, progress=progress, workers=workers
            )
    except BaseException:
        if not dry_run:
            ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.FAILED)
        raise


def import_run_for_job(job: Job, progress: Any) -> dict[str, Any]:
    """The job's work: run (or dry-run) the import its params name."""
    run = ImportRun.objects.select_related("created_by").get(pk=job.params["run_id"])
    dry_run = bool(job.params.get("dry_run"))
    actor = job.started_by
    registered = import_target(run.target)
    try:
        if registered is not None:
            execute = registered.execute
        else:
            execute = orders_import_execute if run.target == "orders" else import_execute
        with users_language(actor):
            result = execute(
                run=run,
                actor=actor,
                dry_run=dry_run,
                progress=lambda done, total: progress(done, total),
            )
    except BaseException:
        if not dry_run:
            ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.FAILED)
        raise
    counts = result["counts"]
    if registered is not None:
        with users_language(actor):
            result["message"] = registered.message(counts)
        result["run_id"] = run.pk
        return result
    if run.target == "orders":
        result["message"] = orders_message(counts)
        result["run_id"] = run.pk
        return result
    result["message"] = _(
        "Created %(created)d, updated %(updated)d, unchanged %(unchanged)d, "
        "duplicates %(duplicates)d, rejected %(rejected)d."
    ) % {k: counts.get(k, 0) for k in ("created", "updated", "unchanged", "duplicates", "rejected")}
    result["run_id"] = run.pk
    return result


def orders_message(counts: dict[str, Any]) -> str:
    """The outcome of an order import (or its dry run) in one sentence."""
    if counts.get("dry_run"):
        return _(
            "Checked: %(lines)d lines in %(orders)d orders would be imported, "
            "%(clients)d new clients, %(products)d new products; rejected %(rejected)d rows."
        ) % {
            "lines": counts.get("lines", 0),
            "orders": counts.get("orders", 0),
            "clients": counts.get("clients_created", 0),
            "products": counts.get("products_created", 0),
            "rejected": counts.get("rejected", 0),
        }
    return _(
        "Orders: created %(created)d, updated %(updated)d, unchanged %(unchanged)d; "
        "new clients %(clients)d, new products %(products)d; rejected %(rejected)d rows."
    ) % {
        "created": counts.get("orders_created", 0),
        "updated": counts.get("orders_updated", 0),
        "unchanged": counts.get("orders_unchanged", 0),
        "clients": counts.get("clients_created", 0),
        "products": counts.get("products_created", 0),
        "rejected": counts.get("rejected", 0),
    }


@transaction.atomic
def saved_mapping_delete(*, actor: Any, saved: SavedMapping) -> None:
    _require_importer(actor, saved.target)
    audit_record(action=Action.DELETE, subject=saved, actor=actor, changes={})
    saved.delete()


@transaction.atomic
def clients_bulk_upsert(
    *, actor: Any, items: list[dict[str, Any]], dry_run: bool = False
) -> dict[str, Any]:
    """Create or update clients from a list of {field: value} items (the import
    mapping's fields) through the import engine: same cleaning, matching (external
    id, email, INN), "not yours" rejection, duplicates and unchanged detection. One
    transaction, one audit event and one outbox event for the whole call. Returns the
    counts and, per item, {index, status, id, errors}."""
    _require_importer(actor)
    if len(items) > MAX_BULK_ITEMS:
        raise ValidationFailed(
            fields={
                "items": [
                    _("Send at most %(max)d items per call; split the rest into more calls.")
                    % {"max": MAX_BULK_ITEMS}
                ]
            }
        )
    result = items_process(actor=actor, items=list(enumerate(items)), dry_run=dry_run)
    errors: dict[int, dict[str, list[str]]] = {}
    for problem in result.problems:
        errors.setdefault(problem.row, {}).setdefault(problem.column or "item", []).append(
            problem.reason
        )
    results = []
    for index in range(len(items)):
        status, pk = result.outcomes.get(index, ("rejected", None))
        results.append(
            {
                "index": index,
                "status": status,
                "id": pk,
                "errors": errors.get(index, {}),
            }
        )
    counts = {k: result.counts[k] for k in COUNT_KEYS}
    if not dry_run:
        audit_record(
            action=Action.UPDATE,
            subject=None,
            actor=actor,
            changes={
                "bulk_upsert": {
                    "items": len(items),
                    "counts": counts,
                    "created": result.created_ids,
                    "updated": result.updated_ids,
                }
            },
            meta={"via": "api bulk upsert"},
        )
        if result.created_ids or result.updated_ids:
            outbox_publish(
                kind="clients.imported",
                payload={
                    "run_id": None,
                    "created": result.created_ids,
                    "updated": result.updated_ids,
                },
            )
    return {**counts, "results": results}
