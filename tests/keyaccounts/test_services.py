"""Key accounts: the designation, the decision cycle with its history, the stakeholder
map, the influence plan as tasks, and the settings of the cycle."""

from __future__ import annotations

import datetime as dt

import pytest

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.clients.models import Task
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
from lavka.keyaccounts.services import (
    decision_stage_create,
    decision_stage_update,
    influence_action_complete,
    influence_plan_apply,
    key_account_create,
    key_account_set_stage,
    key_account_update,
    playbook_action_create,
    relationship_create,
    stakeholder_add,
    stakeholder_update,
)
from tests.factories import ClientFactory


def test_the_default_decision_cycle_has_six_stages_each_with_a_playbook(stages):
    assert len(stages) == 6
    assert all(PlaybookAction.objects.filter(stage=s).exists() for s in stages)


def test_a_rep_makes_their_client_a_key_account_at_the_first_stage(org, stages):
    client = ClientFactory(owner=org.rep, name="Lotos")

    account = key_account_create(actor=org.rep, client=client)

    assert (account.owner, account.team, account.stage) == (org.rep, org.moscow, stages[0])
    history = list(StageChange.objects.filter(key_account=account))
    assert [(h.from_stage, h.to_stage, h.changed_by) for h in history] == [
        (None, stages[0], org.rep)
    ]
    assert (
        AuditEvent.objects.filter(
            content_type__model="keyaccount", object_id=str(account.pk), action="create"
        ).count()
        == 1
    )
    assert OutboxEvent.objects.filter(kind="key_account.created").count() == 1


def test_a_client_is_a_key_account_only_once(romashka, org):
    with pytest.raises(ValidationFailed) as error:
        key_account_create(actor=org.rep, client=romashka.client)

    assert "client" in error.value.fields
    assert KeyAccount.objects.filter(client=romashka.client).count() == 1


def test_a_client_the_actor_cannot_see_is_not_found(org, stages):
    spb_client = ClientFactory(owner=org.spb_rep)

    with pytest.raises(NotFound):
        key_account_create(actor=org.rep, client=spb_client)
    assert not KeyAccount.objects.exists()


def test_a_role_without_key_account_access_cannot_make_one(org, stages):
    client = ClientFactory(owner=org.rep)

    with pytest.raises(NotPermitted):
        key_account_create(actor=org.marketer, client=client)
    assert not KeyAccount.objects.exists()


def test_a_rep_cannot_hand_a_key_account_to_a_colleague(org, stages):
    client = ClientFactory(owner=org.rep)

    with pytest.raises(ValidationFailed) as error:
        key_account_create(actor=org.rep, client=client, manager=org.colleague)

    assert "manager" in error.value.fields


def test_a_manager_hands_a_key_account_to_a_rep_of_the_team(org, stages):
    client = ClientFactory(owner=org.rep)

    account = key_account_create(actor=org.manager, client=client, manager=org.rep)

    assert account.owner == org.rep


def test_moving_the_decision_stage_keeps_who_when_and_why(romashka, org, stages):
    key_account_set_stage(
        actor=org.rep, key_account=romashka.account, stage=stages[2], note="Shortlisted us"
    )

    romashka.account.refresh_from_db()
    assert romashka.account.stage == stages[2]
    last = StageChange.objects.filter(key_account=romashka.account).latest("id")
    assert (last.from_stage, last.to_stage, last.changed_by, last.note) == (
        stages[0],
        stages[2],
        org.rep,
        "Shortlisted us",
    )


def test_a_reader_cannot_move_the_stage(romashka, org, stages):
    with pytest.raises(NotPermitted):
        key_account_set_stage(actor=org.analyst, key_account=romashka.account, stage=stages[3])

    romashka.account.refresh_from_db()
    assert romashka.account.stage == stages[0]


def test_risks_and_notes_are_updated_with_an_audit_trail(romashka, org):
    key_account_update(actor=org.rep, key_account=romashka.account, risks="Budget cut\nA rival")

    romashka.account.refresh_from_db()
    assert romashka.account.risks == "Budget cut\nA rival"
    event = AuditEvent.objects.filter(
        content_type__model="keyaccount", object_id=str(romashka.account.pk), action="update"
    ).get()
    assert event.changes["risks"] == ["", "Budget cut\nA rival"]


