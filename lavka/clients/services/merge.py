"""Merging two clients that are the same one, and undoing it.

`client_merge` keeps `survivor`, takes the fields the user picked from `merged`,
moves every row hanging off `merged` to `survivor` (contact points and employments
that the survivor already has stay behind), soft-deletes `merged`, and records a
ClientMerge with the survivor's fields before and the ids of the rows moved, so
`client_merge_undo` can put everything back exactly.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot, to_jsonable
from lavka.clients.models import (
    Address,
    Attachment,
    Client,
    ClientMerge,
    Consent,
    ContactPoint,
    Contract,
    DuplicateCandidate,
    Employment,
    ImportantDate,
    Task,
    TierChange,
    Touchpoint,
)
from lavka.clients.permissions import can_edit_client
from lavka.clients.services.core import AUDITED, DECIMAL_FIELDS, TEXT_FIELDS, search_text_refresh
from lavka.core.errors import DomainError, NotFound, NotPermitted, ValidationFailed

# Fields the user picks from either side; the rest of the survivor stays as it is.
MERGE_FIELDS = [
    *TEXT_FIELDS,
    *DECIMAL_FIELDS,
    "payment_terms_days",
    "tier",
    "parent",
    "owner",
    "custom",
]
# Kept raw (attnames) so undo restores the survivor exactly.
RESTORED = [
    *TEXT_FIELDS,
    *DECIMAL_FIELDS,
    "payment_terms_days",
    "tier_id",
    "parent_id",
    "owner_id",
    "team_id",
    "custom",
    "last_contact_at",
    "next_step_at",
    "next_step_title",
    "version",
]

# (key in ClientMerge.moved, manager, client foreign key, the fields that make a row a
# copy of one the survivor already has, or None)
MOVABLE: list[tuple[str, Any, str, tuple[str, ...] | None]] = [
    ("touchpoints", Touchpoint.objects, "client", None),
    ("tasks", Task.objects, "client", None),
    ("contracts", Contract.all_objects, "client", None),
    ("attachments", Attachment.all_objects, "client", None),
    ("contact_points", ContactPoint.objects, "client", ("kind", "value")),
    ("addresses", Address.objects, "client", None),
    ("consents", Consent.objects, "client", None),
    ("employments", Employment.objects, "organisation", ("person_id",)),
    ("important_dates", ImportantDate.objects, "client", None),
    ("tier_changes", TierChange.objects, "client", None),
    ("subsidiaries", Client.all_objects, "parent", None),
]


def merge_movable_register(
    key: str, manager: Any, fk: str, identity: tuple[str, ...] | None = None
) -> None:
    """Let an app above clients (sales: deals, orders) have its rows follow a merge
    and its undo like the rows above. Called from that app's AppConfig.ready()."""
    if all(existing != key for existing, *_rest in MOVABLE):
        MOVABLE.append((key, manager, fk, identity))


class MergeAlreadyUndone(DomainError):
    code = "merge_already_undone"
    message = gettext_lazy("This merge has already been undone.")


class MergeCannotBeUndone(DomainError):
    code = "merge_cannot_be_undone"
    message = gettext_lazy(
        "This merge cannot be undone: the merged client is no longer in the trash."
    )


def _raw(client: Client) -> dict[str, Any]:
    return {name: to_jsonable(getattr(client, name)) for name in RESTORED}


def _lock_pair(first_id: int, second_id: int) -> tuple[Client | None, Client | None]:
    """Lock both rows in id order, so two merges of the same pair cannot deadlock."""
    rows = {
        c.pk: c
        for c in Client.all_objects.select_for_update()
        .filter(pk__in=sorted({first_id, second_id}))
        .order_by("pk")
    }
    return rows.get(first_id), rows.get(second_id)


