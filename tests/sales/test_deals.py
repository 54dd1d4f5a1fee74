"""Deals: who sees and changes them, creation, edits, moves between stages with their
history and time in stage, the lost reason, products, and the trash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lavka.audit import trash
from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.clients.models import Employment, Person
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.sales.models import POSITION_STEP, Deal, DealLine, DealStageChange, Order, PriceList
from lavka.sales.selectors.deals import (
    deal_get,
    deal_list,
    deal_stage_history,
    deal_stage_times,
    deals_visible_to,
)
from lavka.sales.services import (
    deal_create,
    deal_delete,
    deal_lines_set,
    deal_move,
    deal_update,
)
from lavka.sales.services.catalogue import price_set
from tests.factories import ClientFactory, tier

UTC = dt.UTC


def make_deal(user, board, title="Deal", **fields):
    client = fields.pop("client", None) or ClientFactory(owner=user)
    return deal_create(actor=user, client=client, title=title, pipeline=board.pipeline, **fields)


# --- the access policy ----------------------------------------------------------------


def test_a_rep_sees_their_own_deals_only(org, board):
    own = make_deal(org.rep, board, "Mine")
    make_deal(org.colleague, board, "Colleague's")

    assert list(deals_visible_to(org.rep)) == [own]


def test_a_manager_sees_the_deals_of_their_team_and_the_teams_below(org, board):
    mine = make_deal(org.rep, board, "Moscow")
    north = make_deal(org.north_rep, board, "North")
    make_deal(org.spb_rep, board, "St Petersburg")

    assert set(deals_visible_to(org.manager)) == {mine, north}


def test_a_deal_of_another_team_is_not_found(org, board):
    spb = make_deal(org.spb_rep, board, "St Petersburg")

    with pytest.raises(NotFound):
        deal_get(viewer=org.manager, deal_id=spb.pk)
    with pytest.raises(NotFound):
        deal_update(actor=org.manager, deal=spb, title="Taken")
    with pytest.raises(NotFound):
        deal_move(actor=org.rep, deal=spb, stage=board.offer)

    spb.refresh_from_db()
    assert (spb.title, spb.stage_id) == ("St Petersburg", board.lead.pk)


def test_a_reader_without_write_access_cannot_change_a_deal(org, board):
    deal = make_deal(org.rep, board, "Mine")

    assert deal_get(viewer=org.analyst, deal_id=deal.pk) == deal
    with pytest.raises(NotPermitted):
        deal_update(actor=org.analyst, deal=deal, title="Changed")
    with pytest.raises(NotPermitted):
        deal_move(actor=org.analyst, deal=deal, stage=board.won)
    with pytest.raises(NotPermitted):
        deal_delete(actor=org.analyst, deal=deal)

    deal.refresh_from_db()
    assert (deal.title, deal.stage_id, deal.deleted_at) == ("Mine", board.lead.pk, None)
    assert not Order.objects.exists()


def test_a_role_without_sales_access_sees_and_creates_nothing(org, board, client_of_rep):
    make_deal(org.rep, board)

    assert list(deals_visible_to(org.marketer)) == []
    with pytest.raises(NotPermitted):
        deal_create(actor=org.marketer, client=client_of_rep, title="No")
    assert Deal.objects.count() == 1


def test_the_manager_edits_and_reassigns_within_their_teams_only(org, board):
    deal = make_deal(org.rep, board, "Mine")

    deal_update(actor=org.manager, deal=deal, owner=org.north_rep)
    with pytest.raises(NotPermitted):
        deal_update(actor=org.manager, deal=deal, owner=org.spb_rep)

    deal.refresh_from_db()
    assert (deal.owner, deal.team) == (org.north_rep, org.north)


def test_a_deal_for_a_client_the_user_cannot_see_is_refused(org, board):
    spb_client = ClientFactory(owner=org.spb_rep)

    with pytest.raises(NotFound):
        deal_create(actor=org.rep, client=spb_client, title="No")
    assert not Deal.objects.exists()


# --- creating and editing --------------------------------------------------------------


def test_a_new_deal_starts_at_the_top_of_the_first_open_stage(org, board, client_of_rep):
    first = deal_create(actor=org.rep, client=client_of_rep, title="First")

    deal = deal_create(
        actor=org.rep,
        client=client_of_rep,
        title="  Tea for the office ",
        amount="12 500,50",
        expected_close_on="2026-05-01",
        source="website",
        campaign="spring",
        competitors=["Чайхона", "чайхона", "Tea Corp"],
    )

    assert (deal.pipeline, deal.stage, deal.probability) == (board.pipeline, board.lead, 10)
    assert (deal.title, deal.amount, deal.currency) == (
        "Tea for the office",
        Decimal("12500.50"),
        "RUB",
    )
    assert deal.expected_close_on == dt.date(2026, 5, 1)
    assert (deal.owner, deal.team) == (org.rep, org.moscow)
    assert deal.position == first.position - POSITION_STEP
    assert sorted(deal.competitors.values_list("name", flat=True)) == ["Tea Corp", "Чайхона"]
    assert list(deal.stage_changes.values_list("from_stage", "to_stage")) == [(None, board.lead.pk)]
    event = AuditEvent.objects.for_record(deal).get()
    assert event.action == "create"
    assert event.changes["title"] == [None, "Tea for the office"]
    assert OutboxEvent.objects.filter(kind="deal.created").count() == 2


def test_a_deal_cannot_start_won_or_lost(org, board, client_of_rep):
    with pytest.raises(ValidationFailed) as error:
        deal_create(actor=org.rep, client=client_of_rep, title="X", stage=board.won)

    assert list(error.value.fields) == ["stage"]


def test_the_contact_person_must_work_at_the_client(org, board, client_of_rep):
    stranger = Person.objects.create(first_name="Иван", owner=org.rep, team=org.moscow)
    employee = Person.objects.create(first_name="Пётр", owner=org.rep, team=org.moscow)
    Employment.objects.create(person=employee, organisation=client_of_rep)

    with pytest.raises(ValidationFailed) as error:
        deal_create(actor=org.rep, client=client_of_rep, title="X", person=stranger)
    deal = deal_create(actor=org.rep, client=client_of_rep, title="X", person=employee)

    assert list(error.value.fields) == ["person"]
    assert deal.person == employee


def test_update_changes_fields_bumps_the_version_and_audits(org, board):
    deal = make_deal(org.rep, board, "Old", amount=100)

    deal_update(
        actor=org.rep,
        deal=deal,
        expected_version=deal.version,
        title="New",
        probability=35,
        competitors=["Rival"],
    )

    deal.refresh_from_db()
    assert (deal.title, deal.probability, deal.version) == ("New", 35, 2)
    event = AuditEvent.objects.for_record(deal).filter(action="update").get()
    assert event.changes == {
        "title": ["Old", "New"],
        "probability": [10, 35],
        "competitors": [[], ["Rival"]],
    }


def test_update_with_a_stale_version_is_refused_and_changes_nothing(org, board):
    deal = make_deal(org.rep, board, "Old")
    deal_update(actor=org.rep, deal=deal, title="Theirs")

    with pytest.raises(StaleVersion):
        deal_update(actor=org.rep, deal=deal, expected_version=1, title="Mine")

    deal.refresh_from_db()
    assert (deal.title, deal.version) == ("Theirs", 2)


def test_update_names_every_bad_field(org, board):
    deal = make_deal(org.rep, board)

    with pytest.raises(ValidationFailed) as error:
        deal_update(actor=org.rep, deal=deal, title="", probability=140, currency="rubles")

    assert sorted(error.value.fields) == ["currency", "probability", "title"]


# --- moves, history, time in stage -----------------------------------------------------


def test_a_move_changes_stage_and_probability_and_records_the_step(org, board):
    deal = make_deal(org.rep, board)

    deal_move(actor=org.rep, deal=deal, stage=board.offer)

    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.version) == (board.offer, 50, 2)
    steps = deal_stage_history(viewer=org.rep, deal=deal)
    assert [(s.from_stage_id, s.to_stage_id, s.changed_by) for s in steps] == [
        (None, board.lead.pk, org.rep),
        (board.lead.pk, board.offer.pk, org.rep),
    ]
    event = AuditEvent.objects.for_record(deal).filter(action="update").get()
    assert event.changes["stage"] == [
        {"id": board.lead.pk, "label": "Lead"},
        {"id": board.offer.pk, "label": "Offer"},
    ]
    assert OutboxEvent.objects.filter(kind="deal.stage_changed").count() == 1


def test_time_in_each_stage_adds_up_the_visits(org, board):
    deal = make_deal(org.rep, board)
    deal_move(actor=org.rep, deal=deal, stage=board.offer)
    deal_move(actor=org.rep, deal=deal, stage=board.lead)
    deal_move(actor=org.rep, deal=deal, stage=board.offer)
    steps = list(DealStageChange.objects.filter(deal=deal).order_by("id"))
    for step, day in zip(steps, (1, 3, 4, 8), strict=True):
        DealStageChange.objects.filter(pk=step.pk).update(
            changed_at=dt.datetime(2026, 3, day, tzinfo=UTC)
        )

    times = deal_stage_times(viewer=org.rep, deal=deal, now=dt.datetime(2026, 3, 10, tzinfo=UTC))

    assert [(t.stage_name, t.duration.days, t.visits, t.is_current) for t in times] == [
        ("Lead", 2 + 4, 2, False),
        ("Offer", 1 + 2, 2, True),
    ]


def test_the_clock_stops_when_the_deal_closes(org, board):
    deal = make_deal(org.rep, board)
    deal_move(actor=org.rep, deal=deal, stage=board.won)
    for step, day in zip(
        DealStageChange.objects.filter(deal=deal).order_by("id"), (1, 5), strict=True
    ):
        DealStageChange.objects.filter(pk=step.pk).update(
            changed_at=dt.datetime(2026, 3, day, tzinfo=UTC)
        )

    times = deal_stage_times(viewer=org.rep, deal=deal, now=dt.datetime(2026, 4, 1, tzinfo=UTC))

    assert [(t.stage_name, t.duration.days) for t in times] == [("Lead", 4), ("Won", 0)]


def test_losing_a_deal_needs_a_reason(org, board):
    deal = make_deal(org.rep, board)

    with pytest.raises(ValidationFailed) as error:
        deal_move(actor=org.rep, deal=deal, stage=board.lost, lost_reason="   ")

    assert list(error.value.fields) == ["lost_reason"]
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_at, deal.version) == (board.lead, None, 1)
    assert deal.stage_changes.count() == 1
    assert not OutboxEvent.objects.filter(kind="deal.lost").exists()


def test_a_lost_deal_keeps_its_reason_and_time_until_reopened(org, board):
    deal = make_deal(org.rep, board)

    deal_move(actor=org.rep, deal=deal, stage=board.lost, lost_reason="Price too high")
    deal.refresh_from_db()
    lost = (deal.stage, deal.probability, deal.lost_reason, deal.lost_at is not None)
    deal_move(actor=org.rep, deal=deal, stage=board.offer)
    deal.refresh_from_db()

    assert lost == (board.lost, 0, "Price too high", True)
    assert (deal.lost_reason, deal.lost_at, deal.won_at) == ("", None, None)
    assert OutboxEvent.objects.filter(kind="deal.lost").count() == 1


def test_a_lost_reason_cannot_be_emptied_nor_given_to_an_open_deal(org, board):
    lost = make_deal(org.rep, board)
    deal_move(actor=org.rep, deal=lost, stage=board.lost, lost_reason="Budget")
    open_deal = make_deal(org.rep, board)

    with pytest.raises(ValidationFailed):
        deal_update(actor=org.rep, deal=lost, lost_reason="")
    with pytest.raises(ValidationFailed):
        deal_update(actor=org.rep, deal=open_deal, lost_reason="Budget")
    deal_update(actor=org.rep, deal=lost, lost_reason="Budget cut")

    lost.refresh_from_db()
    assert lost.lost_reason == "Budget cut"


def test_winning_a_deal_creates_its_confirmed_order_once(org, board, products):
    deal = make_deal(org.rep, board, "Tea")
    deal_lines_set(
        actor=org.rep,
        deal=deal,
        lines=[
            {
                "product": products.tea,
                "quantity": "2.5",
                "unit_price": "400",
                "discount_percent": 10,
            },
            {"product": products.cup, "quantity": 6, "unit_price": "150.00"},
        ],
    )

    deal_move(actor=org.rep, deal=deal, stage=board.won)
    deal_move(actor=org.rep, deal=deal, stage=board.offer)
    deal_move(actor=org.rep, deal=deal, stage=board.won)

    deal.refresh_from_db()
    order = Order.objects.get()
    assert deal.won_at is not None
    assert (order.client_id, order.source_deal, order.status, order.source) == (
        deal.client_id,
        deal,
        "confirmed",
        "deal",
    )
    assert (order.owner, order.team, order.currency, order.total) == (
        org.rep,
        org.moscow,
        "RUB",
        Decimal("1800.00"),
    )
    assert order.ordered_on == deal.won_at.date()
    assert list(order.lines.values_list("product_code", "quantity", "amount")) == [
        ("TEA-1", Decimal("2.500"), Decimal("900.00")),
        ("CUP-1", Decimal("6.000"), Decimal("900.00")),
    ]
    assert OutboxEvent.objects.filter(kind="deal.won").count() == 2
    assert OutboxEvent.objects.filter(kind="order.created").count() == 1


def test_a_won_deal_without_products_gives_an_order_of_its_amount(org, board):
    deal = make_deal(org.rep, board, "Consulting", amount="5000")

    deal_move(actor=org.rep, deal=deal, stage=board.won)

    line = Order.objects.get(source_deal=deal).lines.get()
    assert (line.product, line.product_name, line.quantity, line.amount) == (
        None,
        "Consulting",
        Decimal("1.000"),
        Decimal("5000.00"),
    )


def test_a_won_deals_products_are_frozen(org, board, products):
    deal = make_deal(org.rep, board)
    deal_move(actor=org.rep, deal=deal, stage=board.won)

    with pytest.raises(ValidationFailed) as error:
        deal_lines_set(actor=org.rep, deal=deal, lines=[{"product": products.tea}])

    assert list(error.value.fields) == ["lines"]


# --- positions on the board -------------------------------------------------------------


def column(stage):
    return list(
        Deal.objects.filter(stage=stage).order_by("position", "id").values_list("title", flat=True)
    )


def test_a_card_dropped_between_two_others_lands_between_them(org, board):
    a = make_deal(org.rep, board, "A")
    b = make_deal(org.rep, board, "B")
    c = make_deal(org.rep, board, "C")
    deal_move(actor=org.rep, deal=a, stage=board.offer)
    deal_move(actor=org.rep, deal=b, stage=board.offer, after_id=a.pk)
    assert column(board.offer) == ["A", "B"]

    deal_move(actor=org.rep, deal=c, stage=board.offer, after_id=a.pk)
    assert column(board.offer) == ["A", "C", "B"]
    deal_move(actor=org.rep, deal=b, stage=board.offer)
    assert column(board.offer) == ["B", "A", "C"]


def test_dropping_into_the_same_gap_again_and_again_keeps_the_order(org, board):
    top = make_deal(org.rep, board, "top")
    bottom = make_deal(org.rep, board, "bottom")
    deal_move(actor=org.rep, deal=top, stage=board.offer)
    deal_move(actor=org.rep, deal=bottom, stage=board.offer, after_id=top.pk)
    expected = ["top", "bottom"]

    for n in range(14):
        card = make_deal(org.rep, board, f"card {n}")
        deal_move(actor=org.rep, deal=card, stage=board.offer, after_id=top.pk)
        expected.insert(1, f"card {n}")

    assert column(board.offer) == expected


def test_a_drop_after_a_card_that_left_the_column_asks_to_reload(org, board):
    a = make_deal(org.rep, board, "A")
    b = make_deal(org.rep, board, "B")

    with pytest.raises(ValidationFailed) as error:
        deal_move(actor=org.rep, deal=b, stage=board.offer, after_id=a.pk)

    assert list(error.value.fields) == ["after"]


def test_reordering_within_a_column_adds_no_stage_step(org, board):
    a = make_deal(org.rep, board, "A")
    b = make_deal(org.rep, board, "B")

    deal_move(actor=org.rep, deal=b, stage=board.lead, after_id=a.pk)

    assert column(board.lead) == ["A", "B"]
    assert b.stage_changes.count() == 1
    assert not OutboxEvent.objects.filter(kind="deal.stage_changed").exists()


# --- products -----------------------------------------------------------------------------


def test_lines_take_the_catalogue_price_and_make_the_amount(org, board, products, client_of_rep):
    default = PriceList.objects.create(name="Retail", currency="RUB", is_default=True)
    price_set(
        actor=org.admin,
        price_list=default,
        product=products.tea,
        amount="1000",
        valid_from=dt.date(2020, 1, 1),
    )
    deal = make_deal(org.rep, board, client=client_of_rep, amount=1)

    lines = deal_lines_set(
        actor=org.rep,
        deal=deal,
        lines=[
            {"product": products.tea, "quantity": 3, "discount_percent": "5"},
            {"product": products.setup, "quantity": 2, "unit_price": "2500"},
        ],
    )

    deal.refresh_from_db()
    assert [(line.unit_price, line.amount) for line in lines] == [
        (Decimal("1000.00"), Decimal("2850.00")),
        (Decimal("2500.00"), Decimal("5000.00")),
    ]
    assert deal.amount == Decimal("7850.00")
    with pytest.raises(ValidationFailed) as error:
        deal_update(actor=org.rep, deal=deal, amount=10)
    assert list(error.value.fields) == ["amount"]


def test_a_line_without_a_price_anywhere_is_refused(org, board, products):
    deal = make_deal(org.rep, board)

    with pytest.raises(ValidationFailed) as error:
        deal_lines_set(actor=org.rep, deal=deal, lines=[{"product": products.cup, "quantity": 0}])

    assert sorted(error.value.fields) == ["lines.0.quantity", "lines.0.unit_price"]
    assert not DealLine.objects.exists()


# --- the list's drill-down filters -----------------------------------------------------------


def test_the_list_keeps_deals_created_in_the_days_that_reached_a_stage(org, board):
    # Given deals created late on 31 March, 1 April and 30 June; two went past Offer.
    march = make_deal(org.rep, board, "March")
    april = make_deal(org.rep, board, "April")
    june = make_deal(org.rep, board, "June")
    for deal, day in ((march, (3, 31)), (april, (4, 1)), (june, (6, 30))):
        created = dt.datetime(2026, *day, 23, tzinfo=UTC)
        Deal.objects.filter(pk=deal.pk).update(created_at=created)
    deal_move(actor=org.rep, deal=april, stage=board.offer)
    deal_move(actor=org.rep, deal=Deal.objects.get(pk=april.pk), stage=board.won)
    deal_move(actor=org.rep, deal=june, stage=board.offer)

    def titles(**filters):
        return sorted(d.title for d in deal_list(viewer=org.rep, **filters))

    quarter = {"created_from": dt.date(2026, 4, 1), "created_to": dt.date(2026, 6, 30)}
    assert titles(**quarter) == ["April", "June"]
    assert titles(reached_stage_id=board.offer.pk) == ["April", "June"]  # April passed by
    assert titles(reached_stage_id=board.won.pk, **quarter) == ["April"]
    assert titles(reached_stage_id=board.lead.pk, **quarter) == ["April", "June"]
    assert titles(created_to=dt.date(2026, 3, 31)) == ["March"]


def test_the_list_keeps_deals_by_team_client_tier_and_close_month(org, board):
    vip = tier("vip")
    key_client = ClientFactory(owner=org.rep, tier=vip)
    make_deal(org.rep, board, "Key", client=key_client, expected_close_on=dt.date(2026, 7, 31))
    make_deal(org.rep, board, "Plain", expected_close_on=dt.date(2026, 8, 1))
    make_deal(org.north_rep, board, "North", expected_close_on=dt.date(2026, 7, 1))

    def titles(**filters):
        return sorted(d.title for d in deal_list(viewer=org.admin, **filters))

    assert titles(tier_id=vip.pk) == ["Key"]
    assert titles(closes_in=dt.date(2026, 7, 1)) == ["Key", "North"]
    assert titles(team_id=org.north.pk) == ["North"]
    assert titles(team_id=org.moscow.pk, closes_in=dt.date(2026, 8, 1)) == ["Plain"]


# --- the trash ------------------------------------------------------------------------------


def test_a_deleted_deal_goes_to_the_trash_and_comes_back(org, board):
    deal = make_deal(org.rep, board, "Oops")

    deal_delete(actor=org.rep, deal=deal)
    gone = list(deal_list(viewer=org.rep))
    trash.trash_restore(actor=org.admin, key="sales.deal", object_id=deal.pk)

    assert gone == []
    assert list(deal_list(viewer=org.rep)) == [deal]
    assert OutboxEvent.objects.filter(kind="deal.deleted").count() == 1
