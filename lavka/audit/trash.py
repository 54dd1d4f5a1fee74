"""The trash: soft-deleted records of every registered model, and their restore.

Apps register their soft-deletable models in AppConfig.ready():

    trash.register(Client, label=_("Client"))

Only users with the `manage_trash` capability see the trash or restore from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from lavka.audit.services import Action, audit_record
from lavka.core.errors import NotFound, NotPermitted

PERM = "lavka.manage_trash"


@dataclass(frozen=True)
class TrashKind:
    model: type[models.Model]
    label: Any

    @property
    def key(self) -> str:
        return self.model._meta.label_lower


_registry: dict[str, TrashKind] = {}


def register(model: type[models.Model], *, label: Any) -> None:
    kind = TrashKind(model=model, label=label)
    _registry[kind.key] = kind


def kinds() -> list[TrashKind]:
    return list(_registry.values())


def _kind(key: str) -> TrashKind:
    try:
        return _registry[key]
    except KeyError:
        raise NotFound(resource="trash", id=key) from None


def trash_items_visible_to(viewer: Any, *, key: str) -> models.QuerySet:
    if not viewer.has_perm(PERM):
        return _kind(key).model.all_objects.none()  # type: ignore[attr-defined]
    return (
        _kind(key)
        .model.all_objects.filter(deleted_at__isnull=False)  # type: ignore[attr-defined]
        .select_related("deleted_by")
        .order_by("-deleted_at")
    )


def trash_counts_visible_to(viewer: Any) -> list[tuple[TrashKind, int]]:
    return [(kind, trash_items_visible_to(viewer, key=kind.key).count()) for kind in kinds()]


@transaction.atomic
def soft_delete(*, actor: Any, obj: Any) -> Any:
    """Move a record to the trash. The caller has checked the actor may delete it."""
    if obj.deleted_at is not None:
        return obj
    obj.deleted_at = timezone.now()
    obj.deleted_by = actor if getattr(actor, "is_authenticated", False) else None
    fields = ["deleted_at", "deleted_by"]
    if hasattr(obj, "version"):
        obj.version += 1
        fields.append("version")
    obj.save(update_fields=fields)
    audit_record(action=Action.DELETE, subject=obj, actor=actor)
    return obj


@transaction.atomic
def trash_restore(*, actor: Any, key: str, object_id: int) -> Any:
    if not actor.has_perm(PERM):
        raise NotPermitted(action="restore", resource="trash")
    model = _kind(key).model
    obj = (
        model.all_objects.select_for_update()  # type: ignore[attr-defined]
        .filter(pk=object_id, deleted_at__isnull=False)
        .first()
    )
    if obj is None:
        raise NotFound(resource=key, id=object_id)
    obj.deleted_at = None
    obj.deleted_by = None
    fields = ["deleted_at", "deleted_by"]
    if hasattr(obj, "version"):
        obj.version += 1
        fields.append("version")
    obj.save(update_fields=fields)
    audit_record(action=Action.RESTORE, subject=obj, actor=actor)
    return obj
