from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lavka.core.errors import NotFound
from lavka.jobs.models import Job
from lavka.jobs.permissions import can_see_all_jobs


def jobs_visible_to(viewer: Any) -> QuerySet[Job]:
    """A user sees the jobs they started; administrators see all."""
    if not getattr(viewer, "is_authenticated", False):
        return Job.objects.none()
    jobs = Job.objects.select_related("started_by")
    return jobs if can_see_all_jobs(viewer) else jobs.filter(started_by=viewer)


def job_get(*, viewer: Any, job_id: int) -> Job:
    try:
        return jobs_visible_to(viewer).get(pk=job_id)
    except Job.DoesNotExist:
        raise NotFound(resource="job", id=job_id) from None
