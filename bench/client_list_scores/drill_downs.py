"""Benchmark: the client list behind the analytics charts' cells at 1,000,000 clients: a
cohort, a cohort's buyers of one month (`cohort=` + `bought=`, the cohort heatmap's
cell) and a flow between RFM segments (`segment_before=` + `segment=`, the Sankey's
link), each page in process through Django's test client (template included).

    flock /tmp/bench.lock .venv/bin/python bench/client_list_scores/drill_downs.py \
        [--database lavka_bench_analytics] [--repeat 15]

Needs the database of bench/analytics_recompute (`run.py setup`, then one recompute).
The movement between segments needs a second run: the script adds one inside a
transaction that it rolls back at the end (a copy of the current run's 1M score rows
under a new run id with shifted segments, marked as the run the current one's moves are
counted from), so the shared database is left as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PAGES = [
    ("cohort 2025-01", "/clients/?cohort=2025-01"),
    ("cohort 2025-01, bought 2025-02", "/clients/?cohort=2025-01&bought=2025-02"),
    ("cohort 2025-01, bought 2026-11", "/clients/?cohort=2025-01&bought=2026-11"),
    ("cohort 2026-10, bought 2026-11", "/clients/?cohort=2026-10&bought=2026-11"),
    ("cohort 2025-01, bought 2026-11, page 5", "/clients/?cohort=2025-01&bought=2026-11&page=5"),
    ("flow at risk -> champions", "/clients/?segment_before=at_risk&segment=champions"),
    ("flow lost -> champions (none)", "/clients/?segment_before=lost&segment=champions"),
    (
        "everyone who left champions",
        "/clients/?segment_before=champions"
        "&segment=loyal,promising,needs_attention,at_risk,cant_lose,hibernating,lost",
    ),
]


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="lavka_bench_analytics")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    data_dir = Path(f"/tmp/{args.database}-data")
    data_dir.mkdir(exist_ok=True)
    os.environ["LAVKA_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    os.environ["LAVKA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from lavka.analytics.models import ComputeRun

    http = Client(headers={"accept-language": "en"}, HTTP_HOST="localhost")
    http.force_login(get_user_model().objects.get(username="benchadmin"))
    current = ComputeRun.objects.get(is_current=True)
    print(f"load average before: {os.getloadavg()}")
    try:
        with transaction.atomic():
            started = time.perf_counter()
            previous = ComputeRun.objects.create(
                as_of=current.as_of - dt.timedelta(days=1),
                status=ComputeRun.Status.SUCCEEDED,
                started_at=timezone.now(),
                finished_at=timezone.now(),
                currency=current.currency,
            )
            with connection.cursor() as cursor:
                # A third of the clients stay, the others move one or two segments on.
                cursor.execute(
                    """
                    INSERT INTO analytics_clientscore (run_id, client_id, first_on, last_on,
                        recency_days, frequency, revenue, r, f, m, segment, abc, xyz,
                        window_revenue, purchases_reason, spend_reason, lifecycle_days, stage)
                    SELECT %s, client_id, first_on, last_on, recency_days, frequency, revenue,
                        r, f, m, (segment + client_id %% 3) %% 8, abc, xyz, window_revenue,
                        purchases_reason, spend_reason, lifecycle_days, stage
                    FROM analytics_clientscore WHERE run_id = %s
                    """,
                    [previous.pk, current.pk],
                )
                cursor.execute("ANALYZE analytics_clientscore")
            ComputeRun.objects.filter(pk=current.pk).update(
                parameters={
                    **current.parameters,
                    "moves": {"from_run": previous.pk, "from_as_of": str(previous.as_of)},
                }
            )
            print(f"previous run added in {time.perf_counter() - started:.1f} s (rolled back)")
            print("| page | rows | p50 | max | queries | slowest query |")
            print("|---|---:|---:|---:|---:|---:|")
            for name, path in PAGES:
                http.get(path)  # warm
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    response = http.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200, response.status_code
                with CaptureQueriesContext(connection) as queries:
                    response = http.get(path)
                rows = response.content.decode().count("data-row-link")
                slowest = max(float(q["time"]) for q in queries.captured_queries) * 1000
                print(
                    f"| {name} `{path}` | {rows} | {statistics.median(times):.1f} ms | "
                    f"{max(times):.1f} ms | {len(queries.captured_queries)} | {slowest:.1f} ms |",
                    flush=True,
                )
            raise Rollback
    except Rollback:
        pass
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
