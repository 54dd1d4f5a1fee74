"""The recompute on a small hand-made history (tests/analytics/conftest.py `history`).

As of 2026-06-30 (a month's last day) the ABC/XYZ window is 2025-07 .. 2026-06. By hand:

| client   | orders up to as_of (RUB)          | recency | F  | revenue | window | CV    |
|----------|-----------------------------------|--------:|---:|--------:|-------:|------:|
| Monthly  | 100 on the 15th, 12 months        | 15      | 12 | 1200    | 1200   | 0     |
| Steady   | 85, 115, 85, ... on the 1st       | 29      | 12 | 1200    | 1200   | 0.15  |
| Twice    | 300 on 01-10 and 06-10            | 20      | 2  | 600     | 600    | 2.24  |
| Newcomer | 2 USD at 100 on 06-20 (+ a cancelled one) | 10 | 1 | 200  | 200    | 3.32  |
| Gone     | 50 on 2024-01-10 (+ one after as_of, one deleted) | 902 | 1 | 50 | 0 | -  |

ABC (80/15/5) over the window total 3200: Monthly and Steady (nothing above them) A,
Twice (2400 above = 75%) A, Newcomer (3000 above = 93.75%) B, Gone (no revenue) C.
XYZ (0.10/0.25): Monthly X, Steady Y, the others Z.
RFM with thresholds recency (30, 90, 180, 365), frequency (2, 4, 8, 12), monetary
(100, 300, 600, 1000): Monthly R5 F5 M5 champions; Steady R5 F5 M5 champions; Twice R5
F2 M4 -> FM 3, loyal; Newcomer R5 F1 M2 -> FM 2, promising; Gone R1 F1 M1, lost.
"""

from __future__ import annotations

import datetime as dt

import pytest

from lavka.analytics.engine.rfm import SEGMENTS
from lavka.analytics.engine.sufficiency import Reason
from lavka.analytics.models import ClientScore, ComputeRun
from lavka.analytics.selectors import abc_xyz_cells, client_scores, segment_counts, segment_moves
from lavka.analytics.services import analytics_recompute, analytics_settings_update
from lavka.audit.models import AuditEvent, OutboxEvent

AS_OF = dt.date(2026, 6, 30)
SEGMENT_OF = {0: "champions", 1: "loyal", 2: "promising", 7: "lost"}


@pytest.fixture
def thresholds(org):
    analytics_settings_update(
        actor=org.admin,
        rfm_recency_days=[30, 90, 180, 365],
        rfm_frequency=[2, 4, 8, 12],
        rfm_monetary=[100, 300, 600, 1000],
    )


def _scores(run):
    return {s.client.name: s for s in ClientScore.objects.filter(run=run).select_related("client")}


