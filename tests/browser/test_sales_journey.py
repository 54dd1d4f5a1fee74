"""The whole sales journey of issue 4 as one person walks it, in Russian: a visitor
sends the website's form; the lead lands with the form's owner, who is notified (and
nobody else sees it); the rep qualifies it and converts it into a client, a contact
person and a deal; on the board the deal is dragged to the next stage and moved to won
by keyboard, which makes an order; another deal is refused as lost without a reason,
then lost with one; the order shows in the client card's purchase history; the quote
opens and its PDF names our company (LAVKA_COMPANY_NAME; "Our company" without one),
the client and the deal."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from lavka.clients.models import Client
from lavka.leads.models import Lead
from lavka.leads.services import web_form_create
from lavka.sales.models import Deal, Order, Pipeline, Stage
from lavka.sales.services import deal_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import ClientFactory, TeamFactory, UserFactory, role

PASSWORD = "journey-pass-2026"


def user(username: str, team, role_code: str, first: str, last: str, **more):
    found = UserFactory(
        username=username,
        first_name=first,
        last_name=last,
        team=team,
        role=role(role_code),
        **more,
    )
    found.set_password(PASSWORD)
    found.save()
    return found


def make_pipeline() -> dict[str, Stage]:
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Продажи", is_default=True, order=0)
    return {
        name: Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=probability, order=order
        )
        for order, (name, kind, probability) in enumerate(
            [
                ("Новая", "open", 10),
                ("Переговоры", "open", 50),
                ("Выиграна", "won", 100),
                ("Проиграна", "lost", 0),
            ]
        )
    }


def in_russian(page) -> None:
    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")


def test_web_form_to_lead_to_deal_to_order_and_quote_in_russian(browser, settings):
    settings.COMPANY_NAME = "ООО «Лавка Трейд»"
    team = TeamFactory(name="Продажи")
    admin = user("jadmin", team, "administrator", "Ольга", "Админова")
    rep = user("jrep", team, "sales_rep", "Ирина", "Продажина", language="ru")
    user("jother", team, "sales_rep", "Пётр", "Соседов")
    stages = make_pipeline()
    form = web_form_create(actor=admin, name="Заявка с сайта", owner=rep, language="ru")

    # A visitor of the website sends the form.
    visitor = browser.new_page(locale="ru-RU")
    visitor.goto(f"/f/{form.key}/?utm_source=yandex&utm_campaign=office-tea")
    visitor.wait_for_selector("[data-testid=hosted-form]")
    visitor.fill(f"#lavka-{form.pk}-company", "ООО Самовар")
    visitor.fill(f"#lavka-{form.pk}-contact_name", "Мария Чайкина")
    visitor.fill(f"#lavka-{form.pk}-email", "maria@samovar.example")
    visitor.fill(f"#lavka-{form.pk}-phone", "+7 916 555-12-34")
    visitor.fill(f"#lavka-{form.pk}-message", "Нужен чай в офис")
    visitor.click("button[type=submit]")
    visitor.wait_for_selector(".lavka-done")
    lead = Lead.objects.get()
    assert (lead.owner, lead.campaign) == (rep, "office-tea")

    # Another rep does not see it.
    other = browser.new_page(locale="ru-RU")
    log_in(other, "jother", PASSWORD)
    other.goto("/sales/leads/?status=all")
    other.wait_for_selector("[data-testid=lead-tabs]")
    assert other.query_selector(f"[data-testid=lead-row-{lead.pk}]") is None

    # The form's owner is told (the bell), and finds it among the leads, in Russian.
    page = browser.new_page(locale="ru-RU")
    log_in(page, "jrep", PASSWORD)
    in_russian(page)
    assert page.inner_text("[data-testid=notifications] .count-badge") == "1"
    page.click("[data-testid=notifications]")
    told = page.wait_for_selector(f"a[href='/sales/leads/{lead.pk}/']")
    assert "Заявка с сайта" in told.inner_text()
    assert "ООО Самовар · Мария Чайкина" in told.inner_text()
    assert "Нужен чай в офис" in page.inner_text(".notification-list")
    page.click("[data-nav=sales]")
    page.click("[data-testid=leads-link]")
    page.wait_for_selector("[data-testid=lead-tabs]")
    assert page.inner_text("h1") == "Лиды"
    row = page.wait_for_selector(f"[data-testid=lead-row-{lead.pk}]")
    assert "ООО Самовар" in row.inner_text() and "Веб-форма" in row.inner_text()
    assert "Ирина Продажина" in row.inner_text()
    screenshot(page, "journey-leads-ru")

    # Qualified, then converted in one step.
    page.click(f"[data-testid=lead-row-{lead.pk}] a")
    page.wait_for_selector("[data-testid=lead-title]")
    assert "Квалификация" in page.inner_text("#lead-status-title")
    page.select_option("#lead-status", "qualified")
    page.click("[data-testid=lead-status-save]")
    page.wait_for_selector("[data-testid=lead-status]:has-text('Квалифицирован')")
    assert Lead.objects.get().status == "qualified"
    screenshot(page, "journey-lead-ru")
    page.click("[data-testid=convert-lead]")
    page.wait_for_selector("[data-testid=convert-form]")
    assert page.inner_text("h1") == "Конвертация лида"
    assert "Создать организацию «ООО Самовар»" in page.inner_text("[data-testid=convert-form]")
    page.check("[data-testid=create-new-client]")
    screenshot(page, "journey-convert-ru")
    page.fill("#deal-title", "Чай в офис на год")
    page.fill("#deal-amount", "48000")
    page.click("[data-testid=convert-submit]")
    page.wait_for_selector("[data-testid=deal-title]")
    won_deal = Deal.objects.get()
    client = Client.objects.get(name="ООО Самовар")
    assert (won_deal.client, won_deal.owner, won_deal.stage) == (client, rep, stages["Новая"])
    assert won_deal.person.last_name == "Чайкина"
    assert Lead.objects.get().status == "converted"
    screenshot(page, "journey-deal-ru")
    lost_deal = deal_create(actor=rep, client=client, title="Кулер для воды", amount=15000)

    # The board: drag to the next stage, then Shift+Right to won.
    page.click("[data-nav=sales]")
    page.wait_for_selector("[data-board]")
    assert page.inner_text("h1") == "Доска сделок"
    talks, won, lost = stages["Переговоры"], stages["Выиграна"], stages["Проиграна"]
    card = f"[data-testid=deal-{won_deal.pk}]"
    page.drag_and_drop(card, f"[data-column][data-stage='{talks.pk}'] [data-cards]")
    page.wait_for_selector(f"[data-column][data-stage='{talks.pk}'] {card}")
    assert Deal.objects.get(pk=won_deal.pk).stage == talks
    page.focus(card)
    page.keyboard.press("Shift+ArrowRight")
    link = page.wait_for_selector("[data-testid=order-link]")
    assert page.query_selector(f"[data-column][data-stage='{won.pk}'] {card}")
    order = Order.objects.get(source_deal_id=won_deal.pk)
    assert (order.client, order.total) == (client, 48000)
    assert link.get_attribute("href") == f"/sales/orders/{order.pk}/"

    # Lost: refused without a reason (in Russian), then lost with one.
    page.focus(f"[data-testid=deal-{lost_deal.pk}]")
    page.keyboard.press("m")
    page.wait_for_selector("[data-testid=move-dialog][open]")
    assert page.inner_text("#move-dialog-title") == "Перенести сделку"
    page.select_option("#move-stage", str(lost.pk))
    page.click("[data-testid=move-submit]")
    page.wait_for_selector("[data-move-error]:has-text('Укажите, почему сделка проиграна.')")
    assert Deal.objects.get(pk=lost_deal.pk).stage == stages["Новая"]
    page.fill("#move-reason", "Купили у конкурента")
    page.click("[data-testid=move-submit]")
    page.wait_for_selector(
        f"[data-column][data-stage='{lost.pk}'] [data-testid=deal-{lost_deal.pk}]"
    )
    assert Deal.objects.get(pk=lost_deal.pk).lost_reason == "Купили у конкурента"
    screenshot(page, "journey-board-ru")

    # The order is the client's purchase history on the card.
    page.goto(f"/clients/{client.pk}/")
    block = page.wait_for_selector("[data-testid=block-sales]")
    assert "Сделки и заказы" in block.inner_text()
    orders = page.inner_text("[data-testid=last-orders]")
    assert str(order) in orders and "48" in orders
    assert page.query_selector("[data-testid=open-deal]") is None  # both deals are closed
    screenshot(page, "journey-client-card-ru")

    # The quote of the won deal, on screen and as PDF.
    page.goto(f"/sales/deals/{won_deal.pk}/")
    page.click("[data-testid=deal-quote]")
    page.wait_for_selector("[data-testid=quote-title]")
    assert page.inner_text("[data-testid=quote-title]").startswith(
        f"Коммерческое предложение Q-{won_deal.pk} от "
    )
    assert page.inner_text("[data-testid=quote-company]") == "ООО «Лавка Трейд»"
    screenshot(page, "journey-quote-ru")
    with page.expect_download() as download:
        page.click("[data-testid=quote-pdf]")
    reader = pypdf.PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    for expected in (
        f"Коммерческое предложение Q-{won_deal.pk}",
        "ООО «Лавка Трейд»",
        "ООО Самовар",
        "Чай в офис на год",
        "48 000,00",
    ):
        assert expected in text, (expected, text)

    # Without LAVKA_COMPANY_NAME the quote names "our company", never the CRM.
    settings.COMPANY_NAME = ""
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("[data-testid=quote-company]") == "Our company"


def test_a_deal_field_is_edited_on_the_card_without_script(browser, live_server):
    # Also what a quick user gets when they click before the page's script is ready.
    team = TeamFactory(name="Продажи")
    rep = user("jnoscript", team, "sales_rep", "Нина", "Безскриптова")
    make_pipeline()
    client = ClientFactory(owner=rep, team=team, name="ООО Самовар")
    deal = deal_create(actor=rep, client=client, title="Чай в офис", amount=1000)
    context = browser.chromium.new_context(
        base_url=live_server.url, locale="ru-RU", java_script_enabled=False
    )
    browser.contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "jnoscript", PASSWORD)
    page.goto(f"/sales/deals/{deal.pk}/")

    page.click("[data-testid=edit-title]")
    page.wait_for_selector("#edit-title")
    assert page.inner_text("[data-testid=deal-title]") == "Чай в офис"  # the whole card
    page.fill("#edit-title", "")
    page.click("[data-field=title] button[type=submit]")
    error = page.wait_for_selector("#edit-title-error")
    assert error.inner_text() != ""
    assert page.get_attribute("#edit-title", "aria-invalid") == "true"
    assert Deal.objects.get(pk=deal.pk).title == "Чай в офис"
    page.fill("#edit-title", "Чай в офис на год")
    page.click("[data-field=title] button[type=submit]")
    page.wait_for_selector("[data-field=title] dd:has-text('Чай в офис на год')")
    assert page.url.endswith(f"/sales/deals/{deal.pk}/")
    assert Deal.objects.get(pk=deal.pk).title == "Чай в офис на год"
