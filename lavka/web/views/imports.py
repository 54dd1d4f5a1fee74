"""Import wizard (upload, map columns, preview, dry run, import with live progress, the
row-error report) for clients, orders and leads, and exports of any filtered client
list to CSV or XLSX."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lavka.clients.exports import client_export_start, export_path
from lavka.clients.permissions import can_create_client
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.imports import engine
from lavka.imports.mapping import CLIENT_FIELDS
from lavka.imports.models import ImportRun
from lavka.imports.orders_fields import order_field_choices
from lavka.imports.readers import FileProblem
from lavka.imports.selectors import (
    import_preview,
    import_row_errors,
    import_run_get,
    import_runs_visible_to,
    saved_mappings,
)
from lavka.imports.services import (
    MAX_FILE_BYTES,
    file_too_big_message,
    import_can_resume,
    import_dry_run,
    import_resume,
    import_set_mapping,
    import_set_options,
    import_start,
    import_upload,
    mapping_from_saved,
)
from lavka.jobs.selectors import job_get
from lavka.leads.import_fields import lead_field_choices
from lavka.leads.permissions import can_create_lead
from lavka.sales.permissions import can_create_sales_record
from lavka.web.requests import AuthedRequest

app_name = "imports"
ERRORS_SHOWN = 500


def _field_choices(target: str = "clients") -> list[tuple[str, str]]:
    if target == "orders":
        return order_field_choices()
    if target == "leads":
        return lead_field_choices()
    return [(name, str(CLIENT_FIELDS[name][0])) for name in engine.IMPORTED_FIELDS]


@login_required
def new_import(request: AuthedRequest) -> HttpResponse:
    return _new_import(request, "clients")


@login_required
def new_orders_import(request: AuthedRequest) -> HttpResponse:
    """Upload an accounting system's export of order lines (the purchase history)."""
    return _new_import(request, "orders")


@login_required
def new_leads_import(request: AuthedRequest) -> HttpResponse:
    """Upload a file of leads (an exhibition's visitors, another CRM's export)."""
    return _new_import(request, "leads")


def _wizard(target: str) -> dict[str, str]:
    """Where the wizard of `target` starts and the list its records land in."""
    if target == "orders":
        return {
            "url": reverse("imports:orders"),
            "title": _("Import orders"),
            "list_url": reverse("sales:orders"),
            "list_label": _("Go to orders"),
            "list_testid": "go-to-orders",
        }
    if target == "leads":
        return {
            "url": reverse("imports:leads"),
            "title": _("Import leads"),
            "list_url": reverse("leads:list"),
            "list_label": _("Go to leads"),
            "list_testid": "go-to-leads",
        }
    return {
        "url": reverse("imports:new"),
        "title": _("Import"),
        "list_url": reverse("clients:list"),
        "list_label": _("Go to clients"),
        "list_testid": "go-to-clients",
    }


def _new_import(request: AuthedRequest, target: str) -> HttpResponse:
    if target == "orders":
        if not can_create_sales_record(request.user):
            raise NotPermitted(action="import", resource="order")
        request.nav_section = "sales"  # type: ignore[attr-defined]
    elif target == "leads":
        if not can_create_lead(request.user):
            raise NotPermitted(action="import", resource="lead")
        request.nav_section = "sales"  # type: ignore[attr-defined]
    elif not can_create_client(request.user):
        raise NotPermitted(action="import", resource="client")
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file to import.")
        elif (upload.size or 0) > MAX_FILE_BYTES:
            error = file_too_big_message()
        else:
            try:
                run = import_upload(
                    actor=request.user,
                    name=upload.name or "upload",
                    chunks=upload.chunks(),
                    size=upload.size,
                    target=target,
                )
            except FileProblem as exc:
                error = exc.message
            else:
                return redirect("imports:mapping", run_id=run.pk)
    runs = import_runs_visible_to(request.user).filter(target=target)[:10]
    return render(
        request,
        "web/imports/new.html",
        {
            "error": error,
            "runs": runs,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
            "target": target,
            "wizard": _wizard(target),
        },
        status=422 if error else 200,
    )


