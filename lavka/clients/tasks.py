"""Background work for clients."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from lavka.clients.exports import export_clients_for_job
from lavka.jobs.runner import run_job


@db_task(retries=2, retry_delay=5)
def client_export_task(job_id: int) -> None:
    run_job(job_id, export_clients_for_job)
