"""Running a Job's work inside a task: status, progress, failure, notification."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from lavka.jobs.models import Job
from lavka.jobs.services import job_fail, job_is_cancelled, job_progress, job_start, job_succeed
from lavka.notifications.models import Notification
from lavka.notifications.services import notify

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    pass


class Progress:
    """Handed to the work function: report progress, notice cancellation.

    Writes to the database at most every `interval` seconds."""

    def __init__(self, job_id: int, interval: float = 0.5) -> None:
        self.job_id = job_id
        self.interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            job_progress(job_id=self.job_id, done=done, total=total)
            if job_is_cancelled(job_id=self.job_id):
                raise JobCancelled()


def run_job(job_id: int, work: Callable[[Job, Progress], dict[str, Any]]) -> None:
    """Run `work(job, progress)` for a queued job. Returns quietly if the job already
    finished (a retried task), so tasks built on it are idempotent."""
    if not job_start(job_id=job_id):
        return
    job = Job.objects.select_related("started_by").get(pk=job_id)
    language = getattr(job.started_by, "language", "") or None
    try:
        result = work(job, Progress(job_id)) or {}
    except JobCancelled:
        return
    except Exception as exc:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        job_fail(job_id=job_id, message=str(exc) or exc.__class__.__name__)
        if job.started_by is not None:
            with override(language):
                notify(
                    recipient=job.started_by,
                    level=Notification.Level.ERROR,
                    title=_("Failed: %(title)s") % {"title": job.title},
                    body=str(exc),
                    url=f"/jobs/{job_id}/",
                )
        raise
    job_succeed(
        job_id=job_id,
        result=result,
        message=str(result.get("message", "")),
        errors=result.get("errors"),
    )
    if job.started_by is not None:
        with override(language):
            notify(
                recipient=job.started_by,
                level=Notification.Level.SUCCESS,
                title=_("Done: %(title)s") % {"title": job.title},
                url=f"/jobs/{job_id}/",
            )
