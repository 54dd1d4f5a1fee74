"""The KPI dashboard page, its CSV exports, drill links, scoping, the API and the Plotly
bundle. The base is the hand-made one of tests/analytics/test_kpi.py (figures computed
by hand there)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from lavka.analytics.engine.rfm import SEGMENTS
from lavka.analytics.models import ClientScore, ComputeRun
from lavka.analytics.services import analytics_recompute
from lavka.clients.models import Client
from lavka.sales.models import Stage
from tests.analytics.test_kpi import AS_OF, base  # noqa: F401 (the fixture)

QUARTER = {"from": "2026-04", "to": "2026-06"}


@pytest.fixture
def run(base, org):  # noqa: F811
    return analytics_recompute(actor=org.analyst, as_of=AS_OF)


def page(http, **params):
    response = http.get(reverse("analytics:dashboard"), params)
    assert response.status_code == 200
    return response.content.decode()


def kpi(text, code):
    marker = f'data-testid="kpi-{code}">'
    start = text.index(marker) + len(marker)
    value = text[start : text.index("</p>", start)]
    return value.split(">")[-2].split("<")[0] if "<a " in value else value


def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


SEGMENT_CODES = [str(s) for s in SEGMENTS]


def client_names(http, url):
    """The names on the client list at `url` (a drill-down link), in the list's order."""
    response = http.get(url)
    assert response.status_code == 200
    return re.findall(r"data-row-link>([^<]+)</a>", response.content.decode())


def deal_titles(http, url):
    response = http.get(url)
    assert response.status_code == 200
    return re.findall(r"data-row-link>([^<]+)</a>", response.content.decode())


def moved(before, now):
    """Names of the clients whose segment went from `before` (the previous run) to `now`."""
    current = ComputeRun.objects.get(is_current=True)
    previous = current.parameters["moves"]["from_run"]
    was = dict(ClientScore.objects.filter(run_id=previous).values_list("client_id", "segment"))
    ids = [
        client_id
        for client_id, segment in ClientScore.objects.filter(run=current).values_list(
            "client_id", "segment"
        )
        if client_id in was
        and SEGMENT_CODES[was[client_id]] == before
        and SEGMENT_CODES[segment] == now
    ]
    return sorted(Client.objects.filter(pk__in=ids).values_list("name", flat=True))


def test_the_dashboard_is_the_analytics_landing(client, run, org):
    client.force_login(org.analyst)

    home = client.get("/").content.decode()

    assert reverse("analytics:dashboard") == "/analytics/"
    assert 'href="/analytics/"' in home


def test_the_page_shows_the_figures_of_the_period_with_the_comparison(
    client, run, org, django_assert_max_num_queries
):
    client.force_login(org.analyst)

    with django_assert_max_num_queries(16):
        text = page(client, **QUARTER)

    assert kpi(text, "revenue") == "₽430"
    assert kpi(text, "active") == "3"
    assert kpi(text, "new") == "1"
    assert kpi(text, "lost") == "1"
    assert kpi(text, "retention") == "50.0\xa0%"
    assert kpi(text, "win_rate") == "66.7\xa0%"
    assert kpi(text, "cycle") == "25 d"
    assert 'data-testid="change-revenue"' in text and "▼4.4\xa0%" in text  # 430 vs 450
    assert "was ₽450" in text
    assert "no costs entered" in text
    assert 'data-testid="table-trend"' in text
    assert '<script src="/analytics/plotly.min.js" defer></script>' in text
    assert 'id="dashboard-data"' in text


def test_the_page_in_russian(client, run, org):
    client.force_login(org.analyst)
    client.cookies["django_language"] = "ru"

    text = page(client, **QUARTER)

    assert '<html lang="ru"' in text
    assert "Аналитика" in text
    assert kpi(text, "revenue") == "430\xa0₽"
    assert kpi(text, "retention") == "50,0\xa0%"


