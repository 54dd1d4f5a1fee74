"""SQL queries per page for the load benchmark and the time of one request at a time
(median of 20, Django's test client, no concurrency; wall time, and this process's CPU
time, which leaves out PostgreSQL's), or (--ids K) K client ids the
demo manager can see, for wrk's card rotation. Uses LAVKA_DATABASE_URL as run.sh
sets it."""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client as WebClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from lavka.clients.selectors import clients_visible_to  # noqa: E402
from lavka.identity.models import User  # noqa: E402


def visible_ids(manager: User, count: int) -> list[int]:
    """Generated clients (the bulk of the base) spread over the manager's view."""
    ids = list(clients_visible_to(manager).order_by("id").values_list("id", flat=True))
    step = max(1, len(ids) // count)
    return ids[::step][:count]


def main() -> None:
    manager = User.objects.get(username="manager")
    if sys.argv[1:2] == ["--ids"]:
        print(" ".join(str(i) for i in visible_ids(manager, int(sys.argv[2]))))
        return
    web = WebClient(HTTP_HOST="127.0.0.1")
    web.force_login(manager)
    card = visible_ids(manager, 10)[5]
    pages = [
        ("client list", "/clients/", {}),
        ("client card", f"/clients/{card}/", {}),
        ("search as you type", "/search/?q=Иван", {"HTTP_HX_REQUEST": "true"}),
    ]
    for name, path, headers in pages:
        web.get(path, **headers)  # warm caches (sessions, tiers)
        with CaptureQueriesContext(connection) as queries:
            response = web.get(path, **headers)
        count = len(queries)
        times, cpu = [], []
        for _ in range(20):
            start, cpu_start = time.perf_counter(), time.process_time()
            web.get(path, **headers)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        print(
            f"{name:20} {path:28} status {response.status_code}  queries {count:2}  "
            f"one at a time: median {statistics.median(times):.1f} ms "
            f"(CPU {statistics.median(cpu):.1f} ms), min {min(times):.1f} ms"
        )


if __name__ == "__main__":
    main()
