"""The kanban board: columns with counts and totals, the first page of each, the
next pages by cursor, the viewer's scope, and a query count that does not grow with
the board."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lavka.sales.models import Deal, Pipeline, Stage
from lavka.sales.selectors.deals import deals_board, deals_column
from lavka.sales.services import deal_create, deal_move
from lavka.sales.services.pipelines import stage_delete
from tests.factories import ClientFactory


def fill(user, board, stage, titles, *, amount=100, currency="RUB"):
    """Deals in `stage`, in the order of `titles` from the top of the column."""
    client = ClientFactory(owner=user)
    previous = None
    for title in titles:
        deal = deal_create(
            actor=user,
            client=client,
            title=title,
            pipeline=board.pipeline,
            amount=amount,
            currency=currency,
        )
        if stage != board.lead or previous is not None:
            deal_move(
                actor=user,
                deal=deal,
                stage=stage,
                after_id=previous.pk if previous else None,
                lost_reason="reason",
            )
        previous = deal


def titles(column):
    return [deal.title for deal in column.deals]


def test_the_board_has_every_stage_with_its_count_totals_and_first_page(org, board):
    fill(org.rep, board, board.lead, ["L1", "L2", "L3"])
    fill(org.rep, board, board.offer, ["O1"], amount=50, currency="USD")
    fill(org.rep, board, board.offer, ["O2"], amount=70, currency="RUB")

    result = deals_board(viewer=org.rep, pipeline=board.pipeline, per_column=2)

    columns = {c.stage.name: c for c in result.columns}
    assert [c.stage.name for c in result.columns] == ["Lead", "Offer", "Won", "Lost"]
    assert (columns["Lead"].count, titles(columns["Lead"])) == (3, ["L1", "L2"])
    assert columns["Lead"].totals == {"RUB": Decimal("300.00")}
    assert columns["Offer"].count == 2
    assert columns["Offer"].totals == {"USD": Decimal("50.00"), "RUB": Decimal("70.00")}
    assert columns["Offer"].next_after is None
    assert (columns["Won"].count, columns["Won"].deals, columns["Won"].totals) == (0, [], {})


def test_the_next_page_of_a_column_follows_its_cursor(org, board):
    fill(org.rep, board, board.lead, [f"L{n}" for n in range(1, 8)])

    first = deals_board(viewer=org.rep, pipeline=board.pipeline, per_column=3).columns[0]
    second = deals_board(
        viewer=org.rep,
        pipeline=board.pipeline,
        per_column=3,
        after={board.lead.pk: first.next_after},
    ).columns[0]
    third, end = deals_column(viewer=org.rep, stage=board.lead, after=second.next_after, limit=3)

    assert titles(first) == ["L1", "L2", "L3"]
    assert titles(second) == ["L4", "L5", "L6"]
    assert ([d.title for d in third], end) == (["L7"], None)


def test_the_cursor_orders_cards_with_equal_positions_by_id(org, board):
    fill(org.rep, board, board.lead, ["A", "B", "C", "D"])
    Deal.objects.update(position=0)

    first = deals_board(viewer=org.rep, pipeline=board.pipeline, per_column=2).columns[0]
    rest, _end = deals_column(viewer=org.rep, stage=board.lead, after=first.next_after)

    assert [d.pk for d in first.deals + rest] == sorted(Deal.objects.values_list("pk", flat=True))


def test_a_rep_sees_only_their_cards_and_counts(org, board):
    fill(org.rep, board, board.lead, ["mine"])
    fill(org.colleague, board, board.lead, ["theirs 1", "theirs 2"])

    rep_lead = deals_board(viewer=org.rep, pipeline=board.pipeline).columns[0]
    manager_lead = deals_board(viewer=org.manager, pipeline=board.pipeline).columns[0]
    only_colleague = deals_board(
        viewer=org.manager, pipeline=board.pipeline, owner_id=org.colleague.pk
    ).columns[0]

    assert (rep_lead.count, titles(rep_lead)) == (1, ["mine"])
    assert manager_lead.count == 3
    assert only_colleague.count == 2


def test_a_deleted_stage_leaves_the_board(org, board):
    extra = Stage.objects.create(pipeline=board.pipeline, name="Extra", kind="open", order=25)
    fill(org.rep, board, extra, ["moved"])

    stage_delete(actor=org.admin, stage=extra, move_to=board.offer)

    result = deals_board(viewer=org.rep, pipeline=board.pipeline)
    assert [c.stage.name for c in result.columns] == ["Lead", "Offer", "Won", "Lost"]
    assert titles(result.columns[1]) == ["moved"]


def board_queries(viewer, pipeline):
    deals_board(viewer=viewer, pipeline=pipeline, per_column=3)  # the viewer's role and teams
    with CaptureQueriesContext(connection) as queries:
        result = deals_board(viewer=viewer, pipeline=pipeline, per_column=3)
        cards = [
            (d.title, d.client.name, d.owner.username) for c in result.columns for d in c.deals
        ]
    return len(queries), cards


@pytest.mark.parametrize("viewer", ["rep", "manager", "admin"])
def test_the_board_takes_four_queries_however_many_stages_and_deals(
    org, board, viewer, django_assert_max_num_queries
):
    user = getattr(org, viewer)
    small = Pipeline.objects.create(name="Small")
    for order, kind in enumerate(["open", "won", "lost"]):
        Stage.objects.create(pipeline=small, name=kind, kind=kind, order=order)
    deal_create(actor=org.rep, client=ClientFactory(owner=org.rep), title="one", pipeline=small)
    for n in range(4):
        Stage.objects.create(pipeline=board.pipeline, name=f"Extra {n}", kind="open", order=50 + n)
    for stage in Stage.objects.filter(pipeline=board.pipeline, kind="open"):
        fill(org.rep, board, stage, [f"{stage.name} {n}" for n in range(5)])

    small_count, small_cards = board_queries(user, small)
    big_count, big_cards = board_queries(user, board.pipeline)

    assert (len(small_cards), len(big_cards)) == (1, 6 * 3)
    assert small_count == big_count == 4
    with django_assert_max_num_queries(4):
        deals_board(viewer=user, pipeline=board.pipeline, per_column=50)


def test_a_user_without_sales_access_gets_an_empty_board(org, board):
    fill(org.rep, board, board.lead, ["L1"])

    assert deals_board(viewer=org.marketer, pipeline=board.pipeline).columns == []
