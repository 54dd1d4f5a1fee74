"""The economics report on a small hand-made base with costs entered; every figure is
worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lavka.analytics.costs import cost_create, costs_import_csv, economics_settings_update
from lavka.analytics.engine.sufficiency import Reason
from lavka.analytics.models import CostEntry
from lavka.analytics.services import analytics_recompute
from lavka.clients.models import Touchpoint
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.sales.models import ExchangeRate
from tests.analytics.conftest import add_orders
from tests.factories import ClientFactory

D = dt.date
AS_OF = D(2026, 6, 30)  # window: 2025-07 .. 2026-06


def at(day):
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


@pytest.fixture
def base(org):
    """Seven clients (channel, first purchase, days a client on 2026-06-30, whole life
    months lived):
    A ads 2025-08-05 329 d 10 m: 1000, 500 on day 36 (month 2), 500 on day 300 (month 10)
    B ads 2026-03-10 112 d 3 m: 400
    C fair 2025-08-20 314 d 10 m: 2000
    D none 2024-01-10 902 d 29 m: 300, 300 on day 639 (2025-10-10, month 21)
    E fair 2024-03-01 851 d 27 m: 100
    F fair 2025-03-01 486 d 15 m: 200, 1000 on day 396 (2026-04-01, month 14)
    G ads 2025-05-10 416 d 13 m: 1200
    """
    made = {}
    for name, source, rows in [
        ("A", "ads", [(D(2025, 8, 5), 1000), (D(2025, 9, 10), 500), (D(2026, 6, 1), 500)]),
        ("B", "Ads ", [(D(2026, 3, 10), 400)]),
        ("C", "fair", [(D(2025, 8, 20), 2000)]),
        ("D", "", [(D(2024, 1, 10), 300), (D(2025, 10, 10), 300)]),
        ("E", "fair", [(D(2024, 3, 1), 100)]),
        ("F", "fair", [(D(2025, 3, 1), 200), (D(2026, 4, 1), 1000)]),
        ("G", "ads", [(D(2025, 5, 10), 1200)]),
    ]:
        made[name] = ClientFactory(name=name, owner=org.rep, source=source)
        add_orders(made[name], rows)
    ExchangeRate.objects.create(currency="USD", valid_on=D(2026, 1, 1), rate=Decimal("60"))
    enter = org.analyst
    # Acquisition in the window: 2025-08 ads 300, 2025-08 Expo (whole company) 450,
    # 2026-03 ads 10 USD = 600 RUB: 1350 for the 3 clients who first bought in those two
    # months (A, C, B): CAC 450. Ads: 900 for A and B: 450.
    cost_create(actor=enter, month="2025-08", kind="acquisition", channel="ads", amount="300")
    cost_create(actor=enter, month="2025-08", kind="acquisition", campaign="Expo", amount="450")
    cost_create(
        actor=enter,
        month="2026-03-15",
        kind="acquisition",
        channel="ads",
        amount=10,
        currency="usd",
    )
    # Before the window (shown by month only), after the date (ignored), no EUR rate.
    cost_create(actor=enter, month="2024-02", kind="acquisition", channel="fair", amount=5000)
    cost_create(actor=enter, month="2026-09", kind="acquisition", channel="ads", amount=7777)
    cost_create(actor=enter, month="2026-01", kind="retention", amount=999, currency="EUR")
    cost_create(actor=enter, month="2026-01", kind="retention", amount=200, note="Gifts")
    # Touches in the window: 2 calls (50 each) and 1.5 hours (300 an hour) = 550.
    for client, kind, day, minutes in [
        (made["D"], "call", D(2026, 2, 1), 30),
        (made["D"], "meeting", D(2026, 4, 1), 60),
        (made["A"], "call", D(2026, 5, 1), None),
        (made["E"], "call", D(2025, 5, 1), 45),  # before the window
    ]:
        Touchpoint.objects.create(
            client=client, kind=kind, occurred_at=at(day), duration_minutes=minutes
        )
    economics_settings_update(
        actor=org.admin,
        gross_margin_percent="50",
        touch_costs={"call": "50"},
        contact_hour_cost="300",
    )
    return made


def test_the_report_computes_the_figures_by_hand(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    report = run.reports["economics"]
    assert report["window"] == ["2025-07", "2026-06"]
    assert report["cac"] == 450.0
    assert report["acquisition"] == {
        "cost": 1350.0,
        "new_clients": 3,
        "months": ["2025-08", "2026-03"],
    }
    # "Ads " and "ads" are one channel.
    assert report["cac_by_channel"] == {"ads": 450.0}
    assert report["channels"] == [
        {"channel": "ads", "cost": 900.0, "new_clients": 2, "cac": 450.0, "payback_month": 2}
    ]
    assert report["cac_by_month"] == [
        {"month": "2026-03", "channel": "ads", "cost": 600.0, "new_clients": 1, "cac": 600.0},
        {"month": "2025-08", "channel": "ads", "cost": 300.0, "new_clients": 1, "cac": 300.0},
        {"month": "2025-08", "channel": "", "cost": 450.0, "new_clients": 2, "cac": 225.0},
        {"month": "2024-02", "channel": "fair", "cost": 5000.0, "new_clients": 0, "cac": None},
    ]
    assert report["costs_skipped"] == 1


def test_retention_cost_and_revenue_per_touch(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    report = run.reports["economics"]
    # 200 entered + 550 of touches, for D and F (bought before the window and in it).
    assert report["retention"] == {
        "entered": 200.0,
        "touch_cost": 550.0,
        "cost": 750.0,
        "retained_clients": 2,
        "per_client": 375.0,
        "touches": 3,
        "contact_hours": 1.5,
        "by_kind": {"call": {"touches": 2, "hours": 0.5}, "meeting": {"touches": 1, "hours": 1.0}},
    }
    assert report["cost_ratio"] == 1.2  # 450 / 375
    # Revenue in the window: A 2000, B 400, C 2000, D 300, F 1000.
    assert report["revenue"] == {"window": 5700.0, "per_touch": 1900.0, "per_contact_hour": 3800.0}


def test_payback_and_the_share_paying_off_after_a_year(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    report = run.reports["economics"]
    # Average revenue by life month: month 1 5200 / 7, month 2 500 / 7, month 10 500 / 6
    # (B has lived 3 months), month 14 1000 / 3 (D, E, F lived 14 months or more).
    # Half of it against CAC 450: 371.43, 407.14, ..., 448.81 in month 10, 615.48 in
    # month 14.
    payback = report["payback"]
    assert payback["month"] == 14
    assert payback["curve"][:3] == [371.43, 407.14, 407.14]
    assert payback["curve"][9] == 448.81
    assert payback["curve"][13] == 615.48
    assert len(payback["curve"]) == 29  # D has lived 29 whole months
    # A year or more a client: D (150 of margin, 300 in all), E (50), F (100 in the
    # first year, 600 in all), G (600): only G paid off within the year.
    assert report["first_year"] == {
        "clients": 4,
        "paid_in_year": 1,
        "paid_later": 1,
        "not_yet": 2,
        "share_after_year": 0.75,
    }


def test_stages_cost_of_loss_and_no_simulation_without_a_model(base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    report = run.reports["economics"]
    # Too few clients for BG/NBD: stages by days (120 / 240 / 365). Active: A (329
    # days), B (112), F (486); lapsed: C (314 days since; a one-day life), D (263 days
    # since; 639-day life); lost: E and G.
    assert [(s["code"], s["clients"], s["average_days"]) for s in report["stages"]] == [
        ("new", 0, None),
        ("active", 3, 309.0),
        ("loyal", 0, None),
        ("at_risk", 0, None),
        ("lapsed", 2, 319.5),
        ("lost", 2, 0.0),
    ]
    assert report["cost_of_loss"] == {
        "clients": 2,
        "with_value": 0,
        "value": 0.0,
        "per_client": None,
        "months": 12,
    }
    assert report["simulation"] == {"missing": int(Reason.TOO_FEW_CLIENTS)}


def test_without_costs_there_is_no_cac(history, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    report = run.reports["economics"]
    assert report["cac"] is None
    assert report["cac_by_channel"] == {}
    assert report["cost_ratio"] is None
    assert report["payback"]["month"] is None
    assert report["first_year"]["share_after_year"] is None


def test_the_simulation_on_a_fitted_model(simulated_base, org):
    run = analytics_recompute(actor=org.analyst, as_of=simulated_base)

    simulation = run.reports["economics"]["simulation"]
    base, raised = simulation["base"], simulation["scenario"]
    assert simulation["uplift_points"] == simulation["achieved_points"] == 5.0
    assert simulation["clients"] == run.clients
    assert raised["retention"] == pytest.approx(base["retention"] + 0.05, abs=1e-4)
    assert raised["revenue"] > base["revenue"] > 0
    assert raised["p_alive"] > base["p_alive"]
    # No costs entered: profit is 30% (the default margin) of revenue.
    assert base["profit"] == pytest.approx(0.3 * base["revenue"], abs=0.02)
    assert simulation["profit_change_share"] == pytest.approx(
        raised["profit"] / base["profit"] - 1, abs=1e-3
    )


def test_costs_come_in_from_csv_all_or_nothing(org):
    good = (
        "month;kind;amount;channel;currency\n"
        "2026-01;acquisition;1 000,50;ads;\n"
        "2026-02;retention;300;;USD\n"
    )
    bad = "month,kind,amount\n2026-01,acquisition,100\nJanuary,gifts,-1\n"

    created = costs_import_csv(actor=org.analyst, data=good.encode())
    with pytest.raises(ValidationFailed) as refused:
        costs_import_csv(actor=org.analyst, data=bad)

    assert [(c.month, c.kind, c.amount, c.channel, c.currency) for c in created] == [
        (D(2026, 1, 1), "acquisition", Decimal("1000.50"), "ads", "RUB"),
        (D(2026, 2, 1), "retention", Decimal("300.00"), "", "USD"),
    ]
    assert set(refused.value.fields) == {"row 3: month", "row 3: kind", "row 3: amount"}
    assert CostEntry.objects.count() == 2


def test_a_rep_cannot_import_costs(org):
    with pytest.raises(NotPermitted):
        costs_import_csv(actor=org.rep, data="month,kind,amount\n2026-01,retention,1\n")

    assert not CostEntry.objects.exists()
