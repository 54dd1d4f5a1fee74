"""Benchmark: `lavka import clients` of N generated rows on SQLite and PostgreSQL.

    .venv/bin/python bench/import_clients/run.py --rows 100000 [--db sqlite|postgresql|both]

Generates a deterministic CSV (external id, name, email, phone, INN, city, tags; about
1% bad emails and 0.5% in-file duplicates), then for each database: a fresh data
directory (and a recreated PostgreSQL database, `lavka_bench_import` unless --pg-db),
`lavka migrate`, a user,
and `/usr/bin/time -v lavka import clients FILE --json --as bench`. Prints rows/s and
the peak RSS of the import process.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAVKA = str(Path(sys.executable).with_name("lavka"))
PG_BASE = "postgresql://postgres@127.0.0.1:5432/"
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Тверь"]
WORDS = ["Ромашка", "Лютик", "Василёк", "Кактус", "Берёза", "Acme", "Globex", "Initech"]


def inn10(n: int) -> str:
    digits = [int(c) for c in f"{7700000000 + n * 7 % 99_999_999:010d}"[:9]]
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


BLOCK_HEADER = [
    "Индекс",
    "Адрес",
    "Контактное лицо",
    "Должность",
    "Email контакта",
    "Дата рождения",
]
FIRST = ["Иван", "Пётр", "Анна", "Мария", "Олег"]
LAST = ["Иванов", "Петров", "Смирнова", "Кузнецова", "Соколов"]


def generate(path: Path, rows: int, blocks: bool = False) -> None:
    """With `blocks`, every row also has an address (postcode, street) and a contact
    person (name, job title, email, birthday)."""
    rng = random.Random(20261124)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        header = ["Внешний ID", "Название", "Email", "Телефон", "ИНН", "Город", "Теги"]
        writer.writerow(header + BLOCK_HEADER if blocks else header)
        for n in range(1, rows + 1):
            m = n - 1 if n % 200 == 50 else n  # every 200th row repeats the previous one
            email = f"client{m}@example.ru" if n % 100 != 0 else f"client{m}@bad"
            phone = (
                f"+7 9{rng.randrange(10, 99)} {rng.randrange(100, 999)} {m % 100:02d} "
                f"{m // 100 % 100:02d}"
            )
            row = [
                f"EXT-{n}",
                f"ООО {WORDS[m % len(WORDS)]} {m}",
                email,
                phone,
                inn10(m) if m % 3 == 0 else "",
                CITIES[m % len(CITIES)],
                "опт, vip" if m % 10 == 0 else "",
            ]
            if blocks:
                row += [
                    f"{100000 + m % 900000}",
                    f"ул. Ленина, {m % 200 + 1}",
                    f"{LAST[m % 5]} {FIRST[m // 5 % 5]}",
                    "Директор" if m % 2 else "Бухгалтер",
                    f"contact{m}@example.ru",
                    f"{m % 28 + 1:02d}.{m % 12 + 1:02d}.{1950 + m % 50}",
                ]
            writer.writerow(row)


def lavka(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [LAVKA, *args], env=env, input=stdin, text=True, capture_output=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"lavka {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def bench(db: str, csv_path: Path, rows: int, work: Path, pg_db: str) -> dict[str, object]:
    data_dir = work / f"data-{db}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAVKA_")}
    env["LAVKA_DATA_DIR"] = str(data_dir)
    if db == "postgresql":
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", pg_db],
            check=True,
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
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.monotonic()
    done = subprocess.run(
        [
            "/usr/bin/time",
            "-v",
            LAVKA,
            "import",
            "clients",
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
    result = json.loads(done.stdout.strip().splitlines()[-1])
    found = re.search(r"stages \(s\): (\{.*\})", done.stderr)
    stages = ast.literal_eval(found[1]) if found else {}
    return {
        "db": db,
        "rows": rows,
        "seconds": round(seconds, 1),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak_kb / 1024),
        **{k: result[k] for k in ("created", "updated", "unchanged", "duplicates", "rejected")},
        "stages_s": stages,
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--work", default="/tmp/lavka-bench-import")
    parser.add_argument(
        "--blocks", action="store_true", help="rows also have an address and a contact person"
    )
    parser.add_argument(
        "--pg-db", default="lavka_bench_import", help="PostgreSQL database (dropped, recreated)"
    )
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"clients-{args.rows}{'-blocks' if args.blocks else ''}.csv"
    if not csv_path.exists():
        generate(csv_path, args.rows, args.blocks)
    print(
        f"file: {csv_path} ({csv_path.stat().st_size / 1e6:.1f} MB, {args.rows} rows)", flush=True
    )
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        print(
            json.dumps(bench(db, csv_path, args.rows, work, args.pg_db), ensure_ascii=False),
            flush=True,
        )


if __name__ == "__main__":
    main()
