"""The "Due to buy" page (/analytics/due/) on the base of tests/analytics/test_buying.py,
moved so that its as-of date is today: Alpha (rep) is due tomorrow (coffee every 10
days), Delta (colleague) in 3 days, Bravo (rep) in 8 days."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from lavka.analytics.services import analytics_recompute
from tests.analytics.test_buying import D, make_buying_base

URL = "/analytics/due/"


@pytest.fixture
def base(org):
    shift = (timezone.localdate() - D(2026, 6, 30)).days
    made = make_buying_base(org, shift_days=shift)
    analytics_recompute(actor=org.analyst, as_of=made.as_of)
    return made


def _clients(text):
    return [
        part.split(">", 1)[1].split("<", 1)[0]
        for part in text.split('data-testid="due-row"')[1:]
        for part in [part.split("<a href=", 1)[1]]
    ]


def test_a_rep_sees_their_clients_due_with_the_offer(
    client, base, org, django_assert_max_num_queries
):
    client.force_login(org.rep)

    with django_assert_max_num_queries(12):
        response = client.get(URL)

    assert reverse("analytics:due") == URL
    assert response.status_code == 200
    text = response.content.decode()
    assert _clients(text) == ["Alpha", "Bravo"]
    assert f'href="/clients/{base.a.pk}/"' in text
    assert "in 1 day" in text
    assert "every 10 days" in text
    assert "75% of clients who buy Beans also buy Filter" in text
    assert "by the category's cycle" in text
    assert 'data-testid="due-how"' in text
    assert 'data-testid="due-typical"' in text


def test_the_window_narrows_the_list(client, base, org):
    client.force_login(org.rep)

    text = client.get(URL, {"within": "7"}).content.decode()

    assert _clients(text) == ["Alpha"]


def test_a_manager_sees_the_team_and_can_pick_a_rep(
    client, base, org, django_assert_max_num_queries
):
    client.force_login(org.manager)

    with django_assert_max_num_queries(14):
        team = client.get(URL).content.decode()
    colleague = client.get(URL, {"owner": org.colleague.pk}).content.decode()
    mine = client.get(URL, {"owner": "me"}).content.decode()

    assert _clients(team) == ["Alpha", "Delta", "Bravo"]
    assert 'id="due-owner"' in team
    assert _clients(colleague) == ["Delta"]
    assert _clients(mine) == []
    assert 'data-testid="due-none"' in mine


def test_the_category_filter(client, base, org):
    client.force_login(org.manager)

    coffee = client.get(URL, {"category": base.coffee.pk}).content.decode()
    tea = client.get(URL, {"category": base.tea.pk}).content.decode()

    assert _clients(coffee) == ["Alpha", "Delta", "Bravo"]
    assert _clients(tea) == []


def test_the_page_in_russian(client, base, org):
    client.force_login(org.rep)
    client.cookies["django_language"] = "ru"

    text = client.get(URL).content.decode()

    assert '<html lang="ru"' in text
    assert _clients(text) == ["Alpha", "Bravo"]


def test_csv_export_has_every_row_of_the_list(client, base, org):
    client.force_login(org.manager)

    response = client.get(URL, {"format": "csv", "within": "14"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["client"] for r in rows] == ["Alpha", "Delta", "Bravo"]
    alpha = rows[0]
    assert alpha["due_category"] == "Coffee"
    assert alpha["cycle_days"] == "10.0"
    assert alpha["days"] == "1"
    assert alpha["basis"] == "category"
    assert alpha["offer"] == "Filter"
    assert alpha["offer_share"] == "0.75"


def test_before_any_recompute_the_page_explains_itself(client, org):
    client.force_login(org.rep)

    text = client.get(URL).content.decode()

    assert 'data-testid="due-empty"' in text
    assert 'data-testid="due-csv"' not in text


def test_no_analytics_access_no_page(client, org):
    client.force_login(org.agent)

    assert client.get(URL).status_code == 404


def test_the_card_block_shows_the_offer_and_the_cycles(base, org):
    from django.template.loader import render_to_string

    from lavka.analytics.buying import client_insight

    html = render_to_string(
        "web/analytics/due_card.html",
        {"analytics_insight": client_insight(viewer=org.rep, client=base.a)},
    )
    empty = render_to_string("web/analytics/due_card.html", {"analytics_insight": None})

    assert 'data-testid="card-insight"' in html
    assert "75% of clients who buy Beans also buy Filter" in html
    assert "every 10 days" in html
    assert "every 31 days" in html
    assert empty.strip() == ""
