"""Background work for analytics: the recompute on demand and every night."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from lavka.jobs.runner import run_job


@db_task(retries=0)
def analytics_recompute_task(job_id: int) -> None:
    """Not retried: a failed recompute leaves the previous run current, and the next
    night (or the button) runs it again."""
    from lavka.analytics.services import recompute_for_job

    run_job(job_id, recompute_for_job)


@db_periodic_task(crontab(hour="2", minute="30"))
def analytics_nightly_task() -> None:
    """Every night: recompute as of today, as a job (so it shows among the jobs)."""
    from django.utils.translation import gettext as _

    from lavka.analytics.reports import REPORTS
    from lavka.analytics.services import STEPS, recompute_for_job
    from lavka.jobs.services import job_create

    job = job_create(
        actor=None,
        kind="analytics.recompute",
        title=_("Recompute analytics (nightly)"),
        params={"as_of": None},
        total=len(STEPS) + len(REPORTS),
    )

    run_job(job.pk, recompute_for_job)
