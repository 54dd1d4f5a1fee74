"""Profile one client import in this process (cProfile), to see where the time goes.

    .venv/bin/python bench/import_clients/profile_import.py --rows 20000 [--db sqlite|postgresql]
        [--workers 0] [--top 40]

Builds a fresh installation like run.py (SQLite in a new data directory, or the
PostgreSQL database `lavka_profile_import`, dropped and recreated), imports the same
generated CSV with `import_run_in_process`, prints the stage times the engine logs and
the functions with the most own and cumulative time. With --workers 0 (the default)
every row is validated in this process, so the profile covers all of it; with workers,
only what the main process does (matching, and writing when not pipelined)."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[2]))

from run import PG_BASE, generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true", help="only the stage times")
    parser.add_argument("--blocks", action="store_true", help="addresses and contact persons")
    parser.add_argument("--work", default="/tmp/lavka-profile-import")
    parser.add_argument("--pg-db", default="lavka_profile_import")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"clients-{args.rows}{'-blocks' if args.blocks else ''}.csv"
    if not csv_path.exists():
        generate(csv_path, args.rows, args.blocks)
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
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from lavka.identity.models import Role, User
    from lavka.imports.services import import_run_in_process, import_upload

    admin = User.objects.create(
        username="bench", role=Role.objects.get(code="administrator"), is_active=True
    )
    run = import_upload(actor=admin, name=csv_path.name, source=csv_path, max_bytes=None)
    profile = cProfile.Profile()
    if not args.no_profile:
        profile.enable()
    started = time.perf_counter()
    result = import_run_in_process(actor=admin, run=run, workers=args.workers)
    elapsed = time.perf_counter() - started
    profile.disable()
    print(result["counts"], f"import {elapsed:.2f} s")
    if args.no_profile:
        return
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.print_callees("engine.py.*[(]plan[)]")
    stats.print_callees("engine.py.*[(]write[)]")


if __name__ == "__main__":
    main()
