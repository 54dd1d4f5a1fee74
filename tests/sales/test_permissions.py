"""The access policy in the sales area, role by role and owner by owner."""

from __future__ import annotations

import pytest

from lavka.sales.models import Deal
from lavka.sales.permissions import (
    can_assign_sales_record,
    can_create_sales_record,
    can_edit_sales_record,
    can_manage_sales_settings,
    can_read_sales,
    can_read_sales_record,
)
from lavka.sales.selectors.deals import deals_visible_to
from lavka.sales.services import deal_create
from tests.factories import ClientFactory

OWNERS = ["rep", "colleague", "north_rep", "spb_rep"]
# viewer -> (owners whose deals they read, owners whose deals they write)
EXPECTED = {
    "rep": ({"rep"}, {"rep"}),
    "manager": ({"rep", "colleague", "north_rep"}, {"rep", "colleague", "north_rep"}),
    "sales_boss": (set(OWNERS), set(OWNERS)),
    "admin": (set(OWNERS), set(OWNERS)),
    "analyst": (set(OWNERS), set()),
    "marketer": (set(), set()),
    "agent": (set(), set()),
    "nobody": (set(), set()),
}


@pytest.fixture
def deals(org, board):
    return {
        name: deal_create(
            actor=getattr(org, name),
            client=ClientFactory(owner=getattr(org, name)),
            title=name,
            pipeline=board.pipeline,
        )
        for name in OWNERS
    }


@pytest.mark.parametrize("viewer", sorted(EXPECTED))
def test_who_reads_and_writes_whose_deals(org, deals, viewer):
    user = getattr(org, viewer)
    reads, writes = EXPECTED[viewer]

    visible = {deal.title for deal in deals_visible_to(user)}
    readable = {name for name, deal in deals.items() if can_read_sales_record(user, deal)}
    writable = {name for name, deal in deals.items() if can_edit_sales_record(user, deal)}

    assert (visible, readable, writable) == (reads, reads, writes)
    assert can_read_sales(user) == bool(reads)
    assert can_create_sales_record(user) == bool(writes)


@pytest.mark.parametrize(
    ("viewer", "new_owner", "allowed"),
    [
        ("manager", "north_rep", True),
        ("manager", "spb_rep", False),
        ("rep", "colleague", False),
        ("admin", "spb_rep", True),
    ],
)
def test_handing_a_deal_over_needs_write_access_on_both_sides(
    org, deals, viewer, new_owner, allowed
):
    deal = deals["rep"]

    assert (
        can_assign_sales_record(getattr(org, viewer), deal, owner=getattr(org, new_owner))
        is allowed
    )


@pytest.mark.parametrize(
    ("viewer", "allowed"), [("admin", True), ("sales_boss", False), ("rep", False)]
)
def test_only_administrators_manage_sales_settings(org, viewer, allowed):
    assert can_manage_sales_settings(getattr(org, viewer)) is allowed


def test_an_inactive_user_reads_nothing(org, deals):
    org.rep.is_active = False

    assert not deals_visible_to(org.rep).exists()
    assert Deal.objects.count() == 4
