"""Benchmark: entry-chain search over 100,000 people and 1,000,000 relationships.

    .venv/bin/python bench/entry_chain/run.py setup [--people 100000] [--relationships 1000000]
    flock /tmp/bench.lock .venv/bin/python bench/entry_chain/run.py measure [--runs 30]

`setup` recreates the PostgreSQL database `lavka_bench_chain` (or --pg-db), migrates,
and generates 50 staff users, one organisation client with N people, and M
relationships: 2% from staff (each user knows ~400 people), the rest between random
people, half of them inside "circles" of 50 neighbouring ids (colleagues), strengths
1-5. One key account has three power points.

`measure` times, in-process (server time, no HTTP):
- cold: `relationship_graph()` with an empty cache: the version query, reading the
  ids and strengths set-based (values_list into numpy arrays) and building the two
  sparse matrices;
- warm: `entry_chains(viewer, key_account)`, the full selector a page calls: the
  graph's version check (the cached graph is reused), Dijkstra from each power point
  for both measures (shortest, strongest), the 3 best colleagues each, and the names
  and links of the chains' people;
- one `best_chains` call alone (one Dijkstra over the whole graph).
Prints p50 / p95 / p99 / max in milliseconds and the load average.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BASE = "postgresql://postgres@127.0.0.1:5432/"


def django_setup(pg_db: str) -> None:
    os.environ.setdefault("LAVKA_DATA_DIR", tempfile.mkdtemp(prefix="lavka-bench-chain-"))
    os.environ["LAVKA_DATABASE_URL"] = PG_BASE + pg_db
    os.environ["DJANGO_SETTINGS_MODULE"] = "lavka.config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate(pg_db: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')  # our own name
        conn.execute(f'CREATE DATABASE "{pg_db}"')


def setup(people: int, relationships: int, pg_db: str) -> None:
    recreate(pg_db)
    django_setup(pg_db)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from lavka.clients.models import Client, Employment, Person
    from lavka.identity.models import Role, Team, User
    from lavka.identity.roles import default_capabilities, default_grants
    from lavka.keyaccounts.models import KeyAccount, Relationship, Stakeholder

    call_command("migrate", verbosity=0)
    role = Role.objects.get_or_create(
        code="administrator",
        defaults={
            "name": "administrator",
            "grants": default_grants("administrator"),
            "capabilities": default_capabilities("administrator"),
        },
    )[0]
    team = Team.objects.create(name="Sales")
    team.path = f"/{team.pk}/"
    team.save()
    staff = [
        User.objects.create(
            username=f"staff{n}", first_name="Staff", last_name=str(n), team=team, role=role
        )
        for n in range(50)
    ]
    admin = staff[0]
    client = Client.objects.create(name="Big Client", owner=admin, team=team)
    rng = random.Random(42)
    started = time.perf_counter()
    Person.objects.bulk_create(
        (Person(first_name="P", last_name=str(n), owner=admin, team=team) for n in range(people)),
        batch_size=10_000,
    )
    ids = list(Person.objects.order_by("id").values_list("id", flat=True))
    print(f"{people:,} people in {time.perf_counter() - started:.1f} s", flush=True)
    now = timezone.now().isoformat()
    staff_links = relationships // 50
    buffer = io.StringIO()
    for n in range(relationships):
        strength = rng.randint(1, 5)
        if n < staff_links:
            source = f"\\N\t{staff[n % len(staff)].pk}"
            target = rng.choice(ids)
        else:
            a = rng.randrange(people)
            b = (a + rng.randint(1, 50)) % people if n % 2 else rng.randrange(people)
            if a == b:
                b = (a + 1) % people
            source, target = f"{ids[a]}\t\\N", ids[b]
        buffer.write(f"{source}\t{target}\tknows\t{strength}\t\t{now}\t{now}\n")
    buffer.seek(0)
    table = Relationship._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor().copy(
            f"COPY {table} (from_person_id, from_user_id, to_person_id, kind, strength,"
            " notes, created_at, updated_at) FROM STDIN"
        ) as copy:
            copy.write(buffer.read())
    connection.commit() if not connection.get_autocommit() else None
    print(f"{relationships:,} relationships in {time.perf_counter() - started:.1f} s", flush=True)
    # The key account: three power points among the people.
    account = KeyAccount.objects.create(client=client, owner=admin, team=team)
    for person_id in (ids[people // 3], ids[people // 2], ids[(2 * people) // 3]):
        Employment.objects.create(person_id=person_id, organisation=client)
        Stakeholder.objects.create(key_account=account, person_id=person_id, role="power")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    print("done", flush=True)


def quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return (
        f"p50 {statistics.median(ordered):8.1f}  p95 {q(0.95):8.1f}  p99 {q(0.99):8.1f}"
        f"  max {ordered[-1]:8.1f}  (n={len(ordered)})"
    )


def measure(runs: int, pg_db: str) -> None:
    django_setup(pg_db)
    from lavka.identity.models import User
    from lavka.keyaccounts import chains
    from lavka.keyaccounts.models import KeyAccount
    from lavka.keyaccounts.selectors import entry_chains

    viewer = User.objects.select_related("team", "role").get(username="staff0")
    account = KeyAccount.objects.get()
    print("load average:", Path("/proc/loadavg").read_text().strip())
    cold = []
    for _ in range(max(3, runs // 6)):
        chains._cache.clear()
        started = time.perf_counter()
        graph = chains.relationship_graph()
        cold.append((time.perf_counter() - started) * 1000)
    print(f"graph: {graph.node_count:,} nodes, {graph.edge_count:,} distinct links")
    print("cold graph build (read + build)  ", quantiles(cold))
    version = []
    for _ in range(runs):
        started = time.perf_counter()
        chains._version("default")
        version.append((time.perf_counter() - started) * 1000)
    print("version query (graph changed?)  ", quantiles(version))
    warm = []
    result = []
    for _ in range(runs):
        started = time.perf_counter()
        result = entry_chains(viewer=viewer, key_account=account)
        warm.append((time.perf_counter() - started) * 1000)
    print("entry_chains, warm (3 targets)  ", quantiles(warm))
    target = chains.person_node(account.stakeholders.first().person_id)
    one = []
    for _ in range(runs):
        started = time.perf_counter()
        chains.best_chains(graph, target=target, measure="strongest")
        one.append((time.perf_counter() - started) * 1000)
    print("best_chains, one Dijkstra       ", quantiles(one))
    first = result[0]
    print(
        "example:",
        first.measure,
        " -> ".join(s.label for s in first.steps),
        f"({first.hops} links)",
    )
    print("load average:", Path("/proc/loadavg").read_text().strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["setup", "measure"])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--relationships", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pg-db", default="lavka_bench_chain")
    args = parser.parse_args()
    if args.command == "setup":
        setup(args.people, args.relationships, args.pg_db)
    else:
        measure(args.runs, args.pg_db)


if __name__ == "__main__":
    main()
