"""Reads of clients. Every read starts from `clients_visible_to(viewer)`."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from lavka.clients.models import Client
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, scope_queryset


def clients_visible_to(viewer: Any) -> QuerySet[Client]:
    return scope_queryset(
        Client.objects.select_related("owner", "team"), viewer, Area.CLIENTS, Action.READ
    )


def client_get(*, viewer: Any, client_id: int) -> Client:
    """One client the viewer may read; NotFound whether it is missing or not theirs."""
    try:
        return clients_visible_to(viewer).get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="client", id=client_id) from None


def client_list(
    *,
    viewer: Any,
    query: str = "",
    owner_id: int | None = None,
    kind: str = "",
    ordering: str = "name",
) -> QuerySet[Client]:
    clients = clients_visible_to(viewer)
    if query:
        clients = clients.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
        )
    if owner_id:
        clients = clients.filter(owner_id=owner_id)
    if kind:
        clients = clients.filter(kind=kind)
    allowed = {"name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"}
    return clients.order_by(ordering if ordering in allowed else "name", "id")