def test_a_preset_changes_the_period(client, run, org):
    client.force_login(org.analyst)

    text = page(client, period="month")

    assert kpi(text, "revenue") == "₽180"  # June: A 100 + C 80
    assert kpi(text, "active") == "2"
    assert 'data-preset="month" class="dash-preset" aria-current="true"' in text


def test_filters_narrow_the_figures(client, run, org):
    client.force_login(org.analyst)

    text = page(client, owner=org.colleague.pk, **QUARTER)

    assert kpi(text, "revenue") == "₽250"
    assert f'<option value="{org.colleague.pk}" selected>' in text


def test_the_abc_xyz_cells_and_stages_drill_into_the_client_list(client, run, org):
    client.force_login(org.analyst)

    text = page(client, owner=org.rep.pk, **QUARTER)

    assert f'href="/clients/?owner={org.rep.pk}&amp;abc=A&amp;xyz=X"' in text
    assert f'href="/clients/?owner={org.rep.pk}&amp;stage=lost"' in text
    assert 'data-testid="lost-now"' in text


def test_a_rep_sees_only_their_own_figures(client, run, org):
    client.force_login(org.rep)

    text = page(client, **QUARTER)
    other = page(client, owner=org.colleague.pk, **QUARTER)

    assert kpi(text, "revenue") == "₽180"
    assert kpi(other, "revenue") == "₽0"
    assert f'<option value="{org.colleague.pk}"' not in text


def test_a_service_agent_has_no_dashboard(client, run, org):
    client.force_login(org.agent)

    assert client.get(reverse("analytics:dashboard")).status_code == 404


def test_the_csv_export_has_translated_headers_and_the_numbers(client, run, org):
    client.force_login(org.analyst)

    trend = client.get(reverse("analytics:dashboard"), {**QUARTER, "export": "trend.csv"})
    matrix = client.get(reverse("analytics:dashboard"), {**QUARTER, "export": "matrix.csv"})
    client.cookies["django_language"] = "ru"
    russian = client.get(reverse("analytics:dashboard"), {**QUARTER, "export": "trend.csv"})

    assert trend["Content-Type"] == "text/csv; charset=utf-8"
    rows = rows_of(trend)
    assert rows[0] == ["Month", "Revenue", "Orders", "Active clients", "New clients", "Target"]
    assert rows[-3:] == [
        ["2026-04", "0", "0", "0", "0", ""],
        ["2026-05", "250", "1", "1", "0", ""],
        ["2026-06", "180", "2", "2", "1", ""],
    ]
    assert sum(int(r[1]) for r in rows_of(matrix)[1:]) == 4
    assert rows_of(russian)[0][0] == "Месяц"
    assert client.get(reverse("analytics:dashboard"), {"export": "nope.csv"}).status_code == 404


def test_an_empty_state_before_the_first_recompute(client, org):
    client.force_login(org.analyst)

    text = page(client)

    assert 'data-testid="dashboard-empty"' in text


def test_the_missing_cohort_report_is_said(client, run, org):
    client.force_login(org.analyst)

    text = page(client)

    if not run.reports.get("cohorts"):
        assert 'data-testid="cohorts-missing"' in text
    else:
        assert 'data-testid="table-cohorts"' in text


