"""Benchmark: the full analytics recompute on PostgreSQL at 1,000,000 clients and
10,000,000 orders (see README.md).

    flock /tmp/bench.lock .venv/bin/python bench/analytics_recompute/run.py setup
    flock /tmp/bench.lock .venv/bin/python bench/analytics_recompute/run.py run --repeat 3

`setup` creates the database (default lavka_bench_analytics), migrates it, adds an
administrator and generates the base with generate_series, set-based. `run` runs
`lavka analytics recompute --json` in a child process `--repeat` times and prints the
time of each step, the wall time of the whole command and its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
LAVKA = str(ROOT / ".venv" / "bin" / "lavka")
SERVER = "postgresql://postgres@127.0.0.1:5432"


def env(database: str) -> dict[str, str]:
    data_dir = Path(f"/tmp/{database}-data")
    data_dir.mkdir(exist_ok=True)
    return {
        **os.environ,
        "LAVKA_DATABASE_URL": f"{SERVER}/{database}",
        "LAVKA_DATA_DIR": str(data_dir),
    }


def filler(
    conn: psycopg.Connection, table: str, given: set[str]
) -> tuple[list[str], list[sql.Composable]]:
    """NOT NULL columns without a database default that the generator does not set,
    each with an empty value of its type (the app sets these defaults in Python)."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    empty = {
        "character varying": sql.SQL("''"),
        "text": sql.SQL("''"),
        "jsonb": sql.SQL("'{}'::jsonb"),
        "integer": sql.SQL("0"),
        "smallint": sql.SQL("0"),
        "bigint": sql.SQL("0"),
        "boolean": sql.SQL("false"),
        "numeric": sql.SQL("0"),
        "timestamp with time zone": sql.SQL("now()"),
        "date": sql.SQL("current_date"),
    }
    names, values = [], []
    for name, kind in rows:
        if name in given or name == "id":
            continue
        names.append(name)
        values.append(empty[kind])
    return names, values


def setup(database: str, clients: int, orders: int) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    subprocess.run([LAVKA, "migrate"], env=env(database), check=True)
    subprocess.run(
        [LAVKA, "createuser", "benchadmin", "--role", "administrator", "--password-stdin"],
        env=env(database),
        input="bench-Password-2026\n",
        text=True,
        check=False,
    )
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn:
        owner = conn.execute(
            "SELECT id FROM identity_user WHERE username = 'benchadmin'"
        ).fetchone()[0]
        conn.execute("TRUNCATE sales_order, clients_client RESTART IDENTITY CASCADE")
        conn.execute("DELETE FROM sales_exchangerate WHERE currency = 'USD'")
        conn.execute(
            "INSERT INTO sales_exchangerate (currency, valid_on, rate, source) "
            "VALUES ('USD', '2023-01-01', 70, 'bench'), ('USD', '2025-01-01', 90, 'bench')"
        )
        start = time.perf_counter()
        given = {"created_at", "updated_at", "version", "kind", "name", "owner_id", "source"}
        names, values = filler(conn, "clients_client", given)
        conn.execute(
            sql.SQL(
                "INSERT INTO clients_client "
                "(created_at, updated_at, version, kind, name, owner_id, source{extra}) "
                "SELECT now(), now(), 1, 'organisation', 'Bench client ' || g, %s, "
                "(ARRAY['web', 'referral', 'exhibition', 'cold call', 'partner'])[1 + g %% 5]"
                "{values} "
                "FROM generate_series(1, %s) g"
            ).format(
                extra=sql.SQL("").join(sql.SQL(", ") + sql.Identifier(n) for n in names),
                values=sql.SQL("").join(sql.SQL(", ") + v for v in values),
            ),
            (owner, clients),
        )
        print(f"clients: {clients} in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        given = {
            "created_at",
            "updated_at",
            "version",
            "number",
            "ordered_on",
            "status",
            "currency",
            "total",
            "client_id",
            "owner_id",
            "source",
            "external_id",
        }
        names, values = filler(conn, "sales_order", given)
        # Each client has a first purchase day spread over 2023-11-24 .. 2026-05-11 and
        # buys at random after it; some clients are picked far more often (power 1.6),
        # so frequencies run from one order to hundreds. 2% cancelled, 3% in USD.
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            sql.SQL(
                "INSERT INTO sales_order (created_at, updated_at, version, number, ordered_on, "
                "status, currency, total, client_id, owner_id, source, external_id{extra}) "
                "SELECT now(), now(), 1, '', "
                "  DATE '2023-11-24' + f + floor(random() * (1096 - f))::int, "
                "  CASE WHEN random() < 0.02 THEN 'cancelled' ELSE 'paid' END, "
                "  CASE WHEN random() < 0.03 THEN 'USD' ELSE 'RUB' END, "
                "  round((50 + exp(random() * 6) * 20)::numeric, 2), c, %s, 'bench', ''{values} "
                "FROM (SELECT 1 + floor(power(random(), 1.6) * %s)::bigint AS c "
                "      FROM generate_series(1, %s)) picked, "
                "LATERAL (SELECT ((c * 7919) %% 900)::int AS f) first_day"
            ).format(
                extra=sql.SQL("").join(sql.SQL(", ") + sql.Identifier(n) for n in names),
                values=sql.SQL("").join(sql.SQL(", ") + v for v in values),
            ),
            (owner, clients, orders),
        )
        print(f"orders: {orders} in {time.perf_counter() - start:.1f} s", flush=True)
        lines_make(conn)
        conn.execute("VACUUM ANALYZE sales_order")
        conn.execute("VACUUM ANALYZE clients_client")


