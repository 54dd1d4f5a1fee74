"""Writes from the client list: bulk actions on selected clients (each through the
client services, so permissions, validation and audit are the same as one by one),
and saved list views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record
from lavka.clients.models import SavedView, Tier
from lavka.clients.selectors.core import clients_visible_to
from lavka.clients.selectors.lists import VIEW_FILTERS
from lavka.clients.services.core import client_delete, client_set_tags, client_update
from lavka.core.errors import NotPermitted, ValidationFailed

BULK_ACTIONS = ("assign", "tag", "tier", "delete", "export")
BULK_MAX = 1000


@dataclass
class BulkResult:
    done: int = 0
    refused: int = 0
    job_id: int | None = None


def clients_bulk_apply(*, actor: Any, action: str, ids: list[int], value: Any = "") -> BulkResult:
    """Apply `action` to the visible clients among `ids`, each in its own transaction;
    a client the actor may not change is counted in `refused` and left unchanged.
    "export" is done by the caller (the selected rows are a page at most)."""
    if action not in BULK_ACTIONS or action == "export":
        raise ValidationFailed(fields={"action": [_("Unknown action.")]})
    if len(ids) > BULK_MAX:
        raise ValidationFailed(
            fields={"ids": [_("At most %(max)d clients at a time.") % {"max": BULK_MAX}]}
        )
    changes: dict[str, Any] = {}
    if action == "assign":
        users = get_user_model().objects.filter(is_active=True)
        owner = users.filter(pk=int(value)).first() if str(value).isdigit() else None
        if owner is None:
            raise ValidationFailed(fields={"value": [_("Choose an owner.")]})
        changes = {"owner": owner}
    elif action == "tier":
        tier = Tier.objects.filter(pk=int(value)).first() if str(value).isdigit() else None
        if tier is None:
            raise ValidationFailed(fields={"value": [_("Choose a tier.")]})
        changes = {"tier": tier}
    elif action == "tag":
        value = str(value or "").strip()
        if not value:
            raise ValidationFailed(fields={"value": [_("Type a tag.")]})
    result = BulkResult()
    for client in clients_visible_to(actor).filter(pk__in=ids).prefetch_related("tags"):
        try:
            with transaction.atomic():
                if action == "delete":
                    client_delete(actor=actor, client=client)
                elif action == "tag":
                    names = [t.name for t in client.tags.all()]
                    if value.casefold() not in {n.casefold() for n in names}:
                        client_set_tags(actor=actor, client=client, names=[*names, value])
                else:
                    client_update(actor=actor, client=client, **changes)
        except NotPermitted:
            result.refused += 1
        else:
            result.done += 1
    return result


@transaction.atomic
def saved_view_save(
    *, actor: Any, name: str, filters: dict[str, Any], is_shared: bool = False
) -> SavedView:
    """Save the list's current filters under `name` (replacing the actor's view of
    that name)."""
    if not getattr(actor, "is_authenticated", False):
        raise NotPermitted(action="create", resource="saved_view")
    name = name.strip()
    if not name:
        raise ValidationFailed(fields={"name": [_("Give the view a name.")]})
    if len(name) > 100:
        raise ValidationFailed(fields={"name": [_("At most %(max)s characters.") % {"max": 100}]})
    kept = {k: str(v) for k, v in filters.items() if k in VIEW_FILTERS and v not in ("", None)}
    view, created = SavedView.objects.update_or_create(
        user=actor, name=name, defaults={"filters": kept, "is_shared": bool(is_shared)}
    )
    audit_record(
        action=Action.CREATE if created else Action.UPDATE,
        subject=view,
        actor=actor,
        changes={"filters": [None, kept], "is_shared": [None, bool(is_shared)]},
    )
    return view


@transaction.atomic
def saved_view_delete(*, actor: Any, view: SavedView) -> None:
    """Delete a saved view; only its author may."""
    if view.user_id != getattr(actor, "pk", None):
        raise NotPermitted(action="delete", resource="saved_view")
    audit_record(action=Action.DELETE, subject=view, actor=actor)
    view.delete()
