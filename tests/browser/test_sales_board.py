"""The kanban board in a browser: a card dragged to another column, one moved by
keyboard, a move to lost refused without a reason and then given one, a move to won
that shows the order; screenshots in English and Russian, wide and narrow."""

from __future__ import annotations

from lavka.sales.models import Deal, Order, Pipeline, Stage
from lavka.sales.services import deal_create
from tests.browser.conftest import log_in, screenshot
from tests.factories import ClientFactory, TeamFactory, UserFactory, role

PASSWORD = "board-pass-2026"


def make_board():
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Продажи", is_default=True, order=0)
    stages = {}
    for order, (name, kind, probability) in enumerate(
        [
            ("Новая", "open", 10),
            ("Переговоры", "open", 50),
            ("Выиграна", "won", 100),
            ("Проиграна", "lost", 0),
        ]
    ):
        stages[kind if kind != "open" else name] = Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=probability, order=order
        )
    return pipeline, stages


def test_drag_keyboard_lost_reason_and_won_on_the_board(browser):
    team = TeamFactory(name="Sales")
    rep = UserFactory(username="boardrep", team=team, role=role("sales_rep"))
    rep.set_password(PASSWORD)
    rep.save()
    pipeline, stages = make_board()
    romashka = ClientFactory(owner=rep, team=team, name="Ромашка", currency="RUB")
    deals = {
        title: deal_create(
            actor=rep, client=romashka, title=title, pipeline=pipeline, amount=amount
        )
        for title, amount in [
            ("Чай для офиса", 1200),
            ("Кружки с логотипом", 35000),
            ("Кофемашина", 250000),
        ]
    }
    lead, talks = stages["Новая"], stages["Переговоры"]

    page = browser.new_page()
    log_in(page, "boardrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.click("[data-nav=sales]")
    page.wait_for_selector("[data-board]")
    screenshot(page, "sales-board-wide-en")

    # Drag a card to the next column.
    tea = deals["Чай для офиса"]
    page.drag_and_drop(
        f"[data-testid=deal-{tea.pk}]", f"[data-column][data-stage='{talks.pk}'] [data-cards]"
    )
    page.wait_for_selector(f"[data-column][data-stage='{talks.pk}'] [data-testid=deal-{tea.pk}]")
    assert page.inner_text(f"[data-testid=count-{talks.pk}]") == "1 deal"
    assert page.inner_text(f"[data-testid=count-{lead.pk}]") == "2 deals"
    assert Deal.objects.get(pk=tea.pk).stage == talks

    # By keyboard: focus a card, Shift+ArrowRight moves it to the next stage.
    cups = deals["Кружки с логотипом"]
    page.focus(f"[data-testid=deal-{cups.pk}]")
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_selector(f"[data-column][data-stage='{talks.pk}'] [data-testid=deal-{cups.pk}]")
    # The card moves at once; the announcement follows the server's answer.
    page.wait_for_function(
        "document.querySelector('[data-testid=board-status]').innerText.includes('moved to')"
    )
    assert Deal.objects.get(pk=cups.pk).stage == talks
    assert page.evaluate("document.activeElement.dataset.deal") == str(cups.pk)

    # Lost without a reason is refused: the card stays where it was.
    machine = deals["Кофемашина"]
    lost = stages["lost"]
    page.drag_and_drop(
        f"[data-testid=deal-{machine.pk}]", f"[data-column][data-stage='{lost.pk}'] [data-cards]"
    )
    page.wait_for_selector("[data-testid=move-dialog][open]")
    page.click("[data-testid=move-submit]")
    error = page.wait_for_selector("[data-move-error]:has-text('Say why the deal was lost.')")
    assert error.is_visible()
    screenshot(page, "sales-board-lost-reason-en")
    assert Deal.objects.get(pk=machine.pk).stage == lead
    assert page.query_selector(
        f"[data-column][data-stage='{lead.pk}'] [data-testid=deal-{machine.pk}]"
    )
    page.fill("#move-reason", "Выбрали другого поставщика")
    page.click("[data-testid=move-submit]")
    page.wait_for_selector(f"[data-column][data-stage='{lost.pk}'] [data-testid=deal-{machine.pk}]")
    assert not page.is_visible("[data-testid=move-dialog]")
    assert Deal.objects.get(pk=machine.pk).lost_reason == "Выбрали другого поставщика"

    # Won: the order is created and linked.
    won = stages["won"]
    page.focus(f"[data-testid=deal-{tea.pk}]")
    page.keyboard.press("m")
    page.wait_for_selector("[data-testid=move-dialog][open]")
    page.select_option("#move-stage", str(won.pk))
    page.click("[data-testid=move-submit]")
    link = page.wait_for_selector("[data-testid=order-link]")
    order = Order.objects.get(source_deal_id=tea.pk)
    assert link.get_attribute("href") == f"/sales/orders/{order.pk}/"
    screenshot(page, "sales-board-won-en")
    link.click()
    page.wait_for_selector("[data-testid=order-title]")
    assert "1,200.00" in page.inner_text("[data-testid=order-total]")

    # Russian, wide and narrow.
    page.goto("/sales/")
    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    page.wait_for_selector("[data-board]")
    screenshot(page, "sales-board-wide-ru")
    narrow = browser.new_page(width=390, height=844, locale="ru-RU")
    log_in(narrow, "boardrep", PASSWORD)
    narrow.goto("/sales/")
    narrow.wait_for_selector("[data-board]")
    screenshot(narrow, "sales-board-narrow-ru")
    narrow.goto(f"/sales/deals/{machine.pk}/")
    narrow.wait_for_selector("[data-testid=stage-times]")
    screenshot(narrow, "sales-deal-narrow-ru")
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    screenshot(page, "sales-board-narrow-en")
