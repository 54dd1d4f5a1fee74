"""Real worker processes: jobs enqueued after commit are taken from a shared Redis
queue by two `lavka worker` processes, each exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from lavka.clients.exports import export_path
from lavka.jobs.models import Job
from lavka.jobs.services import job_create
from tests.factories import ClientFactory

LAVKA = str(Path(sys.executable).with_name("lavka"))


def redis_url() -> str:
    url = os.environ.get("LAVKA_TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("LAVKA_REQUIRE_SERVICES"):
            pytest.fail("LAVKA_TEST_REDIS_URL is not set")
        pytest.skip("set LAVKA_TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run")
    return url


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_one_redis_queue_and_run_each_job_once(org):
    url = redis_url()
    import redis
    from huey import RedisHuey

    redis.Redis.from_url(url).flushdb()
    for i in range(30):
        ClientFactory(owner=org.rep, name=f"Client {i:02d}")
    jobs = [job_create(actor=org.rep, kind="clients.export", title=f"Export {i}") for i in range(6)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVKA_")}
    env.update(
        LAVKA_DATABASE_URL=database_url(),
        LAVKA_REDIS_URL=url,
        LAVKA_DATA_DIR=str(settings.DATA_DIR),
        DJANGO_SETTINGS_MODULE="lavka.config.settings",
    )
    workers = [
        subprocess.Popen(
            [LAVKA, "worker", "--threads", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    # Wait until both have started (each prints its banner first): Ctrl-C during start-up
    # is an interruption (exit 130), not the graceful stop this test checks.
    banners = [w.stdout.readline().decode() for w in workers]  # type: ignore[union-attr]
    try:
        from lavka.clients.tasks import client_export_task

        # The test process's own queue runs tasks inline; this one talks to Redis like a
        # web server configured with LAVKA_REDIS_URL does.
        queue = RedisHuey("lavka", url=url)
        queue._registry.register(client_export_task.task_class)
        for job in jobs:
            queue.enqueue(client_export_task.s(job.pk))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Job.objects.filter(status=Job.Status.SUCCEEDED).count() == len(jobs):
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        outputs = [
            banner + w.communicate(timeout=30)[0].decode()
            for banner, w in zip(banners, workers, strict=True)
        ]

    finished = Job.objects.filter(pk__in=[j.pk for j in jobs])
    assert sorted(finished.values_list("status", flat=True)) == ["succeeded"] * 6, outputs
    assert sorted(finished.values_list("attempts", flat=True)) == [1] * 6
    assert all(export_path(j.pk).read_text(encoding="utf-8-sig").count("\n") == 31 for j in jobs)
    assert [w.returncode for w in workers] == [0, 0], outputs
