"""The kpi report and the dashboard's figures on a small hand-made base.

Orders (as of 2026-06-30), RUB:
    A (rep):        2026-01-10 100, 2026-01-20 50, 2026-03-05 200, 2026-06-01 100
    B (rep):        2025-12-15 300, 2026-02-10 100
    C (rep):        2026-06-15 80
    D (colleague):  2025-06-10 500, 2026-05-20 250

Period April-June 2026 (previous: January-March 2026; before that October-December 2025):
    active now A, C, D = 3; new C = 1; revenue 250 + 180 = 430 in 3 orders;
    active before A, B = 2 (A new then); retained A = 1, lost B = 1: retention 50 %;
    previous period: revenue 450 in 4 orders, retained from Oct-Dec (B) 1 of 1: 100 %.
Deals (colleague's pipeline): won 2026-04 (created 2026-03-22, 20 days), won 2026-05
(created 2026-05-01, 30 days), lost 2026-06; won 2026-02 before: win rate 2/3 now, 1/1
before; cycle 25 days now.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from lavka.analytics.dashboard import Filters, filters_parse, kpi_dashboard, month_index
from lavka.analytics.models import ComputeRun
from lavka.analytics.models.kpi import ALL, KpiClients, KpiDeals, KpiMonth
from lavka.analytics.selectors import abc_xyz_cells
from lavka.analytics.services import analytics_recompute
from lavka.plans.models import Plan
from lavka.sales.models import Deal, Pipeline, Stage
from tests.analytics.conftest import add_orders
from tests.factories import ClientFactory

D = dt.date
AS_OF = D(2026, 6, 30)


@pytest.fixture
def base(org):
    a = ClientFactory(name="A", owner=org.rep)
    b = ClientFactory(name="B", owner=org.rep)
    c = ClientFactory(name="C", owner=org.rep)
    d = ClientFactory(name="D", owner=org.colleague)
    add_orders(
        a, [(D(2026, 1, 10), 100), (D(2026, 1, 20), 50), (D(2026, 3, 5), 200), (D(2026, 6, 1), 100)]
    )
    add_orders(b, [(D(2025, 12, 15), 300), (D(2026, 2, 10), 100)])
    add_orders(c, [(D(2026, 6, 15), 80)])
    add_orders(d, [(D(2025, 6, 10), 500), (D(2026, 5, 20), 250)])
    pipeline = Pipeline.objects.create(name="KPI pipeline", order=9)
    offer = Stage.objects.create(
        pipeline=pipeline, name="Offer", kind="open", probability=40, order=1
    )
    won = Stage.objects.create(pipeline=pipeline, name="Won", kind="won", probability=100, order=2)
    lost = Stage.objects.create(pipeline=pipeline, name="Lost", kind="lost", probability=0, order=3)

    def deal(stage, amount, created, closed=None):
        at = dt.datetime(created.year, created.month, created.day, 12, tzinfo=dt.UTC)
        shut = (
            None
            if closed is None
            else dt.datetime(closed.year, closed.month, closed.day, 12, tzinfo=dt.UTC)
        )
        made = Deal.objects.create(
            client=d,
            pipeline=pipeline,
            stage=stage,
            title=f"Deal {amount}",
            owner=org.colleague,
            team=org.colleague.team,
            amount=Decimal(amount),
            currency="RUB",
            probability=stage.probability,
        )
        Deal.objects.filter(pk=made.pk).update(
            created_at=at,
            won_at=shut if stage == won else None,
            lost_at=shut if stage == lost else None,
        )
        return made

    deal(won, 1000, D(2026, 3, 22), D(2026, 4, 11))
    deal(won, 3000, D(2026, 5, 1), D(2026, 5, 31))
    deal(lost, 500, D(2026, 5, 2), D(2026, 6, 3))
    deal(won, 700, D(2026, 1, 5), D(2026, 2, 4))
    deal(offer, 2000, D(2026, 6, 10))
    return {"a": a, "b": b, "c": c, "d": d}


def quarter(**extra):
    return Filters(
        start=month_index(D(2026, 4, 1)), end=month_index(D(2026, 6, 1)), preset="custom", **extra
    )


def test_the_report_stores_buyers_orders_and_revenue_per_month(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    rows = (
        KpiMonth.objects.filter(run=run, grain=0)
        .order_by("month", "gap")
        .values_list("month", "gap", "clients", "orders", "revenue")
    )

    assert list(rows) == [
        (D(2025, 6, 1), 0, 1, 1, 500.0),
        (D(2025, 12, 1), 0, 1, 1, 300.0),
        (D(2026, 1, 1), 0, 1, 2, 150.0),
        (D(2026, 2, 1), 2, 1, 1, 100.0),
        (D(2026, 3, 1), 2, 1, 1, 200.0),
        (D(2026, 5, 1), 11, 1, 1, 250.0),
        (D(2026, 6, 1), 0, 1, 1, 80.0),
        (D(2026, 6, 1), 3, 1, 1, 100.0),
    ]
    detail = KpiMonth.objects.filter(run=run, grain=7)
    assert set(detail.values_list("owner_id", flat=True)) == {org.rep.pk, org.colleague.pk}
    assert KpiMonth.objects.filter(run=run, grain=0).exclude(owner_id=ALL).count() == 0
    assert run.reports["kpi"]["first_month"] == "2025-06"


def test_the_dashboard_figures_match_the_hand_computation(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    board = kpi_dashboard(viewer=org.analyst, run=run, filters=quarter())

    f = {x.code: x for x in board.figures}
    assert f["revenue"].value == 430 and f["revenue"].previous == 450
    assert f["orders"].value == 3 and f["orders"].previous == 4
    assert f["active"].value == 3 and f["active"].previous == 2
    assert f["new"].value == 1 and f["new"].previous == 1
    assert f["lost"].value == 1 and f["lost"].previous == 0
    assert f["retention"].value == 0.5 and f["retention"].previous == 1.0
    assert f["churn"].value == 0.5 and f["churn"].previous == 0.0
    assert f["average_order"].value == pytest.approx(430 / 3)
    assert f["average_order"].previous == 112.5
    assert f["frequency"].value == 1.0 and f["frequency"].previous == 2.0
    assert f["win_rate"].value == pytest.approx(2 / 3) and f["win_rate"].previous == 1.0
    assert f["cycle"].value == 25 and f["cycle"].previous == 30
    assert f["pipeline"].value == 2000
    assert f["cac"].value is None and str(f["cac"].missing) == "no costs entered"
    assert [t["revenue"] for t in board.trend[-3:]] == [0, 250, 180]


def test_a_rep_sees_only_the_figures_of_their_own_clients(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    board = kpi_dashboard(viewer=org.rep, run=run, filters=quarter())

    f = {x.code: x for x in board.figures}
    assert f["revenue"].value == 180 and f["active"].value == 2
    assert f["lost"].value == 1  # B
    assert f["win_rate"].value is None and f["pipeline"].value is None  # D's deals
    assert sum(c["clients"] for row in board.matrix for c in row) == 3


def test_filters_by_owner_and_segment_read_the_matching_rows(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    by_owner = kpi_dashboard(
        viewer=org.analyst, run=run, filters=quarter(owner_id=org.colleague.pk)
    )
    by_segment = [
        kpi_dashboard(viewer=org.analyst, run=run, filters=quarter(segment=s)) for s in range(8)
    ]

    assert by_owner.figure("revenue").value == 250
    assert by_owner.figure("active").value == 1
    assert by_owner.figure("win_rate").value == pytest.approx(2 / 3)
    assert sum(b.figure("active").value for b in by_segment) == 3
    assert sum(b.figure("revenue").value for b in by_segment) == 430


def test_the_plan_is_summed_over_the_months_of_the_period(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)
    for month, amount in ((4, "100"), (5, "200"), (6, "300")):
        Plan.objects.create(
            level=Plan.Level.TEAM,
            team=org.moscow,
            period_start=D(2026, month, 1),
            currency="RUB",
            target_amount=Decimal(amount),
        )

    board = kpi_dashboard(viewer=org.analyst, run=run, filters=quarter())

    assert board.figure("revenue").plan == 600
    assert board.figure("revenue").plan_share == pytest.approx(430 / 600)


def test_deals_are_pre_aggregated_by_kind_and_month(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    won = KpiDeals.objects.filter(run=run, grain=0, kind=KpiDeals.WON).order_by("month")

    assert list(won.values_list("month", "deals", "amount", "days")) == [
        (D(2026, 2, 1), 1, 700.0, 30.0),
        (D(2026, 4, 1), 1, 1000.0, 20.0),
        (D(2026, 5, 1), 1, 3000.0, 30.0),
    ]


def test_the_period_presets_end_at_the_date_of_the_scores(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    three = filters_parse({"period": "3m"}, run=run)
    month = filters_parse({"period": "month"}, run=run)
    custom = filters_parse({"from": "2026-01", "to": "2026-02"}, run=run)

    assert (three.start, three.end) == (month_index(D(2026, 4, 1)), month_index(AS_OF))
    assert month.start == month.end == month_index(AS_OF)
    assert custom.preset == "custom" and custom.length == 2
    assert custom.previous == (month_index(D(2025, 11, 1)), month_index(D(2025, 12, 1)))


def test_a_run_without_orders_stores_no_rows(org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    assert isinstance(ComputeRun.objects.get(pk=run.pk).reports.get("kpi"), dict)
    assert KpiMonth.objects.filter(run=run).count() == 0


def test_the_client_snapshot_matches_the_run_matrix_and_stages(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    board = kpi_dashboard(viewer=org.analyst, run=run, filters=quarter())
    cells = abc_xyz_cells(viewer=org.analyst, run=run)

    assert KpiClients.objects.filter(run=run, grain=0).aggregate(n=Sum("clients"))["n"] == 4
    assert [[c["clients"] for c in row] for row in board.matrix] == [
        [c.clients for c in row] for row in cells
    ]
    stage_counts = {s["code"]: s["clients"] for s in board.stages}
    assert stage_counts == {
        code: run.parameters["stage_counts"].get(code, 0) for code in stage_counts
    }
