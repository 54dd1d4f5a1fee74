"""Search-as-you-type benchmark: build N clients through the bulk path, then time
`search_everything` (the selector behind the top search box and GET /api/v1/search)
for a mix of queries, as an administrator (sees everything) and as a sales rep (sees
only their own clients), and print p50 / p99 per query kind.

    # SQLite (the data directory gets its own lavka.sqlite3)
    LAVKA_DATA_DIR=/tmp/lavka-bench-search .venv/bin/python bench/search/bench.py --clients 200000
    # PostgreSQL (a database of its own)
    LAVKA_DATA_DIR=/tmp/lavka-bench-search-pg \\
    LAVKA_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/lavka_bench_search \\
        .venv/bin/python bench/search/bench.py --clients 200000

Building is idempotent: clients already there are kept, more are added up to N.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from lavka.clients.identifiers import folded, phone_display  # noqa: E402
from lavka.clients.models import Client, Tier  # noqa: E402
from lavka.search.selectors import search_everything  # noqa: E402

STEMS = [
    "Ромашк",
    "Василёк",
    "Северн",
    "Альфа",
    "Гранит",
    "Вектор",
    "Орион",
    "Меридиан",
    "Сибир",
    "Балтик",
    "Восток",
    "Уральск",
    "Техно",
    "Строй",
    "Агро",
    "Лесн",
    "Нефт",
    "Энерг",
    "Транс",
    "Логист",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
]
ENDINGS = ["а", "", "ия", "ый", "ик", "ос", "он", "ал"]
FORMS = ["ООО", "АО", "ИП", "ПАО", "LLC", "Ltd", ""]
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Тверь", "Новосибирск", "Екатеринбург"]


def name_for(i: int, rnd: random.Random) -> str:
    stem = rnd.choice(STEMS) + rnd.choice(ENDINGS)
    return f"{rnd.choice(FORMS)} «{stem} {rnd.choice(STEMS)}{rnd.choice(ENDINGS)}-{i}»".strip()


def build(n: int, batch: int = 5000) -> None:
    from lavka.identity.models import Team, User

    call_command("migrate", verbosity=0)
    team, _ = Team.objects.get_or_create(name="Bench")
    users = []
    for k in range(20):
        user, _ = User.objects.get_or_create(username=f"bench{k}", defaults={"team": team})
        users.append(user)
    tier = Tier.objects.filter(is_default=True).first()
    have = Client.objects.count()
    rnd = random.Random(have)
    started = time.perf_counter()
    for start in range(have, n, batch):
        rows = []
        for i in range(start, min(n, start + batch)):
            phone = f"+7495{i:07d}"
            owner = users[i % len(users)]
            name = name_for(i, rnd)
            inn = f"77{i:08d}"
            email = f"client{i}@example.org"
            city = rnd.choice(CITIES)
            rows.append(
                Client(
                    name=name,
                    email=email,
                    phone=phone,
                    inn=inn,
                    city=city,
                    owner=owner,
                    team=team,
                    tier=tier,
                    search_text=folded(
                        name, email, phone.lstrip("+"), phone_display(phone), inn, city
                    ),
                )
            )
        with transaction.atomic():
            Client.objects.bulk_create(rows, batch_size=batch)
        done = min(n, start + batch)
        if done % 50_000 == 0 or done == n:
            rate = (done - have) / (time.perf_counter() - started)
            print(f"  built {done:,} clients ({rate:,.0f}/s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE clients_client")


QUERIES = {
    "exact name": ["ромашка", "Вектор", "northwind", "гранит орион"],
    "typo": ["Ромашко", "Векторр", "nortwind", "Меридиян"],
    "word form / latin": ["ромашки", "Romashka", "vektor", "граниты"],
    "phone": ["8 495 000 12 34", "+7(495)0001234", "4950001234"],
    "inn": ["7700001234", "7700012345"],
    "3-letter prefix": ["ром", "век"],
}


def measure(viewer, repeats: int) -> dict[str, tuple[float, float, int]]:
    out = {}
    for kind, queries in QUERIES.items():
        times = []
        hits = 0
        for _ in range(repeats):
            for q in queries:
                t0 = time.perf_counter()
                results = search_everything(viewer=viewer, query=q, limit=8)
                times.append((time.perf_counter() - t0) * 1000)
                hits += results.total
        times.sort()
        p50 = statistics.median(times)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        out[kind] = (p50, p99, hits // repeats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"database: {connection.vendor}; building {args.clients:,} clients", flush=True)
    build(args.clients)
    from lavka.identity.models import User
    from tests.factories import role

    admin, _ = User.objects.get_or_create(username="bench-admin")
    admin.role = role("administrator")
    admin.save()
    rep = User.objects.get(username="bench0")
    rep.role = role("sales_rep")
    rep.save()
    for label, viewer in (
        ("administrator (all clients)", admin),
        ("sales rep (own clients, 1/20)", rep),
    ):
        search_everything(viewer=viewer, query="warm up", limit=8)
        print(f"\n{label}, {Client.objects.count():,} clients, {connection.vendor}")
        print("| query kind | p50 ms | p99 ms | hits/round |")
        print("|---|---:|---:|---:|")
        for kind, (p50, p99, hits) in measure(viewer, args.repeats).items():
            print(f"| {kind} | {p50:.1f} | {p99:.1f} | {hits} |")


if __name__ == "__main__":
    main()
