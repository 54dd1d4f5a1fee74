"""Who sees and changes key accounts: the key-accounts area's scopes, the client's own
visibility, and the API endpoints scoped the same way."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from lavka.core.errors import NotFound, NotPermitted
from lavka.keyaccounts.models import KeyAccount, Stakeholder
from lavka.keyaccounts.selectors import key_account_get, key_accounts_visible_to
from lavka.keyaccounts.services import key_account_create, key_account_update, stakeholder_add
from tests.factories import ClientFactory


@pytest.fixture
def accounts(org, stages):
    def make(owner, name):
        return key_account_create(actor=owner, client=ClientFactory(owner=owner, name=name))

    return {
        "rep": make(org.rep, "Rep's"),
        "colleague": make(org.colleague, "Colleague's"),
        "north": make(org.north_rep, "North's"),
        "spb": make(org.spb_rep, "St Petersburg's"),
    }


def names(queryset):
    return sorted(a.client.name for a in queryset)


def test_a_rep_sees_their_own_key_accounts_only(org, accounts):
    assert names(key_accounts_visible_to(org.rep)) == ["Rep's"]


def test_a_manager_sees_their_team_and_the_teams_below(org, accounts):
    assert names(key_accounts_visible_to(org.manager)) == ["Colleague's", "North's", "Rep's"]


def test_an_administrator_and_an_analyst_see_all(org, accounts):
    assert len(key_accounts_visible_to(org.admin)) == 4
    assert len(key_accounts_visible_to(org.analyst)) == 4


def test_roles_without_the_area_see_none(org, accounts):
    assert names(key_accounts_visible_to(org.marketer)) == []
    assert names(key_accounts_visible_to(org.agent)) == []
    assert names(key_accounts_visible_to(org.nobody)) == []


def test_a_key_account_whose_client_the_viewer_cannot_read_is_hidden(org, accounts):
    # The sales boss reads key accounts of Sales and below but, with a client scope
    # narrowed to their own records, not the client.
    org.sales_boss.role.grants["clients"] = {"read": "own", "write": "own"}
    org.sales_boss.role.save()

    assert names(key_accounts_visible_to(org.sales_boss)) == []


def test_another_teams_key_account_is_not_found(org, accounts):
    with pytest.raises(NotFound):
        key_account_get(viewer=org.manager, key_account_id=accounts["spb"].pk)
    with pytest.raises(NotFound):
        key_account_update(actor=org.manager, key_account=accounts["spb"], notes="Mine now")

    accounts["spb"].refresh_from_db()
    assert accounts["spb"].notes == ""


def test_an_analyst_reads_but_does_not_change(org, accounts):
    assert key_account_get(viewer=org.analyst, key_account_id=accounts["rep"].pk)
    with pytest.raises(NotPermitted):
        key_account_update(actor=org.analyst, key_account=accounts["rep"], notes="x")


def test_the_manager_edits_a_reps_key_account(org, accounts):
    key_account_update(actor=org.manager, key_account=accounts["rep"], owner=org.colleague)

    accounts["rep"].refresh_from_db()
    assert accounts["rep"].owner == org.colleague


# --- the API ----------------------------------------------------------------------------


def api(user):
    http = HttpClient()
    http.force_login(user)
    return http


def test_the_api_lists_what_the_ui_lists(org, accounts):
    body = api(org.manager).get("/api/v1/key-accounts").json()

    assert body["count"] == 3
    assert sorted(item["client_name"] for item in body["items"]) == [
        "Colleague's",
        "North's",
        "Rep's",
    ]
    assert {item["has_power_point"] for item in body["items"]} == {False}


def test_the_api_hides_another_teams_key_account(org, accounts):
    response = api(org.rep).get(f"/api/v1/key-accounts/{accounts['spb'].pk}")

    assert response.status_code == 404


def test_the_api_creates_a_key_account_and_maps_a_stakeholder(org, stages):
    client = ClientFactory(owner=org.rep, name="Lotos")
    from lavka.clients.services.blocks import person_create

    boss = person_create(actor=org.rep, first_name="Ivan", last_name="Lotov", organisation=client)
    http = api(org.rep)

    created = http.post(
        "/api/v1/key-accounts", json.dumps({"client_id": client.pk}), "application/json"
    )
    account_id = created.json()["id"]
    mapped = http.post(
        f"/api/v1/key-accounts/{account_id}/stakeholders",
        json.dumps({"person_id": boss.pk, "role": "power", "influence": 5}),
        "application/json",
    )
    after = http.get(f"/api/v1/key-accounts/{account_id}").json()

    assert created.status_code == 201
    assert mapped.status_code == 201
    assert mapped.json()["person_name"] == "Ivan Lotov"
    assert after["has_power_point"] is True
    assert after["stage_name"] == stages[0].name


def test_the_api_refuses_a_bad_stakeholder_naming_the_field(org, accounts):
    response = api(org.rep).post(
        f"/api/v1/key-accounts/{accounts['rep'].pk}/stakeholders",
        json.dumps({"person_id": 999999, "role": "power"}),
        "application/json",
    )

    assert response.status_code == 422
    assert "person_id" in response.json()["fields"]
    assert not Stakeholder.objects.exists()


def test_the_api_moves_the_stage_with_a_note(org, accounts, stages):
    http = api(org.rep)

    response = http.post(
        f"/api/v1/key-accounts/{accounts['rep'].pk}/stage",
        json.dumps({"stage_id": stages[1].pk, "note": "Asked for options"}),
        "application/json",
    )
    history = http.get(f"/api/v1/key-accounts/{accounts['rep'].pk}/stage-history").json()

    assert response.json()["stage_id"] == stages[1].pk
    assert [h["note"] for h in history] == ["", "Asked for options"]


def test_the_api_refuses_a_change_to_a_readers_key_account(org, accounts):
    response = api(org.analyst).patch(
        f"/api/v1/key-accounts/{accounts['rep'].pk}",
        json.dumps({"notes": "x"}),
        "application/json",
    )

    assert response.status_code == 403
    assert KeyAccount.objects.get(pk=accounts["rep"].pk).notes == ""


def test_the_api_shows_entry_chains_and_plans_the_playbook(romashka, org):
    from lavka.keyaccounts.services import relationship_create

    p = romashka.people
    stakeholder_add(actor=org.rep, key_account=romashka.account, person=p.vera, role="power")
    relationship_create(actor=org.rep, from_user=org.colleague, to_person=p.vera, strength=4)
    http = api(org.rep)

    chains = http.get(f"/api/v1/key-accounts/{romashka.account.pk}/entry-chains").json()
    planned = http.post(
        f"/api/v1/key-accounts/{romashka.account.pk}/influence-plan",
        json.dumps({"deal_id": romashka.deal.pk}),
        "application/json",
    )
    done = http.post(
        f"/api/v1/influence-actions/{planned.json()[0]['id']}/complete",
        json.dumps({"effect": "Agreed a meeting"}),
        "application/json",
    )

    assert [(c["measure"], c["hops"]) for c in chains] == [("shortest", 1), ("strongest", 1)]
    assert chains[0]["steps"][0]["user_id"] == org.colleague.pk
    assert planned.status_code == 201
    assert done.json()["effect"] == "Agreed a meeting"
    assert done.json()["completed_at"] is not None


def test_the_endpoints_are_in_the_api_schema(org, stages):
    paths = api(org.rep).get("/api/v1/openapi.json").json()["paths"]

    for path in (
        "/api/v1/key-accounts",
        "/api/v1/key-accounts/{key_account_id}",
        "/api/v1/key-accounts/{key_account_id}/stakeholders",
        "/api/v1/relationships",
        "/api/v1/key-accounts/{key_account_id}/entry-chains",
        "/api/v1/decision-stages",
        "/api/v1/playbook",
    ):
        assert path in paths, path
