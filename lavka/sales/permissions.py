"""Who may do what in sales: the access policy applied to the sales area.

Deals and orders are records with an owner and a team, read and written under the
role's scopes for the sales area. Pipelines, stages, the catalogue and exchange rates
are settings: everyone with any sales access reads them, only users with the
"manage settings" capability change them.
"""

from __future__ import annotations

from typing import Any

from lavka.identity.access import Action, Area, Capability, Scope, can_access, has_capability
from lavka.identity.access import scope_for as _scope_for


def can_read_sales(actor: Any) -> bool:
    return _scope_for(actor, Area.SALES, Action.READ) != Scope.NONE


def can_create_sales_record(actor: Any) -> bool:
    return _scope_for(actor, Area.SALES, Action.WRITE) != Scope.NONE


def can_read_sales_record(actor: Any, record: Any) -> bool:
    """A deal or an order (anything with owner_id and team_id)."""
    return can_access(
        actor,
        area=Area.SALES,
        action=Action.READ,
        owner_id=record.owner_id,
        team_id=record.team_id,
    )


def can_edit_sales_record(actor: Any, record: Any) -> bool:
    return can_access(
        actor,
        area=Area.SALES,
        action=Action.WRITE,
        owner_id=record.owner_id,
        team_id=record.team_id,
    )


def can_assign_sales_record(actor: Any, record: Any, *, owner: Any) -> bool:
    """Write access to the record both before and after it changes hands (as for
    clients: nobody pushes a record into a team they cannot write to)."""
    return can_edit_sales_record(actor, record) and can_access(
        actor, area=Area.SALES, action=Action.WRITE, owner_id=owner.pk, team_id=owner.team_id
    )


def can_manage_sales_settings(actor: Any) -> bool:
    """Pipelines and stages, the catalogue, price lists, exchange rates."""
    return has_capability(actor, Capability.MANAGE_SETTINGS)
