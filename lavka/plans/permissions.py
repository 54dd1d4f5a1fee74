"""Who may read and set plans: the sales area's scopes (identity/access.py).

Reading: a user's plan is read like a record owned by that user in their team (a rep
reads their own, a manager their team's and the teams below, an administrator all);
a team's plan like a record of that team with no owner. Setting: only a write scope of
a team or more (managers and administrators): a rep does not set their own target."""

from __future__ import annotations

from typing import Any

from lavka.identity.access import Action, Area, Scope, can_access, scope_for

SETTERS = (Scope.TEAM, Scope.TEAM_AND_BELOW, Scope.ALL)


def can_set_plans(actor: Any) -> bool:
    """Whether `actor` sets plans at all (a write scope of a team or more)."""
    return scope_for(actor, Area.SALES, Action.WRITE) in SETTERS


def can_set_plan_for(actor: Any, *, team_id: int | None) -> bool:
    """Whether `actor` may set a plan of a user in, or of, the team `team_id`."""
    return can_set_plans(actor) and can_access(
        actor, area=Area.SALES, action=Action.WRITE, owner_id=None, team_id=team_id
    )


def can_read_plan(actor: Any, plan: Any) -> bool:
    return can_access(
        actor, area=Area.SALES, action=Action.READ, owner_id=plan.user_id, team_id=plan.team_id
    )
