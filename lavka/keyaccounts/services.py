"""Writes of the key-account toolkit.

Every write runs in one transaction, locks the key account's row, checks the
key-accounts area's write scope (NotFound when the actor cannot even read the key
account, NotPermitted when they can read but not write), validates (ValidationFailed
per field, in the user's language), and records an audit event. Events (outbox):
key_account.created, key_account.updated, key_account.stage_changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients.models import Client, Employment, Person, Touchpoint
from lavka.clients.selectors import clients_visible_to
from lavka.clients.selectors.blocks import people_visible_to
from lavka.clients.services.timeline import task_complete, task_create
from lavka.core.errors import NotFound, NotPermitted, ValidationFailed
from lavka.keyaccounts.models import (
    DecisionStage,
    InfluenceAction,
    KeyAccount,
    PlaybookAction,
    Relationship,
    StageChange,
    Stakeholder,
)
from lavka.keyaccounts.permissions import (
    can_assign_key_account,
    can_edit_key_account,
    can_manage_key_account_settings,
    can_read_key_account,
    can_write_key_accounts,
)
from lavka.sales.models import Deal
from lavka.sales.services.values import Errors, text_clean

KEY_ACCOUNT_FIELDS = ["owner", "team", "stage", "risks", "notes"]
STAKEHOLDER_FIELDS = ["person", "role", "influence", "attitude", "pain", "help", "notes"]
RELATIONSHIP_FIELDS = ["from_person", "from_user", "to_person", "kind", "strength", "notes"]
ORDER_STEP = 10


def _lock(actor: Any, key_account_id: int, action: str) -> KeyAccount:
    account = (
        KeyAccount.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(pk=key_account_id)
        .first()
    )
    if (
        account is None
        or not can_read_key_account(actor, account)
        or not clients_visible_to(actor).filter(pk=account.client_id).exists()
    ):
        raise NotFound(resource="key account", id=key_account_id)
    if not can_edit_key_account(actor, account):
        raise NotPermitted(action=action, resource="key account")
    return account


def _scale(value: Any, name: str, errors: Errors) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= 5:
        errors.setdefault(name, []).append(_("Choose a level from 1 to 5."))
        return 1
    return number


def _choice(value: Any, name: str, choices: Any, errors: Errors) -> str:
    if value not in choices.values:
        errors.setdefault(name, []).append(_("Choose one of the options."))
    return str(value)


# --- key accounts ----------------------------------------------------------------------


@transaction.atomic
def key_account_create(
    *,
    actor: Any,
    client: Client,
    manager: Any = None,
    stage: DecisionStage | None = None,
    notes: str = "",
) -> KeyAccount:
    """Mark `client` (one the actor may read) as a key account handled by `manager`
    (default: the actor), at `stage` of the decision cycle (default: the first)."""
    if not can_write_key_accounts(actor):
        raise NotPermitted(action="create", resource="key account")
    locked = Client.objects.select_for_update().filter(pk=client.pk).first()
    if locked is None or not clients_visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound(resource="client", id=client.pk)
    manager = manager if manager is not None else actor
    errors: Errors = {}
    if KeyAccount.objects.filter(client_id=locked.pk).exists():
        errors["client"] = [_("This client is already a key account.")]
    if not manager.is_active or not clients_visible_to(manager).filter(pk=locked.pk).exists():
        errors["manager"] = [_("The manager must be an active user who sees this client.")]
    elif not can_assign_key_account(actor, manager=manager):
        errors["manager"] = [_("You cannot give key accounts to this user.")]
    cleaned_notes = text_clean(notes, "notes", 5000, errors)
    if stage is None:
        stage = DecisionStage.objects.filter(is_archived=False).order_by("order", "id").first()
    elif stage.is_archived:
        errors["stage"] = [_("Choose a stage of the decision cycle.")]
    if errors:
        raise ValidationFailed(fields=errors)
    now = timezone.now()
    account = KeyAccount.objects.create(
        client=locked,
        owner=manager,
        team_id=manager.team_id,
        stage=stage,
        stage_changed_at=now if stage else None,
        notes=cleaned_notes,
    )
    if stage is not None:
        StageChange.objects.create(
            key_account=account, to_stage=stage, changed_by=actor, changed_at=now
        )
    audit_record(
        action=Action.CREATE,
        subject=account,
        actor=actor,
        changes=diff({}, snapshot(account, KEY_ACCOUNT_FIELDS)),
    )
    outbox_publish(
        kind="key_account.created",
        payload={"key_account_id": account.pk, "client_id": locked.pk, "actor_id": actor.pk},
    )
    return account


@transaction.atomic
def key_account_update(*, actor: Any, key_account: KeyAccount, **changes: Any) -> KeyAccount:
    """Change the responsible manager (`owner`), the risks or the notes."""
    locked = _lock(actor, key_account.pk, "update")
    errors: Errors = {}
    for name in sorted(set(changes) - {"owner", "risks", "notes"}):
        errors[name] = [_("Unknown field.")]
    before = snapshot(locked, KEY_ACCOUNT_FIELDS)
    if "risks" in changes:
        locked.risks = text_clean(changes["risks"], "risks", 5000, errors)
    if "notes" in changes:
        locked.notes = text_clean(changes["notes"], "notes", 5000, errors)
    if "owner" in changes:
        manager = changes["owner"]
        if manager is None or not manager.is_active:
            errors["owner"] = [_("Choose an active user.")]
        elif not can_assign_key_account(actor, manager=manager):
            errors["owner"] = [_("You cannot give key accounts to this user.")]
        elif not clients_visible_to(manager).filter(pk=locked.client_id).exists():
            errors["owner"] = [_("The manager must be an active user who sees this client.")]
        else:
            locked.owner, locked.team_id = manager, manager.team_id
    if errors:
        raise ValidationFailed(fields=errors)
    changed = diff(before, snapshot(locked, KEY_ACCOUNT_FIELDS))
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="key_account.updated",
            payload={"key_account_id": locked.pk, "fields": sorted(changed)},
        )
    for name in ("risks", "notes", "owner_id", "team_id"):
        setattr(key_account, name, getattr(locked, name))
    return locked


@transaction.atomic
def key_account_set_stage(
    *, actor: Any, key_account: KeyAccount, stage: DecisionStage, note: str = ""
) -> KeyAccount:
    """Move the key account to `stage` of its decision cycle; the move, who made it,
    when and why go into the stage history."""
    locked = _lock(actor, key_account.pk, "move")
    errors: Errors = {}
    cleaned_note = text_clean(note, "note", 500, errors)
    if stage is None or stage.is_archived:
        errors["stage"] = [_("Choose a stage of the decision cycle.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if locked.stage_id == stage.pk:
        return locked
    now = timezone.now()
    before_id = locked.stage_id
    StageChange.objects.create(
        key_account=locked,
        from_stage_id=before_id,
        to_stage=stage,
        changed_by=actor,
        changed_at=now,
        note=cleaned_note,
    )
    locked.stage, locked.stage_changed_at = stage, now
    locked.save(update_fields=["stage", "stage_changed_at", "updated_at"])
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"stage": [before_id, stage.pk]},
        meta={"note": cleaned_note} if cleaned_note else None,
    )
    outbox_publish(
        kind="key_account.stage_changed",
        payload={"key_account_id": locked.pk, "from": before_id, "to": stage.pk},
    )
    key_account.stage, key_account.stage_changed_at = stage, now
    return locked


# --- decision stages and the playbook (settings) ---------------------------------------


def _require_settings(actor: Any, resource: str) -> None:
    if not can_manage_key_account_settings(actor):
        raise NotPermitted(action="manage", resource=resource)


@transaction.atomic
def decision_stage_create(*, actor: Any, name: str, description: str = "") -> DecisionStage:
    """A new stage at the end of the decision cycle."""
    _require_settings(actor, "decision stage")
    errors: Errors = {}
    cleaned = text_clean(name, "name", 100, errors, required=True)
    cleaned_description = text_clean(description, "description", 300, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    last = DecisionStage.objects.aggregate(m=Max("order"))["m"] or 0
    stage = DecisionStage.objects.create(
        name=cleaned, description=cleaned_description, order=last + ORDER_STEP
    )
    audit_record(
        action=Action.CREATE, subject=stage, actor=actor, changes={"name": [None, cleaned]}
    )
    return stage


@transaction.atomic
def decision_stage_update(*, actor: Any, stage: DecisionStage, **changes: Any) -> DecisionStage:
    """Rename a stage, change its description or its place (`order`), or archive it
    (`is_archived`: hidden from choices; key accounts in it keep it)."""
    _require_settings(actor, "decision stage")
    locked = DecisionStage.objects.select_for_update().get(pk=stage.pk)
    fields = ["name", "description", "order", "is_archived"]
    before = snapshot(locked, fields)
    errors: Errors = {}
    for name in sorted(set(changes) - set(fields)):
        errors[name] = [_("Unknown field.")]
    if "name" in changes:
        locked.name = text_clean(changes["name"], "name", 100, errors, required=True)
    if "description" in changes:
        locked.description = text_clean(changes["description"], "description", 300, errors)
    if "order" in changes:
        try:
            locked.order = max(0, min(int(changes["order"]), 32767))
        except (TypeError, ValueError):
            errors["order"] = [_("Enter a whole number.")]
    if "is_archived" in changes:
        locked.is_archived = bool(changes["is_archived"])
        if (
            locked.is_archived
            and not DecisionStage.objects.filter(is_archived=False).exclude(pk=locked.pk).exists()
        ):
            errors["is_archived"] = [_("The decision cycle needs at least one stage.")]
    if errors:
        raise ValidationFailed(fields=errors)
    changed = diff(before, snapshot(locked, fields))
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


def _playbook_clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            cleaned[name] = text_clean(value, name, 200, errors, required=True)
        elif name == "description":
            cleaned[name] = text_clean(value, name, 2000, errors)
        elif name == "kind":
            cleaned[name] = _choice(value, name, Touchpoint.Kind, errors)
        elif name in ("due_in_days", "order"):
            try:
                cleaned[name] = int(value)
                if not 0 <= cleaned[name] <= 365 * (100 if name == "order" else 1):
                    raise ValueError
            except (TypeError, ValueError):
                errors[name] = [_("Enter a whole number of days from 0 to 365.")]
        elif name == "stage":
            if not isinstance(value, DecisionStage) or value.is_archived:
                errors[name] = [_("Choose a stage of the decision cycle.")]
            cleaned[name] = value
        else:
            errors[name] = [_("Unknown field.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


@transaction.atomic
def playbook_action_create(
    *,
    actor: Any,
    stage: DecisionStage,
    title: str,
    description: str = "",
    kind: str = Touchpoint.Kind.MEETING,
    due_in_days: int = 7,
) -> PlaybookAction:
    """An action of the playbook for `stage`, after its other actions."""
    _require_settings(actor, "playbook action")
    cleaned = _playbook_clean(
        {
            "stage": stage,
            "title": title,
            "description": description,
            "kind": kind,
            "due_in_days": due_in_days,
        }
    )
    last = PlaybookAction.objects.filter(stage_id=stage.pk).aggregate(m=Max("order"))["m"] or 0
    action = PlaybookAction.objects.create(order=last + ORDER_STEP, **cleaned)
    audit_record(
        action=Action.CREATE,
        subject=action,
        actor=actor,
        changes={"title": [None, action.title], "stage": [None, stage.pk]},
    )
    return action


@transaction.atomic
def playbook_action_update(*, actor: Any, action: PlaybookAction, **changes: Any) -> PlaybookAction:
    _require_settings(actor, "playbook action")
    locked = PlaybookAction.objects.select_for_update().get(pk=action.pk)
    fields = ["stage", "title", "description", "kind", "due_in_days", "order"]
    before = snapshot(locked, fields)
    for name, value in _playbook_clean(dict(changes)).items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, fields))
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


@transaction.atomic
def playbook_action_delete(*, actor: Any, action: PlaybookAction) -> None:
    """Remove an action from the playbook (tasks already planned from it stay)."""
    _require_settings(actor, "playbook action")
    audit_record(
        action=Action.DELETE, subject=action, actor=actor, changes={"title": [action.title, None]}
    )
    PlaybookAction.objects.filter(pk=action.pk).delete()


# --- stakeholders ----------------------------------------------------------------------


def _stakeholder_clean(
    fields: dict[str, Any], *, key_account: KeyAccount, current: Stakeholder | None = None
) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(STAKEHOLDER_FIELDS)):
        errors[name] = [_("Unknown field.")]
    for name, value in fields.items():
        if name == "person":
            if (
                not isinstance(value, Person)
                or not Employment.objects.filter(
                    person_id=value.pk, organisation_id=key_account.client_id
                ).exists()
            ):
                errors[name] = [_("Choose a person who works at this client.")]
            cleaned[name] = value
        elif name == "role":
            cleaned[name] = _choice(value, name, Stakeholder.Role, errors)
        elif name == "attitude":
            cleaned[name] = _choice(value, name, Stakeholder.Attitude, errors)
        elif name == "influence":
            cleaned[name] = _scale(value, name, errors)
        elif name in ("pain", "help"):
            cleaned[name] = text_clean(value, name, 300, errors)
        elif name == "notes":
            cleaned[name] = text_clean(value, name, 5000, errors)
    person = cleaned.get("person", current.person if current else None)
    role = cleaned.get("role", current.role if current else None)
    if person is not None and role and "person" not in errors and "role" not in errors:
        duplicate = Stakeholder.objects.filter(
            key_account_id=key_account.pk, person_id=person.pk, role=role
        )
        if current is not None:
            duplicate = duplicate.exclude(pk=current.pk)
        if duplicate.exists():
            errors["role"] = [_("This person already has this role on the map.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _stakeholder_label(stakeholder: Stakeholder) -> dict[str, Any]:
    return {
        "id": stakeholder.pk,
        "label": f"{stakeholder.person.full_name} · {stakeholder.get_role_display()}"
        f" · {stakeholder.influence}/5 · {stakeholder.get_attitude_display()}"[:200],
    }


@transaction.atomic
def stakeholder_add(
    *,
    actor: Any,
    key_account: KeyAccount,
    person: Person,
    role: str,
    influence: int = 3,
    attitude: str = Stakeholder.Attitude.NEUTRAL,
    pain: str = "",
    help: str = "",
    notes: str = "",
) -> Stakeholder:
    """Put a person of the client on the stakeholder map with a role in the decision."""
    locked = _lock(actor, key_account.pk, "update")
    cleaned = _stakeholder_clean(
        {
            "person": person,
            "role": role,
            "influence": influence,
            "attitude": attitude,
            "pain": pain,
            "help": help,
            "notes": notes,
        },
        key_account=locked,
    )
    stakeholder = Stakeholder.objects.create(key_account=locked, **cleaned)
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"stakeholders": [None, _stakeholder_label(stakeholder)]},
    )
    return stakeholder


@transaction.atomic
def stakeholder_update(*, actor: Any, stakeholder: Stakeholder, **changes: Any) -> Stakeholder:
    current = Stakeholder.objects.select_related("person").get(pk=stakeholder.pk)
    locked = _lock(actor, current.key_account_id, "update")
    cleaned = _stakeholder_clean(changes, key_account=locked, current=current)
    before = _stakeholder_label(current)
    for name, value in cleaned.items():
        setattr(current, name, value)
    if cleaned:
        current.save(update_fields=list(cleaned))
        audit_record(
            action=Action.UPDATE,
            subject=locked,
            actor=actor,
            changes={"stakeholders": [before, _stakeholder_label(current)]},
        )
    return current


@transaction.atomic
def stakeholder_remove(*, actor: Any, stakeholder: Stakeholder) -> None:
    current = Stakeholder.objects.select_related("person").get(pk=stakeholder.pk)
    locked = _lock(actor, current.key_account_id, "update")
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"stakeholders": [_stakeholder_label(current), None]},
    )
    current.delete()


# --- relationships ---------------------------------------------------------------------


def _relationship_clean(
    fields: dict[str, Any], *, actor: Any, current: Relationship | None = None
) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(RELATIONSHIP_FIELDS)):
        errors[name] = [_("Unknown field.")]
    visible = people_visible_to(actor)
    for name, value in fields.items():
        if name in ("from_person", "to_person"):
            if value is not None and (
                not isinstance(value, Person) or not visible.filter(pk=value.pk).exists()
            ):
                errors[name] = [_("Choose a person you can see.")]
            cleaned[name] = value
        elif name == "from_user":
            if value is not None and not (isinstance(value, get_user_model()) and value.is_active):
                errors[name] = [_("Choose an active colleague.")]
            cleaned[name] = value
        elif name == "kind":
            cleaned[name] = _choice(value, name, Relationship.Kind, errors)
        elif name == "strength":
            cleaned[name] = _scale(value, name, errors)
        elif name == "notes":
            cleaned[name] = text_clean(value, name, 300, errors)
    from_person = cleaned.get("from_person", current.from_person if current else None)
    from_user = cleaned.get("from_user", current.from_user if current else None)
    to_person = cleaned.get("to_person", current.to_person if current else None)
    if (from_person is None) == (from_user is None) and "from_person" not in errors:
        errors["from_person"] = [_("Say who knows the person: one person or one colleague.")]
    if to_person is None and "to_person" not in errors:
        errors["to_person"] = [_("Choose the person they know.")]
    elif from_person is not None and to_person is not None and from_person.pk == to_person.pk:
        errors["to_person"] = [_("Choose two different people.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _relationship_label(relationship: Relationship) -> dict[str, Any]:
    source = relationship.from_person or relationship.from_user
    return {
        "id": relationship.pk,
        "label": f"{source} · {relationship.get_kind_display()} · {relationship.to_person}"
        f" · {relationship.strength}/5"[:200],
    }


@transaction.atomic
def relationship_create(
    *,
    actor: Any,
    to_person: Person,
    from_person: Person | None = None,
    from_user: Any = None,
    kind: str = Relationship.Kind.KNOWS,
    strength: int = 3,
    notes: str = "",
) -> Relationship:
    """Record that a person (or one of our staff) knows `to_person`."""
    if not can_write_key_accounts(actor):
        raise NotPermitted(action="create", resource="relationship")
    cleaned = _relationship_clean(
        {
            "from_person": from_person,
            "from_user": from_user,
            "to_person": to_person,
            "kind": kind,
            "strength": strength,
            "notes": notes,
        },
        actor=actor,
    )
    relationship = Relationship.objects.create(created_by=actor, **cleaned)
    audit_record(
        action=Action.CREATE,
        subject=relationship,
        actor=actor,
        changes={"relationship": [None, _relationship_label(relationship)]},
    )
    return relationship


def _relationship_locked(actor: Any, relationship: Relationship) -> Relationship:
    if not can_write_key_accounts(actor):
        raise NotPermitted(action="update", resource="relationship")
    locked = (
        Relationship.objects.select_for_update(of=("self",))
        .select_related("from_person", "from_user", "to_person")
        .filter(pk=relationship.pk)
        .first()
    )
    if locked is None:
        raise NotFound(resource="relationship", id=relationship.pk)
    return locked


@transaction.atomic
def relationship_update(*, actor: Any, relationship: Relationship, **changes: Any) -> Relationship:
    locked = _relationship_locked(actor, relationship)
    before = _relationship_label(locked)
    cleaned = _relationship_clean(changes, actor=actor, current=locked)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    if cleaned:
        locked.save(update_fields=[*cleaned, "updated_at"])
        audit_record(
            action=Action.UPDATE,
            subject=locked,
            actor=actor,
            changes={"relationship": [before, _relationship_label(locked)]},
        )
    return locked


@transaction.atomic
def relationship_delete(*, actor: Any, relationship: Relationship) -> None:
    locked = _relationship_locked(actor, relationship)
    audit_record(
        action=Action.DELETE,
        subject=locked,
        actor=actor,
        changes={"relationship": [_relationship_label(locked), None]},
    )
    locked.delete()


# --- the influence plan ----------------------------------------------------------------


@transaction.atomic
def influence_plan_apply(
    *,
    actor: Any,
    key_account: KeyAccount,
    deal: Deal | None = None,
    stage: DecisionStage | None = None,
    assignee: Any = None,
    now: dt.datetime | None = None,
) -> list[InfluenceAction]:
    """Plan the playbook's actions for `stage` (default: the key account's current
    stage) as tasks on the client, for `deal` (one of the client's deals) when given.
    Actions already planned for the same deal are not planned twice."""
    locked = _lock(actor, key_account.pk, "plan")
    now = now or timezone.now()
    stage = stage or locked.stage
    errors: Errors = {}
    if stage is None:
        errors["stage"] = [_("Choose a stage of the decision cycle.")]
    if deal is not None and deal.client_id != locked.client_id:
        errors["deal"] = [_("Choose a deal of this client.")]
    if errors:
        raise ValidationFailed(fields=errors)
    assert stage is not None
    already = InfluenceAction.objects.filter(key_account_id=locked.pk, stage_id=stage.pk)
    already = already.filter(deal_id=deal.pk) if deal else already.filter(deal__isnull=True)
    planned = set(already.values_list("playbook_action_id", flat=True))
    created = []
    for action in PlaybookAction.objects.filter(stage_id=stage.pk).order_by("order", "id"):
        if action.pk in planned:
            continue
        task = task_create(
            actor=actor,
            client=locked.client,
            title=action.title,
            due_at=now + dt.timedelta(days=action.due_in_days),
            assignee=assignee or locked.owner,
            kind=action.kind,
            description=action.description,
        )
        created.append(
            InfluenceAction.objects.create(
                key_account=locked, deal=deal, stage=stage, playbook_action=action, task=task
            )
        )
    return created


@transaction.atomic
def influence_action_complete(
    *, actor: Any, action: InfluenceAction, effect: str, now: dt.datetime | None = None
) -> InfluenceAction:
    """Mark the action's task done with what was done and its effect."""
    locked = _lock(actor, action.key_account_id, "complete")
    current = InfluenceAction.objects.select_related("task").get(pk=action.pk)
    errors: Errors = {}
    cleaned = text_clean(effect, "effect", 5000, errors, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    task_complete(actor=actor, task=current.task, now=now)
    current.effect = cleaned
    current.save(update_fields=["effect"])
    audit_record(
        action=Action.UPDATE,
        subject=locked,
        actor=actor,
        changes={"influence": [None, {"id": current.pk, "label": cleaned[:200]}]},
    )
    action.effect = cleaned
    return current
