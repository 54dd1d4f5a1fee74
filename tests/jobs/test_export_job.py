"""A long job end to end (tasks run inline after commit in tests)."""

from __future__ import annotations

import csv

import pytest

from lavka.clients.exports import client_export_start, export_path
from lavka.jobs.models import Job
from lavka.jobs.selectors import jobs_visible_to
from lavka.notifications.models import Notification
from tests.factories import ClientFactory


@pytest.mark.django_db(transaction=True)
def test_export_job_writes_the_clients_the_starter_can_see_and_notifies(org):
    ClientFactory(owner=org.rep, name="=HYPERLINK(evil)")
    ClientFactory(owner=org.colleague, name="Colleague's")
    ClientFactory(owner=org.spb_rep, name="Not visible")

    job = client_export_start(actor=org.rep)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total, job.percent) == (2, 2, 100)
    with export_path(job.pk).open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["name"] for r in rows) == ["'=HYPERLINK(evil)", "Colleague's"]
    note = Notification.objects.get(recipient=org.rep)
    assert note.level == "success"
    assert note.url == f"/jobs/{job.pk}/"


@pytest.mark.django_db(transaction=True)
def test_a_job_is_visible_to_its_starter_and_administrators_only(org):
    job = client_export_start(actor=org.rep)

    assert list(jobs_visible_to(org.rep)) == [job]
    assert list(jobs_visible_to(org.admin)) == [job]
    assert list(jobs_visible_to(org.colleague)) == []


@pytest.mark.django_db(transaction=True)
def test_running_a_finished_job_again_changes_nothing(org):
    from lavka.clients.tasks import client_export_task

    job = client_export_start(actor=org.rep)
    job.refresh_from_db()
    finished_at = job.finished_at

    client_export_task.call_local(job.pk)

    job.refresh_from_db()
    assert job.finished_at == finished_at
    assert job.attempts == 1
