"""Reads for the client list: one page without counting the whole table, and the
saved list views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from lavka.clients.models import Client, SavedView
from lavka.core.errors import NotFound

# Filters a saved view may hold (the list's query parameters).
VIEW_FILTERS = ("q", "kind", "tier", "tag", "owner", "sort", "out_of_touch")


@dataclass
class ClientPage:
    """A page of the client list. `count` is known only when it was cheap (a search
    returns at most a few hundred ids); otherwise the page says "more" instead."""

    clients: list[Client]
    number: int
    size: int
    has_next: bool
    count: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def shown_from(self) -> int:
        return (self.number - 1) * self.size + 1 if self.clients else 0

    @property
    def shown_to(self) -> int:
        return (self.number - 1) * self.size + len(self.clients)


def client_page(
    clients: QuerySet[Client], *, number: int, size: int, count: int | None = None
) -> ClientPage:
    """Rows `size*(number-1)` on of an ordered client queryset: one query for the rows
    (one more row tells whether there is a next page) and one for their tags."""
    number = max(1, number)
    offset = (number - 1) * size
    rows = list(clients.prefetch_related("tags")[offset : offset + size + 1])
    return ClientPage(
        clients=rows[:size], number=number, size=size, has_next=len(rows) > size, count=count
    )


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
