"""Exporting the clients a user can see to CSV, as a background job."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lavka.clients.selectors import client_list
from lavka.core.errors import NotPermitted
from lavka.jobs.models import Job
from lavka.jobs.queue import enqueue_on_commit
from lavka.jobs.runner import Progress
from lavka.jobs.services import job_create

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["id", "kind", "name", "email", "phone", "city", "owner", "team", "created_at"]


def neutralise(value: Any) -> str:
    """A cell value that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_path(job_id: int) -> Path:
    return Path(settings.DATA_DIR) / "exports" / f"clients-{job_id}.csv"


@transaction.atomic
def client_export_start(*, actor: Any, query: str = "") -> Job:
    if not getattr(actor, "is_authenticated", False):
        raise NotPermitted(action="export", resource="client")
    from lavka.clients.tasks import client_export_task

    job = job_create(
        actor=actor,
        kind="clients.export",
        title=_("Export clients to CSV"),
        params={"query": query},
    )
    enqueue_on_commit(client_export_task, job.pk)
    return job


def export_clients_for_job(job: Job, progress: Progress) -> dict[str, Any]:
    """Write the clients the job's starter can see (as they are now) to a CSV file."""
    viewer = job.started_by
    clients = client_list(viewer=viewer, query=job.params.get("query", ""))
    total = clients.count()
    progress(0, total, force=True)
    path = export_path(job.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    written = 0
    with tmp.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for client in clients.iterator(chunk_size=2000):
            writer.writerow(
                [
                    neutralise(v)
                    for v in (
                        client.pk,
                        client.kind,
                        client.name,
                        client.email,
                        client.phone,
                        client.city,
                        client.owner.get_username(),
                        client.team.name if client.team else "",
                        client.created_at.isoformat(),
                    )
                ]
            )
            written += 1
            progress(written, total)
    tmp.replace(path)
    return {
        "rows": written,
        "file": path.name,
        "message": ngettext("%(count)d client exported.", "%(count)d clients exported.", written)
        % {"count": written},
    }
