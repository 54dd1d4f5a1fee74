"""Reads of the key-account toolkit: every read starts from
`key_accounts_visible_to(viewer)` (the key-accounts area's read scope, and only for
clients the viewer may read); records hanging off a key account are visible exactly
when it is."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from lavka.clients.models import Employment, Person, Task
from lavka.clients.selectors import clients_visible_to
from lavka.clients.selectors.blocks import people_visible_to
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, scope_queryset
from lavka.keyaccounts.chains import (
    best_chains,
    chain_strength,
    person_node,
    relationship_graph,
)
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
    can_read_key_account,
    can_read_key_accounts,
    can_write_key_accounts,
)
from lavka.sales.models import Deal, Stage
from lavka.sales.selectors.deals import deals_visible_to

ROLES = [Stakeholder.Role.ENTRY, Stakeholder.Role.DISSATISFACTION, Stakeholder.Role.POWER]


def key_accounts_visible_to(viewer: Any) -> QuerySet[KeyAccount]:
    """Every key account `viewer` may read. All key-account reads start here."""
    accounts = scope_queryset(KeyAccount.objects.all(), viewer, Area.KEY_ACCOUNTS, Action.READ)
    return accounts.filter(
        client_id__in=clients_visible_to(viewer).values("pk"), client__deleted_at__isnull=True
    )


def key_account_get(*, viewer: Any, key_account_id: int) -> KeyAccount:
    """One key account the viewer may read; NotFound whether missing or not theirs."""
    try:
        return (
            key_accounts_visible_to(viewer)
            .select_related("client", "owner", "team", "stage")
            .get(pk=key_account_id)
        )
    except (KeyAccount.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="key account", id=key_account_id) from None


def key_account_for_client(*, viewer: Any, client_id: int) -> KeyAccount | None:
    return (
        key_accounts_visible_to(viewer)
        .select_related("client", "owner", "stage")
        .filter(client_id=client_id)
        .first()
    )


def key_account_for_card(*, viewer: Any, client_id: int) -> tuple[KeyAccount | None, bool]:
    """For the card of a client the viewer reads: the client's key account when the
    viewer may see it, and whether the viewer may make the client one (it is none yet,
    whoever's it would be, and they write key accounts). One query."""
    account = (
        KeyAccount.objects.select_related("client", "owner", "stage")
        .filter(client_id=client_id, client__deleted_at__isnull=True)
        .first()
    )
    if account is None:
        return None, can_write_key_accounts(viewer)
    return (account if can_read_key_account(viewer, account) else None), False


def key_account_list(*, viewer: Any, query: str = "") -> QuerySet[KeyAccount]:
    """Key accounts by client name, with `has_power_point` annotated."""
    accounts = key_accounts_visible_to(viewer).select_related("client", "owner", "stage")
    for word in query.split():
        accounts = accounts.filter(client__name__icontains=word)
    return accounts.annotate(
        has_power_point=Exists(
            Stakeholder.objects.filter(key_account_id=OuterRef("pk"), role=Stakeholder.Role.POWER)
        )
    ).order_by("client__name", "id")


def open_deal_totals(*, viewer: Any, client_ids: list[int]) -> dict[int, dict[str, Decimal]]:
    """{client id: {currency: sum of the open deals the viewer may see}} in one query."""
    rows = (
        deals_visible_to(viewer)
        .filter(client_id__in=client_ids, stage__kind=Stage.Kind.OPEN)
        .order_by()
        .values_list("client_id", "currency")
        .annotate(total=Sum("amount"))
    )
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for client_id, currency, total in rows:
        totals[client_id][currency] = total
    return totals


# --- decision cycle and playbook ------------------------------------------------------


def decision_stages(*, viewer: Any, include_archived: bool = False) -> list[DecisionStage]:
    if not can_read_key_accounts(viewer):
        return []
    stages = DecisionStage.objects.all()
    if not include_archived:
        stages = stages.filter(is_archived=False)
    return list(stages.order_by("order", "id"))


def decision_stage_get(*, viewer: Any, stage_id: int) -> DecisionStage:
    if not can_read_key_accounts(viewer):
        raise NotFound(resource="decision stage", id=stage_id)
    try:
        return DecisionStage.objects.get(pk=stage_id)
    except (DecisionStage.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="decision stage", id=stage_id) from None


def playbook(*, viewer: Any, stage: DecisionStage | None = None) -> list[PlaybookAction]:
    if not can_read_key_accounts(viewer):
        return []
    actions = PlaybookAction.objects.select_related("stage").filter(stage__is_archived=False)
    if stage is not None:
        actions = actions.filter(stage_id=stage.pk)
    return list(actions.order_by("stage__order", "order", "id"))


def playbook_action_get(*, viewer: Any, action_id: int) -> PlaybookAction:
    if not can_read_key_accounts(viewer):
        raise NotFound(resource="playbook action", id=action_id)
    try:
        return PlaybookAction.objects.select_related("stage").get(pk=action_id)
    except (PlaybookAction.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="playbook action", id=action_id) from None


def stage_history(*, viewer: Any, key_account: KeyAccount) -> list[StageChange]:
    """The key account's moves through the decision cycle, oldest first."""
    if not key_accounts_visible_to(viewer).filter(pk=key_account.pk).exists():
        raise NotFound(resource="key account", id=key_account.pk)
    return list(
        StageChange.objects.filter(key_account_id=key_account.pk)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


# --- stakeholders ----------------------------------------------------------------------


def stakeholders_visible_to(viewer: Any) -> QuerySet[Stakeholder]:
    return Stakeholder.objects.filter(
        key_account_id__in=key_accounts_visible_to(viewer).values("pk")
    )


def stakeholder_get(*, viewer: Any, stakeholder_id: int) -> Stakeholder:
    try:
        return (
            stakeholders_visible_to(viewer)
            .select_related("person", "key_account")
            .get(pk=stakeholder_id)
        )
    except (Stakeholder.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="stakeholder", id=stakeholder_id) from None


def stakeholder_list(*, key_account: KeyAccount) -> list[Stakeholder]:
    """The stakeholders of a key account the caller has already read (through
    key_account_get), strongest influence first."""
    return list(
        Stakeholder.objects.filter(key_account_id=key_account.pk)
        .select_related("person")
        .order_by("-influence", "person__last_name", "id")
    )


@dataclass
class StakeholderMap:
    """The map of Tool 3: three lanes by role; a red flag when nobody is known to
    decide."""

    lanes: list[tuple[str, str, list[Stakeholder]]]
    has_power_point: bool
    missing_roles: list[str]
    people: list[Employment]  # the client's people, to add to the map


def stakeholder_map(*, key_account: KeyAccount) -> StakeholderMap:
    stakeholders = stakeholder_list(key_account=key_account)
    lanes = []
    missing = []
    for role in ROLES:
        members = [s for s in stakeholders if s.role == role]
        lanes.append((str(role), str(Stakeholder.Role(role).label), members))
        if not members:
            missing.append(str(role))
    people = list(
        Employment.objects.filter(
            organisation_id=key_account.client_id, person__deleted_at__isnull=True
        )
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "id")
    )
    return StakeholderMap(
        lanes=lanes,
        has_power_point=Stakeholder.Role.POWER not in missing,
        missing_roles=missing,
        people=people,
    )


# --- relationships and entry chains ----------------------------------------------------


def relationships_visible_to(viewer: Any) -> QuerySet[Relationship]:
    """The shared knowledge of who knows whom: all of it for anyone with key-accounts
    read access, nothing otherwise."""
    if not can_read_key_accounts(viewer):
        return Relationship.objects.none()
    return Relationship.objects.all()


def relationship_get(*, viewer: Any, relationship_id: int) -> Relationship:
    try:
        return (
            relationships_visible_to(viewer)
            .select_related("from_person", "from_user", "to_person")
            .get(pk=relationship_id)
        )
    except (Relationship.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="relationship", id=relationship_id) from None


def relationships_around(*, viewer: Any, key_account: KeyAccount) -> list[Relationship]:
    """Relationships that touch the client's people (either end)."""
    people = Employment.objects.filter(organisation_id=key_account.client_id).values("person_id")
    return list(
        relationships_visible_to(viewer)
        .filter(Q(to_person_id__in=people) | Q(from_person_id__in=people))
        .select_related("from_person", "from_user", "to_person")
        .order_by("-strength", "id")[:200]
    )


@dataclass
class ChainStep:
    label: str
    is_staff: bool
    is_hidden: bool = False
    person_id: int | None = None
    user_id: int | None = None
    # The link from the previous step to this one.
    kind: str = ""
    strength: int = 0


@dataclass
class Chain:
    measure: str  # "shortest" or "strongest"
    target: Stakeholder
    steps: list[ChainStep] = field(default_factory=list)

    @property
    def hops(self) -> int:
        return len(self.steps) - 1

    @property
    def strength(self) -> float:
        return chain_strength([s.strength for s in self.steps[1:]])

    @property
    def strength_percent(self) -> int:
        return round(self.strength * 100)


def entry_chains(
    *, viewer: Any, key_account: KeyAccount, limit: int = 3, using: str | None = None
) -> list[Chain]:
    """The best chains from our active staff to each power point of the key account
    (to the other stakeholders when no power point is known): for each target the
    `limit` shortest and `limit` strongest, each from a different colleague. People
    the viewer may not read are shown without their name."""
    if not key_accounts_visible_to(viewer).filter(pk=key_account.pk).exists():
        raise NotFound(resource="key account", id=key_account.pk)
    stakeholders = stakeholder_list(key_account=key_account)
    targets = [s for s in stakeholders if s.role == Stakeholder.Role.POWER] or stakeholders
    seen: set[int] = set()
    unique_targets = []
    for stakeholder in targets:
        if stakeholder.person_id not in seen:
            seen.add(stakeholder.person_id)
            unique_targets.append(stakeholder)
    if not unique_targets:
        return []
    graph = relationship_graph(using=using)
    User = get_user_model()
    staff = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    raw: list[tuple[str, Stakeholder, tuple[int, ...]]] = []
    for stakeholder in unique_targets[:3]:
        for measure in ("shortest", "strongest"):
            for chain in best_chains(
                graph,
                target=person_node(stakeholder.person_id),
                measure=measure,
                limit=limit,
                staff=staff,
            ):
                raw.append((measure, stakeholder, chain.nodes))
    return _label_chains(viewer, raw)


def _label_chains(viewer: Any, raw: list[tuple[str, Stakeholder, tuple[int, ...]]]) -> list[Chain]:
    person_ids = {n // 2 for _m, _s, nodes in raw for n in nodes if n % 2 == 0}
    user_ids = {n // 2 for _m, _s, nodes in raw for n in nodes if n % 2 == 1}
    User = get_user_model()
    people = {p.pk: p for p in Person.objects.filter(pk__in=person_ids)}
    visible = set(people_visible_to(viewer).filter(pk__in=person_ids).values_list("pk", flat=True))
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}
    # The strongest link between each pair of neighbours on any chain.
    links: dict[tuple[int, int], tuple[int, str]] = {}
    rows = Relationship.objects.filter(
        Q(to_person_id__in=person_ids)
        & (Q(from_person_id__in=person_ids) | Q(from_user_id__in=user_ids))
    ).values_list("from_person_id", "from_user_id", "to_person_id", "strength", "kind")
    for from_person, from_user, to_person, strength, kind in rows:
        a = from_person * 2 if from_person is not None else from_user * 2 + 1
        b = to_person * 2
        for pair in ((a, b), (b, a)):
            if pair not in links or links[pair][0] < strength:
                links[pair] = (strength, kind)
    kinds = dict(Relationship.Kind.choices)
    chains = []
    for measure, target, nodes in raw:
        chain = Chain(measure=measure, target=target)
        for i, node in enumerate(nodes):
            strength, kind = links.get((nodes[i - 1], node), (0, "")) if i else (0, "")
            if node % 2 == 1:
                user = users.get(node // 2)
                step = ChainStep(
                    label=str(user.get_full_name() or user.get_username()) if user else "?",
                    is_staff=True,
                    user_id=node // 2,
                )
            else:
                person = people.get(node // 2)
                hidden = person is None or person.pk not in visible
                step = ChainStep(
                    label="" if hidden else person.full_name,  # type: ignore[union-attr]
                    is_staff=False,
                    is_hidden=hidden,
                    person_id=None if hidden else node // 2,
                )
            step.kind, step.strength = str(kinds.get(kind, "")), strength
            chain.steps.append(step)
        chains.append(chain)
    return chains


# --- influence plan --------------------------------------------------------------------


def influence_actions_visible_to(viewer: Any) -> QuerySet[InfluenceAction]:
    return InfluenceAction.objects.filter(
        key_account_id__in=key_accounts_visible_to(viewer).values("pk")
    )


def influence_action_get(*, viewer: Any, action_id: int) -> InfluenceAction:
    try:
        return (
            influence_actions_visible_to(viewer)
            .select_related("task", "key_account", "stage", "deal")
            .get(pk=action_id)
        )
    except (InfluenceAction.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="influence action", id=action_id) from None


def influence_plan(*, key_account: KeyAccount, deal: Deal | None = None) -> list[InfluenceAction]:
    """The influence actions of a key account read by the caller, by due time."""
    actions = InfluenceAction.objects.filter(key_account_id=key_account.pk)
    if deal is not None:
        actions = actions.filter(deal_id=deal.pk)
    return list(
        actions.select_related("task", "task__assignee", "stage", "deal").order_by(
            "task__due_at", "id"
        )
    )


def key_account_deals(*, viewer: Any, key_account: KeyAccount) -> list[Deal]:
    return list(
        deals_visible_to(viewer)
        .filter(client_id=key_account.client_id)
        .select_related("stage", "owner")
        .order_by("-created_at", "-id")[:50]
    )


def open_tasks(*, key_account: KeyAccount) -> list[Task]:
    return list(
        Task.objects.filter(client_id=key_account.client_id, completed_at__isnull=True)
        .select_related("assignee")
        .order_by("due_at", "id")[:50]
    )


def task_is_overdue(task: Task, *, now: dt.datetime | None = None) -> bool:
    return task.completed_at is None and task.due_at < (now or timezone.now())
