"""Benchmark: generation from past periods and plan versus actual over N orders, on
PostgreSQL.

    .venv/bin/python bench/plans/run.py setup [--orders 300000] [--pg-db lavka_bench_plans]
    flock /tmp/bench.lock .venv/bin/python bench/plans/run.py measure [--runs 15]

`setup` recreates the database, migrates, and generates 40 reps in 4 teams, 2,000
clients, 4 categories, N orders over the 36 months before today (10% in USD, with
monthly rates), two lines per order, and 20,000 open deals closing this month and next.
`measure` times in-process: plan_proposals for next month (total, by category) and
plan_vs_actual of this month with 44 plans, for an administrator and for a manager of
one team. Prints median and p99 (ms) and the load average."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BASE = "postgresql://postgres@127.0.0.1:5432/"


def django_setup(pg_db: str) -> None:
    os.environ.setdefault("LAVKA_DATA_DIR", tempfile.mkdtemp(prefix="lavka-bench-plans-"))
    os.environ["LAVKA_DATABASE_URL"] = PG_BASE + pg_db
    os.environ["DJANGO_SETTINGS_MODULE"] = "lavka.config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup(orders: int, pg_db: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{pg_db}"')
    django_setup(pg_db)
    from django.core.management import call_command
    from django.utils import timezone

    from lavka.clients.models import Client
    from lavka.identity.models import Role, Team, User
    from lavka.identity.roles import default_capabilities, default_grants
    from lavka.sales.models import (
        Deal,
        ExchangeRate,
        Order,
        OrderLine,
        Pipeline,
        ProductCategory,
        Stage,
    )

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    roles = {
        code: Role.objects.get_or_create(
            code=code,
            defaults={
                "name": code,
                "grants": default_grants(code),
                "capabilities": default_capabilities(code),
                "is_builtin": True,
            },
        )[0]
        for code in ("administrator", "sales_manager", "sales_rep")
    }
    head = Team.objects.create(name="Head", path="")
    head.path = f"/{head.pk}/"
    head.save()
    User.objects.create(username="admin", role=roles["administrator"], team=head)
    teams, reps = [], []
    for t in range(4):
        team = Team.objects.create(name=f"Team {t}", parent=head, path="")
        team.path = f"{head.path}{team.pk}/"
        team.save()
        teams.append(team)
        User.objects.create(username=f"manager{t}", role=roles["sales_manager"], team=team)
        for r in range(10):
            reps.append(
                User.objects.create(username=f"rep{t}_{r}", role=roles["sales_rep"], team=team)
            )
    clients = Client.objects.bulk_create(
        [
            Client(
                name=f"Client {i}", kind="organisation", owner=reps[i % 40], team=reps[i % 40].team
            )
            for i in range(2000)
        ]
    )
    categories = [ProductCategory.objects.create(name=f"Category {i}") for i in range(4)]
    today = timezone.localdate()
    first = dt.date(today.year - 3, today.month, 1)
    for m in range(40):
        day = dt.date(first.year + (first.month - 1 + m) // 12, (first.month - 1 + m) % 12 + 1, 1)
        ExchangeRate.objects.create(currency="USD", valid_on=day, rate=Decimal(80 + m % 10))
    span = (today - first).days
    batch = 20000
    made = 0
    while made < orders:
        rows = []
        for _ in range(min(batch, orders - made)):
            client = clients[rng.randrange(2000)]
            rows.append(
                Order(
                    client=client,
                    owner_id=client.owner_id,
                    team_id=client.team_id,
                    ordered_on=first + dt.timedelta(days=rng.randrange(span)),
                    status=rng.choice(["confirmed", "shipped", "paid", "paid", "cancelled"]),
                    currency="USD" if rng.random() < 0.1 else "RUB",
                    total=Decimal(rng.randrange(1000, 500000)) / 10,
                )
            )
        created = Order.objects.bulk_create(rows, batch_size=5000)
        lines = []
        for order in created:
            half = (order.total / 2).quantize(Decimal("0.01"))
            for amount in (half, order.total - half):
                lines.append(
                    OrderLine(
                        order=order,
                        category=categories[rng.randrange(4)],
                        product_name="x",
                        quantity=1,
                        unit_price=amount,
                        amount=amount,
                    )
                )
        OrderLine.objects.bulk_create(lines, batch_size=10000)
        made += len(rows)
        print("orders", made, flush=True)
    pipeline = Pipeline.objects.create(name="Bench", order=9)
    stage = Stage.objects.create(pipeline=pipeline, name="Offer", kind="open", probability=50)
    Deal.objects.bulk_create(
        [
            Deal(
                client=clients[i % 2000],
                pipeline=pipeline,
                stage=stage,
                title=f"Deal {i}",
                owner_id=clients[i % 2000].owner_id,
                team_id=clients[i % 2000].team_id,
                amount=Decimal(rng.randrange(1000, 100000)),
                currency="RUB",
                probability=rng.randrange(5, 95),
                expected_close_on=today + dt.timedelta(days=rng.randrange(0, 40)),
                position=i,
            )
            for i in range(20000)
        ],
        batch_size=5000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(runs: int, pg_db: str) -> None:
    django_setup(pg_db)
    from django.utils import timezone

    from lavka.identity.models import User
    from lavka.plans.periods import Period
    from lavka.plans.selectors import plan_proposals, plan_vs_actual
    from lavka.plans.services import plans_generate
    from lavka.sales.models import Order, OrderLine

    today = timezone.localdate()
    admin = User.objects.select_related("team", "role").get(username="admin")
    manager = User.objects.select_related("team", "role").get(username="manager0")
    current = Period.containing(today)
    if not plans_generate.__module__:  # pragma: no cover
        return
    from lavka.plans.models import Plan

    if not Plan.objects.filter(period_start=current.start).exists():
        plans_generate(actor=admin, period=current, as_of=today)
    print(
        f"orders {Order.objects.count()}, lines {OrderLine.objects.count()}, "
        f"plans this month {Plan.objects.filter(period_start=current.start).count()}"
    )

    def timed(label, fn):
        fn()  # warm
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(
            f"{label:55s} median {statistics.median(times):8.1f} ms  p99 {p99:8.1f} ms  "
            f"load {' '.join(load)}",
            flush=True,
        )

    nxt = current.shifted(1)
    timed(
        "generate preview, next month, admin",
        lambda: plan_proposals(viewer=admin, period=nxt, as_of=today),
    )
    timed(
        "generate preview, next month, by category, admin",
        lambda: plan_proposals(viewer=admin, period=nxt, as_of=today, by_category=True),
    )
    timed(
        "generate preview, next month, manager (1 team)",
        lambda: plan_proposals(viewer=manager, period=nxt, as_of=today),
    )
    timed(
        "plan vs actual, this month, admin (44 plans)",
        lambda: plan_vs_actual(viewer=admin, period=current, today=today),
    )
    timed(
        "plan vs actual, this month, manager",
        lambda: plan_vs_actual(viewer=manager, period=current, today=today),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["setup", "measure"])
    parser.add_argument("--orders", type=int, default=300000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pg-db", default="lavka_bench_plans")
    args = parser.parse_args()
    if args.action == "setup":
        setup(args.orders, args.pg_db)
    else:
        measure(args.runs, args.pg_db)
