from __future__ import annotations

from typing import Any

from lavka.identity.access import Capability, has_capability
from lavka.jobs.models import Job


def can_see_all_jobs(viewer: Any) -> bool:
    return has_capability(viewer, Capability.MANAGE_SETTINGS)


def can_cancel_job(actor: Any, job: Job) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    return job.started_by_id == actor.pk or can_see_all_jobs(actor)
