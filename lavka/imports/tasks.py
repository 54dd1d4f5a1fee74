"""Background work for imports."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from lavka.imports.services import import_run_for_job
from lavka.jobs.runner import run_job


@db_task()
def import_run_task(job_id: int) -> None:
    """Not retried automatically: a failed import is resumed on purpose (import_resume)."""
    run_job(job_id, import_run_for_job)