@login_required
def map_columns(request: AuthedRequest, run_id: int) -> HttpResponse:
    run = import_run_get(viewer=request.user, run_id=run_id)
    _section(request, run)
    if run.status not in (ImportRun.Status.UPLOADED, ImportRun.Status.MAPPED):
        return redirect("imports:show", run_id=run.pk)
    header = list(run.options.get("header", []))
    mapping = dict(run.mapping)
    errors: dict[str, list[str]] = {}
    saved_all = list(saved_mappings(viewer=request.user, target=run.target))
    chosen = request.GET.get("saved", "")
    if chosen:
        saved = next((m for m in saved_all if str(m.pk) == chosen), None)
        if saved is not None:
            mapping = mapping_from_saved(saved, header)
    campaign = str(run.options.get("campaign", ""))
    if request.method == "POST":
        mapping = {str(i): request.POST.get(f"col-{i}", "") for i in range(len(header))}
        if run.target == "leads":
            campaign = request.POST.get("campaign", "")
            try:
                import_set_options(actor=request.user, run=run, options={"campaign": campaign})
            except ValidationFailed as exc:
                errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        try:
            if not errors:
                import_set_mapping(
                    actor=request.user,
                    run=run,
                    mapping=mapping,
                    save_as=request.POST.get("save_as", ""),
                )
        except ValidationFailed as exc:
            errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        if not errors:
            return redirect("imports:preview", run_id=run.pk)
    columns = [
        {
            "index": i,
            "name": name,
            "field": mapping.get(str(i), ""),
            "errors": errors.get(str(i), []),
        }
        for i, name in enumerate(header)
    ]
    return render(
        request,
        "web/imports/mapping.html",
        {
            "run": run,
            "columns": columns,
            "choices": _field_choices(run.target),
            "saved_all": saved_all,
            "chosen": chosen,
            "save_errors": errors.get("save_as", []),
            "campaign": campaign,
            "campaign_errors": errors.get("campaign", []),
            "wizard": _wizard(run.target),
        },
        status=422 if errors else 200,
    )


@login_required
def preview_import(request: AuthedRequest, run_id: int) -> HttpResponse:
    run = import_run_get(viewer=request.user, run_id=run_id)
    _section(request, run)
    try:
        preview = import_preview(viewer=request.user, run=run)
    except FileProblem as exc:
        messages.error(request, exc.message)
        return redirect("imports:new")
    labels = dict(_field_choices(run.target))
    header = [
        {"name": name, "field": labels.get(preview["fields"].get(str(i), ""), "")}
        for i, name in enumerate(preview["header"])
    ]
    return render(
        request,
        "web/imports/preview.html",
        {"run": run, "preview": preview, "header": header, "wizard": _wizard(run.target)},
    )


@login_required
@require_POST
def run_import(request: AuthedRequest, run_id: int) -> HttpResponse:
    """Start the dry run (`dry_run=1`) or the import itself; then the run's page."""
    run = import_run_get(viewer=request.user, run_id=run_id)
    try:
        if request.POST.get("dry_run"):
            import_dry_run(actor=request.user, run=run)
        elif request.POST.get("resume"):
            import_resume(actor=request.user, run=run)
        else:
            import_start(actor=request.user, run=run)
    except ValidationFailed as exc:
        for problems in exc.fields.values():
            for problem in problems:
                messages.error(request, str(problem))
        return redirect("imports:preview", run_id=run.pk)
    return redirect("imports:show", run_id=run.pk)


@login_required
def show_import(request: AuthedRequest, run_id: int) -> HttpResponse:
    run = import_run_get(viewer=request.user, run_id=run_id)
    _section(request, run)
    job = job_get(viewer=request.user, job_id=run.job_id) if run.job_id else None
    errors = list(import_row_errors(viewer=request.user, run=run)[:ERRORS_SHOWN])
    counts = [(key, label, (run.counts or {}).get(key, 0)) for key, label in _count_labels(run)]
    context: dict[str, Any] = {
        "run": run,
        "job": job,
        "errors": errors,
        "counts": counts,
        "more_errors": len(errors) == ERRORS_SHOWN,
        "is_dry_run": bool((run.counts or {}).get("dry_run")),
        "can_resume": import_can_resume(run),
        "live": job is not None and not job.is_finished,
        "wizard": _wizard(run.target),
    }
    template = (
        "web/imports/_run.html" if request.headers.get("HX-Request") else ("web/imports/show.html")
    )
    return render(request, template, context)


