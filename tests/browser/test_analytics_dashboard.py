"""The KPI dashboard in a browser: an analyst opens the analytics area (the dashboard is
its landing), sees the figures and the Plotly charts, changes the period, drills from
the ABC-XYZ matrix into the client list (only that cell's clients), and opens one client
whose card shows the lifetime value and the probability of leaving. Screenshots in
English and Russian, wide and narrow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from lavka.analytics.engine.simulate import simulate_transactions
from lavka.analytics.models import ClientScore
from lavka.analytics.services import analytics_recompute
from lavka.clients.models import Client
from lavka.sales.models import Order
from tests.browser.conftest import log_in, screenshot
from tests.factories import TeamFactory, UserFactory, role

PASSWORD = "dashboard-pass-2026"


def simulated_base(owner, as_of):
    """300 clients whose purchases follow the models (enough for a fit), up to as_of."""
    end = int(np.datetime64(as_of, "D").astype(np.int64))
    sim = simulate_transactions(
        n_clients=300,
        r=0.5,
        alpha=20.0,
        a=0.8,
        b=2.5,
        p=6.0,
        q=4.0,
        gamma=15.0,
        first_day=end - 540,
        acquisition_days=420,
        observation_end=end,
        seed=11,
    )
    clients = Client.objects.bulk_create(
        [
            Client(
                name=f"Покупатель {i:03d}",
                kind=Client.Kind.ORGANISATION,
                owner=owner,
                team=owner.team,
            )
            for i in range(300)
        ]
    )
    ids = np.array([c.pk for c in clients])
    Order.objects.bulk_create(
        [
            Order(
                client_id=int(ids[cid - 1]),
                owner_id=owner.pk,
                team_id=owner.team_id,
                ordered_on=np.datetime64(int(day), "D").astype(object),
                total=Decimal(f"{max(amount, 1.0) * 10:.2f}"),
                currency="RUB",
                status=Order.Status.PAID,
            )
            for cid, day, amount in zip(
                sim.client_id.tolist(), sim.day.tolist(), sim.amount.tolist(), strict=True
            )
        ],
        batch_size=2000,
    )


def test_an_analyst_drills_from_the_dashboard_to_a_client(browser):
    team = TeamFactory(name="Analytics")
    analyst = UserFactory(username="dash1", team=team, role=role("analyst"))
    analyst.set_password(PASSWORD)
    analyst.save()
    today = dt.date.today()
    simulated_base(analyst, today)
    run = analytics_recompute(actor=analyst, as_of=today)

    page = browser.new_page(width=1400, height=900)
    log_in(page, "dash1", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.click("nav a[href='/analytics/']")
    page.wait_for_url("**/analytics/")
    page.wait_for_selector("#chart-trend.is-drawn .main-svg", timeout=20_000)
    page.wait_for_selector("#chart-matrix.is-drawn .main-svg")
    year_revenue = page.locator("[data-testid=kpi-revenue]").inner_text()
    screenshot(page, "analytics-dashboard-wide-en")

    page.click("[data-preset='3m']")
    page.wait_for_url("**period=3m**")
    page.wait_for_selector("[data-preset='3m'][aria-current=true]")
    assert page.locator("[data-testid=kpi-revenue]").inner_text() != year_revenue

    # The fullest cell of the matrix holding a client with a CLV, and its clients.
    counts = {
        cell: int(
            page.locator(f"[data-testid=cell-{cell}] .dash-cell-count")
            .inner_text()
            .replace(",", "")
        )
        for cell in ("AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY", "CZ")
    }
    scores = ClientScore.objects.filter(run_id=run.pk)
    with_clv = {
        "ABC"[a] + "XYZ"[x]
        for a, x in scores.filter(clv__isnull=False).values_list("abc", "xyz").distinct()
    }
    cell = max(with_clv, key=lambda c: counts[c])
    in_cell = scores.filter(abc="ABC".index(cell[0]), xyz="XYZ".index(cell[1]))
    expected = set(
        Client.objects.filter(pk__in=in_cell.values("client_id")).values_list("name", flat=True)
    )
    assert counts[cell] == len(expected) > 0
    page.click(f"[data-testid=cell-{cell}]")
    page.wait_for_url(f"**/clients/?**abc={cell[0]}&xyz={cell[1]}**")
    names = set(page.locator("table.table-clients tbody [data-row-link]").all_inner_texts())
    assert names and names <= expected
    if len(expected) <= 50:
        assert names == expected
    screenshot(page, "analytics-dashboard-drill-en")

    valued = set(
        Client.objects.filter(
            pk__in=in_cell.filter(clv__isnull=False).values("client_id")
        ).values_list("name", flat=True)
    )
    name = sorted(names & valued)[0]
    page.locator("table.table-clients tbody [data-row-link]", has_text=name).click()
    page.wait_for_selector("[data-testid=card-analytics]")
    assert page.locator("h1").first.inner_text().strip().startswith(name)
    assert page.locator("[data-testid=card-clv]").inner_text().startswith("₽")
    assert page.locator("[data-testid=card-leave]").inner_text().endswith("%")

    page.goto("/analytics/")
    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    page.wait_for_selector("#chart-trend.is-drawn .main-svg", timeout=20_000)
    assert page.locator("[data-testid=kpi-revenue]").inner_text().endswith("₽")
    screenshot(page, "analytics-dashboard-wide-ru")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#chart-trend.is-drawn .main-svg", timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "analytics-dashboard-narrow-ru")


def test_a_cohort_heatmap_cell_opens_the_cohort_s_buyers_of_that_month(browser):
    team = TeamFactory(name="Analytics")
    analyst = UserFactory(username="cohort1", team=team, role=role("analyst"))
    analyst.set_password(PASSWORD)
    analyst.save()
    today = dt.date.today()
    simulated_base(analyst, today)
    run = analytics_recompute(actor=analyst, as_of=today)

    page = browser.new_page(width=1400, height=900)
    log_in(page, "cohort1", PASSWORD)
    page.click("[data-testid=lang-en]")
    page.wait_for_selector("html[lang=en]")
    page.goto("/analytics/cohorts/")
    page.wait_for_selector("#chart-cohorts.is-drawn .main-svg", timeout=20_000)
    assert page.locator("[data-png=cohorts]").is_visible()
    assert not page.locator("#cohort-table-box").evaluate("box => box.open")
    screenshot(page, "analytics-cohorts-heatmap-wide-en")

    # The oldest cohort's first month with buyers after month 0, clicked where Plotly
    # drew it.
    chart = page.evaluate("JSON.parse(document.getElementById('cohorts-chart-data').textContent)")
    row = len(chart["months"]) - 1
    offset = next(k for k in range(1, len(chart["z"][row])) if (chart["z"][row][k] or 0) > 0)
    month, bought = chart["months"][row], chart["drill"][row][offset].split("bought=")[1]
    x, y = page.evaluate(
        """([row, offset]) => {
            const el = document.getElementById("chart-cohorts");
            const layout = el._fullLayout, box = el.getBoundingClientRect();
            return [box.left + layout._size.l + layout.xaxis.l2p(offset),
                    box.top + layout._size.t + layout.yaxis.l2p(row)];
        }""",
        [row, offset],
    )
    page.mouse.click(x, y)
    page.wait_for_url(f"**/clients/?cohort={month}&bought={bought}")

    first = dt.date(int(month[:4]), int(month[5:]), 1)
    cohort = ClientScore.objects.filter(
        run=run, first_on__gte=first, first_on__lt=(first + dt.timedelta(days=32)).replace(day=1)
    ).values("client_id")
    day = dt.date(int(bought[:4]), int(bought[5:]), 1)
    buyers = Order.objects.filter(
        ordered_on__gte=day, ordered_on__lt=(day + dt.timedelta(days=32)).replace(day=1)
    ).values("client_id")
    expected = set(
        Client.objects.filter(pk__in=cohort).filter(pk__in=buyers).values_list("name", flat=True)
    )
    names = set(page.locator("table.table-clients tbody [data-row-link]").all_inner_texts())
    assert names and names <= expected
    if len(expected) <= 50:
        assert names == expected
    chips = page.locator("[data-testid=filter-chip]").all_inner_texts()
    assert any(c.startswith("First purchase in") for c in chips)
    assert any(c.startswith("Bought in") for c in chips)
    screenshot(page, "analytics-cohorts-drill-en")

    page.goto("/analytics/cohorts/")
    page.click("[data-testid=lang-ru]")
    page.wait_for_selector("html[lang=ru]")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#chart-cohorts.is-drawn .main-svg", timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "analytics-cohorts-heatmap-narrow-ru")


def test_a_rep_sees_the_dashboard_of_their_own_clients(browser):
    team = TeamFactory(name="Sales")
    rep = UserFactory(username="dashrep", team=team, role=role("sales_rep"))
    rep.set_password(PASSWORD)
    rep.save()
    other = UserFactory(username="dashother", team=team, role=role("sales_rep"))
    today = dt.date.today()
    simulated_base(other, today)
    analytics_recompute(actor=None, as_of=today)

    page = browser.new_page()
    log_in(page, "dashrep", PASSWORD)
    page.goto("/analytics/")

    assert page.locator("[data-testid=kpi-revenue]").inner_text() in ("₽0", "0\xa0₽")
    assert page.locator("[data-testid=kpi-active]").inner_text() == "0"