def test_recompute_gives_the_hand_computed_rfm_abc_xyz(history, thresholds, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    scores = _scores(run)
    got = {
        name: (
            s.recency_days,
            s.frequency,
            round(s.revenue, 2),
            s.r,
            s.f,
            s.m,
            s.get_segment_display(),
        )
        for name, s in scores.items()
    }
    assert got == {
        "Monthly": (15, 12, 1200.0, 5, 5, 5, "Champions"),
        "Steady": (29, 12, 1200.0, 5, 5, 5, "Champions"),
        "Twice": (20, 2, 600.0, 5, 2, 4, "Loyal"),
        "Newcomer": (10, 1, 200.0, 5, 1, 2, "Promising"),
        "Gone": (902, 1, 50.0, 1, 1, 1, "Lost"),
    }
    classes = {name: s.get_abc_display() + s.get_xyz_display() for name, s in scores.items()}
    assert classes == {
        "Monthly": "AX",
        "Steady": "AY",
        "Twice": "AZ",
        "Newcomer": "BZ",
        "Gone": "CZ",
    }
    assert run.orders == 28  # 12 + 12 + 2 + 1 + 1: cancelled, deleted and later ones left out
    assert run.segment_counts == {
        "champions": 2,
        "loyal": 1,
        "promising": 1,
        "needs_attention": 0,
        "at_risk": 0,
        "cant_lose": 0,
        "hibernating": 0,
        "lost": 1,
    }
    assert run.abc_xyz["counts"] == [[1, 1, 1], [0, 0, 1], [0, 0, 1]]
    assert run.abc_xyz["revenue"] == [[1200.0, 1200.0, 600.0], [0.0, 0.0, 200.0], [0.0, 0.0, 0.0]]


def test_five_clients_are_not_enough_for_the_models(history, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    score = ClientScore.objects.get(run=run, client=history.monthly)
    assert (score.p_alive, score.clv, score.next_purchase_on) == (None, None, None)
    assert score.purchases_reason == Reason.TOO_FEW_CLIENTS
    assert run.parameters["bgnbd"]["not_enough_data"] == Reason.TOO_FEW_CLIENTS
    card = client_scores(viewer=org.admin, client=history.monthly)
    assert card is not None and not card.has_enough_data
    assert str(card.purchases_reason) == "Not enough data: too few clients with repeat purchases"
    assert card.leave_probability is None


def test_as_of_ignores_later_orders(history, thresholds, org):
    run = analytics_recompute(actor=org.analyst, as_of=dt.date(2026, 5, 31))

    scores = _scores(run)
    assert "Newcomer" not in scores  # first bought on 2026-06-20
    assert scores["Twice"].frequency == 1
    assert scores["Twice"].revenue == 300.0
    assert scores["Gone"].revenue == 50.0
    assert run.as_of == dt.date(2026, 5, 31)


def test_history_is_kept_across_runs_and_the_latest_is_current(history, thresholds, org):
    first = analytics_recompute(actor=org.analyst, as_of=dt.date(2026, 5, 31))
    second = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert ClientScore.objects.filter(run=first).count() == 4
    assert ClientScore.objects.filter(run=second).count() == 5
    before = ClientScore.objects.get(run=first, client=history.twice)
    after = ClientScore.objects.get(run=second, client=history.twice)
    assert (before.frequency, after.frequency) == (1, 2)
    card = client_scores(viewer=org.admin, client=history.twice)
    assert card is not None and card.as_of == AS_OF and card.segment == "loyal"
    # As of 05-31 (window 2025-06 .. 2026-05, same thresholds): Monthly and Steady
    # champions, Twice (one order, 300, 141 days ago: within 180 and 365) R3 F1 M3 ->
    # FM 2, needs attention;
    # Gone lost. Then Twice moves to loyal and Newcomer arrives.
    assert second.parameters["moves"]["from_run"] == first.pk
    # Counted by the "moves" report once the new run is current.
    moves = {(SEGMENTS[a], SEGMENTS[b]): n for a, b, n in second.reports["moves"]["flows"]}
    assert moves == {
        ("champions", "champions"): 2,
        ("needs_attention", "loyal"): 1,
        ("lost", "lost"): 1,
    }
    flows = segment_moves(viewer=org.admin, run=second)
    assert [(str(f.before), str(f.now), f.clients) for f in flows.changes] == [
        ("Needs attention", "Loyal", 1)
    ]
    assert flows.new == 1 and flows.stayed == 3


def test_recompute_is_audited_and_announced(history, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    event = AuditEvent.objects.filter(object_id=str(run.pk), action="create").latest("id")
    assert event.actor == org.analyst
    assert OutboxEvent.objects.filter(kind="analytics.recomputed").count() == 1
    assert [name for name, _ in run.step_times] == [
        "load",
        "convert",
        "summary",
        "rfm",
        "abc_xyz",
        "bgnbd_fit",
        "gamma_gamma_fit",
        "scoring",
        "products",
        "write",
    ]


def test_scores_are_scoped_to_the_viewers_clients(history, thresholds, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    assert client_scores(viewer=org.rep, client=history.monthly) is not None
    assert client_scores(viewer=org.rep, client=history.gone) is None
    assert client_scores(viewer=org.agent, client=history.monthly) is None
    rep_counts = {c.segment: c.clients for c in segment_counts(viewer=org.rep, run=run)}
    assert rep_counts["champions"] == 1 and rep_counts["loyal"] == 1
    assert rep_counts["promising"] == 1 and rep_counts["lost"] == 0
    rep_matrix = [[cell.clients for cell in row] for row in abc_xyz_cells(viewer=org.rep, run=run)]
    assert rep_matrix == [[1, 0, 1], [0, 0, 1], [0, 0, 0]]
    admin_counts = {c.segment: c.clients for c in segment_counts(viewer=org.admin, run=run)}
    assert admin_counts["champions"] == 2 and admin_counts["lost"] == 1


def test_a_fitted_base_gets_probabilities_clv_and_next_purchase(simulated_base, org):
    run = analytics_recompute(actor=org.admin, as_of=simulated_base)

    assert run.parameters["bgnbd"]["converged"] is True
    assert run.bgnbd_log_likelihood < 0
    repeat = ClientScore.objects.filter(run=run, frequency__gte=3, p_alive__gt=0.5).first()
    assert repeat is not None
    assert 0 < repeat.p_alive <= 1
    assert repeat.expected_30 < repeat.expected_90 < repeat.expected_365
    assert repeat.clv is not None and repeat.clv > 0
    one_timer = ClientScore.objects.filter(run=run, frequency=1).first()
    assert one_timer is not None and one_timer.clv is None
    assert one_timer.spend_reason == Reason.NO_REPEAT_PURCHASE
    assert one_timer.p_alive is not None
    month_ahead = simulated_base + dt.timedelta(days=30)
    dated = list(ClientScore.objects.filter(run=run, next_purchase_on__isnull=False))
    assert dated
    assert all((s.next_purchase_on <= month_ahead) == (s.expected_30 >= 1) for s in dated)
    assert all(s.next_purchase_on > simulated_base for s in dated)
    undated = ClientScore.objects.filter(run=run, next_purchase_on__isnull=True)
    assert all(s.expected_365 < 1 for s in undated)
    assert ComputeRun.objects.get(is_current=True) == run


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_scores_are_the_same(history, thresholds, org):
    # On PostgreSQL the lines are then read and the scores written in the background.
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    scores = _scores(run)
    assert {name: (s.get_segment_display(), s.abc, s.xyz) for name, s in scores.items()} == {
        "Monthly": ("Champions", 0, 0),
        "Steady": ("Champions", 0, 1),
        "Twice": ("Loyal", 0, 2),
        "Newcomer": ("Promising", 1, 2),
        "Gone": ("Lost", 2, 2),
    }
    assert ComputeRun.objects.get(is_current=True) == run


@pytest.mark.django_db(transaction=True)
def test_a_run_failing_after_its_scores_were_written_leaves_none(
    history, thresholds, org, monkeypatch
):
    first = analytics_recompute(actor=org.analyst, as_of=AS_OF)

    def broken(*args, **kwargs):
        raise RuntimeError("lost the connection")

    monkeypatch.setattr("lavka.analytics.services.product_scores_write", broken)
    with pytest.raises(RuntimeError):
        analytics_recompute(actor=org.analyst, as_of=AS_OF)

    failed = ComputeRun.objects.exclude(pk=first.pk).get()
    assert failed.status == ComputeRun.Status.FAILED
    assert not ClientScore.objects.filter(run=failed).exists()
    assert ComputeRun.objects.get(is_current=True) == first
    assert client_scores(viewer=org.analyst, client=scores_client(first)) is not None


def scores_client(run):
    return ClientScore.objects.filter(run=run).select_related("client").first().client
