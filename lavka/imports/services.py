"""Writes for imports: upload a file, map its columns, save a mapping, dry-run, start
and resume an import run (a background job)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
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
from lavka.imports.readers import FileProblem, open_table
from lavka.jobs.models import Job
from lavka.jobs.queue import enqueue_on_commit
from lavka.jobs.services import job_create

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_BULK_ITEMS = 1000


def _require_importer(actor: Any) -> None:
    if not can_create_client(actor):
        raise NotPermitted(action="import", resource="client")


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
) -> ImportRun:
    """Store an uploaded file (from `chunks`, or a copy of `source`) and check it can be
    read; raise FileProblem with the reason when it cannot (also when it is larger than
    `max_bytes`; None: no limit, for local files on the command line). The columns are
    pre-mapped from the header names."""
    _require_importer(actor)
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
        # Read the whole file once, so a broken line anywhere (say, an unclosed quote
        # near the end) is refused now, before anything is imported.
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
            file_path=str(path.relative_to(Path(settings.DATA_DIR))),
            original_name=safe[:255],
            file_sha256=digest.hexdigest(),
            format=table.format,
            encoding=table.encoding,
            delimiter=table.delimiter,
            mapping={str(i): f for i, f in auto_map(header).items() if f in IMPORTED_FIELDS},
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
    _require_importer(actor)
    if run.created_by_id != actor.pk and not has_capability(actor, Capability.MANAGE_SETTINGS):
        raise NotFound(resource="import", id=run.pk)


def _mapping_clean(mapping: dict[str, str], header: list[str]) -> dict[str, str]:
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
        elif name not in IMPORTED_FIELDS:
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
    cleaned = _mapping_clean(mapping, header)
    before = run.mapping
    run.mapping = cleaned
    run.status = ImportRun.Status.MAPPED
    run.save(update_fields=["mapping", "status"])
    if save_as.strip():
        by_header = {header[int(i)]: f for i, f in cleaned.items()}
        try:
            with transaction.atomic():
                SavedMapping.objects.update_or_create(
                    target="clients",
                    name=save_as.strip()[:100],
                    defaults={"mapping": by_header, "created_by": actor},
                )
        except IntegrityError:
            raise ValidationFailed(fields={"save_as": [_("Choose another name.")]}) from None
    audit_record(
        action=Action.UPDATE, subject=run, actor=actor, changes={"mapping": [before, cleaned]}
    )
    return run


def mapping_from_saved(saved: SavedMapping | dict[str, str], header: list[str]) -> dict[str, str]:
    """A saved mapping ({header name: field}) applied to a file's header."""
    by_header = saved.mapping if isinstance(saved, SavedMapping) else saved
    folded = {str(k).strip().casefold(): v for k, v in by_header.items()}
    result: dict[str, str] = {}
    for index, name in enumerate(header):
        field = folded.get(name.strip().casefold())
        if field in IMPORTED_FIELDS and field not in result.values():
            result[str(index)] = field
    return result


def _start_job(*, actor: Any, run: ImportRun, dry_run: bool, title: str) -> Job:
    from lavka.imports.tasks import import_run_task

    job = job_create(
        actor=actor,
        kind="clients.import",
        title=title,
        params={"run_id": run.pk, "dry_run": dry_run},
    )
    run.job = job
    run.options = {**run.options, "dry_run": dry_run}
    run.save(update_fields=["job", "options"])
    enqueue_on_commit(import_run_task, job.pk)
    return job


def _require_mapping(run: ImportRun) -> None:
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


def import_run_in_process(
    *, actor: Any, run: ImportRun, dry_run: bool = False, progress: Any = None, workers: int = 0
) -> dict[str, Any]:
    """Run the import here and now (the command line), not as a background job."""
    _check_run(actor, run)
    _require_mapping(run)
    try:
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
    try:
        result = import_execute(
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
    result["message"] = _(
        "Created %(created)d, updated %(updated)d, unchanged %(unchanged)d, "
        "duplicates %(duplicates)d, rejected %(rejected)d."
    ) % {k: counts.get(k, 0) for k in ("created", "updated", "unchanged", "duplicates", "rejected")}
    result["run_id"] = run.pk
    return result


@transaction.atomic
def saved_mapping_delete(*, actor: Any, saved: SavedMapping) -> None:
    _require_importer(actor)
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
