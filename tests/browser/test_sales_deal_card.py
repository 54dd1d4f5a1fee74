"""A new deal from the quick form (the client found by typing), a field edited in
place, a product added, and the deal found in the list filtered by its client."""

from __future__ import annotations

from decimal import Decimal

from lavka.clients.services import client_create
from lavka.sales.models import Deal, Pipeline, Product, Stage
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role

PASSWORD = "deal-pass-2026"


def test_create_a_deal_edit_it_and_find_it_in_the_list(browser):
    team = TeamFactory(name="Sales")
    rep = UserFactory(username="dealrep", team=team, role=role("sales_rep"))
    rep.set_password(PASSWORD)
    rep.save()
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Sales", is_default=True, order=0)
    for order, (name, kind) in enumerate([("New", "open"), ("Won", "won"), ("Lost", "lost")]):
        Stage.objects.create(pipeline=pipeline, name=name, kind=kind, order=order)
    # Through the service, so that the search index knows them.
    romashka = client_create(actor=rep, kind="organisation", name="Ромашка")
    client_create(actor=rep, kind="organisation", name="Василёк")
    Product.objects.create(code="TEA-1", name="Green tea", unit="kg")

    page = browser.new_page()
    log_in(page, "dealrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto("/sales/deals/")
    screenshot(page, "sales-deals-empty-en")
    page.click("[data-testid=new-deal]")
    page.fill("#client-find", "ромаш")
    page.wait_for_function(
        "document.querySelectorAll('#id_client option').length === 1"
        " && document.querySelector('#id_client option').textContent === 'Ромашка'"
    )
    page.fill("#id_title", "Tea for the office")
    page.fill("#id_amount", "1200")
    page.fill("#id_expected_close_on", "2026-12-31")
    screenshot(page, "sales-deal-new-en")
    page.click("[data-testid=deal-save]")
    page.wait_for_selector("[data-testid=deal-title]")
    deal = Deal.objects.get(title="Tea for the office")
    assert deal.client == romashka and deal.amount == Decimal("1200.00")

    # Inline edit: an empty title is refused next to the field, then a good one saved.
    page.click("[data-testid=edit-title]")
    page.fill("#edit-title", "")
    page.press("#edit-title", "Enter")
    page.wait_for_selector("#edit-title-error")
    page.fill("#edit-title", "Green tea for the office")
    page.press("#edit-title", "Enter")
    page.wait_for_selector("[data-field=title] dd:has-text('Green tea for the office')")
    assert Deal.objects.get(pk=deal.pk).title == "Green tea for the office"

    page.select_option("[data-testid=line-new-product]", label="Green tea · TEA-1")
    page.fill("#line-qty-new", "3")
    page.fill("#line-price-new", "100")
    page.fill("#line-discount-new", "10")
    page.click("[data-testid=lines-save]")
    page.wait_for_selector("[data-field=amount] dd:has-text('270.00')")
    screenshot(page, "sales-deal-card-en")

    page.goto(f"/sales/deals/?client={romashka.pk}")
    page.wait_for_selector("[data-testid=deal-table] >> text=Green tea for the office")
    screenshot(page, "sales-deals-client-en")
    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    screenshot(page, "sales-deals-client-ru")
    page.goto(f"/sales/deals/{deal.pk}/")
    screenshot(page, "sales-deal-card-ru")
