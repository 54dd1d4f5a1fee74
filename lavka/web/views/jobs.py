"""Job pages: live progress (htmx polls a fragment) and the result file."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lavka.clients.exports import export_path
from lavka.jobs.selectors import job_get, jobs_visible_to
from lavka.jobs.services import job_cancel
from lavka.web.requests import AuthedRequest


@login_required
def list_jobs(request: AuthedRequest) -> HttpResponse:
    return render(request, "web/jobs/list.html", {"jobs": jobs_visible_to(request.user)[:100]})


@login_required
def show_job(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = job_get(viewer=request.user, job_id=job_id)
    template = "web/jobs/_progress.html" if request.htmx else "web/jobs/detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})


@login_required
@require_POST
def cancel_job(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = job_cancel(actor=request.user, job=job_get(viewer=request.user, job_id=job_id))
    return redirect("jobs:show", job_id=job.pk)


@login_required
def download_job_file(request: AuthedRequest, job_id: int) -> FileResponse:
    job = job_get(viewer=request.user, job_id=job_id)
    if job.kind != "clients.export" or job.status != job.Status.SUCCEEDED:
        raise Http404
    fmt = "xlsx" if job.params.get("format") == "xlsx" else "csv"
    path = export_path(job.pk, fmt)
    if not path.exists():
        raise Http404
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "text/csv; charset=utf-8"
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"clients-{job.pk}.{fmt}",
        content_type=content_type,
    )
