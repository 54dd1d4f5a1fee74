"""Imports API: upload a client, order or lead file, map its columns, preview, dry-run,
start, follow the run and read its row errors. The same services as the import wizard."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from lavka.api.pagination import LimitOffset
from lavka.imports.errors import ImportFileUnreadable
from lavka.imports.readers import FileProblem
from lavka.imports.selectors import (
    import_preview,
    import_row_errors,
    import_run_get,
    saved_mapping_find,
    saved_mappings,
)
from lavka.imports.services import (
    MAX_FILE_BYTES,
    file_too_big_message,
    import_dry_run,
    import_resume,
    import_set_mapping,
    import_start,
    import_upload,
    mapping_from_saved,
)
from lavka.jobs.models import Job

router = Router(tags=["imports"])


class JobRef(Schema):
    id: int
    status: str
    done: int
    total: int | None
    percent: int | None


class ImportRunOut(Schema):
    id: int
    target: str
    original_name: str
    format: str
    encoding: str
    delimiter: str
    header: list[str]
    mapping: dict[str, str]
    status: str
    committed_row: int
    counts: dict[str, Any]
    job: JobRef | None
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_header(obj: Any) -> list[str]:
        return list(obj.options.get("header", []))


class MappingIn(Schema):
    mapping: dict[str, str] = Field(
        default_factory=dict, description="{column index: field}; empty to skip"
    )
    saved_mapping: str = Field("", description="Apply a saved mapping by name instead.")
    save_as: str = Field("", max_length=100)


class PreviewCell(Schema):
    value: str
    error: str | None


class PreviewRow(Schema):
    row: int
    cells: list[PreviewCell]
    errors: list[str]


class PreviewOut(Schema):
    header: list[str]
    fields: dict[str, str]
    rows: list[PreviewRow]


class RowErrorOut(Schema):
    row: int
    column: str
    value: str
    reason: str
    kind: str


class SavedMappingOut(Schema):
    id: int
    name: str
    mapping: dict[str, str]


def _job_ref(job: Job | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {
        "id": job.pk,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
    }


def _run_out(run: Any) -> Any:
    run.job = Job.objects.filter(pk=run.job_id).first() if run.job_id else None
    return run


@router.post("/imports", response={201: ImportRunOut}, operation_id="upload_import")
def upload_import(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008
    target: Literal["clients", "orders", "leads"] = "clients",
) -> Any:
    """Upload a file to import; `target=orders` for order lines (the purchase history),
    `target=leads` for leads."""
    if (file.size or 0) > MAX_FILE_BYTES:
        raise ImportFileUnreadable(file_too_big_message())
    try:
        run = import_upload(
            actor=request.user,
            name=file.name or "upload",
            chunks=file.chunks(),
            size=file.size,
            target=target,
        )
    except FileProblem as exc:
        raise ImportFileUnreadable(exc.message) from None
    return Status(201, _run_out(run))


@router.get(
    "/imports/mappings", response=list[SavedMappingOut], operation_id="list_import_mappings"
)
def list_import_mappings(
    request: HttpRequest, target: Literal["clients", "orders", "leads"] = "clients"
) -> Any:
    return list(saved_mappings(viewer=request.user, target=target))


@router.get("/imports/{run_id}", response=ImportRunOut, operation_id="get_import")
def get_import(request: HttpRequest, run_id: int) -> Any:
    return _run_out(import_run_get(viewer=request.user, run_id=run_id))


@router.put("/imports/{run_id}/mapping", response=ImportRunOut, operation_id="set_import_mapping")
def set_import_mapping(request: HttpRequest, run_id: int, payload: MappingIn) -> Any:
    run = import_run_get(viewer=request.user, run_id=run_id)
    mapping = payload.mapping
    if payload.saved_mapping:
        saved = saved_mapping_find(
            viewer=request.user, name=payload.saved_mapping, target=run.target
        )
        if saved is None:
            from django.utils.translation import gettext as _

            from lavka.core.errors import ValidationFailed

            raise ValidationFailed(fields={"saved_mapping": [_("There is no such mapping.")]})
        mapping = mapping_from_saved(saved, list(run.options.get("header", [])))
    run = import_set_mapping(actor=request.user, run=run, mapping=mapping, save_as=payload.save_as)
    return _run_out(run)


@router.get("/imports/{run_id}/preview", response=PreviewOut, operation_id="preview_import")
def preview_import(request: HttpRequest, run_id: int) -> Any:
    run = import_run_get(viewer=request.user, run_id=run_id)
    try:
        return import_preview(viewer=request.user, run=run)
    except FileProblem as exc:
        raise ImportFileUnreadable(exc.message) from None


@router.post("/imports/{run_id}/dry-run", response={202: JobRef}, operation_id="dry_run_import")
def dry_run_import(request: HttpRequest, run_id: int) -> Any:
    run = import_run_get(viewer=request.user, run_id=run_id)
    return Status(202, _job_ref(import_dry_run(actor=request.user, run=run)))


@router.post("/imports/{run_id}/start", response={202: JobRef}, operation_id="start_import")
def start_import(request: HttpRequest, run_id: int) -> Any:
    run = import_run_get(viewer=request.user, run_id=run_id)
    return Status(202, _job_ref(import_start(actor=request.user, run=run)))


@router.post("/imports/{run_id}/resume", response={202: JobRef}, operation_id="resume_import")
def resume_import(request: HttpRequest, run_id: int) -> Any:
    run = import_run_get(viewer=request.user, run_id=run_id)
    return Status(202, _job_ref(import_resume(actor=request.user, run=run)))


@router.get(
    "/imports/{run_id}/errors", response=list[RowErrorOut], operation_id="list_import_errors"
)
@paginate(LimitOffset)
def list_import_errors(request: HttpRequest, run_id: int) -> Any:
    run = import_run_get(viewer=request.user, run_id=run_id)
    return import_row_errors(viewer=request.user, run=run)
