"""Sales pages: the kanban board (a fixed number of queries, moves by POST, the lost
reason, won makes an order), the deal list with its filters, the new-deal form, the
deal card with inline edits and products, and the access rules."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from lavka.sales.models import Deal, DealStageChange, Order, Pipeline, Product, Stage
from lavka.sales.services import deal_create, deal_move
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def board(db):
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Test pipeline", is_default=True, order=0)

    def stage(name, kind, probability, order):
        return Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=probability, order=order
        )

    class Board:
        pass

    b = Board()
    b.pipeline = pipeline
    b.lead = stage("Lead", "open", 10, 10)
    b.offer = stage("Offer", "open", 50, 20)
    b.won = stage("Won", "won", 100, 30)
    b.lost = stage("Lost", "lost", 0, 40)
    return b


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", currency="RUB")


def new_deal(user, client, board, title, amount=100):
    return deal_create(
        actor=user, client=client, title=title, pipeline=board.pipeline, amount=amount
    )


def board_queries(http, board):
    with CaptureQueriesContext(connection) as queries:
        response = http.get(f"/sales/?pipeline={board.pipeline.pk}")
    assert response.status_code == 200
    return len(queries)


def test_the_board_shows_columns_with_counts_sums_and_cards(org, board, romashka):
    new_deal(org.rep, romashka, board, "Tea for the office", amount=1200)
    new_deal(org.rep, romashka, board, "Cups", amount=300)

    page = logged_in(org.rep).get(f"/sales/?pipeline={board.pipeline.pk}").content.decode()

    for name in ("Lead", "Offer", "Won", "Lost"):
        assert name in page
    assert "Tea for the office" in page and "Romashka" in page
    assert "2 deals" in page
    assert "₽1,500.00" in page  # the column's sum


def test_the_board_runs_the_same_number_of_queries_whatever_the_number_of_deals(
    org, board, romashka
):
    http = logged_in(org.rep)
    for i in range(3):
        new_deal(org.rep, romashka, board, f"Deal {i}")
    few = board_queries(http, board)
    for i in range(30):
        deal = new_deal(org.rep, romashka, board, f"More {i}")
        if i % 3 == 0:
            deal_move(actor=org.rep, deal=deal, stage=board.offer)
    many = board_queries(http, board)
    assert few == many
    assert many <= 10  # 8 today: session, user, pipelines, the four of deals_board, nav


def test_show_more_loads_the_next_page_of_a_column(org, board, romashka):
    for i in range(25):
        new_deal(org.rep, romashka, board, f"Deal {i:02}")
    http = logged_in(org.rep)
    page = http.get("/sales/").content.decode()
    assert page.count("data-card ") == 20
    start = page.index(f"/sales/columns/{board.lead.pk}/?after=")
    url = page[start : page.index('"', start)].replace("&amp;", "&")

    more = http.get(url, **HTMX).content.decode()

    assert more.count("data-card ") == 5
    # Newest on top: the first page had Deal 24..05, the next page Deal 04..00.
    assert "Deal 04" in more and "Deal 00" in more and "Deal 05" not in more


def test_a_move_is_one_post_that_answers_with_the_columns_counters(org, board, romashka):
    first = new_deal(org.rep, romashka, board, "First")
    second = new_deal(org.rep, romashka, board, "Second")
    http = logged_in(org.rep)

    response = http.post(
        f"/sales/deals/{second.pk}/move/", {"stage": board.offer.pk, "after": ""}, **JSON
    )

    assert response.status_code == 200
    data = response.json()
    assert data["columns"][str(board.lead.pk)]["count"] == 1
    assert data["columns"][str(board.offer.pk)]["count"] == 1
    assert "Offer" in data["message"]
    second.refresh_from_db()
    assert second.stage == board.offer
    # Within a column: below the card `after`.
    third = new_deal(org.rep, romashka, board, "Third")
    http.post(f"/sales/deals/{third.pk}/move/", {"stage": board.lead.pk, "after": first.pk}, **JSON)
    lead = list(Deal.objects.filter(stage=board.lead).order_by("position", "id"))
    assert [d.title for d in lead] == ["First", "Third"]


def test_moving_to_lost_without_a_reason_is_refused_and_the_deal_stays(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    http = logged_in(org.rep)

    refused = http.post(f"/sales/deals/{deal.pk}/move/", {"stage": board.lost.pk}, **JSON)

    assert refused.status_code == 422
    assert refused.json()["fields"]["lost_reason"] == ["Say why the deal was lost."]
    deal.refresh_from_db()
    assert deal.stage == board.lead

    given = http.post(
        f"/sales/deals/{deal.pk}/move/",
        {"stage": board.lost.pk, "lost_reason": "Too expensive"},
        **JSON,
    )
    assert given.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == (board.lost, "Too expensive")


def test_without_javascript_a_refused_move_comes_back_with_the_message(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    http = logged_in(org.rep)

    response = http.post(f"/sales/deals/{deal.pk}/move/", {"stage": board.lost.pk}, follow=True)

    assert "Say why the deal was lost." in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == board.lead


def test_moving_to_won_creates_the_order_and_links_it(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea", amount=500)
    http = logged_in(org.rep)

    data = http.post(f"/sales/deals/{deal.pk}/move/", {"stage": board.won.pk}, **JSON).json()

    order = Order.objects.get(source_deal=deal)
    assert data["order_url"] == f"/sales/orders/{order.pk}/"
    assert "has been created" in data["message"]
    page = http.get(data["order_url"]).content.decode()
    assert "₽500.00" in page and "Tea" in page
    assert f"/sales/orders/{order.pk}/" in http.get(f"/sales/deals/{deal.pk}/").content.decode()


def test_another_teams_deal_is_not_found(org, board, romashka):
    spb_client = ClientFactory(owner=org.spb_rep, team=org.spb, name="Piter")
    theirs = new_deal(org.spb_rep, spb_client, board, "Their deal")
    http = logged_in(org.rep)

    assert http.get(f"/sales/deals/{theirs.pk}/").status_code == 404
    response = http.post(f"/sales/deals/{theirs.pk}/move/", {"stage": board.offer.pk}, **JSON)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.stage == board.lead
    assert "Their deal" not in http.get("/sales/").content.decode()


def test_a_rep_sees_only_their_own_deals_and_the_manager_sees_the_team(org, board, romashka):
    colleague_client = ClientFactory(owner=org.colleague, team=org.moscow, name="Vasilek")
    new_deal(org.rep, romashka, board, "Mine")
    new_deal(org.colleague, colleague_client, board, "Colleague's")

    rep_board = logged_in(org.rep).get("/sales/").content.decode()
    rep_list = logged_in(org.rep).get("/sales/deals/").content.decode()
    manager_board = logged_in(org.manager).get("/sales/").content.decode()

    assert "Mine" in rep_board and "Colleague&#x27;s" not in rep_board
    assert "Mine" in rep_list and "Colleague&#x27;s" not in rep_list
    assert "Mine" in manager_board and "Colleague&#x27;s" in manager_board


def test_someone_without_sales_access_cannot_open_the_board(org, board):
    assert logged_in(org.marketer).get("/sales/").status_code in (403, 404)


def test_the_deal_list_filters_by_client_stage_and_status(org, board, romashka):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    new_deal(org.rep, romashka, board, "Romashka tea")
    moved = new_deal(org.rep, other, board, "Vasilek cups")
    deal_move(actor=org.rep, deal=moved, stage=board.won)
    http = logged_in(org.rep)

    by_client = http.get(f"/sales/deals/?client={romashka.pk}").content.decode()
    won = http.get("/sales/deals/?status=won", **HTMX).content.decode()
    by_stage = http.get(f"/sales/deals/?stage={board.lead.pk}", **HTMX).content.decode()

    assert "Romashka tea" in by_client and "Vasilek cups" not in by_client
    assert "Deals of Romashka" in by_client
    assert "Vasilek cups" in won and "Romashka tea" not in won
    assert "Romashka tea" in by_stage and "Vasilek cups" not in by_stage


def test_the_deal_list_shows_the_drill_down_filters_as_chips_and_keeps_them(org, board, romashka):
    offered = new_deal(org.rep, romashka, board, "Romashka tea")
    new_deal(org.rep, romashka, board, "Romashka cups")
    deal_move(actor=org.rep, deal=offered, stage=board.offer)
    http = logged_in(org.rep)

    page = http.get(
        "/sales/deals/",
        {"reached": board.offer.pk, "created_from": "2020-01-01", "tier": "x", "closes": "June"},
    ).content.decode()

    assert "Romashka tea" in page and "Romashka cups" not in page
    chips = page.split('data-testid="deal-chips"')[1].split("</div>")[0]
    assert "Reached the stage: Offer" in chips and "Created 01/01/2020 – …" in chips
    assert chips.count('data-testid="deal-chip"') == 2  # a bad tier or month is ignored
    assert f'<input type="hidden" name="reached" value="{board.offer.pk}">' in page
    assert 'href="?created_from=2020-01-01&amp;tier=x&amp;closes=June"' in chips


def test_the_deal_list_sorts_by_amount(org, board, romashka):
    new_deal(org.rep, romashka, board, "Small", amount=10)
    new_deal(org.rep, romashka, board, "Large", amount=1000)
    page = logged_in(org.rep).get("/sales/deals/?sort=-amount", **HTMX).content.decode()
    assert page.index("Large") < page.index("Small")


def test_a_new_deal_from_the_quick_form(org, board, romashka):
    http = logged_in(org.rep)
    options = http.get("/sales/deals/new/?client_q=roma", **HTMX).content.decode()
    assert "Romashka" in options

    response = http.post(
        "/sales/deals/new/",
        {
            "client": romashka.pk,
            "title": "Tea for the office",
            "amount": "1200",
            "currency": "rub",
            "expected_close_on": "2026-12-31",
            "pipeline": board.pipeline.pk,
        },
    )

    deal = Deal.objects.get(title="Tea for the office")
    assert response.status_code == 302 and response["Location"] == f"/sales/deals/{deal.pk}/"
    assert (deal.amount, deal.currency, deal.stage) == (Decimal("1200.00"), "RUB", board.lead)


def test_the_quick_form_says_what_is_missing(org, board, romashka):
    response = logged_in(org.rep).post(
        "/sales/deals/new/", {"client": romashka.pk, "title": "", "pipeline": board.pipeline.pk}
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_the_deal_card_edits_a_field_inline_and_shows_stage_history(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    deal_move(actor=org.rep, deal=deal, stage=board.offer)
    http = logged_in(org.rep)

    card = http.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "Time in each stage" in card and "Lead" in card and "Offer" in card
    assert "under a minute" in card  # worded, not 0:00:00.1
    assert "Created in Lead" in card and "Lead → Offer" in card

    form = http.get(f"/sales/deals/{deal.pk}/fields/title/", **HTMX).content.decode()
    assert 'name="value"' in form
    saved = http.post(
        f"/sales/deals/{deal.pk}/fields/title/",
        {"value": "Green tea", "version": Deal.objects.get(pk=deal.pk).version},
        **HTMX,
    )
    assert saved.status_code == 200 and "Green tea" in saved.content.decode()
    refused = http.post(
        f"/sales/deals/{deal.pk}/fields/title/", {"value": "", "version": ""}, **HTMX
    )
    assert refused.status_code == 422
    deal.refresh_from_db()
    assert deal.title == "Green tea"
    assert DealStageChange.objects.filter(deal=deal).count() == 2


def test_the_deal_card_sets_the_products_and_the_amount_follows(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    tea = Product.objects.create(code="TEA-1", name="Green tea", unit="kg")
    http = logged_in(org.rep)

    http.post(
        f"/sales/deals/{deal.pk}/lines/",
        {
            "product": [tea.pk],
            "quantity": ["3"],
            "unit_price": ["100"],
            "discount_percent": ["10"],
        },
    )

    deal.refresh_from_db()
    assert deal.amount == Decimal("270.00")
    card = http.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "Green tea" in card and "₽270.00" in card


def test_the_sales_area_in_the_navigation_opens_the_board(org, board):
    page = logged_in(org.rep).get("/").content.decode()
    assert 'href="/sales/" data-nav="sales"' in page


def test_json_of_move_is_plain_json(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    response = logged_in(org.rep).post(
        f"/sales/deals/{deal.pk}/move/", {"stage": board.offer.pk}, **JSON
    )
    assert json.loads(response.content)["kind"] == "open"


def test_the_order_list_shows_one_clients_orders(org, board, romashka):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    for client, title in ((romashka, "Romashka tea"), (other, "Vasilek cups")):
        deal_move(actor=org.rep, deal=new_deal(org.rep, client, board, title), stage=board.won)
    page = logged_in(org.rep).get(f"/sales/orders/?client={romashka.pk}").content.decode()
    assert "Orders of Romashka" in page
    mine, theirs = (Order.objects.get(client=c) for c in (romashka, other))
    assert f'href="/sales/orders/{mine.pk}/"' in page
    assert f'href="/sales/orders/{theirs.pk}/"' not in page


def test_an_analyst_reads_the_board_but_cannot_move_a_card(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    http = logged_in(org.analyst)

    page = http.get("/sales/").content.decode()
    assert "Tea" in page and 'draggable="true"' not in page
    response = http.post(f"/sales/deals/{deal.pk}/move/", {"stage": board.offer.pk}, **JSON)
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage == board.lead


# --- the deal card: competitors, contact person, quote ---------------------------------


def test_the_deal_card_adds_and_removes_competitors_by_name(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Paper")
    http = logged_in(org.rep)

    http.post(f"/sales/deals/{deal.pk}/competitors/", {"add": "Komus"})
    http.post(f"/sales/deals/{deal.pk}/competitors/", {"add": "  OfficeMag "})
    http.post(f"/sales/deals/{deal.pk}/competitors/", {"add": "komus"})  # the same, any case
    assert sorted(deal.competitors.values_list("name", flat=True)) == ["Komus", "OfficeMag"]
    page = http.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "Komus" in page and "OfficeMag" in page

    response = http.post(f"/sales/deals/{deal.pk}/competitors/", {"remove": "Komus"}, follow=True)

    assert list(deal.competitors.values_list("name", flat=True)) == ["OfficeMag"]
    assert "Competitor “Komus” removed." in response.content.decode()


def test_an_empty_competitor_name_is_refused_with_a_message(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Paper")

    response = logged_in(org.rep).post(
        f"/sales/deals/{deal.pk}/competitors/", {"add": " "}, follow=True
    )

    assert "Type the competitor&#x27;s name." in response.content.decode()
    assert not deal.competitors.exists()


def test_someone_who_cannot_edit_the_deal_cannot_add_competitors(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Paper")

    response = logged_in(org.analyst).post(f"/sales/deals/{deal.pk}/competitors/", {"add": "X"})

    assert response.status_code == 403
    assert not deal.competitors.exists()


def test_the_contact_person_is_chosen_among_the_clients_people(org, board, romashka):
    from lavka.clients.models import Employment, Person

    anna = Person.objects.create(first_name="Anna", last_name="Ivanova", owner=org.rep)
    Employment.objects.create(person=anna, organisation=romashka, is_primary=True)
    stranger = Person.objects.create(first_name="Boris", last_name="Outsider", owner=org.rep)
    deal = new_deal(org.rep, romashka, board, "Paper")
    http = logged_in(org.rep)
    page = http.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "Anna Ivanova" in page and "Boris Outsider" not in page

    http.post(f"/sales/deals/{deal.pk}/person/", {"person": anna.pk})
    deal.refresh_from_db()
    assert deal.person == anna

    response = http.post(f"/sales/deals/{deal.pk}/person/", {"person": stranger.pk}, follow=True)
    deal.refresh_from_db()
    assert deal.person == anna
    assert "This person does not work at this client." in response.content.decode()

    http.post(f"/sales/deals/{deal.pk}/person/", {"person": ""})
    deal.refresh_from_db()
    assert deal.person is None


def test_the_deal_card_shows_time_in_each_stage(org, board, romashka):
    import datetime as dt

    deal = new_deal(org.rep, romashka, board, "Paper")
    DealStageChange.objects.filter(deal=deal).update(
        changed_at=DealStageChange.objects.get(deal=deal).changed_at - dt.timedelta(days=3)
    )
    deal_move(actor=org.rep, deal=deal, stage=board.offer)

    page = logged_in(org.rep).get(f"/sales/deals/{deal.pk}/").content.decode()

    times = page.split('data-testid="stage-times"')[1].split("</ul>")[0]
    assert "Lead" in times and "3 days" in times
    assert "Offer" in times


def test_a_move_to_lost_from_the_card_without_a_reason_is_refused(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Paper")

    response = logged_in(org.rep).post(
        f"/sales/deals/{deal.pk}/move/", {"stage": board.lost.pk, "lost_reason": " "}, follow=True
    )

    assert "Say why the deal was lost." in response.content.decode()
    assert Deal.objects.get(pk=deal.pk).stage == board.lost.pipeline.stages.get(name="Lead")


def quoted_deal(org, board, client):
    deal = new_deal(org.rep, client, board, "Office paper")
    paper = Product.objects.create(code="P-1", name="Paper A4", unit="pack", vat_rate=20)
    service = Product.objects.create(code="S-1", name="Delivery", kind="service")
    from lavka.sales.services import deal_lines_set

    deal_lines_set(
        actor=org.rep,
        deal=deal,
        lines=[
            {"product": paper, "quantity": 10, "unit_price": "120.00", "discount_percent": 10},
            {"product": service, "quantity": 1, "unit_price": "500.00"},
        ],
    )
    return deal


def test_the_quote_page_shows_positions_totals_vat_and_requisites(org, board, romashka, settings):
    settings.COMPANY_NAME = "Lavka Trade LLC"
    romashka.inn, romashka.kpp, romashka.bank_name = "7701234567", "770101001", "Sberbank"
    romashka.save()
    deal = quoted_deal(org, board, romashka)

    page = logged_in(org.rep).get(f"/sales/deals/{deal.pk}/quote/").content.decode()

    assert "Lavka Trade LLC" in page
    for text in ("7701234567", "770101001", "Sberbank", "Paper A4", "Delivery"):
        assert text in page
    # 10 × 120 − 10 % = 1,080; + 500 = 1,580; VAT 20 % included in 1,080 = 180.
    assert "₽1,580.00" in page.split('data-testid="quote-total"')[1][:40]
    assert "₽180.00" in page.split('data-testid="quote-vat"')[1][:40]
    assert "₽120.00" in page  # the discount: 1,700 − 1,580


def test_the_quote_pdf_reads_back_in_russian(org, board, romashka, settings):
    import io

    import pypdf
    from django.utils import timezone

    settings.COMPANY_NAME = "ООО «Лавка Трейд»"
    romashka.inn = "7701234567"
    romashka.save()
    deal = quoted_deal(org, board, romashka)
    http = logged_in(org.rep)
    http.cookies["django_language"] = "ru"

    response = http.get(f"/sales/deals/{deal.pk}/quote.pdf", HTTP_ACCEPT_LANGUAGE="ru")

    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("ООО «Лавка Трейд»", "Romashka", "7701234567", "Paper A4", "1 580,00 RUB"):
        assert expected in text, expected
    assert "180,00 RUB" in text
    valid = (timezone.localdate() + __import__("datetime").timedelta(days=14)).strftime("%d.%m.%Y")
    assert valid in text


def test_another_teams_quote_is_not_found(org, board, romashka):
    deal = quoted_deal(org, board, romashka)

    assert logged_in(org.spb_rep).get(f"/sales/deals/{deal.pk}/quote.pdf").status_code == 404


# --- orders: the client filter, status, a new order by hand ------------------------------


def test_client_links_open_filtered_lists_and_a_preselected_new_deal(org, board, romashka):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    new_deal(org.rep, romashka, board, "Romashka tea")
    new_deal(org.rep, other, board, "Vasilek cups")
    http = logged_in(org.rep)

    deals = http.get(f"/sales/deals/?client={romashka.pk}").content.decode()
    assert "Romashka tea" in deals and "Vasilek cups" not in deals
    form = http.get(f"/sales/deals/new/?client={romashka.pk}").content.decode()
    assert f'<option value="{romashka.pk}" selected>Romashka</option>' in form
    assert http.get(f"/sales/orders/?client={romashka.pk}").status_code == 200
    order_form = http.get(f"/sales/orders/new/?client={romashka.pk}").content.decode()
    assert f'<option value="{romashka.pk}" selected>Romashka</option>' in order_form


def test_an_order_entered_by_hand(org, board, romashka):
    paper = Product.objects.create(code="P-1", name="Paper A4")
    http = logged_in(org.rep)

    response = http.post(
        "/sales/orders/new/",
        {
            "client": romashka.pk,
            "ordered_on": "2026-03-02",
            "number": "A-17",
            "currency": "",
            "status": "confirmed",
            "product": [paper.pk, ""],
            "quantity": ["3", ""],
            "unit_price": ["250", ""],
            "discount_percent": ["", ""],
        },
    )

    order = Order.objects.get(number="A-17")
    assert response.status_code == 302 and response["Location"] == f"/sales/orders/{order.pk}/"
    assert (order.client, str(order.ordered_on), order.total) == (
        romashka,
        "2026-03-02",
        Decimal("750.00"),
    )
    assert order.source == "manual" and order.owner == org.rep


def test_a_new_order_without_lines_or_with_a_bad_quantity_says_so(org, board, romashka):
    paper = Product.objects.create(code="P-1", name="Paper A4")
    http = logged_in(org.rep)
    base = {"client": romashka.pk, "ordered_on": "2026-03-02", "status": "confirmed"}

    empty = http.post("/sales/orders/new/", base)
    bad = http.post(
        "/sales/orders/new/",
        {**base, "product": [paper.pk], "quantity": ["lots"], "unit_price": ["1"]},
    )

    assert empty.status_code == 422
    assert "Add at least one line." in empty.content.decode()
    assert bad.status_code == 422
    assert "Line 1:" in bad.content.decode()
    assert not Order.objects.exists()


def test_the_order_status_changes_on_the_order_page(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    deal_move(actor=org.rep, deal=deal, stage=board.won)
    order = Order.objects.get(source_deal=deal)
    http = logged_in(org.rep)
    page = http.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'value="shipped"' in page and 'value="draft"' not in page

    http.post(f"/sales/orders/{order.pk}/status/", {"status": "shipped"})
    refused = http.post(f"/sales/orders/{order.pk}/status/", {"status": "draft"}, follow=True)

    order.refresh_from_db()
    assert order.status == "shipped"
    assert "can become" in refused.content.decode()


def test_an_analyst_sees_no_status_form_and_cannot_change_it(org, board, romashka):
    deal = new_deal(org.rep, romashka, board, "Tea")
    deal_move(actor=org.rep, deal=deal, stage=board.won)
    order = Order.objects.get(source_deal=deal)
    http = logged_in(org.analyst)

    assert "order-status-form" not in http.get(f"/sales/orders/{order.pk}/").content.decode()
    assert http.post(f"/sales/orders/{order.pk}/status/", {"status": "paid"}).status_code == 403
    assert http.get("/sales/orders/new/").status_code == 404


def page_queries(http, url):
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_card_quote_and_order_pages_do_not_grow_with_lines_people_or_competitors(
    org, board, romashka
):
    from lavka.clients.models import Employment, Person
    from lavka.sales.services import deal_lines_set, deal_update

    def fill(deal, n):
        products = [Product.objects.create(code=f"P{deal.pk}-{i}", name=f"P {i}") for i in range(n)]
        deal_lines_set(
            actor=org.rep,
            deal=deal,
            lines=[{"product": p, "quantity": 1, "unit_price": 10} for p in products],
        )
        deal_update(actor=org.rep, deal=deal, competitors=[f"C{deal.pk}-{i}" for i in range(n)])
        for i in range(n):
            person = Person.objects.create(
                first_name="P", last_name=f"{deal.pk}-{i}", owner=org.rep
            )
            Employment.objects.create(person=person, organisation=deal.client)
        deal_move(actor=org.rep, deal=deal, stage=board.won)
        return deal

    http = logged_in(org.rep)
    small = fill(new_deal(org.rep, romashka, board, "Small"), 1)
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    large = fill(new_deal(org.rep, other, board, "Large"), 12)

    for path in ("/sales/deals/{}/", "/sales/deals/{}/quote/", "/sales/deals/{}/quote.pdf"):
        assert page_queries(http, path.format(small.pk)) == page_queries(
            http, path.format(large.pk)
        ), path
    small_order, large_order = (Order.objects.get(source_deal=d) for d in (small, large))
    assert page_queries(http, f"/sales/orders/{small_order.pk}/") == page_queries(
        http, f"/sales/orders/{large_order.pk}/"
    )
    assert page_queries(http, f"/sales/deals/{large.pk}/") <= 25
    assert page_queries(http, "/sales/orders/new/") <= 12