@transaction.atomic
def client_merge(
    *, actor: Any, survivor: Client, merged: Client, choices: dict[str, str] | None = None
) -> ClientMerge:
    """Merge `merged` into `survivor`. `choices` maps a field of MERGE_FIELDS to
    "survivor" (the default) or "merged". Needs edit permission on both clients."""
    choices = choices or {}
    errors = {name: [_("Unknown field.")] for name in choices if name not in MERGE_FIELDS}
    errors.update(
        {
            name: [_("Choose “survivor” or “merged”.")]
            for name, side in choices.items()
            if name in MERGE_FIELDS and side not in ("survivor", "merged")
        }
    )
    if errors:
        raise ValidationFailed(fields=errors)
    if survivor.pk == merged.pk:
        raise ValidationFailed(fields={"other": [_("A client cannot be merged with itself.")]})
    keep, gone = _lock_pair(survivor.pk, merged.pk)
    if keep is None or gone is None or keep.deleted_at or gone.deleted_at:
        raise NotFound(resource="client", id=merged.pk if keep else survivor.pk)
    if not (can_edit_client(actor, keep) and can_edit_client(actor, gone)):
        raise NotPermitted(action="merge", resource="client")

    before_raw = _raw(keep)
    before = snapshot(keep, AUDITED)
    moved: dict[str, Any] = {}
    for key, manager, fk, identity in MOVABLE:
        rows = manager.filter(**{fk: gone})
        if key == "subsidiaries":
            rows = rows.exclude(pk=keep.pk)
        if identity is not None:
            have = set(manager.filter(**{fk: keep}).values_list(*identity))
            ids = [
                pk for pk, *values in rows.values_list("pk", *identity) if tuple(values) not in have
            ]
        else:
            ids = list(rows.values_list("pk", flat=True))
        if ids:
            manager.filter(pk__in=ids).update(**{fk: keep})
        moved[key] = ids
        if key == "contact_points" and ids:
            moved["primary_contact_points"] = list(
                ContactPoint.objects.filter(pk__in=ids, is_primary=True).values_list(
                    "pk", flat=True
                )
            )
            ContactPoint.objects.filter(pk__in=ids).update(is_primary=False)
    survivor_tags = set(keep.tags.values_list("pk", flat=True))
    added_tags = [pk for pk in gone.tags.values_list("pk", flat=True) if pk not in survivor_tags]
    keep.tags.add(*added_tags)
    moved["tags"] = added_tags
    moved["duplicates"] = _move_candidates(actor, keep, gone)

    # The merged client leaves first, so a unique field (external ID) can move over.
    trash.soft_delete(actor=actor, obj=gone)
    for name in MERGE_FIELDS:
        if choices.get(name) != "merged":
            continue
        if name == "owner":
            keep.owner_id, keep.team_id = gone.owner_id, gone.team_id
        elif name in ("tier", "parent"):
            setattr(keep, f"{name}_id", getattr(gone, f"{name}_id"))
        else:
            setattr(keep, name, getattr(gone, name))
    if keep.parent_id == keep.pk:
        keep.parent_id = None
    if keep.parent_id == gone.pk:
        keep.parent_id = gone.parent_id if gone.parent_id != keep.pk else None
    keep.custom = (
        {**keep.custom, **gone.custom}
        if choices.get("custom") == "merged"
        else {**gone.custom, **keep.custom}
    )
    keep.last_contact_at = max(
        filter(None, [keep.last_contact_at, gone.last_contact_at]), default=None
    )
    if not keep.next_step_at or (gone.next_step_at and gone.next_step_at < keep.next_step_at):
        keep.next_step_at, keep.next_step_title = gone.next_step_at, gone.next_step_title
    if not can_edit_client(actor, keep):
        raise NotPermitted(action="merge", resource="client")
    keep.version += 1
    keep.save()
    search_text_refresh(keep)

    merge = ClientMerge.objects.create(
        survivor=keep, merged=gone, survivor_before=before_raw, moved=moved, merged_by=actor
    )
    changes = diff(before, snapshot(keep, AUDITED))
    label = {"id": gone.pk, "label": gone.name}
    audit_record(
        action=Action.MERGE,
        subject=keep,
        actor=actor,
        changes={"merged_from": [None, label], **changes},
        meta={"merge_id": merge.pk},
    )
    audit_record(
        action=Action.MERGE,
        subject=gone,
        actor=actor,
        changes={"merged_into": [None, {"id": keep.pk, "label": keep.name}]},
        meta={"merge_id": merge.pk},
    )
    outbox_publish(
        kind="client.merged",
        payload={"survivor_id": keep.pk, "merged_id": gone.pk, "merge_id": merge.pk},
    )
    return merge


