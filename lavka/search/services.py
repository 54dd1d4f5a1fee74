"""Starting the duplicate scan as a background job."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from lavka.clients.permissions import can_create_client
from lavka.core.errors import NotPermitted
from lavka.jobs.models import Job
from lavka.jobs.queue import enqueue_on_commit
from lavka.jobs.services import job_create


@transaction.atomic
def duplicates_scan_start(*, actor: Any) -> Job:
    """Queue a scan of every client `actor` may read for duplicate pairs."""
    from lavka.search.tasks import duplicates_scan_task

    if not can_create_client(actor):
        raise NotPermitted(action="scan", resource="duplicates")
    job = job_create(
        actor=actor, kind="clients.duplicates_scan", title=_("Look for duplicate clients")
    )
    enqueue_on_commit(duplicates_scan_task, job.pk)
    return job