# --- the stakeholder map ----------------------------------------------------------------


def test_the_three_points_go_on_the_map(romashka, org):
    p = romashka.people
    stakeholder_add(actor=org.rep, key_account=romashka.account, person=p.anna, role="entry")
    stakeholder_add(
        actor=org.rep,
        key_account=romashka.account,
        person=p.boris,
        role="dissatisfaction",
        pain="Late deliveries",
        help="Next-day delivery",
        attitude="supporter",
    )
    stakeholder_add(
        actor=org.rep, key_account=romashka.account, person=p.vera, role="power", influence=5
    )

    rows = Stakeholder.objects.filter(key_account=romashka.account).order_by("id")
    assert [(s.person, s.role, s.influence, s.attitude) for s in rows] == [
        (p.anna, "entry", 3, "neutral"),
        (p.boris, "dissatisfaction", 3, "supporter"),
        (p.vera, "power", 5, "neutral"),
    ]
    assert rows[1].pain == "Late deliveries"


def test_a_person_of_another_client_cannot_be_on_the_map(romashka, org):
    other = ClientFactory(owner=org.rep)
    from lavka.clients.services.blocks import person_create

    outsider = person_create(actor=org.rep, first_name="Oleg", organisation=other)

    with pytest.raises(ValidationFailed) as error:
        stakeholder_add(actor=org.rep, key_account=romashka.account, person=outsider, role="power")

    assert "person" in error.value.fields
    assert not Stakeholder.objects.exists()


def test_influence_must_be_from_one_to_five_and_the_role_known(romashka, org):
    with pytest.raises(ValidationFailed) as error:
        stakeholder_add(
            actor=org.rep,
            key_account=romashka.account,
            person=romashka.people.anna,
            role="boss",
            influence=9,
        )

    assert set(error.value.fields) == {"role", "influence"}


def test_the_same_person_cannot_hold_the_same_role_twice(romashka, org):
    stakeholder_add(
        actor=org.rep, key_account=romashka.account, person=romashka.people.vera, role="power"
    )

    with pytest.raises(ValidationFailed) as error:
        stakeholder_add(
            actor=org.rep, key_account=romashka.account, person=romashka.people.vera, role="power"
        )

    assert "role" in error.value.fields


def test_a_stakeholder_turns_into_a_supporter(romashka, org):
    s = stakeholder_add(
        actor=org.rep, key_account=romashka.account, person=romashka.people.gleb, role="power"
    )

    stakeholder_update(actor=org.rep, stakeholder=s, attitude="supporter", influence=4)

    s.refresh_from_db()
    assert (s.attitude, s.influence) == ("supporter", 4)


def test_a_colleague_cannot_edit_someone_elses_map(romashka, org):
    with pytest.raises(NotFound):
        stakeholder_add(
            actor=org.spb_rep,
            key_account=romashka.account,
            person=romashka.people.vera,
            role="power",
        )
    assert not Stakeholder.objects.exists()


# --- relationships ----------------------------------------------------------------------


def test_a_relationship_needs_exactly_one_source(romashka, org):
    with pytest.raises(ValidationFailed) as error:
        relationship_create(
            actor=org.rep,
            from_person=romashka.people.anna,
            from_user=org.rep,
            to_person=romashka.people.vera,
        )
    assert "from_person" in error.value.fields

    with pytest.raises(ValidationFailed) as error:
        relationship_create(
            actor=org.rep, from_person=romashka.people.anna, to_person=romashka.people.anna
        )
    assert "to_person" in error.value.fields
    assert not Relationship.objects.exists()


def test_a_colleague_knows_a_person(romashka, org):
    r = relationship_create(
        actor=org.rep,
        from_user=org.colleague,
        to_person=romashka.people.anna,
        kind="worked_together",
        strength=4,
    )

    assert (r.from_user, r.to_person, r.kind, r.strength, r.created_by) == (
        org.colleague,
        romashka.people.anna,
        "worked_together",
        4,
        org.rep,
    )


