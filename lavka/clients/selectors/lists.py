"""Reads for the client list: one page without counting the whole table, and the
saved list views."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import F, Q, QuerySet

from lavka.clients.models import Client, SavedView
from lavka.core.errors import NotFound

# Filters a saved view may hold (the list's query parameters).
VIEW_FILTERS = (
    "q",
    "kind",
    "tier",
    "tag",
    "owner",
    "team",
    "sort",
    "out_of_touch",
    # the analytics drill-down (lavka.analytics.filters; clients cannot import it)
    "segment",
    "abc",
    "xyz",
    "stage",
    "clv_min",
    "clv_max",
    "leave_min",
    "leave_max",
    "next_from",
    "next_to",
    "cohort",
    "bought",
    "source",
    "due_category",
    "segment_before",
)


@dataclass
class ClientPage:
    """A page of the client list. `count` is known only when it was cheap (a search
    returns at most a few hundred ids); otherwise the page says "more" instead."""

    clients: list[Client]
    number: int
    size: int
    has_next: bool
    count: int | None = None
    # How many clients the whole list holds (every page): exact, or PostgreSQL's
    # estimate ("about") when counting would read too many rows. None: not known.
    total: int | None = None
    total_exact: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def shown_from(self) -> int:
        return (self.number - 1) * self.size + 1 if self.clients else 0

    @property
    def shown_to(self) -> int:
        return (self.number - 1) * self.size + len(self.clients)


# What a row of the list shows: the client's own columns and the names of its owner
# and team, in the page's one query (a client has some fifty columns; building its
# owner, team and tier as objects for every row cost more than the query itself).
ROW_FIELDS = ("kind", "name", "email", "phone", "city", "last_contact_at", "updated_at")
ROW_NAMES = {
    "owner_username": F("owner__username"),
    "owner_first_name": F("owner__first_name"),
    "owner_last_name": F("owner__last_name"),
    "team_name": F("team__name"),
}


def client_rows(clients: QuerySet[Client]) -> QuerySet[Client]:
    """`clients` as the list's rows: ROW_FIELDS (and the ids of owner, team and tier)
    loaded, the owner's and team's names as `owner_username`, `owner_first_name`,
    `owner_last_name` and `team_name`. Reading any other column costs a query a row."""
    return (
        clients.select_related(None)
        .only(*ROW_FIELDS, "owner_id", "team_id", "tier_id")
        .annotate(**ROW_NAMES)
    )


def client_page(
    clients: QuerySet[Client], *, number: int, size: int, count: int | None = None
) -> ClientPage:
    """Rows `size*(number-1)` on of an ordered client queryset: one query for the rows
    (one more row tells whether there is a next page) and one for their tags, which
    each client gets as `tag_names`."""
    number = max(1, number)
    offset = (number - 1) * size
    rows = list(clients[offset : offset + size + 1])
    client_tag_names(rows[:size])
    return ClientPage(
        clients=rows[:size], number=number, size=size, has_next=len(rows) > size, count=count
    )


# Up to this many clients, PostgreSQL counts them (a count bounded by LIMIT); beyond
# its planner's estimate of this many, the list says "about" the estimate.
EXACT_COUNT_UP_TO = 1000


def client_total(clients: QuerySet[Client], page: ClientPage) -> None:
    """Set `page.total` (and `total_exact`) for the list `clients` (any filters) that
    `page` is a page of. Nothing to count when the first page holds the whole list.
    SQLite counts. PostgreSQL asks its planner for the number of rows (EXPLAIN: no
    rows read; at a million clients a count(*) reads them all, some 100 ms) and counts
    only when the estimate is small, with a LIMIT so that a bad estimate cannot turn
    into a long count. One query, or two for a small filtered list."""
    if page.number == 1 and not page.has_next:
        page.total, page.total_exact = len(page.clients), True
        return
    unordered = clients.order_by()
    if connections[clients.db].vendor != "postgresql":
        page.total, page.total_exact = unordered.count(), True
        return
    estimate = _planned_rows(unordered)
    if estimate <= EXACT_COUNT_UP_TO:
        counted = unordered.values("pk")[: EXACT_COUNT_UP_TO + 1].count()
        if counted <= EXACT_COUNT_UP_TO:
            page.total, page.total_exact = counted, True
            return
        estimate = max(estimate, counted)
    shown = page.shown_to + (1 if page.has_next else 0)
    page.total, page.total_exact = _round_estimate(max(estimate, shown)), False


def _planned_rows(clients: QuerySet[Client]) -> int:
    """PostgreSQL's estimate of the number of rows `clients` returns."""
    plan = json.loads(clients.values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def _round_estimate(number: int) -> int:
    """An estimate to two significant digits: 748,213 -> 750,000 (its last digits
    are noise, and would change from one page to the next)."""
    if number < 100:
        return number
    unit = 10 ** (len(str(number)) - 2)
    return round(number / unit) * unit


def client_tag_names(clients: list[Client]) -> None:
    """Set `tag_names` (sorted) on each client, in one query of names alone."""
    names: dict[int, list[str]] = {c.pk: [] for c in clients}
    if names:
        links = Client.tags.through.objects.filter(client_id__in=list(names)).values_list(
            "client_id", "tag__name"
        )
        for client_id, name in links.order_by("tag__name", "tag_id"):
            names[client_id].append(name)
    for client in clients:
        client.tag_names = names[client.pk]  # type: ignore[attr-defined]


def saved_views_visible_to(viewer: Any) -> QuerySet[SavedView]:
    """The viewer's own saved views and everybody's shared ones."""
    if not getattr(viewer, "is_authenticated", False):
        return SavedView.objects.none()
    return (
        SavedView.objects.select_related("user")
        .filter(Q(user=viewer) | Q(is_shared=True))
        .order_by("name", "id")
    )


def saved_view_get(*, viewer: Any, view_id: int) -> SavedView:
    try:
        return saved_views_visible_to(viewer).get(pk=view_id)
    except (SavedView.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="saved_view", id=view_id) from None
