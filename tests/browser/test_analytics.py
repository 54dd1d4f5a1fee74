"""The analytics page in a browser: an analyst opens it (empty state), recomputes, sees
the progress and then the RFM segment counts and the ABC-XYZ matrix; screenshots in
English and Russian, wide and narrow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lavka.sales.models import Order
from tests.browser.conftest import log_in, screenshot
from tests.factories import ClientFactory, TeamFactory, UserFactory, role

PASSWORD = "analytics-pass-2026"


def make_history(owner):
    today = dt.date.today()
    rows = []
    for i in range(6):
        client = ClientFactory(owner=owner, team=owner.team, name=f"Покупатель {i}")
        for k in range(i + 1):
            rows.append(
                Order(
                    client=client,
                    owner=owner,
                    team=owner.team,
                    ordered_on=today - dt.timedelta(days=30 * k + 10 * i),
                    total=Decimal(100 * (i + 1)),
                    currency="RUB",
                    status=Order.Status.PAID,
                )
            )
    Order.objects.bulk_create(rows)


def test_an_analyst_recomputes_and_sees_the_segments(browser):
    team = TeamFactory(name="Analytics")
    analyst = UserFactory(username="analyst1", team=team, role=role("analyst"))
    analyst.set_password(PASSWORD)
    analyst.save()
    make_history(analyst)

    page = browser.new_page()
    log_in(page, "analyst1", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto("/analytics/segments/")
    assert page.locator("h2", has_text="No scores yet").is_visible()

    page.click("[data-testid=recompute]")
    page.wait_for_selector("[data-testid=segments]", timeout=30_000)

    assert page.locator("[data-testid=clients-scored]").inner_text() == "6"
    counts = page.locator("[data-testid=segment-count]").all_inner_texts()
    assert len(counts) == 8 and sum(int(c) for c in counts) == 6
    assert page.locator("[data-testid=bgnbd]").inner_text().startswith("Not enough data")
    cells = page.locator(".analytics-cell-count").all_inner_texts()
    assert sum(int(c) for c in cells) == 6
    screenshot(page, "analytics-wide-en")

    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    assert page.locator("h1").inner_text() == "Аналитика"
    screenshot(page, "analytics-wide-ru")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "analytics-narrow-ru")


def test_a_rep_sees_no_recompute_button(browser):
    team = TeamFactory(name="Sales")
    rep = UserFactory(username="rep1", team=team, role=role("sales_rep"))
    rep.set_password(PASSWORD)
    rep.save()

    page = browser.new_page()
    log_in(page, "rep1", PASSWORD)
    page.goto("/analytics/segments/")

    assert page.locator("h1").count() == 1
    assert page.locator("[data-testid=recompute]").count() == 0
