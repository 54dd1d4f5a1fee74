"""Background work for search and duplicates."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_task

from lavka.jobs.runner import run_job


def _scan(job: Any, progress: Any) -> dict[str, Any]:
    from lavka.clients.services.duplicates import duplicates_scan

    return duplicates_scan(actor=job.started_by, progress=progress)


@db_task(retries=1, retry_delay=5)
def duplicates_scan_task(job_id: int) -> None:
    run_job(job_id, _scan)