def lines_make(conn: psycopg.Connection, products: int = 2_000, categories: int = 40) -> None:
    """One line per order (so 10M orders have 10M lines), amount = the order's total.
    Each client keeps to a few favourite products (its id picks five neighbours of one
    product), so categories repeat and products are bought together."""
    start = time.perf_counter()
    conn.execute("TRUNCATE sales_orderline, sales_product, sales_productcategory CASCADE")
    given = {"name", "parent_id", "order"}
    names, values = filler(conn, "sales_productcategory", given)
    conn.execute(
        sql.SQL(
            'INSERT INTO sales_productcategory (id, name, parent_id, "order"{extra}) '
            "SELECT g, 'Category ' || g, NULL, g{values} FROM generate_series(1, %s) g"
        ).format(
            extra=sql.SQL("").join(sql.SQL(", ") + sql.Identifier(n) for n in names),
            values=sql.SQL("").join(sql.SQL(", ") + v for v in values),
        ),
        (categories,),
    )
    given = {"id", "code", "name", "kind", "category_id", "is_active", "created_at", "updated_at"}
    names, values = filler(conn, "sales_product", given)
    conn.execute(
        sql.SQL(
            "INSERT INTO sales_product (id, code, name, kind, category_id, is_active, "
            "created_at, updated_at{extra}) "
            "SELECT g, 'P' || g, 'Product ' || g, 'product', 1 + g %% %s, true, now(), now()"
            "{values} FROM generate_series(1, %s) g"
        ).format(
            extra=sql.SQL("").join(sql.SQL(", ") + sql.Identifier(n) for n in names),
            values=sql.SQL("").join(sql.SQL(", ") + v for v in values),
        ),
        (categories, products),
    )
    given = {
        "order_id",
        "product_id",
        "product_code",
        "product_name",
        "category_id",
        "quantity",
        "unit_price",
        "discount_percent",
        "amount",
    }
    names, values = filler(conn, "sales_orderline", given)
    conn.execute(
        sql.SQL(
            "INSERT INTO sales_orderline (order_id, product_id, product_code, product_name, "
            "category_id, quantity, unit_price, discount_percent, amount{extra}) "
            "SELECT o.id, p, 'P' || p, 'Product ' || p, 1 + p %% %s, 1, o.total, 0, o.total"
            "{values} FROM sales_order o, "
            "LATERAL (SELECT 1 + ((o.client_id * 7 + floor(random() * 5)::bigint * 13) "
            "%% %s)::bigint AS p) pick"
        ).format(
            extra=sql.SQL("").join(sql.SQL(", ") + sql.Identifier(n) for n in names),
            values=sql.SQL("").join(sql.SQL(", ") + v for v in values),
        ),
        (categories, products),
    )
    conn.execute("VACUUM ANALYZE sales_orderline")
    print(f"lines: one per order in {time.perf_counter() - start:.1f} s", flush=True)


def run(database: str, repeat: int, as_of: str) -> None:
    results = []
    for attempt in range(repeat):
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        done = subprocess.run(
            [LAVKA, "analytics", "recompute", "--json", "--as", "benchadmin", "--as-of", as_of],
            env=env(database),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(done.returncode)
        printed = json.loads(done.stdout)
        results.append(
            {
                "attempt": attempt + 1,
                "wall_command": round(wall, 2),
                "steps_total": printed["total_seconds"],
                "steps": printed["steps"],
                "reports_total": printed.get("reports_seconds"),
                "reports": printed.get("reports", {}),
                "reports_failed": printed.get("reports_failed", {}),
                "peak_rss_mib": round(max(peak, before) / 1024),
                "loadavg_before": load_before,
                "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
                "clients": printed["clients"],
                "read_by": printed["read_by"],
                "orders": printed["orders"],
                "bgnbd": printed["bgnbd"],
                "gamma_gamma": printed["gamma_gamma"],
            }
        )
        print(json.dumps(results[-1]), flush=True)
    totals = sorted(r["steps_total"] for r in results)
    print(
        json.dumps(
            {
                "median_steps_total": statistics.median(totals),
                "max_steps_total": totals[-1],
                "median_wall_command": statistics.median(r["wall_command"] for r in results),
                "median_reports_total": statistics.median(r["reports_total"] or 0 for r in results),
                "median_by_step": {
                    step: statistics.median(r["steps"][step] for r in results)
                    for step in results[0]["steps"]
                },
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "lines", "run"])
    parser.add_argument("--database", default="lavka_bench_analytics")
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--as-of", default="2026-11-23")
    args = parser.parse_args()
    if args.command == "setup":
        setup(args.database, args.clients, args.orders)
    elif args.command == "lines":
        with psycopg.connect(f"{SERVER}/{args.database}", autocommit=True) as conn:
            lines_make(conn)
    else:
        run(args.database, args.repeat, args.as_of)


if __name__ == "__main__":
    main()
