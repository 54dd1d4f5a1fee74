"""The client list's analytics filters, chips, sorts and columns (the drill-down from
the dashboard lands here), and the card's analytics block."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from tests.analytics.test_filters import base  # noqa: F401 (the fixture)


def _logged_in(user, language="en"):
    http = HttpClient(headers={"accept-language": language})
    http.force_login(user)
    return http


def _row_names(html):
    return re.findall(r"data-row-link>([^<]+)</a>", html)


def test_a_drill_down_link_shows_its_filter_as_a_chip_and_only_those_clients(org, base):  # noqa: F811
    response = _logged_in(org.admin).get("/clients/", {"abc": "A", "xyz": "X", "sort": "-clv"})
    html = response.content.decode()

    assert response.status_code == 200
    assert _row_names(html) == ["Delta", "Echo", "Alpha"]
    chips = re.findall(r'data-testid="filter-chip"><span>([^<]+)</span>', html)
    assert chips == ["ABC-XYZ: AX"]
    assert "Filtered by the analytics:" in html
    assert "Clients 1–3 of 3" in html
    # Removing the chip keeps the sort and drops both classes.
    assert 'href="/clients/?sort=-clv"' in html


def test_the_list_shows_the_scores_as_columns(org, base):  # noqa: F811
    html = (
        _logged_in(org.admin)
        .get("/clients/", {"cols": "segment,abc_xyz,clv,leave,next_purchase"})
        .content.decode()
    )
    alpha = html[html.index(">Alpha</a>") :]
    alpha = alpha[: alpha.index("</tr>")]

    cells = re.findall(r'data-col="(\w+)">(.*?)</td>', alpha, re.S)
    assert [c for c, _ in cells] == ["segment", "abc_xyz", "clv", "leave", "next_purchase"]
    values = dict(cells)
    assert values["segment"] == "Champions"
    assert values["abc_xyz"] == "AX"
    assert "5,000.00" in values["clv"]
    assert ">10%<" in values["leave"]
    assert values["next_purchase"] == "07/10/2026"
    foxtrot = html[html.index(">Foxtrot</a>") :]
    assert 'title="No score">–<' in foxtrot[: foxtrot.index("</tr>")]


def test_a_rep_sees_no_score_of_a_colleague_s_client(org, base):  # noqa: F811
    html = _logged_in(org.rep).get("/clients/", {"cols": "clv"}).content.decode()
    delta = html[html.index(">Delta</a>") :]
    delta = delta[: delta.index("</tr>")]

    assert "8,000" not in html
    assert 'title="No score">–<' in delta
    assert _row_names(
        _logged_in(org.rep).get("/clients/", {"segment": "champions"}).content.decode()
    ) == ["Alpha"]


def test_the_filter_panel_and_chips_in_russian(org, base):  # noqa: F811
    html = (
        _logged_in(org.admin, "ru")
        .get("/clients/", {"segment": "at_risk", "next_to": "2026-12-31"})
        .content.decode()
    )

    assert _row_names(html) == ["Bravo"]
    chips = re.findall(r'data-testid="filter-chip"><span>([^<]+)</span>', html)
    assert len(chips) == 2
    assert "Под угрозой" in chips[0]
    assert "31.12.2026" in chips[1]
    assert 'lang="ru"' in html
    assert (
        re.search(r'<option value="at_risk" selected>([^<]+)</option>', html).group(1)
        == "Под угрозой ухода"
    )


def test_a_bad_filter_value_says_which_parameter_and_shows_no_rows(org, base):  # noqa: F811
    response = _logged_in(org.admin).get("/clients/", {"abc": "Q"})
    html = response.content.decode()

    assert response.status_code == 200
    assert 'data-testid="filter-errors"' in html
    assert "“Q” is not a valid value of abc; use one of: A, B, C." in html
    assert _row_names(html) == []
    assert 'id="flt-abc" name="abc" aria-invalid="true"' in html


def test_the_htmx_update_carries_the_chips(org, base):  # noqa: F811
    response = _logged_in(org.admin).get(
        "/clients/", {"stage": "at_risk", "cols": ""}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()

    assert "<html" not in html
    assert re.findall(r'data-testid="filter-chip"><span>([^<]+)</span>', html) == [
        "Lifecycle stage: at risk"
    ]
    # The stage column comes with the stage filter, even with no column chosen.
    assert re.findall(r'<td class="[^"]*" data-col="(\w+)">', html) == ["stage"]


def test_pages_of_a_score_sort_and_their_total(org, base):  # noqa: F811
    from lavka.web.views import clients as view

    pages = []
    http = _logged_in(org.admin)
    original = view.PAGE_SIZE
    view.PAGE_SIZE = 4
    try:
        for number in (1, 2):
            html = http.get("/clients/", {"sort": "-clv", "page": number}).content.decode()
            pages.append(_row_names(html))
    finally:
        view.PAGE_SIZE = original

    assert pages == [["Delta", "Echo", "Alpha", "Bravo"], ["Charlie", "Foxtrot"]]


def test_a_filtered_list_takes_a_fixed_number_of_queries(org, base, django_assert_max_num_queries):  # noqa: F811
    http = _logged_in(org.admin)
    http.get("/clients/")
    # The list's own (tests/web/test_page_queries.LIST_QUERIES = 12), plus the current
    # run, the ids matching the score filters and the page's scores.
    with django_assert_max_num_queries(15):
        http.get("/clients/", {"abc": "A", "xyz": "X", "sort": "-clv"})


def test_the_card_shows_the_lifecycle_stage(org, base):  # noqa: F811
    html = _logged_in(org.admin).get(f"/clients/{base.bravo.pk}/").content.decode()

    stage = re.search(r'data-testid="card-stage"[^>]*>([^<]+)<', html)
    assert stage is not None
    assert stage.group(1).strip() == "At risk"
    assert ">500 days<" in html


def test_the_card_in_russian_shows_the_stage_too(org, base):  # noqa: F811
    html = _logged_in(org.admin, "ru").get(f"/clients/{base.bravo.pk}/").content.decode()

    assert 'lang="ru"' in html
    assert 'data-testid="card-stage"' in html
    assert 'data-testid="card-leave"' in html


def test_the_card_shows_the_suggested_offer_and_the_category_due(org, base):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lavka.analytics.models import ClientInsight, ComputeRun
    from lavka.sales.models import Product, ProductCategory

    tea = ProductCategory.objects.create(name="Tea")
    green = Product.objects.create(code="G1", name="Green tea", category=tea)
    ClientInsight.objects.create(
        run=base.run,
        client=base.bravo,
        due_on=dt.date(2026, 7, 20),
        next_purchase_on=dt.date(2026, 9, 1),
        due_category=tea,
        category_due_on=dt.date(2026, 7, 20),
        cycle_days=30.0,
        category_purchases=3,
        category_last_on=dt.date(2026, 6, 20),
        product=green,
        last_on=dt.date(2026, 6, 20),
    )
    http = _logged_in(org.admin)
    http.get(f"/clients/{base.bravo.pk}/")
    with CaptureQueriesContext(connection) as scored:
        html = http.get(f"/clients/{base.bravo.pk}/").content.decode()
    ComputeRun.objects.update(is_current=False)
    with CaptureQueriesContext(connection) as plain:
        http.get(f"/clients/{base.bravo.pk}/")

    assert re.search(r'data-testid="card-offer"[^>]*>Green tea<', html)
    assert re.search(r'data-testid="card-due"[^>]*>Tea <', html)
    # The scores' query runs either way; the suggestion adds its row and the client's
    # category cycles (lavka.analytics.buying.client_insight).
    assert len(scored) - len(plain) == 2


def test_the_plain_list_shows_the_scores_only_when_asked(org, base):  # noqa: F811
    http = _logged_in(org.admin)

    plain = http.get("/clients/").content.decode()
    asked = http.get("/clients/", {"cols": "segment"}).content.decode()
    drilled = http.get("/clients/", {"segment": "champions"}).content.decode()

    assert re.findall(r'<td class="[^"]*" data-col="(\w+)">', plain) == []
    assert set(re.findall(r'<td class="[^"]*" data-col="(\w+)">', asked)) == {"segment"}
    # A drill-down shows the segment, CLV and the probability of leaving.
    assert re.findall(r'<th scope="col" data-col="(\w+)">', drilled) == ["segment"]
    assert ">CLV</span>" in drilled
    assert ">Probability of leaving</span>" in drilled


def test_the_form_and_a_saved_view_keep_the_drill_down_filters(org, base):  # noqa: F811
    from lavka.clients.models import SavedView

    drill = {"cohort": "2025-03", "bought": "2026-06", "segment_before": "at_risk"}
    http = _logged_in(org.admin)

    html = http.get("/clients/", drill).content.decode()
    http.post("/clients/", {"view_name": "Came back", **drill})

    # Changing another filter (the form's htmx request) sends these along.
    form = html.split('id="client-filters"')[1].split("</form>")[0]
    for key, value in drill.items():
        assert f'<input type="hidden" name="{key}" value="{value}">' in form
    assert SavedView.objects.get(name="Came back").filters == drill


def test_the_dashboard_s_team_filter_narrows_the_list_and_shows_as_a_chip(org, base):  # noqa: F811
    html = (
        _logged_in(org.admin)
        .get("/clients/", {"team": org.spb.pk, "segment": "champions"})
        .content.decode()
    )

    assert _row_names(html) == ["Echo"]
    chips = re.findall(r'data-testid="filter-chip"><span>([^<]+)</span>', html)
    assert chips == ["Team: Sales St Petersburg", "RFM segment: Champions"]
    form = html.split('id="client-filters"')[1].split("</form>")[0]
    assert f'<input type="hidden" name="team" value="{org.spb.pk}">' in form


# --- speed at any page size, and the deepest page -----------------------------------


def _sixty_at_risk(org, base):  # noqa: F811
    """Sixty more clients of the current run, all at risk (stage and segment), likely to
    leave (70%), in cell AZ, CLV 100..6,000: every drill-down below fills its pages."""
    from lavka.analytics.models import ClientScore
    from lavka.clients.models import Client

    from .test_page_queries import _clients

    _clients(org, 0, 60)
    clients = Client.objects.filter(name__startswith="Client ")
    row = {
        "first_on": dt.date(2025, 1, 1),
        "last_on": dt.date(2026, 1, 1),
        "recency_days": 180,
        "frequency": 2,
        "revenue": 500.0,
        "r": 1,
        "f": 2,
        "m": 2,
        "segment": 4,  # at risk
        "abc": 0,
        "xyz": 2,
        "window_revenue": 300.0,
        "p_alive": 0.3,
        "stage": 3,  # at risk
    }
    ClientScore.objects.bulk_create(
        ClientScore(run=base.run, client=client, clv=100.0 * (i + 1), **row)
        for i, client in enumerate(clients)
    )


SLOW_BEFORE = [
    {"stage": "at_risk"},
    {"leave_min": "50"},
    {"segment": "at_risk", "sort": "-leave"},
    {"abc": "A", "xyz": "Z", "sort": "-clv"},
    {"sort": "-clv"},
    {"sort": "-revenue"},
]


@pytest.mark.parametrize("viewer", ["admin", "manager"])
@pytest.mark.parametrize("params", SLOW_BEFORE)
def test_a_score_drill_down_takes_the_same_queries_for_five_rows_and_fifty(
    org,
    base,  # noqa: F811
    monkeypatch,
    params,
    viewer,
):
    # The pages that read a million score rows at 1M clients (bench/client_list_scores).
    from lavka.web.views import clients as view

    _sixty_at_risk(org, base)
    http = _logged_in(getattr(org, viewer))
    http.get("/clients/", params)  # the run's arrays load once per process
    counts = {}
    for size in (5, 50):
        monkeypatch.setattr(view, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            response = http.get("/clients/", params)
        rows = len(_row_names(response.content.decode()))
        counts[size] = (rows, len(queries))

    assert counts[5][0] == 5 and counts[50][0] == 50
    assert counts[5][1] == counts[50][1]


def test_a_page_past_the_limit_says_how_to_reach_the_others(org, base, monkeypatch):  # noqa: F811
    from lavka.web.views import clients as view

    _sixty_at_risk(org, base)
    monkeypatch.setattr(view, "PAGE_SIZE", 5)
    monkeypatch.setattr(view, "MAX_ROWS", 10)  # pages 1 and 2
    http = _logged_in(org.admin)

    last = http.get("/clients/", {"stage": "at_risk", "page": 2}).content.decode()
    with CaptureQueriesContext(connection) as queries:
        past = http.get("/clients/", {"stage": "at_risk", "page": 3}).content.decode()
    plain = http.get("/clients/", {"page": 99999}).content.decode()

    # The last page offers no "Next" and says why.
    assert len(_row_names(last)) == 5
    assert 'rel="next"' not in last
    assert "This is the last page: only the first 10 clients of a list" in last
    # Past it: no rows read, what to do instead, and the way back to the last page.
    assert _row_names(past) == []
    assert "Page 3 is too far into the list" in past
    assert "narrow the list with a search or a filter, or sort it the other way round" in past
    assert re.search(r'href="\?stage=at_risk&amp;page=2"[^>]*>Go to page 2<', past)
    assert not any("clients_client_tags" in q["sql"] for q in queries.captured_queries)
    assert "Page 99,999 is too far into the list" in plain
    assert "No clients yet" not in plain


def test_the_page_limit_in_russian(org, base, monkeypatch):  # noqa: F811
    from lavka.web.views import clients as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    monkeypatch.setattr(view, "MAX_ROWS", 4)
    http = _logged_in(org.admin, "ru")

    last = http.get("/clients/", {"page": 2}).content.decode()
    past = http.get("/clients/", {"page": 3}).content.decode()

    assert 'lang="ru"' in past
    assert 'data-testid="page-limit-reached"' in last
    assert 'data-testid="page-limit"' in past
    assert _row_names(past) == []


def test_a_page_past_the_end_of_a_short_list_says_so(org, base):  # noqa: F811
    html = _logged_in(org.admin).get("/clients/", {"segment": "champions", "page": 4})
    html = html.content.decode()

    assert _row_names(html) == []
    assert "This page is past the end of the list" in html
    assert "No clients match" not in html
    assert 'href="?segment=champions&amp;page=1"' in html