def _move_candidates(actor: Any, keep: Client, gone: Client) -> list[list[Any]]:
    """The pair (keep, gone) becomes "merged"; gone's other pairs move to keep unless
    keep already has that pair. Returns [id, a, b, status] as they were, for undo."""
    was: list[list[Any]] = []
    pairs = DuplicateCandidate.objects.select_for_update().filter(
        models.Q(a=gone) | models.Q(b=gone)
    )
    for pair in pairs:
        was.append([pair.pk, pair.a_id, pair.b_id, pair.status])
        other = pair.b_id if pair.a_id == gone.pk else pair.a_id
        if other == keep.pk:
            pair.status = DuplicateCandidate.Status.MERGED
            pair.resolved_by, pair.resolved_at = actor, timezone.now()
            pair.save(update_fields=["status", "resolved_by", "resolved_at"])
            continue
        a, b = sorted((keep.pk, other))
        if DuplicateCandidate.objects.filter(a_id=a, b_id=b).exists():
            was.pop()
            continue
        DuplicateCandidate.objects.filter(pk=pair.pk).update(a_id=a, b_id=b)
    return was


@transaction.atomic
def client_merge_undo(*, actor: Any, merge: ClientMerge) -> ClientMerge:
    """Reverse a merge exactly: the merged client comes back from the trash with
    every row that was moved, and the survivor gets its fields as they were before.
    Needs edit permission on both clients."""
    locked = ClientMerge.objects.select_for_update().get(pk=merge.pk)
    if locked.undone_at is not None:
        raise MergeAlreadyUndone()
    keep, gone = _lock_pair(locked.survivor_id, locked.merged_id)
    if keep is None or gone is None or keep.deleted_at is not None:
        raise NotFound(resource="client", id=locked.survivor_id)
    if not (can_edit_client(actor, keep) and can_edit_client(actor, gone)):
        raise NotPermitted(action="undo_merge", resource="client")
    if gone.deleted_at is None:
        raise MergeCannotBeUndone()
    before = snapshot(keep, AUDITED)
    moved = locked.moved
    for key, manager, fk, _identity in MOVABLE:
        ids = moved.get(key) or []
        if ids:
            manager.filter(pk__in=ids).update(**{fk: gone})
    ContactPoint.objects.filter(pk__in=moved.get("primary_contact_points") or []).update(
        is_primary=True
    )
    keep.tags.remove(*(moved.get("tags") or []))
    for pk, a, b, status in moved.get("duplicates") or []:
        DuplicateCandidate.objects.filter(pk=pk).update(
            a_id=a,
            b_id=b,
            status=status,
            **(
                {"resolved_by": None, "resolved_at": None}
                if status == DuplicateCandidate.Status.OPEN
                else {}
            ),
        )
    version = keep.version + 1
    for name, value in locked.survivor_before.items():
        setattr(keep, name, value)
    keep.version = version
    keep.save()
    keep.refresh_from_db()
    gone.deleted_at, gone.deleted_by = None, None
    gone.version += 1
    gone.save(update_fields=["deleted_at", "deleted_by", "version"])
    search_text_refresh(keep)
    search_text_refresh(gone)
    locked.undone_at, locked.undone_by = timezone.now(), actor
    locked.save(update_fields=["undone_at", "undone_by"])
    label = {"id": gone.pk, "label": gone.name}
    audit_record(
        action=Action.UPDATE,
        subject=keep,
        actor=actor,
        changes={"merge_undone": [label, None], **diff(before, snapshot(keep, AUDITED))},
        meta={"merge_id": locked.pk},
    )
    audit_record(
        action=Action.RESTORE,
        subject=gone,
        actor=actor,
        changes={"merged_into": [{"id": keep.pk, "label": keep.name}, None]},
        meta={"merge_id": locked.pk},
    )
    outbox_publish(
        kind="client.merge_undone",
        payload={"survivor_id": keep.pk, "merged_id": gone.pk, "merge_id": locked.pk},
    )
    return locked
