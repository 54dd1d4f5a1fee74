"""The deal status report and the key-client dossier: their content from the data,
the red flag, and the PDFs (their text read back with pypdf)."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
from django.test import Client as HttpClient

from lavka.clients.services.blocks import contract_create
from lavka.clients.services.timeline import task_create
from lavka.keyaccounts.reports import deal_status_report, dossier
from lavka.keyaccounts.services import (
    influence_action_complete,
    influence_plan_apply,
    key_account_set_stage,
    key_account_update,
    stakeholder_add,
)


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def map_three_points(romashka, org):
    p = romashka.people
    stakeholder_add(actor=org.rep, key_account=romashka.account, person=p.anna, role="entry")
    stakeholder_add(
        actor=org.rep,
        key_account=romashka.account,
        person=p.boris,
        role="dissatisfaction",
        pain="Late deliveries",
        help="Next-day delivery",
    )
    stakeholder_add(
        actor=org.rep,
        key_account=romashka.account,
        person=p.vera,
        role="power",
        influence=5,
        attitude="opponent",
    )


def test_without_a_power_point_the_report_raises_the_red_flag(romashka, org):
    report = deal_status_report(viewer=org.rep, key_account=romashka.account)

    assert report.has_power_point is False
    assert report.risks[0] == "No power point is known: nobody who decides has been found."
    assert report.map.missing_roles == ["entry", "dissatisfaction", "power"]


def test_the_report_gathers_stage_stakeholders_risks_next_steps_and_money(romashka, org, stages):
    map_three_points(romashka, org)
    key_account_set_stage(
        actor=org.rep, key_account=romashka.account, stage=stages[3], note="Price objection"
    )
    key_account_update(actor=org.rep, key_account=romashka.account, risks="A rival offers -10%")
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    task_create(actor=org.rep, client=romashka.client, title="Call Vera", due_at=past)

    report = deal_status_report(viewer=org.rep, key_account=romashka.account)

    assert report.deal == romashka.deal
    assert report.has_power_point is True
    assert report.map.missing_roles == []
    assert report.risks == [
        "The power point Vera Smirnova is against us.",
        "Overdue next steps: 1.",
        "A rival offers -10%",
    ]
    assert [t.title for t in report.open_tasks] == ["Call Vera"]
    assert [s.to_stage for s in report.stage_history] == [stages[0], stages[3]]
    assert str(report.weighted_amount) == "480000.00"


def test_the_report_pdf_reads_back_with_its_facts(romashka, org, stages):
    map_three_points(romashka, org)
    action = influence_plan_apply(actor=org.rep, key_account=romashka.account, deal=romashka.deal)[
        0
    ]
    influence_action_complete(actor=org.rep, action=action, effect="Anna told us the budget")

    response = logged_in(org.rep).get(f"/keyaccounts/{romashka.account.pk}/report.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "Deal status report",
        "Romashka LLC · Supply 2027",
        "Vera Smirnova",
        "Power point",
        "Late deliveries / Next-day delivery",
        "40%",
        "The power point Vera Smirnova is against us.",
        "Anna told us the budget",
        stages[0].name,
    ):
        assert expected in text, expected
    assert "Red flag" not in text


def test_the_report_pdf_shows_the_red_flag(romashka, org):
    response = logged_in(org.rep).get(f"/keyaccounts/{romashka.account.pk}/report.pdf")

    assert "Red flag: no power point is known." in pdf_text(response.content)


def test_the_report_of_another_teams_key_account_is_not_found(romashka, org):
    assert (
        logged_in(org.spb_rep).get(f"/keyaccounts/{romashka.account.pk}/report.pdf").status_code
        == 404
    )
    assert (
        logged_in(org.spb_rep).get(f"/keyaccounts/{romashka.account.pk}/dossier/").status_code
        == 404
    )


def test_the_dossier_gathers_the_four_blocks_people_deals_and_tasks(romashka, org):
    map_three_points(romashka, org)
    contract_create(actor=org.rep, client=romashka.client, number="D-17", subject="Supply")
    task_create(
        actor=org.rep,
        client=romashka.client,
        title="Send the contract",
        due_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )

    data = dossier(viewer=org.rep, key_account=romashka.account)

    assert [c.number for c in data.card.contracts] == ["D-17"]
    assert [d.title for d in data.deals] == ["Supply 2027"]
    assert [t.title for t in data.open_tasks] == ["Send the contract"]
    assert data.map.has_power_point is True


def test_the_dossier_pdf_reads_back_with_its_blocks(romashka, org):
    map_three_points(romashka, org)
    contract_create(actor=org.rep, client=romashka.client, number="D-17", subject="Supply")

    response = logged_in(org.rep).get(f"/keyaccounts/{romashka.account.pk}/dossier.pdf")

    text = pdf_text(response.content)
    for expected in (
        "Key-client dossier",
        "Romashka LLC",
        "Addresses",
        "Contacts",
        "Commercial",
        "Contracts",
        "D-17",
        "Personal details",
        "Anna Petrova",
        "Supply 2027",
        "Open tasks",
    ):
        assert expected in text, expected


def test_the_dossier_pdf_keeps_cyrillic_names(romashka, org):
    romashka.client.name = "ООО «Ромашка»"
    romashka.client.save(update_fields=["name"])

    response = logged_in(org.rep).get(f"/keyaccounts/{romashka.account.pk}/dossier.pdf")

    assert "ООО «Ромашка»" in pdf_text(response.content)
