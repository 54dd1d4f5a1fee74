"""Reads of clients. Every read starts from `clients_visible_to(viewer)`."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet

from lavka.clients.identifiers import folded, phone_search_key
from lavka.clients.models import Client
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, scope_queryset

PHONE_LIKE = re.compile(r"^[\d\s()+\-.]+$")


def clients_visible_to(viewer: Any) -> QuerySet[Client]:
    return scope_queryset(
        Client.objects.select_related("owner", "team", "tier"), viewer, Area.CLIENTS, Action.READ
    )


def client_get(*, viewer: Any, client_id: int) -> Client:
    """One client the viewer may read; NotFound whether it is missing or not theirs."""
    try:
        return clients_visible_to(viewer).get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="client", id=client_id) from None


SORTABLE = {
    # Each ordering is backed by an index on clients_client (see Client.Meta.indexes),
    # so a page is a LIMIT over an index, not a sort of the whole table.
    "name": ("name", "id"),
    "tier": ("tier_id", "name", "id"),
    "owner": ("owner_id", "name", "id"),
    "city": ("city", "id"),
    "last_contact": ("last_contact_at", "id"),
    "updated_at": ("updated_at", "id"),
    "created_at": ("created_at", "id"),
}


def client_ordering(ordering: str) -> list[str]:
    """The ORDER BY for a `sort` parameter ("name", "-updated_at"...); unknown -> name."""
    descending = ordering.startswith("-")
    fields = SORTABLE.get(ordering.lstrip("-"), SORTABLE["name"])
    return [f"-{f}" if descending else f for f in fields]


def client_list(
    *,
    viewer: Any,
    query: str = "",
    owner_id: int | None = None,
    kind: str = "",
    ordering: str = "name",
    tier_id: int | None = None,
    tag: str = "",
    ids: list[int] | None = None,
    out_of_touch: bool = False,
    team_id: int | None = None,
) -> QuerySet[Client]:
    """The clients list. `query` matches the folded search text (case-insensitive for
    Cyrillic too; a phone in any format); `ids` restricts to given ids (the ranked
    results of the one-box search); `team_id`: the client's team (the analytics
    dashboard's team filter carried into its drill-downs)."""
    clients = clients_visible_to(viewer)
    if out_of_touch:
        from lavka.clients.selectors.timeline import clients_out_of_touch

        clients = clients.filter(pk__in=clients_out_of_touch(viewer).values("pk"))
    if query:
        text = folded(query)
        if PHONE_LIKE.match(text) and len(re.sub(r"\D", "", text)) >= 5:
            digits = re.sub(r"\D", "", text)
            clients = clients.filter(
                Q(search_text__contains=phone_search_key(text)) | Q(search_text__contains=digits)
            )
        else:
            for word in text.split():
                clients = clients.filter(search_text__contains=word)
    if ids is not None:
        clients = clients.filter(pk__in=ids)
    if owner_id:
        clients = clients.filter(owner_id=owner_id)
    if team_id:
        clients = clients.filter(team_id=team_id)
    if kind:
        clients = clients.filter(kind=kind)
    if tier_id:
        clients = clients.filter(tier_id=tier_id)
    if tag:
        clients = clients.filter(tags__name=tag)
    return clients.order_by(*client_ordering(ordering))
