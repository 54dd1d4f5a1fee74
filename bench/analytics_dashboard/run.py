"""The KPI dashboard at 1,000,000 clients and 10,000,000 orders (the base of
bench/analytics_recompute, PostgreSQL database lavka_bench_analytics).

    flock /tmp/bench.lock .venv/bin/python bench/analytics_dashboard/run.py recompute
    flock /tmp/bench.lock .venv/bin/python bench/analytics_dashboard/run.py measure

`recompute` migrates the database (the kpi tables) and runs `lavka analytics recompute
--as benchadmin --as-of 2026-11-23`, then prints the time of each report step and the
rows the kpi report wrote. `measure` renders the page with Django's test client in this
process, logged in as `benchadmin` (who sees the whole base): per scenario, 10 warm-up
requests, then `--requests` timed ones one at a time (wall time: Python and PostgreSQL),
p50/p90/p99/max, the SQL queries per page and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAVKA = str(ROOT / ".venv" / "bin" / "lavka")
SERVER = "postgresql://postgres@127.0.0.1:5432"
AS_OF = "2026-11-23"


def environment(database: str) -> dict[str, str]:
    data_dir = Path(f"/tmp/{database}-data")
    data_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "LAVKA_DATABASE_URL": f"{SERVER}/{database}",
        "LAVKA_DATA_DIR": str(data_dir),
    }


def recompute(database: str) -> None:
    env = environment(database)
    subprocess.run([LAVKA, "migrate"], env=env, check=True)
    start = time.perf_counter()
    done = subprocess.run(
        [LAVKA, "analytics", "recompute", "--json", "--as", "benchadmin", "--as-of", AS_OF],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(done.returncode)
    wall = time.perf_counter() - start
    import psycopg

    with psycopg.connect(f"{SERVER}/{database}") as conn:
        run_id, report_times, kpi = conn.execute(
            "SELECT id, report_times, reports->'kpi' FROM analytics_computerun WHERE is_current"
        ).fetchone()
    print(
        json.dumps(
            {
                "run": run_id,
                "wall_command": round(wall, 2),
                "report_times": report_times,
                "kpi_rows": (kpi or {}).get("rows"),
                "months": [(kpi or {}).get("first_month"), (kpi or {}).get("last_month")],
            }
        )
    )


SCENARIOS = [
    ("last 12 months (default)", {}),
    ("this month", {"period": "month"}),
    ("last 3 months", {"period": "3m"}),
    ("custom 24 months", {"from": "2024-12", "to": "2026-11"}),
    ("12 months, owner + segment", {"owner": "{owner}", "segment": "at_risk"}),
    ("API, 3 months", "api"),
    ("CSV export of the trend", {"export": "trend.csv"}),
]


def measure(database: str, requests: int) -> None:
    os.environ.update(environment(database))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client as WebClient

    from lavka.identity.models import User

    admin = User.objects.get(username="benchadmin")
    web = WebClient(HTTP_HOST="127.0.0.1")
    web.force_login(admin)
    results = []
    for name, params in SCENARIOS:
        if params == "api":
            path, query = "/api/v1/analytics/kpi", {"period": "3m"}
        else:
            assert isinstance(params, dict)
            path = "/analytics/"
            query = {k: v.replace("{owner}", str(admin.pk)) for k, v in params.items()}
        for _ in range(10):
            response = web.get(path, query)
            assert response.status_code == 200, (name, response.status_code)
        statements: list[str] = []

        def count(execute, sql, params, many, context, statements=statements):  # type: ignore[no-untyped-def]
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            web.get(path, query)
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            web.get(path, query)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        row = {
            "scenario": name,
            "queries": len(statements),
            "p50_ms": round(statistics.median(times), 1),
            "p90_ms": round(times[int(0.90 * (len(times) - 1))], 1),
            "p99_ms": round(times[int(0.99 * (len(times) - 1))], 1),
            "max_ms": round(times[-1], 1),
            "bytes": len(response.content),
            "loadavg_before": load_before,
            "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        }
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["recompute", "measure"])
    parser.add_argument("--database", default="lavka_bench_analytics")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if args.command == "recompute":
        recompute(args.database)
    else:
        measure(args.database, args.requests)


if __name__ == "__main__":
    main()
