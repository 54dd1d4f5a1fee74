"""Profile one order import in this process: where the time goes, phase by phase.

    .venv/bin/python bench/import_orders/profile_import.py --csv /tmp/bench-orders/orders-1m.csv \
        [--db postgresql|sqlite] [--workers 2] [--profile] [--top 40] [--again]

Builds a fresh installation like run.py (SQLite in a new data directory, or the
PostgreSQL database `lavka_bench_orders_imp`, dropped and recreated), uploads the file
as the command line does, and runs `import_run_in_process` with the command's number of
reading processes (`--workers`). Prints:

- the engine's own phase times (staging, orders);
- wall time spent in the main process's parts of staging: reading the CSV, waiting for
  the reading processes, matching clients and products (with the database time of their
  queries), COPY into the staging table, the batch's other statements, the commits;
- every SQL statement of the orders phase with its time (the first 90 characters);
- with --profile, cProfile of the main process (own and cumulative wall time).

Always under the shared lock: `flock /tmp/bench.lock .venv/bin/python ...`."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[2]))

from run import PG_BASE

TIMES: dict[str, float] = defaultdict(float)
COUNTS: dict[str, int] = defaultdict(int)
STACK: list[str] = []


@contextlib.contextmanager
def timer(name: str) -> Iterator[None]:
    STACK.append(name)
    started = time.perf_counter()
    try:
        yield
    finally:
        TIMES[name] += time.perf_counter() - started
        COUNTS[name] += 1
        STACK.pop()


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with timer(name):
            return function(*args, **kwargs)

    return wrapper


def timed_iterator(name: str, function: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
    """Time each next() of the iterator `function` returns (the time to produce an item,
    not what the consumer does with it)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        iterator = iter(function(*args, **kwargs))
        while True:
            with timer(name):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    return wrapper


def sql_timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        spent = time.perf_counter() - started
        where = STACK[-1] if STACK else "other"
        TIMES[f"sql in {where}"] += spent
        if where == "orders phase":
            STATEMENTS.append((spent, " ".join(sql.split())[:90]))


STATEMENTS: list[tuple[float, str]] = []


def instrument() -> None:
    from django.db import connection

    from lavka.imports import orders as engine

    for name in ("pieces", "batches"):  # this version's, or the one before
        if hasattr(engine.OrderImporter, name):
            method = timed_iterator(
                "read the file into batches (main)", getattr(engine.OrderImporter, name)
            )
            setattr(engine.OrderImporter, name, method)
    engine.Clients.resolve = timed("match clients", engine.Clients.resolve)
    engine.Products.resolve = timed("match products", engine.Products.resolve)
    engine.OrderImporter.prepare = timed("prepare batch", engine.OrderImporter.prepare)
    for name in ("_stage", "_stage_copy"):
        if hasattr(engine, name):
            setattr(engine, name, timed("COPY to staging", getattr(engine, name)))
    engine._orders_write = timed("orders phase", engine._orders_write)
    engine._read_ahead = _wrap_read_ahead(engine._read_ahead)
    connection.ensure_connection()
    commit = connection.commit

    def timed_commit() -> None:
        with timer("commit"):
            commit()

    connection.commit = timed_commit  # type: ignore[method-assign]
    connection.execute_wrappers.append(sql_timer)


def _wrap_read_ahead(original: Callable[..., Any]) -> Callable[..., Any]:
    @contextlib.contextmanager
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with original(*args, **kwargs) as stream:
            yield timed_iterator("wait for next batch", lambda: stream)()

    return wrapper


def cpu_seconds(backend: int | None) -> dict[str, float]:
    """CPU seconds used so far by this process, its reaped children (the reading
    processes) and the PostgreSQL backend serving it: a measure of the work that does
    not depend on how busy the shared machine is."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "main": own.ru_utime + own.ru_stime,
        "readers": children.ru_utime + children.ru_stime,
    }
    if backend:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        result["postgres"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true", help="cProfile the main process")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--again", action="store_true", help="import the file a second time")
    parser.add_argument("--work", default="/tmp/lavka-profile-orders")
    parser.add_argument("--pg-db", default="lavka_bench_orders_imp")
    parser.add_argument(
        "--set-check-orders", type=int, help="override SET_CHECK_ORDERS (if the engine has it)"
    )
    parser.add_argument(
        "--engine",
        type=Path,
        help="another version of lavka/imports/orders.py to time (e.g. the one before a change)",
    )
    args = parser.parse_args()
    work = Path(args.work)
    data_dir = work / f"data-{args.db}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    for key in [k for k in os.environ if k.startswith("LAVKA_")]:
        del os.environ[key]
    os.environ["LAVKA_DATA_DIR"] = str(data_dir)
    if args.db == "postgresql":
        pg = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["dropdb", *pg, "--if-exists", args.pg_db], check=True)
        subprocess.run(["createdb", *pg, args.pg_db], check=True)
        os.environ["LAVKA_DATABASE_URL"] = PG_BASE + args.pg_db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")
    import django

    django.setup()
    if args.engine:
        import importlib.util

        import lavka.imports
        from lavka.imports import services

        spec = importlib.util.spec_from_file_location("lavka.imports.orders", args.engine)
        assert spec is not None and spec.loader is not None
        other = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(other)
        sys.modules["lavka.imports.orders"] = other
        lavka.imports.orders = other  # type: ignore[attr-defined]
        services.orders_import_execute = other.orders_import_execute
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from lavka.identity.models import Role, User
    from lavka.imports.services import import_run_in_process, import_upload

    admin = User.objects.create(
        username="bench", role=Role.objects.get(code="administrator"), is_active=True
    )
    instrument()
    if args.set_check_orders is not None:
        from lavka.imports import orders as engine

        engine.SET_CHECK_ORDERS = args.set_check_orders  # type: ignore[attr-defined]
    for attempt in ("first", "again") if args.again else ("first",):
        TIMES.clear()
        COUNTS.clear()
        STATEMENTS.clear()
        load = Path("/proc/loadavg").read_text().split()[:3]
        started = time.perf_counter()
        run = import_upload(
            actor=admin,
            name=args.csv.name,
            source=args.csv,
            max_bytes=None,
            target="orders",
            read_all=False,
        )
        uploaded = time.perf_counter()
        backend = None
        if args.db == "postgresql":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
        cpu_before = cpu_seconds(backend)
        profile = cProfile.Profile()
        if args.profile:
            profile.enable()
        result = import_run_in_process(actor=admin, run=run, workers=args.workers)
        profile.disable()
        done = time.perf_counter()
        cpu_after = cpu_seconds(backend)
        print(
            json.dumps(
                {
                    "attempt": attempt,
                    "db": args.db,
                    "workers": args.workers,
                    "upload_seconds": round(uploaded - started, 1),
                    "import_seconds": round(done - uploaded, 1),
                    "phase_seconds": result.get("seconds"),
                    "cpu_seconds": {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_after},
                    "loadavg_before": " ".join(load),
                    "loadavg_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
                    "counts": result["counts"],
                },
                ensure_ascii=False,
            )
        )
        print("main process, wall seconds (nested timers overlap):")
        for name, spent in sorted(TIMES.items(), key=lambda item: -item[1]):
            print(f"  {spent:8.1f}  {COUNTS.get(name, 0):7d}x  {name}")
        print("orders phase statements:")
        for spent, sql in STATEMENTS:
            if spent >= 0.05:
                print(f"  {spent:8.2f}  {sql}")
        if args.profile:
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
