"""The key-accounts pages: the list, one key account's page with its forms, the
printable report and dossier, the settings; what they show and how many queries
they read."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from lavka.keyaccounts.models import KeyAccount, Relationship, Stakeholder
from lavka.keyaccounts.services import relationship_create, stakeholder_add
from tests.factories import ClientFactory

# Measured for a rep (a manager's team scope adds their team tree): session, user,
# key accounts with the power-point flag, open deal sums, clients to mark as key,
# managers for the select, unread notifications.
LIST_QUERIES = 7
# session, user, the key account, deals, the chain graph's version (the arrays only when
# it changed), active staff, chain names and links; stages, history, the map and the
# client's people, people for the forms, relationships, colleagues, the plan, the
# playbook, unread notifications. Whatever the number of stakeholders or chains.
SHOW_QUERIES = 23


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def test_the_list_shows_manager_stage_power_point_and_open_amount(
    romashka, org, django_assert_max_num_queries
):
    for i in range(5):
        from lavka.keyaccounts.services import key_account_create

        key_account_create(actor=org.rep, client=ClientFactory(owner=org.rep, name=f"Extra {i}"))
    http = logged_in(org.rep)

    with django_assert_max_num_queries(LIST_QUERIES):
        response = http.get("/keyaccounts/")

    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index(f'data-testid="key-account-{romashka.account.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Romashka LLC" in row
    assert "Need recognised" in row
    assert "unknown" in row
    assert "1,200,000.00" in row


def test_a_client_is_made_key_from_the_list(org, stages):
    client = ClientFactory(owner=org.rep, name="Lotos")

    response = logged_in(org.rep).post("/keyaccounts/", {"client": client.pk})

    account = KeyAccount.objects.get(client=client)
    assert response.status_code == 302
    assert response["Location"] == f"/keyaccounts/{account.pk}/"


def test_making_a_client_key_twice_says_so_next_to_the_field(romashka, org):
    response = logged_in(org.rep).post("/keyaccounts/", {"client": romashka.client.pk})

    assert response.status_code == 422
    assert "This client is already a key account." in response.content.decode()


def test_the_area_is_closed_to_roles_without_it(org, stages):
    assert logged_in(org.marketer).get("/keyaccounts/").status_code == 403


def test_the_page_shows_the_map_and_a_chain(romashka, org, django_assert_max_num_queries):
    p = romashka.people
    stakeholder_add(actor=org.rep, key_account=romashka.account, person=p.vera, role="power")
    relationship_create(actor=org.rep, from_user=org.colleague, to_person=p.anna, strength=5)
    relationship_create(actor=org.rep, from_person=p.anna, to_person=p.vera, strength=4)
    http = logged_in(org.rep)
    http.get(f"/keyaccounts/{romashka.account.pk}/")  # the graph is built once

    with django_assert_max_num_queries(SHOW_QUERIES):
        response = http.get(f"/keyaccounts/{romashka.account.pk}/")

    html = response.content.decode()
    lane = html[html.index('data-testid="lane-power"') :]
    assert "Vera Smirnova" in lane[: lane.index("</div>")]
    chains = html[html.index('data-testid="chains-strongest"') :]
    assert org.colleague.get_full_name() in chains
    assert "Red flag" not in html


def test_the_stakeholder_form_adds_a_person_and_refuses_a_bad_level(romashka, org):
    http = logged_in(org.rep)
    url = f"/keyaccounts/{romashka.account.pk}/stakeholders/"

    ok = http.post(url, {"person": romashka.people.vera.pk, "role": "power", "influence": 5})
    bad = http.post(url, {"person": romashka.people.anna.pk, "role": "entry", "influence": 9})

    assert ok.status_code == 302
    assert bad.status_code == 422
    assert "Choose a level from 1 to 5." in bad.content.decode()
    assert list(Stakeholder.objects.values_list("role", "influence")) == [("power", 5)]


def test_the_stage_form_moves_the_cycle(romashka, org, stages):
    response = logged_in(org.rep).post(
        f"/keyaccounts/{romashka.account.pk}/stage/", {"stage": stages[1].pk, "note": "RFP"}
    )

    romashka.account.refresh_from_db()
    assert response.status_code == 302
    assert romashka.account.stage == stages[1]


def test_the_relationship_form_records_a_colleague(romashka, org):
    response = logged_in(org.rep).post(
        f"/keyaccounts/{romashka.account.pk}/relationships/",
        {
            "source": f"user:{org.colleague.pk}",
            "to_person": romashka.people.anna.pk,
            "kind": "knows",
            "strength": 4,
        },
    )

    assert response.status_code == 302
    assert Relationship.objects.get().from_user == org.colleague


def test_the_plan_form_plans_tasks_and_the_effect_is_saved(romashka, org):
    http = logged_in(org.rep)
    http.post(f"/keyaccounts/{romashka.account.pk}/plan/", {"deal": romashka.deal.pk})
    action = romashka.account.influence_actions.order_by("id").first()

    http.post(
        f"/keyaccounts/{romashka.account.pk}/plan/{action.pk}/done/", {"effect": "Met the CEO"}
    )

    action.refresh_from_db()
    assert action.effect == "Met the CEO"
    page = http.get(f"/keyaccounts/{romashka.account.pk}/").content.decode()
    assert "Met the CEO" in page


@pytest.mark.parametrize("page", ["report/", "dossier/"])
def test_the_printable_pages_render(romashka, org, page):
    response = logged_in(org.rep).get(f"/keyaccounts/{romashka.account.pk}/{page}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Red flag: no power point is known." in html
    assert "Romashka LLC" in html


def test_an_administrator_adds_a_playbook_action_and_a_rep_cannot(org, stages):
    admin = logged_in(org.admin)
    admin.post(
        "/keyaccounts/settings/",
        {
            "op": "action_add",
            "stage": stages[0].pk,
            "title": "Lunch",
            "kind": "meeting",
            "due_in_days": 2,
        },
    )
    denied = logged_in(org.rep).post("/keyaccounts/settings/", {"op": "stage_add", "name": "Mine"})

    assert stages[0].playbook_actions.filter(title="Lunch").exists()
    assert denied.status_code == 403
    assert "Lunch" in logged_in(org.rep).get("/keyaccounts/settings/").content.decode()
