"""Benchmark: the kanban board and a card move at N open deals, on PostgreSQL.

    .venv/bin/python bench/sales_board/run.py setup [--deals 50000] [--pg-db lavka_bench_sales]
    flock /tmp/bench.lock .venv/bin/python bench/sales_board/run.py measure [--runs 200]

`setup` recreates the database, migrates, and generates 40 reps in 4 teams under one
manager's team, 2,000 clients, and N open deals spread over the default pipeline's
five open stages (with their first stage-history step). `measure` times, in-process
(server time without HTTP), `deals_board` (20 cards per column) for an administrator, a
manager of all four teams and a rep; the next page of the busiest column; and
`deal_move` of a random deal to a random open stage after a random card (each move
its own transaction). Prints p50 / p95 / p99 in milliseconds.
"""

from __future__ import annotations

import argparse
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
    os.environ.setdefault("LAVKA_DATA_DIR", tempfile.mkdtemp(prefix="lavka-bench-sales-"))
    os.environ["LAVKA_DATABASE_URL"] = PG_BASE + pg_db
    os.environ["DJANGO_SETTINGS_MODULE"] = "lavka.config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate(pg_db: str) -> None:
    import psycopg

    with psycopg.connect(PG_BASE + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{pg_db}"')


def setup(deals: int, pg_db: str) -> None:
    recreate(pg_db)
    django_setup(pg_db)
    from django.core.management import call_command
    from django.db import connection

    from lavka.clients.models import Client
    from lavka.identity.models import Role, Team, User
    from lavka.identity.roles import default_capabilities, default_grants
    from lavka.sales.models import POSITION_STEP, Deal, DealStageChange, Stage

    call_command("migrate", verbosity=0)
    roles = {
        code: Role.objects.get_or_create(
            code=code,
            defaults={
                "name": code,
                "grants": default_grants(code),
                "capabilities": default_capabilities(code),
            },
        )[0]
        for code in ("administrator", "sales_manager", "sales_rep")
    }
    head = Team.objects.create(name="Sales")
    head.path = f"/{head.pk}/"
    head.save()
    teams = []
    for n in range(4):
        team = Team.objects.create(name=f"Team {n}", parent=head)
        team.path = f"{head.path}{team.pk}/"
        team.save()
        teams.append(team)
    User.objects.create(username="admin", team=head, role=roles["administrator"])
    User.objects.create(username="manager", team=head, role=roles["sales_manager"])
    reps = [
        User.objects.create(username=f"rep{n}", team=teams[n % 4], role=roles["sales_rep"])
        for n in range(40)
    ]
    clients = Client.objects.bulk_create(
        [
            Client(name=f"Client {n}", owner=reps[n % 40], team_id=reps[n % 40].team_id)
            for n in range(2000)
        ]
    )
    stages = list(Stage.objects.filter(kind="open").order_by("order"))
    rng = random.Random(4)
    batch: list[Deal] = []
    for n in range(deals):
        rep = reps[n % 40]
        stage = stages[n % len(stages)]
        batch.append(
            Deal(
                client=clients[rng.randrange(len(clients))],
                pipeline_id=stage.pipeline_id,
                stage=stage,
                title=f"Deal {n}",
                amount=rng.randrange(1000, 1_000_000),
                currency="RUB" if n % 10 else "USD",
                probability=stage.probability,
                position=(n // len(stages)) * POSITION_STEP,
                owner=rep,
                team_id=rep.team_id,
            )
        )
    created = Deal.objects.bulk_create(batch, batch_size=5000)
    DealStageChange.objects.bulk_create(
        [DealStageChange(deal=d, to_stage_id=d.stage_id) for d in created], batch_size=5000
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"set up {len(created)} open deals in {len(stages)} stages, database {pg_db}")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return f"p50 {q[49]:.1f}  p95 {q[94]:.1f}  p99 {q[98]:.1f}  max {ordered[-1]:.1f} ms"


def measure(runs: int, pg_db: str) -> None:
    django_setup(pg_db)
    from django.db import connection, reset_queries
    from django.db.models import Count, Sum

    from lavka.identity.models import User
    from lavka.sales.models import Deal, Pipeline, Stage
    from lavka.sales.selectors.deals import (
        column_totals,
        deals_board,
        deals_column,
        deals_visible_to,
    )
    from lavka.sales.services import deal_move

    pipeline = Pipeline.objects.get(is_default=True)
    open_deals = Deal.objects.filter(stage__kind="open").count()
    version = connection.cursor().connection.info.server_version
    print(f"{open_deals} open deals, PostgreSQL {version}, load {os.getloadavg()}")

    def timed(fn, n: int) -> list[float]:
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
            reset_queries()
        return samples

    for username in ("admin", "manager", "rep0"):
        # A fresh user per call, as a request would have (its role and team tree are
        # read again each time).
        def board(username: str = username) -> None:
            viewer = User.objects.select_related("role").get(username=username)
            deals_board(viewer=viewer, pipeline=pipeline, per_column=20)

        board()
        print(f"board as {username:8}: {percentiles(timed(board, runs))}")

    stage = Stage.objects.filter(pipeline=pipeline, kind="open").order_by("order").first()
    viewer = User.objects.select_related("role").get(username="admin")
    deep = Deal.objects.filter(stage=stage).order_by("position", "id")[5000]
    print(
        "column page at card 5000: "
        + percentiles(
            timed(
                lambda: deals_column(
                    viewer=viewer, stage=stage, after=(deep.position, deep.pk), limit=20
                ),
                runs,
            )
        )
    )

    # The aggregate the board ran before the counters (DealColumnTotal), for comparison
    # under the same load: count and sum per (stage, currency) over every visible deal.
    stage_ids = list(Stage.objects.filter(pipeline=pipeline).values_list("pk", flat=True))

    def old_sums() -> None:
        list(
            deals_visible_to(viewer)
            .filter(stage_id__in=stage_ids)
            .values("stage_id", "currency")
            .annotate(n=Count("id"), total=Sum("amount"))
            .order_by()
        )

    def new_sums() -> None:
        column_totals(viewer=viewer, stage_ids=stage_ids)

    print(f"column sums, old aggregate (admin): {percentiles(timed(old_sums, runs))}")
    print(f"column sums, counters (admin):      {percentiles(timed(new_sums, runs))}")

    rng = random.Random(7)
    open_stages = list(Stage.objects.filter(pipeline=pipeline, kind="open"))
    ids = list(Deal.objects.filter(stage__kind="open").values_list("pk", flat=True))

    moves: dict[str, list[float]] = {"cross": [], "within": []}

    def move(kind: str) -> None:
        actor = User.objects.select_related("role").get(username="admin")
        deal = Deal.objects.only("stage_id").get(pk=rng.choice(ids))
        if kind == "within":
            target = next(s for s in open_stages if s.pk == deal.stage_id)
        else:
            target = rng.choice([s for s in open_stages if s.pk != deal.stage_id])
        after = (
            Deal.objects.filter(stage=target)
            .order_by("position", "id")
            .values_list("pk", flat=True)[rng.randrange(0, 200)]
        )
        start = time.perf_counter()
        deal_move(actor=actor, deal=deal, stage=target, after_id=after)
        moves[kind].append((time.perf_counter() - start) * 1000)

    for n in range(2 * runs):
        move("cross" if n % 2 else "within")
    print(f"deal_move to another column: {percentiles(moves['cross'])}")
    print(f"deal_move within a column:   {percentiles(moves['within'])}")

    # The whole request of the board's drop (the view: deal_get, stage_get, deal_move,
    # and the two columns' counters in the JSON answer), through Django's test client.
    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment

    setup_test_environment()
    http = HttpClient()
    http.force_login(User.objects.get(username="admin"))
    requests: list[float] = []
    for n in range(runs + 3):  # the first three warm up (imports, URL and template caches)
        deal = Deal.objects.only("stage_id").get(pk=rng.choice(ids))
        target = rng.choice([s for s in open_stages if s.pk != deal.stage_id])
        after = (
            Deal.objects.filter(stage=target)
            .order_by("position", "id")
            .values_list("pk", flat=True)[rng.randrange(0, 200)]
        )
        start = time.perf_counter()
        response = http.post(
            f"/sales/deals/{deal.pk}/move/",
            {"stage": target.pk, "after": after},
            HTTP_ACCEPT="application/json",
        )
        if n >= 3:
            requests.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content
    print(f"move request to another column (view): {percentiles(requests)}")
    print(f"load average after: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["setup", "measure"])
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--pg-db", default="lavka_bench_sales")
    args = parser.parse_args()
    if args.phase == "setup":
        setup(args.deals, args.pg_db)
    else:
        measure(args.runs, args.pg_db)


if __name__ == "__main__":
    main()