def _section(request: AuthedRequest, run: ImportRun) -> None:
    """Order and lead imports belong to the sales area of the navigation."""
    if run.target in ("orders", "leads"):
        request.nav_section = "sales"  # type: ignore[attr-defined]


def _count_labels(run: ImportRun) -> list[tuple[str, str]]:
    if run.target == "leads":
        return [
            ("created", _("Created")),
            ("updated", _("Updated")),
            ("unchanged", _("Unchanged")),
            ("duplicates", _("Duplicates")),
            ("client_matches", _("Like existing clients")),
            ("rejected", _("Rejected")),
        ]
    if run.target != "orders":
        return [
            ("created", _("Created")),
            ("updated", _("Updated")),
            ("unchanged", _("Unchanged")),
            ("duplicates", _("Duplicates")),
            ("rejected", _("Rejected")),
        ]
    if (run.counts or {}).get("dry_run"):
        return [
            ("lines", _("Lines to import")),
            ("orders", _("Orders in the file")),
            ("clients_created", _("New clients")),
            ("products_created", _("New products")),
            ("rejected", _("Rejected rows")),
        ]
    return [
        ("lines", _("Lines imported")),
        ("orders_created", _("Orders created")),
        ("orders_updated", _("Orders updated")),
        ("orders_unchanged", _("Orders unchanged")),
        ("clients_created", _("New clients")),
        ("products_created", _("New products")),
        ("rejected", _("Rejected rows")),
    ]


@login_required
def download_import_errors(request: AuthedRequest, run_id: int) -> FileResponse:
    run = import_run_get(viewer=request.user, run_id=run_id)
    if not run.error_report:
        raise Http404
    report = engine.error_report_path(run)
    if not report.exists():
        raise Http404
    return FileResponse(
        report.open("rb"),
        as_attachment=True,
        filename=f"import-{run.pk}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_POST
def export_clients(request: AuthedRequest) -> HttpResponse:
    """Export the filtered client list (q, kind, tier, tag, owner) as CSV or XLSX."""
    filters = {k: request.POST.get(k, "") for k in ("q", "kind", "tier", "tag", "owner")}
    fmt = request.POST.get("format", "csv")
    job = client_export_start(actor=request.user, query=filters["q"], fmt=fmt, filters=filters)
    return redirect("jobs:show", job_id=job.pk)


@login_required
def download_export(request: AuthedRequest, job_id: int) -> FileResponse:
    job = job_get(viewer=request.user, job_id=job_id)
    fmt = job.params.get("format", "csv")
    if job.kind != "clients.export" or job.status != job.Status.SUCCEEDED:
        raise Http404
    file = export_path(job.pk, fmt)
    if not file.exists():
        raise Http404
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    return FileResponse(
        file.open("rb"),
        as_attachment=True,
        filename=f"clients-{job.pk}.{fmt}",
        content_type=content_type,
    )


urlpatterns: list[Any] = [
    path("imports/", new_import, name="new"),
    path("imports/orders/", new_orders_import, name="orders"),
    path("imports/leads/", new_leads_import, name="leads"),
    path("imports/<int:run_id>/mapping/", map_columns, name="mapping"),
    path("imports/<int:run_id>/preview/", preview_import, name="preview"),
    path("imports/<int:run_id>/run/", run_import, name="run"),
    path("imports/<int:run_id>/", show_import, name="show"),
    path("imports/<int:run_id>/errors.csv", download_import_errors, name="errors"),
    path("exports/clients/", export_clients, name="export"),
    path("exports/<int:job_id>/file/", download_export, name="export_file"),
]
