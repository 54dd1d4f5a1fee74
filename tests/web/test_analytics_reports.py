"""The cohort and touchpoint pages and their CSV, on the hand-made base of
tests/analytics/test_reports_cohorts.py (figures computed by hand there)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.urls import reverse

from lavka.analytics.services import analytics_recompute
from tests.analytics.conftest import history  # noqa: F401 - fixture
from tests.analytics.test_reports_cohorts import reports_base  # noqa: F401 - fixture

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def computed(reports_base, org):  # noqa: F811
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    return reports_base


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_cohort_page_shows_the_heatmap_with_drill_links(
    client, computed, org, django_assert_max_num_queries
):
    client.force_login(org.analyst)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("analytics:cohorts"))

    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="cohort-table"' in text
    assert 'href="/clients/?cohort=2025-07"' in text
    assert 'data-cohort="2026-01"' in text
    row = text.split('data-cohort="2026-01"')[1].split("</tr>")[0]
    assert row.count("cohort-cell") == 6
    assert "100\u00a0%" in row and "0\u00a0%" in row


def test_the_cohort_page_switches_to_revenue_by_channel(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(
        reverse("analytics:cohorts"), {"by": "channel", "group": "web", "measure": "revenue"}
    )

    text = response.content.decode()
    assert 'data-measure="revenue"' in text
    assert 'href="/clients/?cohort=2025-07&amp;source=web"' in text
    row = text.split('data-cohort="2025-07"')[1].split("</tr>")[0]
    assert "185" in row and "215" in row


def test_the_cohort_page_by_tier_links_to_the_tier(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(
        reverse("analytics:cohorts"), {"by": "tier", "group": str(computed.vip.pk)}
    )

    assert f"cohort=2025-07&amp;tier={computed.vip.pk}" in response.content.decode()
    assert "VIP" in response.content.decode()


def test_the_cohort_csv_has_a_row_per_cohort_and_month(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(reverse("analytics:cohorts"), {"export": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv(response)
    assert rows[0][:4] == ["Group", "Cohort", "Clients", "Months after the first purchase"]
    twice = [r for r in rows[1:] if r[1] == "2026-01"]
    assert [(r[3], r[4], r[6]) for r in twice] == [
        ("0", "1", "300.0"),
        ("1", "0", "0.0"),
        ("2", "0", "0.0"),
        ("3", "0", "0.0"),
        ("4", "0", "0.0"),
        ("5", "1", "300.0"),
    ]


def test_the_touchpoint_page_shows_each_kind_and_channel(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(reverse("analytics:touchpoints"), {"within": "7"})

    text = response.content.decode()
    assert response.status_code == 200
    call = text.split('data-kind="call"')[1].split("</tr>")[0]
    assert "Phone" in call or "phone" in call
    assert "50.0\u00a0%" in call  # one of the two calls was followed by a purchase
    assert 'data-within="7" aria-current="true"' in text


def test_the_touchpoint_table_sorts_by_a_column(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(reverse("analytics:touchpoints"), {"sort": "kind"})

    text = response.content.decode()
    assert text.index('data-kind="call"') < text.index('data-kind="email"')
    assert 'data-column="kind"' in text and 'aria-sort="ascending"' in text
    response = client.get(reverse("analytics:touchpoints"), {"sort": "-kind"})
    text = response.content.decode()
    assert text.index('data-kind="email"') < text.index('data-kind="call"')


def test_the_touchpoint_csv_has_every_horizon(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(reverse("analytics:touchpoints"), {"export": "csv"})

    rows = _csv(response)
    assert rows[0][:5] == [
        "Kind",
        "Channel",
        "Touches",
        "Clients reached",
        "Touches old enough (7 days)",
    ]
    call = next(r for r in rows[1:] if r[0] == "Call")
    assert call[1:4] == ["phone", "2", "2"]
    assert call[4:11] == ["2", "1", "0.5", call[7], "300.0", "0", "1"]  # 7 days
    assert call[18:25] == ["1", "0", "0.0", call[21], "0.0", "1", "1"]  # 30 days


def test_both_pages_are_in_russian(client, computed, org):
    org.analyst.language = "ru"
    org.analyst.save(update_fields=["language"])
    client.force_login(org.analyst)

    cohorts = client.get(reverse("analytics:cohorts"), HTTP_ACCEPT_LANGUAGE="ru")
    touches = client.get(reverse("analytics:touchpoints"), HTTP_ACCEPT_LANGUAGE="ru")

    assert '<html lang="ru"' in cohorts.content.decode()
    assert "Клиенты" in cohorts.content.decode()
    assert "Касания" in touches.content.decode()
    assert "Скачать CSV" in touches.content.decode()


def test_a_manager_who_sees_part_of_the_base_gets_an_explanation(client, computed, org):
    client.force_login(org.manager)

    for name in ("analytics:cohorts", "analytics:touchpoints"):
        response = client.get(reverse(name))
        text = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="whole-base-only"' in text
        assert "covers the whole client base" in text
        assert "cohort-table" not in text and "touchpoints-table" not in text
    assert client.get(reverse("analytics:cohorts"), {"export": "csv"}).status_code == 404


def test_a_service_agent_has_no_report_pages(client, computed, org):
    client.force_login(org.agent)

    assert client.get(reverse("analytics:cohorts")).status_code == 404
    assert client.get(reverse("analytics:touchpoints")).status_code == 404


def test_before_the_first_recompute_the_pages_say_how_to_fill_them(client, org):
    client.force_login(org.analyst)

    for name, what in (
        ("analytics:cohorts", "Cohorts are computed"),
        ("analytics:touchpoints", "Touchpoint effectiveness is computed"),
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "No scores yet" in response.content.decode()
        assert what in response.content.decode()


def _names(http, url):
    response = http.get(url)
    assert response.status_code == 200
    return re.findall(r"data-row-link>([^<]+)</a>", response.content.decode())


def _chart(response):
    text = response.content.decode()
    start = text.index('<script id="cohorts-chart-data" type="application/json">')
    body = text[start:].split(">", 1)[1].split("</script>")[0]
    return json.loads(body)


def test_the_cohort_heatmap_is_a_chart_whose_cells_open_the_cohort_s_buyers(client, computed, org):
    client.force_login(org.analyst)

    response = client.get(reverse("analytics:cohorts"))

    text = response.content.decode()
    chart = _chart(response)
    assert 'id="chart-cohorts"' in text and 'data-png="cohorts"' in text
    assert '<script src="/analytics/plotly.min.js" defer></script>' in text
    assert chart["months"][0] == "2026-06"  # the latest cohort on top, as in the table
    row = chart["months"].index("2026-01")
    # Twice: first purchase in January, again in June (month 5); nobody in between.
    assert chart["z"][row][:6] == [100.0, 0.0, 0.0, 0.0, 0.0, 100.0]
    assert chart["text"][row][5] == "100\u00a0%"
    june = "/clients/?cohort=2026-01&bought=2026-06"
    assert chart["drill"][row][5] == june
    assert f'<a href="{june.replace("&", "&amp;")}">100\u00a0%</a>' in text
    assert _names(client, june) == ["Twice"]
    assert _names(client, chart["drill"][row][1]) == []
    august = chart["drill"][chart["months"].index("2025-07")][1]
    assert _names(client, august) == ["Monthly", "Steady"]


def test_a_cell_of_a_channel_or_tier_keeps_the_group(client, computed, org):
    client.force_login(org.analyst)

    web = _chart(client.get(reverse("analytics:cohorts"), {"by": "channel", "group": "web"}))
    vip = _chart(
        client.get(reverse("analytics:cohorts"), {"by": "tier", "group": str(computed.vip.pk)})
    )

    august = web["drill"][web["months"].index("2025-07")][1]
    assert august == "/clients/?cohort=2025-07&bought=2025-08&source=web"
    assert _names(client, august) == ["Monthly", "Steady"]
    vip_august = vip["drill"][vip["months"].index("2025-07")][1]
    assert vip_august == f"/clients/?cohort=2025-07&bought=2025-08&tier={computed.vip.pk}"
    assert _names(client, vip_august) == ["Monthly"]
