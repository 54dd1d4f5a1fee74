"""On a key account: fill the stakeholder map with the three points (the red flag goes
away), see the entry chain from a colleague to the power point, generate the deal
status report and the dossier as PDF and read their text."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from lavka.clients.services import client_create
from lavka.clients.services.blocks import person_create
from lavka.keyaccounts.models import DecisionStage, PlaybookAction, Stakeholder
from lavka.keyaccounts.services import key_account_create, relationship_create
from lavka.sales.models import Pipeline, Stage
from lavka.sales.services import deal_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role

PASSWORD = "key-pass-2026"


def pdf_text(path: str) -> str:
    reader = pypdf.PdfReader(io.BytesIO(Path(path).read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def add_to_map(page, person: str, role_value: str, influence: str, attitude: str) -> None:
    page.select_option("#sh-person", label=person)
    page.select_option("#sh-role", role_value)
    page.fill("#sh-influence", influence)
    page.select_option("#sh-attitude", attitude)
    page.click("[data-testid=stakeholder-add]")
    page.wait_for_selector(f"[data-testid=lane-{role_value}] >> text={person.split(' · ')[0]}")


def test_map_the_three_points_find_a_chain_and_download_the_reports(browser):
    team = TeamFactory(name="Key accounts")
    rep = UserFactory(
        username="karep", first_name="Kira", last_name="Reps", team=team, role=role("sales_rep")
    )
    rep.set_password(PASSWORD)
    rep.save()
    colleague = UserFactory(
        username="kacolleague", first_name="Pavel", last_name="Sidorov", team=team
    )
    # A transactional test after another one starts without the migrations' data.
    if not DecisionStage.objects.exists():
        need = DecisionStage.objects.create(name="Need recognised", order=10)
        DecisionStage.objects.create(name="Decision", order=20)
        PlaybookAction.objects.create(stage=need, title="Meet the entry point", order=10)
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Sales", is_default=True, order=0)
    for order, (name, kind, p) in enumerate(
        [("Proposal", "open", 40), ("Won", "won", 100), ("Lost", "lost", 0)]
    ):
        Stage.objects.create(pipeline=pipeline, name=name, kind=kind, probability=p, order=order)
    client = client_create(actor=rep, kind="organisation", name="Romashka LLC")
    anna = person_create(
        actor=rep, first_name="Anna", last_name="Petrova", organisation=client, job_title="Buyer"
    )
    person_create(
        actor=rep, first_name="Boris", last_name="Ivanov", organisation=client, job_title="COO"
    )
    vera = person_create(
        actor=rep, first_name="Vera", last_name="Smirnova", organisation=client, job_title="CEO"
    )
    account = key_account_create(actor=rep, client=client)
    deal_create(actor=rep, client=client, title="Supply 2027", amount="1200000")
    relationship_create(
        actor=rep, from_user=colleague, to_person=anna, kind="worked_together", strength=5
    )
    relationship_create(actor=rep, from_person=anna, to_person=vera, strength=4)

    page = browser.new_page()
    log_in(page, "karep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto("/keyaccounts/")
    page.click("text=Romashka LLC")
    page.wait_for_selector("[data-testid=key-account-title]")
    assert page.is_visible("[data-testid=power-flag]")
    screenshot(page, "keyaccounts-empty-map-en")

    add_to_map(page, "Anna Petrova · Buyer", "entry", "2", "supporter")
    add_to_map(page, "Boris Ivanov · COO", "dissatisfaction", "3", "neutral")
    add_to_map(page, "Vera Smirnova · CEO", "power", "5", "opponent")

    assert not page.is_visible("[data-testid=power-flag]")
    assert Stakeholder.objects.filter(key_account=account).count() == 3
    chain = page.inner_text("[data-testid=chains-strongest] [data-testid=chain]")
    assert "Pavel Sidorov" in chain
    assert chain.index("Pavel Sidorov") < chain.index("Anna Petrova") < chain.index("Vera Smirnova")
    screenshot(page, "keyaccounts-map-and-chain-en")

    page.click("[data-testid=report-link]")
    page.wait_for_selector("[data-testid=deal-report]")
    screenshot(page, "keyaccounts-report-en")
    with page.expect_download() as download:
        page.click("[data-testid=report-pdf]")
    report = pdf_text(download.value.path())
    for expected in (
        "Deal status report",
        "Romashka LLC · Supply 2027",
        "Vera Smirnova",
        "Power point",
        "The power point Vera Smirnova is against us.",
        "Need recognised",
    ):
        assert expected in report, expected

    page.goto(f"/keyaccounts/{account.pk}/dossier/")
    page.wait_for_selector("[data-testid=dossier]")
    screenshot(page, "keyaccounts-dossier-en")
    with page.expect_download() as download:
        page.click("[data-testid=dossier-pdf]")
    dossier = pdf_text(download.value.path())
    for expected in ("Key-client dossier", "Romashka LLC", "Anna Petrova", "Supply 2027"):
        assert expected in dossier, expected

    narrow = browser.new_page(width=390, height=844)
    log_in(narrow, "karep", PASSWORD)
    narrow.goto(f"/keyaccounts/{account.pk}/")
    screenshot(narrow, "keyaccounts-map-narrow")