def test_a_role_without_key_account_access_records_no_relationship(romashka, org):
    with pytest.raises(NotPermitted):
        relationship_create(actor=org.agent, from_user=org.agent, to_person=romashka.people.anna)


# --- the influence plan -----------------------------------------------------------------


def test_the_playbook_of_the_stage_becomes_tasks_for_the_deal(romashka, org, stages):
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    playbook = list(PlaybookAction.objects.filter(stage=stages[0]).order_by("order"))

    actions = influence_plan_apply(
        actor=org.rep, key_account=romashka.account, deal=romashka.deal, now=now
    )

    assert [a.task.title for a in actions] == [p.title for p in playbook]
    tasks = Task.objects.filter(client=romashka.client).order_by("due_at")
    assert [(t.assignee, t.due_at) for t in tasks] == [
        (org.rep, now + dt.timedelta(days=p.due_in_days)) for p in playbook
    ]
    assert all(a.deal == romashka.deal for a in actions)


def test_planning_the_same_stage_twice_adds_no_duplicate_tasks(romashka, org):
    influence_plan_apply(actor=org.rep, key_account=romashka.account, deal=romashka.deal)

    again = influence_plan_apply(actor=org.rep, key_account=romashka.account, deal=romashka.deal)

    assert again == []
    assert Task.objects.filter(client=romashka.client).count() == InfluenceAction.objects.count()


def test_a_done_action_keeps_what_was_done_and_its_effect(romashka, org):
    action = influence_plan_apply(actor=org.rep, key_account=romashka.account)[0]

    influence_action_complete(
        actor=org.rep, action=action, effect="Met Anna; she will introduce us to the CEO"
    )

    action.refresh_from_db()
    action.task.refresh_from_db()
    assert action.effect == "Met Anna; she will introduce us to the CEO"
    assert action.task.completed_at is not None


def test_completing_without_saying_the_effect_is_refused(romashka, org):
    action = influence_plan_apply(actor=org.rep, key_account=romashka.account)[0]

    with pytest.raises(ValidationFailed) as error:
        influence_action_complete(actor=org.rep, action=action, effect="  ")

    assert "effect" in error.value.fields
    action.task.refresh_from_db()
    assert action.task.completed_at is None


def test_a_deal_of_another_client_cannot_carry_the_plan(romashka, org):
    from lavka.sales.services import deal_create

    other = deal_create(actor=org.rep, client=ClientFactory(owner=org.rep), title="Other")

    with pytest.raises(ValidationFailed) as error:
        influence_plan_apply(actor=org.rep, key_account=romashka.account, deal=other)

    assert "deal" in error.value.fields
    assert not Task.objects.exists()


# --- settings ---------------------------------------------------------------------------


def test_an_administrator_edits_the_cycle_and_its_playbook(org, stages):
    stage = decision_stage_create(actor=org.admin, name="Renewal")
    action = playbook_action_create(
        actor=org.admin, stage=stage, title="Ask for feedback", kind="call", due_in_days=3
    )
    decision_stage_update(actor=org.admin, stage=stages[0], name="Need")

    assert list(DecisionStage.objects.order_by("order").values_list("name", flat=True))[-1] == (
        "Renewal"
    )
    assert (action.stage, action.kind, action.due_in_days) == (stage, "call", 3)
    stages[0].refresh_from_db()
    assert stages[0].name == "Need"


def test_a_rep_cannot_edit_the_cycle(org, stages):
    with pytest.raises(NotPermitted):
        decision_stage_create(actor=org.rep, name="Mine")
    with pytest.raises(NotPermitted):
        decision_stage_update(actor=org.rep, stage=stages[0], name="Mine")

    assert DecisionStage.objects.count() == 6
    stages[0].refresh_from_db()
    assert stages[0].name != "Mine"


def test_the_last_stage_cannot_be_archived(org, stages):
    for stage in stages[1:]:
        decision_stage_update(actor=org.admin, stage=stage, is_archived=True)

    with pytest.raises(ValidationFailed):
        decision_stage_update(actor=org.admin, stage=stages[0], is_archived=True)
