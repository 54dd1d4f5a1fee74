"""Writes for jobs. Progress updates are single UPDATE statements, so a worker can
report progress many times a second without locking out readers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from lavka.audit.services import Action, audit_record
from lavka.core.errors import NotPermitted
from lavka.jobs.models import Job
from lavka.jobs.permissions import can_cancel_job


@transaction.atomic
def job_create(
    *,
    actor: Any,
    kind: str,
    title: str,
    params: dict[str, Any] | None = None,
    total: int | None = None,
) -> Job:
    job = Job.objects.create(
        kind=kind,
        title=title,
        params=params or {},
        total=total,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action=Action.CREATE,
        subject=job,
        actor=actor,
        changes={"kind": [None, kind], "params": [None, params or {}]},
    )
    return job


def job_start(*, job_id: int, total: int | None = None) -> bool:
    """Mark a job running. Returns False if it was already finished (a retry after
    success), so the task can stop: this keeps tasks idempotent."""
    updates: dict[str, Any] = {
        "status": Job.Status.RUNNING,
        "started_at": timezone.now(),
        "attempts": F("attempts") + 1,
    }
    if total is not None:
        updates["total"] = total
    return bool(Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(**updates))


def job_progress(*, job_id: int, done: int, total: int | None = None) -> None:
    updates: dict[str, Any] = {"done": done}
    if total is not None:
        updates["total"] = total
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(**updates)


def job_succeed(
    *,
    job_id: int,
    result: dict[str, Any] | None = None,
    message: str = "",
    errors: list[Any] | None = None,
) -> None:
    job = Job.objects.get(pk=job_id)
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.result = result or {}
    job.message = message
    job.errors = errors or []
    if job.total is not None:
        job.done = job.total
    job.save(update_fields=["status", "finished_at", "result", "message", "errors", "done"])


def job_fail(*, job_id: int, message: str, errors: list[Any] | None = None) -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.FAILED,
        finished_at=timezone.now(),
        message=message[:5000],
        errors=errors or [],
    )


def job_is_cancelled(*, job_id: int) -> bool:
    return Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).exists()


@transaction.atomic
def job_cancel(*, actor: Any, job: Job) -> Job:
    if not can_cancel_job(actor, job):
        raise NotPermitted(action="cancel", resource="job")
    updated = (
        Job.objects.filter(pk=job.pk)
        .exclude(status__in=Job.FINISHED)
        .update(status=Job.Status.CANCELLED, finished_at=timezone.now())
    )
    if updated:
        audit_record(
            action=Action.UPDATE,
            subject=job,
            actor=actor,
            changes={"status": [job.status, Job.Status.CANCELLED]},
        )
    job.refresh_from_db()
    return job
