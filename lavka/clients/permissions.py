"""Who may do what with clients: the access policy applied to the clients area."""

from __future__ import annotations

from typing import Any

from lavka.clients.models import Client
from lavka.identity.access import Action, Area, Scope, can_access, scope_for


def can_create_client(actor: Any) -> bool:
    return scope_for(actor, Area.CLIENTS, Action.WRITE) != Scope.NONE


def can_edit_client(actor: Any, client: Client) -> bool:
    return can_access(
        actor,
        area=Area.CLIENTS,
        action=Action.WRITE,
        owner_id=client.owner_id,
        team_id=client.team_id,
    )


def can_assign_client(actor: Any, client: Client, *, owner: Any) -> bool:
    """Giving a client to someone else needs write access to the record both before and
    after the change, so nobody can push a record out of reach of its current team by
    accident, nor into a team they cannot write to."""
    return can_edit_client(actor, client) and can_access(
        actor, area=Area.CLIENTS, action=Action.WRITE, owner_id=owner.pk, team_id=owner.team_id
    )
