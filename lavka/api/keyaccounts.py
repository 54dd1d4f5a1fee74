"""Key-accounts API: key accounts and their decision stage, the decision cycle and its
playbook, stakeholders, relationships, entry chains and the influence plan. The same
selectors and services (and so the same access policy) as the web pages."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from lavka.api.pagination import LimitOffset
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import people_visible_to
from lavka.core.errors import NotFound, ValidationFailed
from lavka.identity.selectors import user_get
from lavka.keyaccounts.models import KeyAccount, Relationship, Stakeholder
from lavka.keyaccounts.selectors import (
    decision_stage_get,
    decision_stages,
    entry_chains,
    influence_action_get,
    influence_plan,
    key_account_get,
    key_account_list,
    playbook,
    playbook_action_get,
    relationship_get,
    relationships_visible_to,
    stage_history,
    stakeholder_get,
    stakeholder_list,
)
from lavka.keyaccounts.services import (
    decision_stage_create,
    decision_stage_update,
    influence_action_complete,
    influence_plan_apply,
    key_account_create,
    key_account_set_stage,
    key_account_update,
    playbook_action_create,
    playbook_action_delete,
    playbook_action_update,
    relationship_create,
    relationship_delete,
    relationship_update,
    stakeholder_add,
    stakeholder_remove,
    stakeholder_update,
)
from lavka.sales.selectors.deals import deals_visible_to

router = Router(tags=["keyaccounts"])

Role = Literal["entry", "dissatisfaction", "power"]
Attitude = Literal["supporter", "neutral", "opponent"]
Kind = Literal["knows", "reports_to", "introduced_by", "worked_together"]


class DecisionStageOut(Schema):
    id: int
    name: str
    order: int
    description: str
    is_archived: bool


class DecisionStageIn(Schema):
    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=300)


class DecisionStagePatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=300)
    order: int | None = None
    is_archived: bool | None = None


class PlaybookActionOut(Schema):
    id: int
    stage_id: int
    title: str
    description: str
    kind: str
    due_in_days: int
    order: int


class PlaybookActionIn(Schema):
    stage_id: int
    title: str = Field(..., max_length=200)
    description: str = ""
    kind: str = "meeting"
    due_in_days: int = Field(7, ge=0, le=365)


class PlaybookActionPatch(Schema):
    stage_id: int | None = None
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    kind: str | None = None
    due_in_days: int | None = Field(None, ge=0, le=365)
    order: int | None = None


class KeyAccountOut(Schema):
    id: int
    client_id: int
    client_name: str
    owner_id: int = Field(description="The responsible key account manager.")
    team_id: int | None
    stage_id: int | None
    stage_name: str
    stage_changed_at: dt.datetime | None
    has_power_point: bool
    risks: str
    notes: str
    created_at: dt.datetime

    @staticmethod
    def resolve_client_name(obj: KeyAccount) -> str:
        return obj.client.name

    @staticmethod
    def resolve_stage_name(obj: KeyAccount) -> str:
        return obj.stage.name if obj.stage else ""

    @staticmethod
    def resolve_has_power_point(obj: KeyAccount) -> bool:
        known = getattr(obj, "has_power_point", None)
        if known is not None:
            return bool(known)
        return obj.stakeholders.filter(role=Stakeholder.Role.POWER).exists()


class KeyAccountIn(Schema):
    client_id: int
    manager_id: int | None = Field(None, description="Default: the caller.")
    stage_id: int | None = None
    notes: str = ""


class KeyAccountPatch(Schema):
    owner_id: int | None = None
    risks: str | None = None
    notes: str | None = None


class StageMoveIn(Schema):
    stage_id: int
    note: str = Field("", max_length=500)


class StageChangeOut(Schema):
    id: int
    from_stage_id: int | None
    to_stage_id: int
    changed_by_id: int | None
    changed_at: dt.datetime
    note: str


class StakeholderOut(Schema):
    id: int
    key_account_id: int
    person_id: int
    person_name: str
    role: str
    influence: int
    attitude: str
    pain: str
    help: str
    notes: str

    @staticmethod
    def resolve_person_name(obj: Stakeholder) -> str:
        return obj.person.full_name


class StakeholderIn(Schema):
    person_id: int
    role: Role
    influence: int = Field(3, ge=1, le=5)
    attitude: Attitude = "neutral"
    pain: str = Field("", max_length=300)
    help: str = Field("", max_length=300)
    notes: str = ""


class StakeholderPatch(Schema):
    role: Role | None = None
    influence: int | None = Field(None, ge=1, le=5)
    attitude: Attitude | None = None
    pain: str | None = Field(None, max_length=300)
    help: str | None = Field(None, max_length=300)
    notes: str | None = None


class RelationshipOut(Schema):
    id: int
    from_person_id: int | None
    from_user_id: int | None
    to_person_id: int
    kind: str
    strength: int
    notes: str


class RelationshipIn(Schema):
    from_person_id: int | None = Field(None, description="A person, or else:")
    from_user_id: int | None = Field(None, description="one of our staff.")
    to_person_id: int
    kind: Kind = "knows"
    strength: int = Field(3, ge=1, le=5)
    notes: str = Field("", max_length=300)


class RelationshipPatch(Schema):
    kind: Kind | None = None
    strength: int | None = Field(None, ge=1, le=5)
    notes: str | None = Field(None, max_length=300)


class RelationshipFilters(Schema):
    person: int | None = Field(None, description="Relationships touching this person.")


class ChainStepOut(Schema):
    label: str
    is_staff: bool
    is_hidden: bool
    person_id: int | None
    user_id: int | None
    kind: str
    strength: int


class ChainOut(Schema):
    measure: str
    target_person_id: int
    hops: int
    strength: float
    steps: list[ChainStepOut]


class InfluenceActionOut(Schema):
    id: int
    key_account_id: int
    deal_id: int | None
    stage_id: int
    playbook_action_id: int | None
    task_id: int
    title: str
    due_at: dt.datetime
    completed_at: dt.datetime | None
    effect: str

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.task.title)

    @staticmethod
    def resolve_due_at(obj: Any) -> dt.datetime:
        return obj.task.due_at  # type: ignore[no-any-return]

    @staticmethod
    def resolve_completed_at(obj: Any) -> dt.datetime | None:
        return obj.task.completed_at  # type: ignore[no-any-return]


class PlanIn(Schema):
    deal_id: int | None = None
    stage_id: int | None = Field(None, description="Default: the key account's stage.")


class EffectIn(Schema):
    effect: str = Field(..., min_length=1, max_length=5000)


def _person(request: HttpRequest, person_id: int | None, field: str) -> Any:
    if person_id is None:
        return None
    person = people_visible_to(request.user).filter(pk=person_id).first()
    if person is None:
        raise ValidationFailed(fields={field: ["No such person."]})
    return person


def _user(request: HttpRequest, user_id: int | None, field: str) -> Any:
    if user_id is None:
        return None
    try:
        return user_get(viewer=request.user, user_id=user_id)
    except NotFound:
        raise ValidationFailed(fields={field: ["No such user."]}) from None


def _stage(request: HttpRequest, stage_id: int | None, field: str = "stage_id") -> Any:
    if stage_id is None:
        return None
    try:
        return decision_stage_get(viewer=request.user, stage_id=stage_id)
    except NotFound:
        raise ValidationFailed(fields={field: ["No such stage."]}) from None


# --- decision cycle and playbook --------------------------------------------------------


@router.get(
    "/decision-stages", response=list[DecisionStageOut], operation_id="list_decision_stages"
)
def list_decision_stages(request: HttpRequest):  # type: ignore[no-untyped-def]
    return decision_stages(viewer=request.user)


@router.post(
    "/decision-stages", response={201: DecisionStageOut}, operation_id="create_decision_stage"
)
def create_decision_stage(request: HttpRequest, payload: DecisionStageIn):  # type: ignore[no-untyped-def]
    return Status(201, decision_stage_create(actor=request.user, **payload.dict()))


@router.patch(
    "/decision-stages/{stage_id}", response=DecisionStageOut, operation_id="update_decision_stage"
)
def update_decision_stage(request: HttpRequest, stage_id: int, payload: DecisionStagePatch):  # type: ignore[no-untyped-def]
    stage = decision_stage_get(viewer=request.user, stage_id=stage_id)
    return decision_stage_update(
        actor=request.user, stage=stage, **payload.dict(exclude_unset=True)
    )


@router.get("/playbook", response=list[PlaybookActionOut], operation_id="list_playbook_actions")
def list_playbook_actions(request: HttpRequest, stage: int | None = None):  # type: ignore[no-untyped-def]
    chosen = decision_stage_get(viewer=request.user, stage_id=stage) if stage else None
    return playbook(viewer=request.user, stage=chosen)


@router.post("/playbook", response={201: PlaybookActionOut}, operation_id="create_playbook_action")
def create_playbook_action(request: HttpRequest, payload: PlaybookActionIn):  # type: ignore[no-untyped-def]
    data = payload.dict()
    stage = _stage(request, data.pop("stage_id"))
    return Status(201, playbook_action_create(actor=request.user, stage=stage, **data))


@router.patch(
    "/playbook/{action_id}", response=PlaybookActionOut, operation_id="update_playbook_action"
)
def update_playbook_action(request: HttpRequest, action_id: int, payload: PlaybookActionPatch):  # type: ignore[no-untyped-def]
    action = playbook_action_get(viewer=request.user, action_id=action_id)
    changes = payload.dict(exclude_unset=True)
    if "stage_id" in changes:
        changes["stage"] = _stage(request, changes.pop("stage_id"))
    return playbook_action_update(actor=request.user, action=action, **changes)


@router.delete("/playbook/{action_id}", response={204: None}, operation_id="delete_playbook_action")
def delete_playbook_action(request: HttpRequest, action_id: int):  # type: ignore[no-untyped-def]
    action = playbook_action_get(viewer=request.user, action_id=action_id)
    playbook_action_delete(actor=request.user, action=action)
    return Status(204, None)


# --- key accounts ------------------------------------------------------------------------


@router.get("/key-accounts", response=list[KeyAccountOut], operation_id="list_key_accounts")
@paginate(LimitOffset)
def list_key_accounts(request: HttpRequest, q: str = ""):  # type: ignore[no-untyped-def]
    return key_account_list(viewer=request.user, query=q[:100])


@router.get(
    "/key-accounts/{key_account_id}", response=KeyAccountOut, operation_id="get_key_account"
)
def get_key_account(request: HttpRequest, key_account_id: int):  # type: ignore[no-untyped-def]
    return key_account_get(viewer=request.user, key_account_id=key_account_id)


@router.post("/key-accounts", response={201: KeyAccountOut}, operation_id="create_key_account")
def create_key_account(request: HttpRequest, payload: KeyAccountIn):  # type: ignore[no-untyped-def]
    try:
        client = client_get(viewer=request.user, client_id=payload.client_id)
    except NotFound:
        raise ValidationFailed(fields={"client_id": ["No such client."]}) from None
    account = key_account_create(
        actor=request.user,
        client=client,
        manager=_user(request, payload.manager_id, "manager_id"),
        stage=_stage(request, payload.stage_id),
        notes=payload.notes,
    )
    return Status(201, key_account_get(viewer=request.user, key_account_id=account.pk))


@router.patch(
    "/key-accounts/{key_account_id}", response=KeyAccountOut, operation_id="update_key_account"
)
def update_key_account(request: HttpRequest, key_account_id: int, payload: KeyAccountPatch):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    changes = payload.dict(exclude_unset=True)
    if "owner_id" in changes:
        changes["owner"] = _user(request, changes.pop("owner_id"), "owner_id")
    key_account_update(actor=request.user, key_account=account, **changes)
    return key_account_get(viewer=request.user, key_account_id=account.pk)


@router.post(
    "/key-accounts/{key_account_id}/stage",
    response=KeyAccountOut,
    operation_id="move_key_account_stage",
)
def move_key_account_stage(request: HttpRequest, key_account_id: int, payload: StageMoveIn):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    key_account_set_stage(
        actor=request.user,
        key_account=account,
        stage=_stage(request, payload.stage_id),
        note=payload.note,
    )
    return key_account_get(viewer=request.user, key_account_id=account.pk)


@router.get(
    "/key-accounts/{key_account_id}/stage-history",
    response=list[StageChangeOut],
    operation_id="list_key_account_stage_history",
)
def list_key_account_stage_history(request: HttpRequest, key_account_id: int):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    return stage_history(viewer=request.user, key_account=account)


# --- stakeholders ------------------------------------------------------------------------


@router.get(
    "/key-accounts/{key_account_id}/stakeholders",
    response=list[StakeholderOut],
    operation_id="list_stakeholders",
)
def list_stakeholders(request: HttpRequest, key_account_id: int):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    return stakeholder_list(key_account=account)


@router.post(
    "/key-accounts/{key_account_id}/stakeholders",
    response={201: StakeholderOut},
    operation_id="create_stakeholder",
)
def create_stakeholder(request: HttpRequest, key_account_id: int, payload: StakeholderIn):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    data = payload.dict()
    person = _person(request, data.pop("person_id"), "person_id")
    return Status(
        201, stakeholder_add(actor=request.user, key_account=account, person=person, **data)
    )


@router.get(
    "/stakeholders/{stakeholder_id}", response=StakeholderOut, operation_id="get_stakeholder"
)
def get_stakeholder(request: HttpRequest, stakeholder_id: int):  # type: ignore[no-untyped-def]
    return stakeholder_get(viewer=request.user, stakeholder_id=stakeholder_id)


@router.patch(
    "/stakeholders/{stakeholder_id}", response=StakeholderOut, operation_id="update_stakeholder"
)
def update_stakeholder(request: HttpRequest, stakeholder_id: int, payload: StakeholderPatch):  # type: ignore[no-untyped-def]
    stakeholder = stakeholder_get(viewer=request.user, stakeholder_id=stakeholder_id)
    return stakeholder_update(
        actor=request.user, stakeholder=stakeholder, **payload.dict(exclude_unset=True)
    )


@router.delete(
    "/stakeholders/{stakeholder_id}", response={204: None}, operation_id="delete_stakeholder"
)
def delete_stakeholder(request: HttpRequest, stakeholder_id: int):  # type: ignore[no-untyped-def]
    stakeholder = stakeholder_get(viewer=request.user, stakeholder_id=stakeholder_id)
    stakeholder_remove(actor=request.user, stakeholder=stakeholder)
    return Status(204, None)


# --- relationships and entry chains ------------------------------------------------------


@router.get("/relationships", response=list[RelationshipOut], operation_id="list_relationships")
@paginate(LimitOffset)
def list_relationships(request: HttpRequest, filters: Query[RelationshipFilters]):  # type: ignore[no-untyped-def]
    relationships = relationships_visible_to(request.user)
    if filters.person is not None:
        from django.db.models import Q

        relationships = relationships.filter(
            Q(from_person_id=filters.person) | Q(to_person_id=filters.person)
        )
    return relationships.order_by("id")


@router.get(
    "/relationships/{relationship_id}", response=RelationshipOut, operation_id="get_relationship"
)
def get_relationship(request: HttpRequest, relationship_id: int):  # type: ignore[no-untyped-def]
    return relationship_get(viewer=request.user, relationship_id=relationship_id)


@router.post("/relationships", response={201: RelationshipOut}, operation_id="create_relationship")
def create_relationship(request: HttpRequest, payload: RelationshipIn):  # type: ignore[no-untyped-def]
    return Status(
        201,
        relationship_create(
            actor=request.user,
            from_person=_person(request, payload.from_person_id, "from_person_id"),
            from_user=_user(request, payload.from_user_id, "from_user_id"),
            to_person=_person(request, payload.to_person_id, "to_person_id"),
            kind=payload.kind,
            strength=payload.strength,
            notes=payload.notes,
        ),
    )


@router.patch(
    "/relationships/{relationship_id}",
    response=RelationshipOut,
    operation_id="update_relationship",
)
def update_relationship(request: HttpRequest, relationship_id: int, payload: RelationshipPatch):  # type: ignore[no-untyped-def]
    relationship = relationship_get(viewer=request.user, relationship_id=relationship_id)
    return relationship_update(
        actor=request.user, relationship=relationship, **payload.dict(exclude_unset=True)
    )


@router.delete(
    "/relationships/{relationship_id}", response={204: None}, operation_id="delete_relationship"
)
def delete_relationship(request: HttpRequest, relationship_id: int):  # type: ignore[no-untyped-def]
    relationship = relationship_get(viewer=request.user, relationship_id=relationship_id)
    relationship_delete(actor=request.user, relationship=relationship)
    return Status(204, None)


@router.get(
    "/key-accounts/{key_account_id}/entry-chains",
    response=list[ChainOut],
    operation_id="list_entry_chains",
)
def list_entry_chains(request: HttpRequest, key_account_id: int, limit: int = 3):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    chains = entry_chains(viewer=request.user, key_account=account, limit=max(1, min(limit, 10)))
    return [
        {
            "measure": c.measure,
            "target_person_id": c.target.person_id,
            "hops": c.hops,
            "strength": round(c.strength, 4),
            "steps": [s.__dict__ for s in c.steps],
        }
        for c in chains
    ]


# --- the influence plan ------------------------------------------------------------------


@router.get(
    "/key-accounts/{key_account_id}/influence-actions",
    response=list[InfluenceActionOut],
    operation_id="list_influence_actions",
)
def list_influence_actions(request: HttpRequest, key_account_id: int):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    return influence_plan(key_account=account)


@router.post(
    "/key-accounts/{key_account_id}/influence-plan",
    response={201: list[InfluenceActionOut]},
    operation_id="apply_influence_plan",
)
def apply_influence_plan(request: HttpRequest, key_account_id: int, payload: PlanIn):  # type: ignore[no-untyped-def]
    account = key_account_get(viewer=request.user, key_account_id=key_account_id)
    deal = None
    if payload.deal_id is not None:
        deal = deals_visible_to(request.user).filter(pk=payload.deal_id).first()
        if deal is None:
            raise ValidationFailed(fields={"deal_id": ["No such deal."]})
    return Status(
        201,
        influence_plan_apply(
            actor=request.user,
            key_account=account,
            deal=deal,
            stage=_stage(request, payload.stage_id),
        ),
    )


@router.post(
    "/influence-actions/{action_id}/complete",
    response=InfluenceActionOut,
    operation_id="complete_influence_action",
)
def complete_influence_action(request: HttpRequest, action_id: int, payload: EffectIn):  # type: ignore[no-untyped-def]
    action = influence_action_get(viewer=request.user, action_id=action_id)
    influence_action_complete(actor=request.user, action=action, effect=payload.effect)
    return influence_action_get(viewer=request.user, action_id=action_id)


__all__ = ["Relationship", "router"]
