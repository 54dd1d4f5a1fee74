"""The cohort and touchpoint reports end to end: `analytics_recompute` on the hand-made
history of tests/analytics/conftest.py (`history`), with acquisition channels, a tier,
touchpoints and a deal's stage move added here. As of 2026-06-30:

Cohorts (month of the first purchase; as_of month 2026-06; the oldest first purchase is
2024-01, within 36 months, so the table runs 2024-01 .. 2026-06, 30 cohorts):
| cohort  | clients         | bought in months after (revenue)                      |
|---------|-----------------|-------------------------------------------------------|
| 2024-01 | Gone            | 0 (50), nothing since (its 2026-07 order is after as_of) |
| 2025-07 | Monthly, Steady | both every month 0..11: 100 + 85 (even), 100 + 115 (odd) |
| 2026-01 | Twice           | 0 (300) and 5 (300)                                    |
| 2026-06 | Newcomer        | 0 (2 USD at 100 = 200)                                 |
Channels: Monthly and Steady "web", Twice "referral", Gone and Newcomer none; tier: Monthly VIP.

Touchpoints (window 2025-07-01 .. 2026-06-30):
- call by phone: Twice 2026-06-05 (bought 06-10: within 7 and 14; too young for 30),
  Gone 2026-03-01 (never buys; its deal was created 03-02, which is not a move, and
  moved to another stage 03-20, 19 days later: within 30)
- email, no channel: Monthly 2026-05-20 (next order 06-15, 26 days later: within 30)
- a call of 2025-06-30 is before the window and not counted
"""

from __future__ import annotations

import datetime as dt

import pytest

from lavka.analytics.models import ComputeRun
from lavka.analytics.services import analytics_recompute
from lavka.clients.models import Client, Touchpoint
from lavka.sales.models import DealStageChange, Pipeline, Stage
from lavka.sales.services.deals import deal_create, deal_move
from tests.factories import tier

AS_OF = dt.date(2026, 6, 30)
UTC = dt.UTC


def at(y, m, d):
    return dt.datetime(y, m, d, 12, 0, tzinfo=UTC)


@pytest.fixture
def reports_base(history, org):
    Client.objects.filter(pk__in=[history.monthly.pk, history.steady.pk]).update(source="web")
    Client.objects.filter(pk=history.twice.pk).update(source="referral")
    vip = tier("vip")
    Client.objects.filter(pk=history.monthly.pk).update(tier=vip)
    for client, kind, channel, when in [
        (history.twice, "call", "phone", at(2026, 6, 5)),
        (history.gone, "call", "phone", at(2026, 3, 1)),
        (history.monthly, "email", "", at(2026, 5, 20)),
        (history.steady, "call", "phone", at(2025, 6, 30)),
    ]:
        Touchpoint.objects.create(client=client, kind=kind, channel=channel, occurred_at=when)
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Test pipeline", is_default=True, order=0)
    lead = Stage.objects.create(
        pipeline=pipeline, name="Lead", kind="open", probability=10, order=1
    )
    offer = Stage.objects.create(
        pipeline=pipeline, name="Offer", kind="open", probability=50, order=2
    )
    deal = deal_create(
        actor=org.colleague, client=history.gone, title="Deal", pipeline=pipeline, stage=lead
    )
    deal_move(actor=org.colleague, deal=deal, stage=offer)
    created, moved = DealStageChange.objects.filter(deal=deal).order_by("id")
    DealStageChange.objects.filter(pk=created.pk).update(changed_at=at(2026, 3, 2))
    DealStageChange.objects.filter(pk=moved.pk).update(changed_at=at(2026, 3, 20))
    history.vip = vip
    return history


def test_cohorts_give_the_hand_computed_retention_and_revenue(reports_base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    cohorts = ComputeRun.objects.get(pk=run.pk).reports["cohorts"]
    months = cohorts["months"]
    assert (months[0], months[-1], len(months)) == ("2024-01", "2026-06", 30)
    assert cohorts["as_of_month"] == "2026-06"
    every = cohorts["all"]
    by_month = {m: i for i, m in enumerate(months)}
    firsts = ("2024-01", "2025-07", "2026-01", "2026-06")
    assert [every["clients"][by_month[m]] for m in firsts] == [1, 2, 1, 1]
    assert sum(every["clients"]) == 5
    assert every["retention"][by_month["2024-01"]] == [1.0] + [0.0] * 29
    assert every["revenue"][by_month["2024-01"]] == [50.0] + [0.0] * 29
    assert every["retention"][by_month["2025-07"]] == [1.0] * 12
    assert every["revenue"][by_month["2025-07"]] == [185.0, 215.0] * 6
    assert every["retention"][by_month["2026-01"]] == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert every["revenue"][by_month["2026-01"]] == [300.0, 0.0, 0.0, 0.0, 0.0, 300.0]
    assert every["retention"][by_month["2026-06"]] == [1.0]
    assert every["revenue"][by_month["2026-06"]] == [200.0]
    assert every["retention"][by_month["2025-08"]] == [None] * 11  # nobody started then


def test_cohorts_by_channel_and_tier(reports_base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    cohorts = ComputeRun.objects.get(pk=run.pk).reports["cohorts"]
    by_month = {m: i for i, m in enumerate(cohorts["months"])}
    assert set(cohorts["by_channel"]) == {"web", "referral", ""}
    web = cohorts["by_channel"]["web"]
    assert sum(web["clients"]) == 2
    assert web["revenue"][by_month["2025-07"]][:2] == [185.0, 215.0]
    assert cohorts["by_channel"]["referral"]["clients"][by_month["2026-01"]] == 1
    assert sum(cohorts["by_channel"][""]["clients"]) == 2  # Gone and Newcomer
    vip = cohorts["by_tier"][str(reports_base.vip.pk)]
    assert sum(vip["clients"]) == 1
    assert vip["revenue"][by_month["2025-07"]] == [100.0] * 12
    assert sum(cohorts["by_tier"]["none"]["clients"]) == 4


def _row(report, kind, channel):
    return next(r for r in report["rows"] if (r["kind"], r["channel"]) == (kind, channel))


def test_touchpoints_give_the_hand_computed_conversions(reports_base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    report = ComputeRun.objects.get(pk=run.pk).reports["touchpoints"]
    assert (report["from"], report["to"]) == ("2025-07-01", "2026-06-30")
    assert (report["touches"], report["clients"], report["moves"]) == (3, 3, 1)
    call = _row(report, "call", "phone")
    assert (call["touches"], call["reach"]) == (2, 2)

    def figures(row, days):
        w = row["within"][days]
        return (w["eligible"], w["purchased"], w["revenue"], w["moved"], w["either"])

    assert figures(call, "7") == (2, 1, 300.0, 0, 1)
    assert figures(call, "14") == (2, 1, 300.0, 0, 1)
    assert figures(call, "30") == (1, 0, 0.0, 1, 1)
    assert call["within"]["7"]["purchase_rate"] == 0.5
    assert call["within"]["30"]["move_rate"] == 1.0
    email = _row(report, "email", "")
    assert (email["touches"], email["reach"]) == (1, 1)
    assert figures(email, "7") == (1, 0, 0.0, 0, 0)
    assert figures(email, "30") == (1, 1, 100.0, 0, 1)


def test_the_reports_take_their_time_in_the_run(reports_base, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    times = dict(ComputeRun.objects.get(pk=run.pk).report_times)
    assert "cohorts" in times and "touchpoints" in times
    reports = ComputeRun.objects.get(pk=run.pk).reports
    assert "error" not in reports["cohorts"] and "error" not in reports["touchpoints"]
