"""Benchmark: `lavka import orders` of a generated accounting export.

    .venv/bin/python bench/import_orders/run.py --lines 1000000 --db sqlite
    .venv/bin/python bench/import_orders/run.py --lines 10000000 --db postgresql \
        --csv /tmp/bench-orders/orders-10m.csv

For each database: a fresh data directory (and a recreated PostgreSQL database,
`lavka_bench_orders` unless --pg-db), `lavka migrate`, an administrator, then

    /usr/bin/time -v lavka import orders FILE --json --as bench

timed as a whole (start-up, copying and checking the file, staging, writing the orders,
the error report). Peak memory: the maximum RSS `/usr/bin/time -v` reports. With
--again, the same file is imported a second time (it must change nothing) and timed.
Run under `flock /tmp/bench.lock`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAVKA = str(Path(sys.executable).with_name("lavka"))
PG_BASE = "postgresql://postgres@127.0.0.1:5432/"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate  # noqa: E402


def lavka(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    subprocess.run([LAVKA, *args], env=env, input=stdin, text=True, check=True, cwd=ROOT)


def timed_import(env: dict[str, str], csv_path: Path) -> dict[str, object]:
    load = Path("/proc/loadavg").read_text().split()[:3]
    started = time.monotonic()
    done = subprocess.run(
        [
            "/usr/bin/time",
            "-v",
            LAVKA,
            "import",
            "orders",
            str(csv_path),
            "--json",
            "--as",
            "bench",
        ],
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"import failed:\n{done.stdout}\n{done.stderr}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    # The command's CPU time, its reading processes included (not PostgreSQL's).
    cpu = sum(
        float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr)[1])
        for kind in ("User", "System")
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "wall_seconds": round(seconds, 1),
        "phase_seconds": result.get("seconds", {}),
        "peak_rss_mb": round(peak_kb / 1024),
        "cpu_seconds": round(cpu, 1),
        "loadavg_before": " ".join(load),
        "loadavg_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        **{k: v for k, v in result.items() if k not in ("error_report", "dry_run", "seconds")},
    }


def run(db: str, csv_path: Path, work: Path, pg_db: str, again: bool) -> dict[str, object]:
    data_dir = work / f"data-{db}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVKA_")}
    env["LAVKA_DATA_DIR"] = str(data_dir)
    if db == "postgresql":
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", pg_db], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_db], check=True)
        env["LAVKA_DATABASE_URL"] = PG_BASE + pg_db
    lavka(env, "migrate")
    lavka(
        env,
        "createuser",
        "bench",
        "--role",
        "administrator",
        "--password-stdin",
        stdin="bench-password-123\n",
    )
    result: dict[str, object] = {
        "db": db,
        "file": str(csv_path),
        "first": timed_import(env, csv_path),
    }
    if again:
        result["again"] = timed_import(env, csv_path)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--csv", type=Path, help="An already generated file (else one is made)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--work", default="/tmp/lavka-bench-orders")
    parser.add_argument("--pg-db", default="lavka_bench_orders")
    parser.add_argument("--again", action="store_true", help="Import the file a second time")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = args.csv or work / f"orders-{args.lines}.csv"
    if not csv_path.exists():
        print("generated", generate(csv_path, args.lines), flush=True)
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for db in dbs:
        print(json.dumps(run(db, csv_path, work, args.pg_db, args.again)), flush=True)


if __name__ == "__main__":
    main()
