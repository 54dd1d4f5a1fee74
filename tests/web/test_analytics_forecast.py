"""The forecast page (/analytics/forecast/) in both languages, its CSV, who sees what,
and the forecast next to the plans on the plans page. The base is the one of
tests/analytics/test_forecast.py (as of 2026-06-20; open deals closing in July 2026
weigh 50,000)."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation

from lavka.analytics.services import analytics_recompute
from lavka.plans.models import Plan
from lavka.web.templatetags.lavka import money
from tests.analytics.test_forecast import AS_OF, base  # noqa: F401 - the fixture

URL = "/analytics/forecast/"


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def run(org, base):  # noqa: F811
    return analytics_recompute(actor=org.analyst, as_of=AS_OF)


def page(http, user, **params):
    http.force_login(user)
    return http.get(URL, params)


def test_the_url_is_named():
    assert reverse("analytics:forecast") == URL


def test_an_analyst_sees_the_forecast_with_its_intervals_and_the_pipeline(http, org, run):
    response = page(http, org.analyst)

    text = response.content.decode()
    stored = run.reports["forecast"]
    july = next(row for row in stored["forecast"] if row[0] == "2026-07")
    with translation.override("en"):
        july_value, july_pipeline = money(july[1], "RUB"), money(50000, "RUB")
        low, high = money(july[2], "RUB"), money(july[3], "RUB")
    assert response.status_code == 200
    assert 'data-testid="forecast-table"' in text
    assert text.count('data-testid="forecast-value"') == 12
    assert "June 2026" in text and "May 2027" in text
    row = text[text.index('data-month="2026-07"') :]
    row = row[: row.index("</tr>")]
    assert july_value in row and july_pipeline in row and f"{low} – {high}" in row
    assert "Holt-Winters" in text
    assert "Fitted without the last 3 months" in text
    assert "Close date passed" in text and "No close date" in text
    assert "1 open deal is left out: no exchange rate for its currency." in text
    assert 'data-testid="forecast-scope"' not in text


def test_the_chart_title_states_the_next_year_against_the_last(http, org, run):
    response = page(http, org.analyst)

    # The last 12 whole months (June 2025 - May 2026): 12 x 1,500, December 2,000 more,
    # March 900 more = 20,900.
    total = sum(row[1] for row in run.reports["forecast"]["forecast"])
    change = round(100 * (total / 20900 - 1), 1)
    with translation.override("en"):
        words = f"The next 12 months are forecast at {money(total, 'RUB')}, {abs(change)}% "
    assert words + ("above" if change >= 0 else "below") in response.content.decode()


def test_the_page_in_russian(http, org, run):
    http.cookies["django_language"] = "ru"

    response = page(http, org.analyst)

    text = response.content.decode()
    assert response.status_code == 200
    assert "Июль 2026" in text
    assert "Взвешенная воронка" in text
    assert "50\xa0000,00\xa0₽" in text


def test_the_csv_holds_history_forecast_and_pipeline(http, org, run):
    response = page(http, org.analyst, format="csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["month", "kind", "revenue", "forecast"]
    by_month = {(r[0], r[1]): r for r in rows[1:]}
    assert by_month[("2026-03", "actual")][2] == "2400.0"
    july = by_month[("2026-07", "forecast")]
    assert july[8:11] == ["50000.0", "190000.0", "2"]
    assert by_month[("overdue", "pipeline")][8:11] == ["1000.0", "1000.0", "1"]
    assert by_month[("none", "pipeline")][8:11] == ["400.0", "4000.0", "1"]
    assert sum(1 for r in rows if r[1] == "forecast") == 12


def test_a_rep_sees_the_forecast_of_their_own_clients(http, org, run):
    response = page(http, org.rep)

    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="forecast-scope"' in text
    assert "No close date" not in text  # Beta's undated deal is not the rep's


def test_before_the_first_recompute_the_page_explains_itself(http, org):
    response = page(http, org.analyst)

    assert response.status_code == 200
    assert 'data-testid="forecast-empty"' in response.content.decode()
    assert page(http, org.analyst, format="csv").status_code == 404


def test_a_service_agent_has_no_forecast_page(http, org):
    assert page(http, org.agent).status_code == 404


def test_the_plans_page_shows_the_forecast_next_to_the_plan_with_the_gap(http, org, run):
    Plan.objects.create(
        level="team",
        team=org.moscow,
        period_start=AS_OF.replace(month=7, day=1),
        granularity="month",
        currency="RUB",
        target_amount=Decimal("60000"),
        set_by=org.admin,
    )
    http.force_login(org.analyst)

    response = http.get(reverse("plans:list"), {"period": "2026-07"})

    text = response.content.decode()
    july = next(row for row in run.reports["forecast"]["forecast"] if row[0] == "2026-07")
    with translation.override("en"):
        value, gap = money(july[1], "RUB"), money(60000 - july[1], "RUB")
        pipeline = money(50000, "RUB")
    assert response.status_code == 200
    section = text[text.index('data-testid="plans-model-forecast"') :]
    assert f'data-testid="model-forecast-value">{value}<' in section
    assert f'data-testid="model-forecast-pipeline">{pipeline}<' in section
    assert f">{gap}<" in section
    assert "the forecast falls short of the plans" in section


def test_the_plans_page_of_a_period_the_forecast_does_not_reach_says_so(http, org, run):
    http.force_login(org.analyst)

    response = http.get(reverse("plans:list"), {"period": "2028-01"})

    text = response.content.decode()
    assert "The forecast does not reach this period" in text


def test_a_quarter_adds_up_its_months(http, org, run):
    http.force_login(org.analyst)

    response = http.get(reverse("plans:list"), {"period": "2026-Q3"})

    forecast = {row[0]: row[1] for row in run.reports["forecast"]["forecast"]}
    total = forecast["2026-07"] + forecast["2026-08"] + forecast["2026-09"]
    with translation.override("en"):
        expected = money(total, "RUB")
    assert f'data-testid="model-forecast-value">{expected}<' in response.content.decode()


def _listed(http, url):
    response = http.get(url.replace("&amp;", "&"))
    assert response.status_code == 200
    return sorted(re.findall(r"data-row-link>([^<]+)</a>", response.content.decode()))


def test_a_past_month_opens_its_buyers_and_a_forecast_month_its_closing_deals(http, org, run):
    text = page(http, org.admin).content.decode()

    # July 2026: the open 10,000 RUB and 2,000 USD deals (the won and the deleted ones
    # expected then are not in the pipeline).
    july = "/sales/deals/?status=open&amp;closes=2026-07"
    assert f'<a href="{july}" data-testid="forecast-deals">2</a>' in text
    assert _listed(http, july) == ["Alpha 10000", "Alpha 2000"]
    march = "/clients/?bought=2026-03"
    assert f'<a href="{march}" data-testid="history-clients">' in text
    assert _listed(http, march) == ["Alpha", "Beta"]
    chart = json.loads(
        text.split('<script id="forecast-data" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["history"]["drill"][0] == "/clients/?bought=2024-01"
    assert chart["forecast"]["drill"][1] == july.replace("&amp;", "&")
    assert 'id="chart-forecast"' in text and 'data-png="forecast"' in text
