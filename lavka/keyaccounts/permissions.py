"""Who may do what with key accounts: the access policy of the key-accounts area.

A key account is a record with an owner (the responsible manager) and a team, read
and written under the role's key-accounts scopes, and only when the client itself is
readable. Decision stages and the playbook are settings: everyone with key-accounts
access reads them, users with "manage settings" change them. Relationships between
people are the company's shared knowledge: anyone with key-accounts read access reads
them, anyone with key-accounts write access records them.
"""

from __future__ import annotations

from typing import Any

from lavka.identity.access import Action, Area, Capability, Scope, can_access, has_capability
from lavka.identity.access import scope_for as _scope_for


def can_read_key_accounts(actor: Any) -> bool:
    return _scope_for(actor, Area.KEY_ACCOUNTS, Action.READ) != Scope.NONE


def can_write_key_accounts(actor: Any) -> bool:
    return _scope_for(actor, Area.KEY_ACCOUNTS, Action.WRITE) != Scope.NONE


def can_read_key_account(actor: Any, key_account: Any) -> bool:
    return can_access(
        actor,
        area=Area.KEY_ACCOUNTS,
        action=Action.READ,
        owner_id=key_account.owner_id,
        team_id=key_account.team_id,
    )


def can_edit_key_account(actor: Any, key_account: Any) -> bool:
    return can_access(
        actor,
        area=Area.KEY_ACCOUNTS,
        action=Action.WRITE,
        owner_id=key_account.owner_id,
        team_id=key_account.team_id,
    )


def can_assign_key_account(actor: Any, *, manager: Any) -> bool:
    """Whether `actor` may put a key account in `manager`'s hands (their own write
    scope must cover the manager and the manager's team)."""
    return can_access(
        actor,
        area=Area.KEY_ACCOUNTS,
        action=Action.WRITE,
        owner_id=manager.pk,
        team_id=manager.team_id,
    )


def can_manage_key_account_settings(actor: Any) -> bool:
    """The decision stages and the playbook."""
    return has_capability(actor, Capability.MANAGE_SETTINGS)
