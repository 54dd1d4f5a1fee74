"""The board's per-column counters (DealColumnTotal) are kept by database triggers: they
match an aggregate over the deals after every kind of write, the services' and the
others' (trash restore, bulk inserts, raw updates, hard deletes), and the board and the
move answer read them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from lavka.audit.trash import soft_delete, trash_restore
from lavka.sales.models import POSITION_STEP, Deal, DealColumnTotal, Pipeline, Product, Stage
from lavka.sales.selectors.deals import column_totals, deals_board
from lavka.sales.services import deal_create, deal_delete, deal_lines_set, deal_move, deal_update
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages(db):
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="P", is_default=True, order=0)
    return {
        name: Stage.objects.create(pipeline=pipeline, name=name, kind=kind, order=i)
        for i, (name, kind) in enumerate(
            [("lead", "open"), ("offer", "open"), ("won", "won"), ("lost", "lost")]
        )
    }


def kept() -> set[tuple[int, int, int, str, int, Decimal]]:
    return {
        (r.stage_id, r.owner_id, r.team_id, r.currency, r.deals, r.amount)
        for r in DealColumnTotal.objects.filter(deals__gt=0)
    }


def counted() -> set[tuple[int, int, int, str, int, Decimal]]:
    rows = (
        Deal.objects.values("stage_id", "owner_id", "team_id", "currency")
        .annotate(n=Count("id"), s=Sum("amount"))
        .order_by()
    )
    return {
        (r["stage_id"], r["owner_id"], r["team_id"] or 0, r["currency"], r["n"], r["s"])
        for r in rows
    }


def test_counters_follow_every_service_write(org, stages):
    client = ClientFactory(owner=org.rep, team=org.moscow)
    tea = deal_create(actor=org.rep, client=client, title="Tea", amount="100.50")
    cups = deal_create(actor=org.rep, client=client, title="Cups", amount=40, currency="USD")
    assert kept() == counted() and len(kept()) == 2

    deal_move(actor=org.rep, deal=tea, stage=stages["offer"])
    deal_update(actor=org.rep, deal=cups, amount=75)
    product = Product.objects.create(code="P", name="P")
    deal_lines_set(
        actor=org.rep, deal=tea, lines=[{"product": product, "quantity": 3, "unit_price": 7}]
    )
    deal_update(actor=org.manager, deal=cups, owner=org.colleague)
    assert kept() == counted()

    deal_move(actor=org.rep, deal=tea, stage=stages["lost"], lost_reason="Price")
    deal_delete(actor=org.colleague, deal=cups)
    assert kept() == counted()
    assert column_totals(viewer=org.admin, stage_ids=[stages["lost"].pk])[stages["lost"].pk] == (
        1,
        {"RUB": Decimal("21.00")},
    )


def test_counters_follow_restore_bulk_inserts_raw_updates_and_deletes(org, stages):
    client = ClientFactory(owner=org.rep, team=org.moscow)
    deal = deal_create(actor=org.rep, client=client, title="Tea", amount=10)
    soft_delete(actor=org.admin, obj=deal)
    assert kept() == counted() == set()
    trash_restore(actor=org.admin, key="sales.deal", object_id=deal.pk)
    assert kept() == counted() and len(kept()) == 1

    Deal.objects.bulk_create(
        [
            Deal(
                client=client,
                pipeline=stages["lead"].pipeline,
                stage=stages["lead"],
                title=f"Bulk {n}",
                amount=n,
                currency="RUB",
                owner=org.colleague,
                team=org.moscow,
                position=n * POSITION_STEP,
            )
            for n in range(5)
        ]
    )
    Deal.objects.filter(title__startswith="Bulk", amount__gte=3).update(stage=stages["offer"])
    Deal.objects.filter(title="Bulk 0").update(team=None)
    assert kept() == counted()

    Deal.all_objects.filter(title="Bulk 1").delete()
    assert kept() == counted()


def test_the_board_reads_counts_and_sums_within_the_viewers_scope(org, stages):
    mine = ClientFactory(owner=org.rep, team=org.moscow)
    theirs = ClientFactory(owner=org.spb_rep, team=org.spb)
    deal_create(actor=org.rep, client=mine, title="A", amount=100)
    deal_create(actor=org.rep, client=mine, title="B", amount=50)
    deal_create(actor=org.spb_rep, client=theirs, title="C", amount=7)
    pipeline = stages["lead"].pipeline

    def lead(viewer, **kwargs):
        board = deals_board(viewer=viewer, pipeline=pipeline, **kwargs)
        column = next(c for c in board.columns if c.stage == stages["lead"])
        return column.count, column.totals

    assert lead(org.admin) == (3, {"RUB": Decimal(157)})
    assert lead(org.manager) == (2, {"RUB": Decimal(150)})
    assert lead(org.spb_rep) == (1, {"RUB": Decimal(7)})
    assert lead(org.admin, owner_id=org.rep.pk) == (2, {"RUB": Decimal(150)})