def test_the_plotly_bundle_is_served_with_a_long_cache(client, org):
    response = client.get(reverse("analytics:plotly_js"))

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in response["Cache-Control"]
    assert len(body) > 1_000_000 and b"plotly" in body[:2000].lower()
    again = client.get(reverse("analytics:plotly_js"), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_the_api_returns_the_same_figures(client, run, org):
    client.force_login(org.analyst)

    response = client.get("/api/v1/analytics/kpi", QUARTER)

    assert response.status_code == 200
    body = response.json()
    figures = {f["code"]: f for f in body["figures"]}
    assert body["period_from"] == "2026-04" and body["previous_to"] == "2026-03"
    assert figures["revenue"]["value"] == 430 and figures["revenue"]["previous"] == 450
    assert figures["retention"]["value"] == 0.5
    assert [m["month"] for m in body["trend"]] == ["2026-04", "2026-05", "2026-06"]


def test_the_api_is_scoped_to_the_viewer(client, run, org):
    client.force_login(org.rep)

    body = client.get("/api/v1/analytics/kpi", QUARTER).json()

    assert {f["code"]: f["value"] for f in body["figures"]}["revenue"] == 180


def test_segment_moves_show_after_a_second_recompute(client, base, org):  # noqa: F811
    import datetime as dt

    analytics_recompute(actor=org.analyst, as_of=dt.date(2026, 3, 31))
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.analyst)

    text = page(client, **QUARTER)
    moves = client.get(reverse("analytics:dashboard"), {**QUARTER, "export": "moves.csv"})

    assert 'data-chart-card="moves"' in text
    assert "Movement appears from the second recompute on." not in text
    rows = rows_of(moves)
    assert rows[0] == ["Segment before", "Segment now", "Clients"]
    assert rows[1:] == [["Loyal", "Champions", "1"], ["Needs attention", "At risk", "1"]]
    assert 'data-testid="table-moves"' in text
    # A flow opens exactly the clients who made that move (whole base, as the movement).
    flow = "/clients/?segment_before=loyal&amp;segment=champions"
    assert f'<a href="{flow}" data-testid="flow-clients">1</a>' in text
    assert client_names(client, flow.replace("&amp;", "&")) == moved("loyal", "champions")
    came = "segment_before=" + "%2C".join(s for s in SEGMENT_CODES if s != "at_risk")
    assert client_names(client, f"/clients/?{came}&segment=at_risk") == moved(
        "needs_attention", "at_risk"
    )


def test_a_funnel_stage_drills_into_its_deals(client, run, org):
    client.force_login(org.admin)
    won = Stage.objects.get(pipeline__name="KPI pipeline", name="Won")
    offer = Stage.objects.get(pipeline__name="KPI pipeline", name="Offer")

    text = page(client, **QUARTER)

    # Created April-June and reached Won: the 3,000 deal (the 1,000 one was created in
    # March); Offer: the open 2,000 deal, also the stage's only open deal now.
    reached = (
        f"/sales/deals/?reached={won.pk}&amp;created_from=2026-04-01&amp;created_to=2026-06-30"
    )
    assert f'<a href="{reached}" data-testid="funnel-reached">1</a>' in text
    assert deal_titles(client, reached.replace("&amp;", "&")) == ["Deal 3000"]
    offer_now = f"/sales/deals/?stage={offer.pk}"
    assert f'<a href="{offer_now}" data-testid="funnel-open">1</a>' in text
    assert deal_titles(client, offer_now) == ["Deal 2000"]
    owned = page(client, owner=org.colleague.pk, **QUARTER)
    assert (
        f"reached={won.pk}&amp;created_from=2026-04-01&amp;created_to=2026-06-30&amp;owner={org.colleague.pk}"
        in owned
    )
    segment = page(client, segment="champions", **QUARTER)
    assert 'data-testid="funnel-reached"' not in segment  # the deal list has no segment


def test_a_cohort_cell_drills_into_the_cohort_s_buyers_of_that_month(client, run, org):
    client.force_login(org.analyst)

    text = page(client, owner=org.rep.pk, **QUARTER)

    # A first bought in January 2026 and again in March; B (December 2025) in February.
    # The cohorts are the whole base's: the owner filter is not carried into the link.
    march = "/clients/?cohort=2026-01&amp;bought=2026-03"
    assert f'<a href="{march}">100' in text
    assert client_names(client, march.replace("&amp;", "&")) == ["A"]
    assert client_names(client, "/clients/?cohort=2026-01&bought=2026-02") == []
    assert client_names(client, "/clients/?cohort=2025-12&bought=2026-02") == ["B"]
    assert 'href="/clients/?cohort=2026-01"' in text
