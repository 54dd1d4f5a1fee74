"""A new deal from the quick form (the client found by typing), a field edited in
place, a product added, and the deal found in the list filtered by its client; the
card's competitors and contact person, the quote page and its PDF, a move to won that
makes the order, whose status then changes, and a move to lost refused without a
reason."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pypdf

from lavka.clients.models import Employment, Person
from lavka.clients.services import client_create
from lavka.sales.models import Deal, Order, Pipeline, Product, Stage
from lavka.sales.services import deal_create, deal_lines_set
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


def test_competitors_person_quote_won_order_status_and_lost_refused(browser, settings):
    settings.COMPANY_NAME = "Lavka Trade"
    team = TeamFactory(name="Sales")
    rep = UserFactory(username="cardrep", team=team, role=role("sales_rep"))
    rep.set_password(PASSWORD)
    rep.save()
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Sales", is_default=True, order=0)
    stages = {
        kind: Stage.objects.create(pipeline=pipeline, name=name, kind=kind, order=order)
        for order, (name, kind) in enumerate([("New", "open"), ("Won", "won"), ("Lost", "lost")])
    }
    romashka = client_create(actor=rep, kind="organisation", name="Romashka LLC")
    romashka.inn = "7701234567"
    romashka.save(update_fields=["inn"])
    anna = Person.objects.create(first_name="Anna", last_name="Ivanova", owner=rep, team=team)
    Employment.objects.create(person=anna, organisation=romashka)
    paper = Product.objects.create(code="PAP-1", name="Paper A4", unit="pack", vat_rate=20)
    deal = deal_create(actor=rep, client=romashka, title="Paper for the year")
    deal_lines_set(
        actor=rep, deal=deal, lines=[{"product": paper, "quantity": 10, "unit_price": "390"}]
    )
    doomed = deal_create(actor=rep, client=romashka, title="Chairs", amount=500)

    page = browser.new_page()
    log_in(page, "cardrep", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"/sales/deals/{deal.pk}/")

    page.fill("#competitor-name", "Komus")
    page.click("[data-testid=add-competitor] button")
    page.wait_for_selector("[data-testid=deal-competitors] >> text=Komus")
    page.select_option("#deal-person-select", label="Anna Ivanova")
    page.click("[data-testid=deal-person-form] button")
    page.wait_for_selector("[data-testid=deal-person] >> text=Anna Ivanova")
    assert Deal.objects.get(pk=deal.pk).person == anna
    screenshot(page, "sales-deal-competitors-en")

    page.click("[data-testid=deal-quote]")
    page.wait_for_selector("[data-testid=quote-title]")
    assert "Lavka Trade" in page.inner_text("[data-testid=quote-company]")
    assert "7701234567" in page.inner_text("[data-testid=quote-requisites]")
    assert "3,900.00" in page.inner_text("[data-testid=quote-total]")
    assert "650.00" in page.inner_text("[data-testid=quote-vat]")
    screenshot(page, "sales-quote-en")
    with page.expect_download() as download:
        page.click("[data-testid=quote-pdf]")
    pdf = Path(download.value.path()).read_bytes()
    assert "Paper A4" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    # Won from the card: the order is created; its status changes on its page.
    page.goto(f"/sales/deals/{deal.pk}/")
    page.select_option("#deal-move-stage", str(stages["won"].pk))
    page.click("[data-testid=deal-move] button")
    page.wait_for_selector("[data-testid=deal-order]")
    order = Order.objects.get(source_deal_id=deal.pk)
    page.click("[data-testid=deal-order]")
    page.wait_for_selector("[data-testid=order-title]")
    page.select_option("#order-status-select", "shipped")
    page.click("[data-testid=order-status-save]")
    page.wait_for_selector("[data-testid=order-status]:has-text('Shipped')")
    order.refresh_from_db()
    assert order.status == "shipped"

    # Lost without a reason: refused, and the deal stays where it was.
    page.goto(f"/sales/deals/{doomed.pk}/")
    page.select_option("#deal-move-stage", str(stages["lost"].pk))
    page.click("[data-testid=deal-move] button")
    page.wait_for_selector("text=Say why the deal was lost.")
    assert Deal.objects.get(pk=doomed.pk).stage == stages["open"]
    page.fill("#deal-move-reason", "Too expensive")
    page.select_option("#deal-move-stage", str(stages["lost"].pk))
    page.click("[data-testid=deal-move] button")
    page.wait_for_selector("[data-testid=deal-stage]:has-text('Lost')")
    assert Deal.objects.get(pk=doomed.pk).lost_reason == "Too expensive"

    # A new order by hand, from the client's order list: the client is preselected,
    # an empty price takes the catalogue's (none here, so it is typed).
    page.goto(f"/sales/orders/?client={romashka.pk}")
    page.click("[data-testid=new-order]")
    page.wait_for_selector("[data-testid=order-form]")
    assert page.input_value("#id_client") == str(romashka.pk)
    page.select_option("#order-line-product-1", label="Paper A4 · PAP-1")
    page.fill("#order-line-qty-1", "4")
    page.fill("#order-line-price-1", "380")
    page.click("[data-testid=order-save]")
    page.wait_for_selector("[data-testid=order-total]:has-text('1,520.00')")
    screenshot(page, "sales-order-manual-en")
    assert Order.objects.filter(source="manual", client=romashka).count() == 1
