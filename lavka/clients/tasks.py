"""Background work for clients."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lavka.clients.exports import export_clients_for_job
from lavka.jobs.runner import run_job


@db_task(retries=2, retry_delay=5)
def client_export_task(job_id: int) -> None:
    run_job(job_id, export_clients_for_job)


@db_periodic_task(crontab(minute="*"))
def task_reminders_send_task() -> None:
    """Every minute: remind assignees of tasks whose reminder time has come."""
    from lavka.clients.services.timeline import task_reminders_send

    task_reminders_send()


@db_periodic_task(crontab(hour="6", minute="0"))
def important_dates_remind_task() -> None:
    """Daily: remind owners of the birthdays and other important dates coming soon
    (once a year per date, so a rerun or a retry sends nothing twice)."""
    from lavka.clients.services.blocks import important_dates_remind

    important_dates_remind()
