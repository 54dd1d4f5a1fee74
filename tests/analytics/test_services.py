from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lavka.analytics.errors import RecomputeRunning
from lavka.analytics.models import AnalyticsSettings, ClientScore, ComputeRun
from lavka.analytics.services import analytics_recompute, analytics_settings_update, runs_prune
from lavka.analytics.tasks import analytics_nightly_task
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.jobs.models import Job

AS_OF = dt.date(2026, 6, 30)


@pytest.mark.parametrize("who", ["rep", "manager", "marketer", "agent", "nobody"])
def test_only_analysts_and_administrators_recompute(history, org, who):
    with pytest.raises(NotPermitted):
        analytics_recompute(actor=getattr(org, who), as_of=AS_OF)

    assert ComputeRun.objects.count() == 0


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_analysts_and_administrators_recompute(history, org, who):
    run = analytics_recompute(actor=getattr(org, who), as_of=AS_OF)

    assert run.status == ComputeRun.Status.SUCCEEDED and run.clients == 5


def test_a_future_date_is_refused(history, org):
    with pytest.raises(ValidationFailed) as caught:
        analytics_recompute(actor=org.admin, as_of=timezone.localdate() + dt.timedelta(days=1))

    assert list(caught.value.fields) == ["as_of"]
    assert ComputeRun.objects.count() == 0


def test_a_second_recompute_waits_for_the_first(history, org):
    ComputeRun.objects.create(as_of=AS_OF, started_at=timezone.now(), currency="RUB")

    with pytest.raises(RecomputeRunning):
        analytics_recompute(actor=org.admin, as_of=AS_OF)

    assert ComputeRun.objects.count() == 1


def test_a_run_abandoned_hours_ago_does_not_block(history, org):
    dead = ComputeRun.objects.create(
        as_of=AS_OF, started_at=timezone.now() - dt.timedelta(hours=3), currency="RUB"
    )

    run = analytics_recompute(actor=org.admin, as_of=AS_OF)

    assert run.is_current
    # Marked failed, then pruned with the other runs that hold no scores.
    assert not ComputeRun.objects.filter(pk=dead.pk).exists()


def test_settings_refuse_shares_that_do_not_add_up(org):
    with pytest.raises(ValidationFailed) as caught:
        analytics_settings_update(actor=org.admin, abc_shares=[0.7, 0.2, 0.2], rfm_frequency=[1, 2])

    assert set(caught.value.fields) == {"abc_shares", "rfm_frequency"}
    assert not AnalyticsSettings.objects.exists()


def test_a_rep_cannot_change_the_settings(org):
    with pytest.raises(NotPermitted):
        analytics_settings_update(actor=org.rep, abc_shares=[0.7, 0.2, 0.1])

    assert not AnalyticsSettings.objects.exists()


def test_a_different_abc_split_moves_clients(history, org):
    # Window revenue 1200, 1200, 600, 200, 0 of 3200: with 50/30/20 Twice (2400 above,
    # 75%) falls to B and Newcomer (3000 above, 93.75%) to C.
    analytics_settings_update(actor=org.admin, abc_shares=[0.5, 0.3, 0.2])

    run = analytics_recompute(actor=org.admin, as_of=AS_OF)

    assert run.abc_xyz["counts"] == [[1, 1, 0], [0, 0, 1], [0, 0, 2]]
    assert run.parameters["settings"]["abc_shares"] == [0.5, 0.3, 0.2]


def test_pruning_keeps_recent_runs_and_one_per_month(history, org):
    days = [dt.date(2026, 4, 30), dt.date(2026, 5, 30), dt.date(2026, 5, 31), AS_OF]
    runs = [analytics_recompute(actor=org.admin, as_of=day) for day in days]

    deleted = runs_prune(keep_daily=1)

    # Kept: the current (June), the latest of May (05-31) and of April.
    assert deleted == 1
    assert set(ComputeRun.objects.values_list("as_of", flat=True)) == {days[0], days[2], AS_OF}
    assert not ClientScore.objects.filter(run_id=runs[1].pk).exists()


def test_the_nightly_task_recomputes_as_a_job(history, org):
    analytics_nightly_task.call_local()

    job = Job.objects.get(kind="analytics.recompute")
    assert job.status == Job.Status.SUCCEEDED and job.started_by is None
    run = ComputeRun.objects.get(is_current=True)
    assert run.started_by is None and run.as_of == timezone.localdate()
    assert run.clients == 5
