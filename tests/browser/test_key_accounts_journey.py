"""The key-account journey of issue 4 as the key account manager walks it: mark a
client as key from the key accounts page; see it in the list with no power point
known; move the client's decision cycle on; put the entry, dissatisfaction and power
points on the map; record who knows whom and see the chain from a colleague to the
power point; plan the stage's playbook as tasks on the deal and report one done;
write the risks; the list now knows the power point; the deal status report and the
dossier show and download as PDF with the client's name, the map, the plan, all the
client's purchases and its analytics scores."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pypdf
from django.utils import timezone

from lavka.analytics.models import ClientScore, ComputeRun
from lavka.clients.services import client_create
from lavka.clients.services.blocks import person_create
from lavka.keyaccounts.models import (
    DecisionStage,
    InfluenceAction,
    KeyAccount,
    PlaybookAction,
    Relationship,
)
from lavka.sales.models import Order, Pipeline, Stage
from lavka.sales.services import deal_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role

PASSWORD = "ka-journey-2026"


def pdf_text(path: str) -> str:
    """The PDF's words, one space apart (a long label wraps in its column)."""
    reader = pypdf.PdfReader(io.BytesIO(Path(path).read_bytes()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def add_to_map(page, person: str, role_value: str, influence: str, attitude: str, **more):
    page.select_option("#sh-person", label=person)
    page.select_option("#sh-role", role_value)
    page.fill("#sh-influence", influence)
    page.select_option("#sh-attitude", attitude)
    for field, value in more.items():
        page.fill(f"#sh-{field}", value)
    page.click("[data-testid=stakeholder-add]")
    page.wait_for_selector(f"[data-testid=lane-{role_value}] >> text={person.split(' · ')[0]}")


def know(page, source: str, kind: str, whom: str, strength: str) -> None:
    page.select_option("#rel-source", label=source)
    page.select_option("#rel-kind", kind)
    page.select_option("#rel-to", label=whom)
    page.fill("#rel-strength", strength)
    page.click("[data-testid=relationship-add]")
    page.wait_for_selector(f"[data-testid=relationships] li:has-text('{whom}')")


def decision_cycle() -> dict[str, DecisionStage]:
    # The migrations' default cycle may or may not be there (a transactional test
    # after another starts without it): this test brings its own.
    DecisionStage.objects.all().delete()
    stages = {
        name: DecisionStage.objects.create(name=name, order=order)
        for order, name in [(10, "Need recognised"), (20, "Options evaluated"), (30, "Decision")]
    }
    PlaybookAction.objects.create(
        stage=stages["Options evaluated"], title="Show the tasting to the buyer", order=10
    )
    PlaybookAction.objects.create(
        stage=stages["Options evaluated"], title="Send references to the CEO", order=20
    )
    return stages


def test_mark_map_chain_plan_and_download_report_and_dossier(browser):
    team = TeamFactory(name="Key accounts")
    rep = UserFactory(
        username="kjrep", first_name="Kira", last_name="Keys", team=team, role=role("sales_rep")
    )
    rep.set_password(PASSWORD)
    rep.save()
    UserFactory(
        username="kjcolleague",
        first_name="Pavel",
        last_name="Sidorov",
        team=team,
        role=role("sales_rep"),
    )
    stages = decision_cycle()
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Sales", is_default=True, order=0)
    for order, (name, kind, p) in enumerate(
        [("Proposal", "open", 40), ("Won", "won", 100), ("Lost", "lost", 0)]
    ):
        Stage.objects.create(pipeline=pipeline, name=name, kind=kind, probability=p, order=order)
    client = client_create(actor=rep, kind="organisation", name="Samovar Holding")
    client_create(actor=rep, kind="organisation", name="Samovarov Bakery")
    for first, last, title in [
        ("Anna", "Petrova", "Buyer"),
        ("Boris", "Ivanov", "COO"),
        ("Vera", "Smirnova", "CEO"),
    ]:
        person_create(
            actor=rep, first_name=first, last_name=last, organisation=client, job_title=title
        )
    deal = deal_create(actor=rep, client=client, title="Tea supply 2027", amount="1200000")
    # Two years of monthly orders, as an import writes them: 21 bought for 1,000.00
    # each, and one cancelled (5,000.00).
    Order.objects.bulk_create(
        Order(
            client=client,
            owner=rep,
            team=team,
            ordered_on=dt.date(2026, 11, 1) - dt.timedelta(days=30 * months_ago),
            status="cancelled" if months_ago == 21 else "confirmed",
            currency="RUB",
            total=5000 if months_ago == 21 else 1000,
            source="import",
        )
        for months_ago in range(22)
    )
    # The current analytics run scored the client (values as the card shows them).
    run = ComputeRun.objects.create(
        as_of=dt.date(2026, 11, 1),
        status=ComputeRun.Status.SUCCEEDED,
        is_current=True,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        currency="RUB",
        clients=1,
    )
    ClientScore.objects.create(
        run=run,
        client=client,
        first_on=dt.date(2024, 12, 1),
        last_on=dt.date(2026, 11, 1),
        recency_days=0,
        frequency=21,
        revenue=21000.0,
        r=5,
        f=5,
        m=4,
        segment=0,  # champions
        abc=0,
        xyz=0,
        window_revenue=12000.0,
        p_alive=0.9,
        expected_30=1.0,
        expected_90=2.5,
        expected_365=11.0,
        expected_spend=1000.0,
        clv=12500.0,
        next_purchase_on=dt.date(2026, 12, 1),
        stage=2,  # loyal
        lifecycle_days=700,
    )

    page = browser.new_page()
    log_in(page, "kjrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")

    # Mark the client as key: find it, choose it, confirm.
    page.click("[data-nav=keyaccounts]")
    page.wait_for_selector("text=No key accounts yet")
    page.fill("#ka-find", "samovar holding")
    page.press("#ka-find", "Enter")
    page.wait_for_url("**/keyaccounts/?find=samovar+holding")
    assert page.eval_on_selector_all("#ka-client option", "os => os.length") == 2
    page.select_option("#ka-client", label="Samovar Holding")
    page.click("[data-testid=key-account-new] button[type=submit]")
    page.wait_for_selector("[data-testid=key-account-title]:has-text('Samovar Holding')")
    account = KeyAccount.objects.get()
    assert (account.client, account.owner) == (client, rep)
    assert "Samovar Holding is now a key account." in page.inner_text(".messages, main")
    assert page.is_visible("[data-testid=power-flag]")

    # The list shows it, with no power point known yet.
    page.click("[data-nav=keyaccounts]")
    row = page.wait_for_selector(f"[data-testid=key-account-{account.pk}]")
    assert "Samovar Holding" in row.inner_text() and "unknown" in row.inner_text()
    assert "Kira Keys" in row.inner_text()
    page.click(f"[data-testid=key-account-{account.pk}] a")
    page.wait_for_selector("[data-testid=key-account-title]")

    # The client's decision cycle moves on; the history keeps the note.
    page.select_option("#ka-stage", label="Options evaluated")
    page.fill("#ka-stage-note", "Compares us with two suppliers")
    page.click("[data-testid=stage-form] button")
    page.wait_for_selector("[data-testid=decision-stage]:has-text('Options evaluated')")
    assert "Compares us with two suppliers" in page.inner_text("[data-testid=stage-history]")

    # The map: the three points; the red flag goes when the power point is known.
    add_to_map(page, "Anna Petrova · Buyer", "entry", "2", "supporter")
    add_to_map(
        page,
        "Boris Ivanov · COO",
        "dissatisfaction",
        "3",
        "neutral",
        pain="Late deliveries",
        help="Weekly delivery slots",
    )
    assert page.is_visible("[data-testid=power-flag]")
    add_to_map(page, "Vera Smirnova · CEO", "power", "5", "opponent")
    assert not page.is_visible("[data-testid=power-flag]")
    assert "Late deliveries" in page.inner_text("[data-testid=lane-dissatisfaction]")

    # Who knows whom, and the chain from a colleague to the power point.
    know(page, "Pavel Sidorov", "worked_together", "Anna Petrova", "5")
    know(page, "Anna Petrova", "reports_to", "Vera Smirnova", "4")
    assert Relationship.objects.count() == 2
    chain = page.inner_text("[data-testid=chains-strongest] [data-testid=chain]")
    assert chain.index("Pavel Sidorov") < chain.index("Anna Petrova") < chain.index("Vera Smirnova")
    shortest = page.inner_text("[data-testid=chains-shortest] [data-testid=chain]")
    assert "Pavel Sidorov" in shortest and "Vera Smirnova" in shortest
    screenshot(page, "keyaccounts-journey-map-en")

    # The influence plan: the stage's playbook becomes tasks on the deal; one is done.
    page.select_option("#plan-deal", str(deal.pk))
    page.click("[data-testid=plan-form] button")
    page.wait_for_selector("[data-testid=influence-plan] >> text=Send references to the CEO")
    actions = {a.task.title: a for a in InfluenceAction.objects.select_related("task")}
    assert set(actions) == {"Show the tasting to the buyer", "Send references to the CEO"}
    assert all(a.deal == deal and a.stage == stages["Options evaluated"] for a in actions.values())
    tasting = actions["Show the tasting to the buyer"]
    page.fill(f"#effect-{tasting.pk}", "Anna liked the oolong")
    page.click(f"#effect-{tasting.pk} ~ button")
    page.wait_for_selector("[data-testid=influence-plan] >> text=Anna liked the oolong")
    tasting.refresh_from_db()
    assert tasting.effect == "Anna liked the oolong" and tasting.task.completed_at is not None

    page.fill("#ka-risks", "Budget freeze in Q1")
    page.click("[data-testid=account-form] button")
    page.wait_for_selector("#ka-risks:has-text('Budget freeze in Q1')")

    # The list now knows the power point; the client card shows the badge.
    page.click("[data-nav=keyaccounts]")
    assert "known" in page.inner_text(f"[data-testid=key-account-{account.pk}]")
    assert "unknown" not in page.inner_text(f"[data-testid=key-account-{account.pk}]")
    page.goto(f"/clients/{client.pk}/")
    page.click("[data-testid=key-account-badge]")
    page.wait_for_selector("[data-testid=key-account-title]")

    # The deal status report and its PDF.
    page.click("[data-testid=report-link]")
    page.wait_for_selector("[data-testid=deal-report]")
    screenshot(page, "keyaccounts-journey-report-en")
    with page.expect_download() as download:
        page.click("[data-testid=report-pdf]")
    report = pdf_text(download.value.path())
    for expected in (
        "Deal status report",
        "Samovar Holding · Tea supply 2027",
        "Options evaluated",
        "Vera Smirnova",
        "The power point Vera Smirnova is against us.",
        "Budget freeze in Q1",
        "Anna liked the oolong",
    ):
        assert expected in report, (expected, report)

    # The dossier and its PDF.
    page.goto(f"/keyaccounts/{account.pk}/")
    page.click("[data-testid=dossier-link]")
    page.wait_for_selector("[data-testid=dossier]")
    assert page.inner_text("[data-testid=dossier] [data-testid=card-abc-xyz]") == "AX"
    screenshot(page, "keyaccounts-journey-dossier-en")
    with page.expect_download() as download:
        page.click("[data-testid=dossier-pdf]")
    dossier = pdf_text(download.value.path())
    for expected in (
        "Key-client dossier",
        "Samovar Holding",
        "Anna Petrova",
        "Boris Ivanov",
        "Late deliveries",
        "Tea supply 2027",
        "Orders total ₽21,000.00",  # all of them, not only the 20 listed
        "RFM segment Champions 554",
        "ABC-XYZ class AX",
        "Probability of leaving 10%",
        "Expected purchases in 90 days 2.5",
        "Lifetime value, 12 months ₽12,500.00",
        "Expected order value ₽1,000.00",
        "Next purchase 12/01/2026",
        "Lifecycle stage Loyal",
    ):
        assert expected in dossier, (expected, dossier)
