"""Benchmark: the cohort and touchpoint reports at 1,000,000 clients, 10,000,000 orders
and 5,000,000 touchpoints on PostgreSQL (see README.md).

    flock /tmp/bench.lock .venv/bin/python bench/analytics_reports/run.py setup
    flock /tmp/bench.lock .venv/bin/python bench/analytics_reports/run.py run --repeat 3

`setup` adds touchpoints (and deals with stage moves) to the database made by
bench/analytics_recompute (`run.py setup` there: clients and orders), set-based with
generate_series; it replaces what an earlier `setup` here added. `run` loads the orders
and scores the clients once as the recompute does (not timed), then times
`lavka.analytics.cohorts.report` and `lavka.analytics.touchpoints.report` in this
process, `--repeat` times each, with the load average before and after.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
SERVER = "postgresql://postgres@127.0.0.1:5432"
AS_OF = "2026-11-23"
KINDS = ["call", "email", "message", "meeting", "visit", "note"]
# Channels per kind (index i of KINDS takes CHANNELS[i]).
CHANNELS = [
    ["phone", "mobile"],
    ["", "newsletter"],
    ["whatsapp", "telegram", "sms"],
    ["office", "video"],
    ["site"],
    [""],
]


def _recompute_bench() -> Any:
    """bench/analytics_recompute/run.py, whose base this one extends (its `filler`)."""
    path = ROOT / "bench" / "analytics_recompute" / "run.py"
    spec = importlib.util.spec_from_file_location("bench_analytics_recompute", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


filler = _recompute_bench().filler


def _extra(names: list[str], values: list[sql.Composable]) -> dict[str, sql.Composable]:
    return {
        "extra": sql.SQL("").join(sql.SQL(", ") + sql.Identifier(n) for n in names),
        "values": sql.SQL("").join(sql.SQL(", ") + v for v in values),
    }


def setup(database: str, touchpoints: int, deals: int) -> None:
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn:
        low, high = conn.execute("SELECT min(id), max(id) FROM clients_client").fetchone()
        owner = conn.execute("SELECT min(owner_id) FROM clients_client").fetchone()[0]
        # Tasks may point at touchpoints, so TRUNCATE (which would need CASCADE and empty
        # the tasks too) is not used; an earlier setup's rows are deleted.
        conn.execute("DELETE FROM clients_touchpoint_participants")
        conn.execute("DELETE FROM clients_touchpoint")
        conn.execute("SELECT setseed(0.24)")
        start = time.perf_counter()
        given = {"kind", "channel", "occurred_at", "created_at", "client_id"}
        names, values = filler(conn, "clients_touchpoint", given)
        # Clients drawn with a skew (power 1.3); over the 400 days up to the as-of day
        # (so some fall before the report's 12-month window); six kinds, each with its
        # channels.
        channel = sql.SQL("CASE k {} END").format(
            sql.SQL(" ").join(
                sql.SQL("WHEN {} THEN ({}::text[])[1 + floor(random() * {})::int]").format(
                    sql.Literal(i + 1), sql.Literal(chans), sql.Literal(len(chans))
                )
                for i, chans in enumerate(CHANNELS)
            )
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO clients_touchpoint (kind, channel, occurred_at, created_at, "
                "client_id{extra}) "
                "SELECT ({kinds}::text[])[k], {channel}, "
                "  TIMESTAMPTZ '{as_of} 18:00+00' - random() * INTERVAL '400 days', now(), "
                "  %s + floor(power(random(), 1.3) * (%s - %s + 1))::bigint{values} "
                "FROM (SELECT 1 + floor(power(random(), 1.5) * 6)::int AS k "
                "      FROM generate_series(1, %s)) picked"
            ).format(
                kinds=sql.Literal(KINDS),
                channel=channel,
                as_of=sql.SQL(AS_OF),
                **_extra(names, values),
            ),
            (low, high, low, touchpoints),
        )
        print(f"touchpoints: {touchpoints} in {time.perf_counter() - start:.1f} s", flush=True)

        start = time.perf_counter()
        conn.execute(
            "DELETE FROM sales_dealstagechange WHERE deal_id IN "
            "(SELECT id FROM sales_deal WHERE source = 'bench-reports')"
        )
        conn.execute("DELETE FROM sales_deal WHERE source = 'bench-reports'")
        pipeline, first_stage, second_stage = conn.execute(
            'SELECT p.id, min(s.id), (array_agg(s.id ORDER BY s."order", s.id))[2] '
            "FROM sales_pipeline p JOIN sales_stage s ON s.pipeline_id = p.id "
            "WHERE s.kind = 'open' GROUP BY p.id ORDER BY p.id LIMIT 1"
        ).fetchone()
        given = {
            "created_at",
            "updated_at",
            "version",
            "title",
            "amount",
            "currency",
            "probability",
            "position",
            "source",
            "client_id",
            "owner_id",
            "pipeline_id",
            "stage_id",
        }
        names, values = filler(conn, "sales_deal", given)
        conn.execute(
            sql.SQL(
                "INSERT INTO sales_deal (created_at, updated_at, version, title, amount, "
                "currency, probability, position, source, client_id, owner_id, pipeline_id, "
                "stage_id{extra}) "
                "SELECT TIMESTAMPTZ '{as_of} 12:00+00' - random() * INTERVAL '400 days', now(), "
                "  1, 'Bench deal ' || g, 1000, 'RUB', 50, g, 'bench-reports', "
                "  %s + floor(random() * (%s - %s + 1))::bigint, %s, %s, %s{values} "
                "FROM generate_series(1, %s) g"
            ).format(as_of=sql.SQL(AS_OF), **_extra(names, values)),
            (low, high, low, owner, pipeline, second_stage, deals),
        )
        # Each deal: created in the first stage, moved to the second within 60 days.
        conn.execute(
            "INSERT INTO sales_dealstagechange (deal_id, from_stage_id, to_stage_id, changed_at) "
            "SELECT id, NULL, %s, created_at FROM sales_deal WHERE source = 'bench-reports' "
            "UNION ALL "
            "SELECT id, %s, %s, least(created_at + random() * INTERVAL '60 days', "
            "  TIMESTAMPTZ '" + AS_OF + " 20:00+00') "
            "FROM sales_deal WHERE source = 'bench-reports'",
            (first_stage, first_stage, second_stage),
        )
        print(f"deals: {deals} with a move each in {time.perf_counter() - start:.1f} s")
        conn.execute("VACUUM ANALYZE clients_touchpoint")
        conn.execute("VACUUM ANALYZE sales_deal")
        conn.execute("VACUUM ANALYZE sales_dealstagechange")


def run(database: str, repeat: int) -> None:
    data_dir = Path(f"/tmp/{database}-data")
    data_dir.mkdir(exist_ok=True)
    os.environ["LAVKA_DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ["LAVKA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")
    import django

    django.setup()
    import datetime as dt

    from lavka.analytics import cohorts, touchpoints
    from lavka.analytics.compute import Steps, compute_clients
    from lavka.analytics.loading import convert_to_reporting, load_orders
    from lavka.analytics.models import ComputeRun
    from lavka.analytics.reports import ReportContext
    from lavka.analytics.services import analytics_settings, config_from
    from lavka.sales.selectors.catalogue import reporting_currency

    as_of = dt.date.fromisoformat(AS_OF)
    currency = reporting_currency()
    start = time.perf_counter()
    orders = convert_to_reporting(load_orders(as_of, currency), currency).columns
    stored = analytics_settings()
    config = config_from(stored)
    clients = compute_clients(orders, as_of, config, Steps(None))
    print(
        json.dumps(
            {
                "prepared_in": round(time.perf_counter() - start, 1),
                "orders": len(orders),
                "clients": len(clients),
            }
        ),
        flush=True,
    )
    run_row = ComputeRun(as_of=as_of, currency=currency)  # not saved: reports only read it
    context = ReportContext(
        run=run_row,
        as_of=as_of,
        config=config,
        settings=stored,
        orders=orders,
        lines=orders,
        clients=clients,
    )
    start = time.perf_counter()
    attributes = len(context.client_attributes.client_id)
    attributes_time = time.perf_counter() - start
    print(
        json.dumps({"client_attributes_s": round(attributes_time, 3), "rows": attributes}),
        flush=True,
    )
    times: dict[str, list[float]] = {"cohorts": [], "touchpoints": []}
    for attempt in range(repeat):
        for name, module in (("cohorts", cohorts), ("touchpoints", touchpoints)):
            load_before = Path("/proc/loadavg").read_text().split()[:3]
            start = time.perf_counter()
            result = module.report(context)
            took = time.perf_counter() - start
            times[name].append(took)
            summary: dict[str, object] = {
                "attempt": attempt + 1,
                "report": name,
                "seconds": round(took, 3),
                "json_bytes": len(json.dumps(result)),
                "loadavg_before": load_before,
                "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
            }
            if name == "touchpoints" and result:
                summary.update(
                    touches=result["touches"],
                    clients=result["clients"],
                    moves=result["moves"],
                    groups=len(result["rows"]),
                    read_by=result["read_by"],
                )
            if name == "cohorts" and result:
                summary.update(cohorts=len(result["months"]), channels=len(result["by_channel"]))
            print(json.dumps(summary), flush=True)
    # Where the touchpoint report's time goes: reading touches and moves, then the rest.
    first = as_of - dt.timedelta(days=touchpoints.WINDOW_DAYS - 1)
    start = time.perf_counter()
    touches = touchpoints.load_touches(first, as_of)
    read_touches = time.perf_counter() - start
    start = time.perf_counter()
    touchpoints.load_moves(first, as_of)
    read_moves = time.perf_counter() - start
    print(
        json.dumps(
            {
                name: {"median": round(statistics.median(v), 3), "max": round(max(v), 3)}
                for name, v in times.items()
            }
            | {
                "read_touches_s": round(read_touches, 3),
                "read_moves_s": round(read_moves, 3),
                "touches_read": len(touches),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "run"])
    parser.add_argument("--database", default="lavka_bench_analytics")
    parser.add_argument("--touchpoints", type=int, default=5_000_000)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.command == "setup":
        setup(args.database, args.touchpoints, args.deals)
    else:
        run(args.database, args.repeat)


if __name__ == "__main__":
    main()
