"""The client list filtered and sorted by the current run's scores
(lavka.analytics.filters): each filter and sort on a hand-made base of six clients, bad
values, and scoping (a rep never finds a colleague's client through a score)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from lavka.analytics.filters import scores_filter
from lavka.analytics.models import ClientScore, ComputeRun
from lavka.analytics.scorearrays import ScoreArrays
from lavka.clients.selectors import client_list
from lavka.core.errors import ValidationFailed
from lavka.sales.models import Order
from tests.analytics.conftest import add_orders
from tests.factories import ClientFactory

D = dt.date
CHAMPIONS, LOYAL, AT_RISK, LOST = 0, 1, 4, 7  # engine.rfm.SEGMENTS indexes
NEW, ACTIVE, LOYAL_STAGE, AT_RISK_STAGE, LAPSED, LOST_STAGE = range(6)


def score(run, client, **values):
    row = {
        "first_on": D(2025, 1, 1),
        "last_on": D(2026, 6, 1),
        "recency_days": 29,
        "frequency": 3,
        "revenue": 1000.0,
        "r": 3,
        "f": 3,
        "m": 3,
        "segment": LOYAL,
        "abc": 1,
        "xyz": 1,
        "window_revenue": 500.0,
        "p_alive": 0.8,
        "expected_30": 0.5,
        "expected_90": 1.2,
        "expected_365": 4.0,
        "expected_spend": 300.0,
        "clv": 1200.0,
        "next_purchase_on": D(2026, 8, 1),
        "stage": ACTIVE,
        "lifecycle_days": 500,
    }
    row.update(values)
    return ClientScore.objects.create(run=run, client=client, **row)


def make_run(*, current=True, as_of=None):
    return ComputeRun.objects.create(
        as_of=as_of or D(2026, 6, 30),
        status=ComputeRun.Status.SUCCEEDED,
        is_current=current,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        currency="RUB",
        clients=6,
    )


@pytest.fixture
def base(org):
    """Six clients: Alpha, Bravo, Charlie, Foxtrot are the rep's, Delta the colleague's
    (same team: the rep sees it in the list, but not its scores), Echo a St Petersburg
    rep's. Foxtrot has no scores; Charlie has no numbers ("not enough data")."""
    old = make_run(current=False, as_of=D(2026, 5, 31))
    run = make_run()

    class Base:
        pass

    b = Base()
    b.run = run
    b.alpha = ClientFactory(name="Alpha", owner=org.rep)
    b.bravo = ClientFactory(name="Bravo", owner=org.rep, source="exhibition")
    b.charlie = ClientFactory(name="Charlie", owner=org.rep)
    b.delta = ClientFactory(name="Delta", owner=org.colleague)
    b.echo = ClientFactory(name="Echo", owner=org.spb_rep)
    b.foxtrot = ClientFactory(name="Foxtrot", owner=org.rep)
    score(
        run,
        b.alpha,
        segment=CHAMPIONS,
        abc=0,
        xyz=0,
        clv=5000.0,
        p_alive=0.9,
        next_purchase_on=D(2026, 7, 10),
        stage=LOYAL_STAGE,
        first_on=D(2025, 3, 5),
        revenue=9000.0,
    )
    score(
        run,
        b.bravo,
        segment=AT_RISK,
        abc=0,
        xyz=1,
        clv=1000.0,
        p_alive=0.4,
        next_purchase_on=D(2026, 9, 1),
        stage=AT_RISK_STAGE,
        first_on=D(2025, 3, 20),
        revenue=4000.0,
    )
    score(
        run,
        b.charlie,
        segment=LOST,
        abc=2,
        xyz=2,
        clv=None,
        p_alive=None,
        next_purchase_on=None,
        stage=LOST_STAGE,
        first_on=D(2024, 1, 10),
        revenue=50.0,
        purchases_reason=1,
        spend_reason=1,
    )
    score(run, b.delta, segment=CHAMPIONS, abc=0, xyz=0, clv=8000.0, p_alive=0.95, revenue=12000.0)
    score(run, b.echo, segment=CHAMPIONS, abc=0, xyz=0, clv=7000.0, p_alive=0.97, revenue=11000.0)
    # The previous run said otherwise: only the current run counts.
    score(old, b.foxtrot, segment=CHAMPIONS, abc=0, xyz=0, clv=99999.0)
    score(old, b.charlie, segment=CHAMPIONS, abc=0, xyz=0, clv=99999.0)
    return b


@pytest.fixture(params=["arrays", "database"])
def read_by(request, monkeypatch):
    """Each test twice: the filters and sorts evaluated on the run's arrays
    (lavka.analytics.scorearrays), and by the database alone (as when the filters hold
    something the arrays cannot evaluate)."""
    if request.param == "database":
        monkeypatch.setattr(ScoreArrays, "mask", lambda self, conditions: None)
    return request.param


def names(viewer, params, **list_args):
    scored = scores_filter(client_list(viewer=viewer, **list_args), params, viewer=viewer)
    if scored.sort:
        ids = scored.page_ids(0, 100)
        by_id = {c.pk: c.name for c in scored.clients.filter(pk__in=ids)}
        return [by_id[i] for i in ids]
    return list(scored.clients.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]),
        ({"segment": "champions"}, ["Alpha", "Delta", "Echo"]),
        ({"segment": "at_risk,lost"}, ["Bravo", "Charlie"]),
        ({"abc": "A"}, ["Alpha", "Bravo", "Delta", "Echo"]),
        ({"abc": "a", "xyz": "x"}, ["Alpha", "Delta", "Echo"]),
        ({"xyz": "Z"}, ["Charlie"]),
        ({"stage": "at_risk"}, ["Bravo"]),
        ({"stage": "loyal,lost"}, ["Alpha", "Charlie"]),
        ({"clv_min": "1000"}, ["Alpha", "Bravo", "Delta", "Echo"]),
        ({"clv_min": "1000.01", "clv_max": "7000"}, ["Alpha", "Echo"]),
        ({"clv_max": "999"}, []),
        # leaving = 1 - P(alive): Alpha 10%, Bravo 60%, Delta 5%, Echo 3%.
        ({"leave_min": "50"}, ["Bravo"]),
        ({"leave_max": "10"}, ["Alpha", "Delta", "Echo"]),
        ({"leave_min": "4", "leave_max": "10"}, ["Alpha", "Delta"]),
        ({"next_from": "2026-07-10", "next_to": "2026-08-01"}, ["Alpha", "Delta", "Echo"]),
        ({"next_from": "2026-08-02"}, ["Bravo"]),
        ({"cohort": "2025-03"}, ["Alpha", "Bravo"]),
        ({"cohort": "2024-01"}, ["Charlie"]),
        ({"source": "exhibition"}, ["Bravo"]),
        ({"segment": "", "abc": " "}, ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]),
    ],
)
def test_each_filter_keeps_the_clients_whose_current_scores_match(
    org, base, read_by, params, expected
):
    assert names(org.admin, params) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # clients without a number (Charlie: not enough data; Foxtrot: no scores) last,
        # by name, both ways
        ("-clv", ["Delta", "Echo", "Alpha", "Bravo", "Charlie", "Foxtrot"]),
        ("clv", ["Bravo", "Alpha", "Echo", "Delta", "Charlie", "Foxtrot"]),
        ("-leave", ["Bravo", "Alpha", "Delta", "Echo", "Charlie", "Foxtrot"]),
        ("leave", ["Echo", "Delta", "Alpha", "Bravo", "Charlie", "Foxtrot"]),
        ("-revenue", ["Delta", "Echo", "Alpha", "Bravo", "Charlie", "Foxtrot"]),
        ("revenue", ["Charlie", "Bravo", "Alpha", "Echo", "Delta", "Foxtrot"]),
        # Delta and Echo share the default date: the higher id first when descending
        ("next_purchase", ["Alpha", "Delta", "Echo", "Bravo", "Charlie", "Foxtrot"]),
        ("-next_purchase", ["Bravo", "Echo", "Delta", "Alpha", "Charlie", "Foxtrot"]),
    ],
)
def test_sorting_by_a_score_puts_clients_without_one_last(org, base, read_by, sort, expected):
    assert names(org.admin, {"sort": sort}) == expected


def test_a_filter_and_a_sort_together(org, base):
    assert names(org.admin, {"abc": "A", "sort": "-clv"}) == ["Delta", "Echo", "Alpha", "Bravo"]
    assert names(org.admin, {"abc": "C", "sort": "-clv"}) == ["Charlie"]


def test_pages_of_a_score_sort_run_on_into_the_clients_without_a_value(org, base, read_by):
    scored = scores_filter(client_list(viewer=org.admin), {"sort": "-clv"}, viewer=org.admin)
    ids = [scored.page_ids(offset, 2) for offset in (0, 2, 4, 6)]

    by_id = dict(scored.clients.values_list("pk", "name"))
    assert [[by_id[i] for i in page] for page in ids] == [
        ["Delta", "Echo"],
        ["Alpha", "Bravo"],
        ["Charlie", "Foxtrot"],
        [],
    ]
    assert scored.page_ids(5, 2) == [base.foxtrot.pk]


def test_the_list_s_own_filters_still_apply(org, base):
    assert names(org.admin, {"abc": "A"}, owner_id=org.rep.pk) == ["Alpha", "Bravo"]
    assert names(org.admin, {"abc": "A"}, kind="person") == []
    assert names(org.admin, {"sort": "-clv"}, owner_id=org.colleague.pk) == ["Delta"]


def test_a_rep_never_finds_another_s_client_through_a_score(org, base, read_by):
    # The rep sees his team's clients (Delta is a colleague's) but only his own scores.
    assert names(org.rep, {}) == ["Alpha", "Bravo", "Charlie", "Delta", "Foxtrot"]
    assert names(org.rep, {"abc": "A"}) == ["Alpha", "Bravo"]
    assert names(org.rep, {"segment": "champions"}) == ["Alpha"]
    assert names(org.rep, {"clv_min": "7500"}) == []
    # Sorted by CLV, Delta's CLV is not the rep's to know: it goes with those without.
    assert names(org.rep, {"sort": "-clv"}) == ["Alpha", "Bravo", "Charlie", "Delta", "Foxtrot"]


def test_a_manager_finds_the_scores_of_his_team_only(org, base, read_by):
    assert names(org.manager, {"segment": "champions"}) == ["Alpha", "Delta"]


def test_a_role_without_analytics_finds_nobody_by_a_score(org, base):
    # The service agent sees every client, and no analytics.
    assert names(org.agent, {"abc": "A"}) == []
    assert names(org.agent, {"sort": "-clv"}) == [
        "Alpha",
        "Bravo",
        "Charlie",
        "Delta",
        "Echo",
        "Foxtrot",
    ]


def test_without_a_current_run_a_score_filter_finds_nobody(org, base):
    ComputeRun.objects.update(is_current=False)

    assert names(org.admin, {"segment": "champions"}) == []
    assert names(org.admin, {"source": "exhibition"}) == ["Bravo"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"abc": "Q"},
            "abc",
            "“Q” is not a valid value of abc; use one of: A, B, C.",
        ),
        (
            {"segment": "champions,vip"},
            "segment",
            "“vip” is not a valid value of segment; use one of: champions, loyal, promising, "
            "needs_attention, at_risk, cant_lose, hibernating, lost.",
        ),
        ({"clv_min": "lots"}, "clv_min", "clv_min must be a number, not “lots”."),
        ({"clv_max": "nan"}, "clv_max", "clv_max must be a number, not “nan”."),
        (
            {"leave_max": "120"},
            "leave_max",
            "leave_max must be a percentage from 0 to 100, not “120”.",
        ),
        (
            {"next_from": "10.12.2026"},
            "next_from",
            "next_from must be a date as YYYY-MM-DD, not “10.12.2026”.",
        ),
        ({"cohort": "2026-13"}, "cohort", "cohort must be a month as YYYY-MM, not “2026-13”."),
        (
            {"clv_min": "500", "clv_max": "100"},
            "clv_max",
            "clv_max must not be less than clv_min.",
        ),
        (
            {"due_category": "tea"},
            "due_category",
            "due_category must be the number of a product category, not “tea”.",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter(org, base, params, field, message):
    with pytest.raises(ValidationFailed) as refused:
        scores_filter(client_list(viewer=org.admin), params, viewer=org.admin)

    assert refused.value.fields == {field: [message]}


def test_chips_name_segments_stages_and_dates_in_the_user_s_language(org, base):
    with translation.override("ru"):
        scored = scores_filter(
            client_list(viewer=org.admin),
            {"segment": "at_risk", "stage": "lost", "next_from": "2026-12-31"},
            viewer=org.admin,
        )
        labels = [str(c.label) for c in scored.applied]

    assert "Под угрозой" in labels[0]
    assert "31.12.2026" in labels[2]


def test_the_applied_filters_read_as_chips(org, base):
    scored = scores_filter(
        client_list(viewer=org.admin),
        {
            "segment": "at_risk",
            "abc": "A",
            "xyz": "X",
            "stage": "lapsed",
            "clv_min": "1000",
            "leave_min": "50",
            "leave_max": "100",
            "next_to": "2026-12-31",
            "cohort": "2025-03",
            "source": "exhibition",
        },
        viewer=org.admin,
    )

    assert [(c.params, c.label) for c in scored.applied] == [
        (("segment",), "RFM segment: At risk"),
        (("abc", "xyz"), "ABC-XYZ: AX"),
        (("stage",), "Lifecycle stage: lapsed"),
        (("clv_min", "clv_max"), "CLV: from 1,000"),
        (("leave_min", "leave_max"), "Probability of leaving: 50% to 100%"),
        (("next_from", "next_to"), "Next purchase: up to 12/31/2026"),
        (("cohort",), "First purchase in March 2025"),
        (("source",), "Source: exhibition"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "-clv"}, ["Delta", "Echo", "Alpha", "Bravo", "Charlie", "Foxtrot"]),
        ({"sort": "clv"}, ["Bravo", "Alpha", "Echo", "Delta", "Charlie", "Foxtrot"]),
        ({"sort": "-clv", "abc": "A"}, ["Delta", "Echo", "Alpha", "Bravo"]),
    ],
)
def test_a_sort_by_clv_over_several_abc_xyz_cells_merges_them(org, base, read_by, params, expected):
    # The run's matrix says which cells hold clients: AX 3, AY 1, CZ 1.
    base.run.abc_xyz = {"counts": [[3, 1, 0], [0, 0, 0], [0, 0, 1]]}
    base.run.save(update_fields=["abc_xyz"])

    assert names(org.admin, params) == expected
    scored = scores_filter(client_list(viewer=org.admin), params, viewer=org.admin)
    assert scored.page_ids(1, 2) == [
        {c.name: c.pk for c in scored.clients}[n] for n in expected[1:3]
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"segment": "champions"}, ["Alpha", "Delta", "Echo"]),
        ({"abc": "A", "sort": "-clv"}, ["Delta", "Echo", "Alpha", "Bravo"]),
        ({"leave_min": "50"}, ["Bravo"]),
    ],
)
def test_many_matches_filter_the_same_way(org, base, monkeypatch, params, expected):
    # Past FEW_MATCHES, the filter is an EXISTS per client instead of a list of ids.
    from lavka.analytics import filters

    monkeypatch.setattr(filters, "FEW_MATCHES", 0)

    assert names(org.admin, params) == expected
    assert names(org.rep, {"segment": "champions"}) == ["Alpha"]


def test_bought_keeps_the_clients_with_a_sale_in_that_month(org, base):
    # Alpha bought in March and April, Foxtrot (no scores) in March but the order was
    # cancelled, Echo in March; Bravo's March order is in the trash.
    add_orders(base.alpha, [(D(2026, 3, 31), 100), (D(2026, 4, 1), 50)])
    add_orders(base.foxtrot, [(D(2026, 3, 5), 70)], status=Order.Status.CANCELLED)
    add_orders(base.echo, [(D(2026, 3, 1), 10)])
    add_orders(base.bravo, [(D(2026, 3, 15), 10)])
    Order.objects.filter(client=base.bravo).update(
        deleted_at=dt.datetime(2026, 3, 16, tzinfo=dt.UTC)
    )

    assert names(org.admin, {"bought": "2026-03"}) == ["Alpha", "Echo"]
    assert names(org.admin, {"bought": "2026-04"}) == ["Alpha"]
    assert names(org.admin, {"bought": "2026-03", "abc": "A", "xyz": "X"}) == ["Alpha", "Echo"]
    # Echo is another team's: the rep does not find it by the month either.
    assert names(org.rep, {"bought": "2026-03"}) == ["Alpha"]


def test_bought_reads_as_a_chip_and_refuses_a_bad_month(org, base):
    scored = scores_filter(client_list(viewer=org.admin), {"bought": "2026-03"}, viewer=org.admin)
    assert [(c.params, c.label) for c in scored.applied] == [(("bought",), "Bought in March 2026")]
    with pytest.raises(ValidationFailed) as failed:
        scores_filter(client_list(viewer=org.admin), {"bought": "March"}, viewer=org.admin)
    assert "bought" in failed.value.fields


def test_segment_before_with_segment_keeps_the_clients_of_one_flow(org, base, monkeypatch):
    # The previous run had Alpha and Delta at risk, Bravo a champion; the current run
    # counts its movement from there. Echo was new; Foxtrot's row is in the old run only.
    previous = make_run(current=False, as_of=D(2026, 6, 15))
    score(previous, base.alpha, segment=AT_RISK)
    score(previous, base.delta, segment=AT_RISK)
    score(previous, base.bravo, segment=CHAMPIONS)
    score(previous, base.foxtrot, segment=AT_RISK)
    base.run.parameters = {"moves": {"from_run": previous.pk, "from_as_of": "2026-06-15"}}
    base.run.save(update_fields=["parameters"])
    flow = {"segment_before": "at_risk", "segment": "champions"}

    assert names(org.admin, flow) == ["Alpha", "Delta"]
    assert names(org.admin, {"segment_before": "champions"}) == ["Bravo"]
    assert names(org.admin, {"segment_before": "champions", "segment": "champions"}) == []
    assert names(org.rep, flow) == ["Alpha"]  # Delta's scores are not the rep's to read
    assert names(org.admin, {**flow, "sort": "-clv"}) == ["Delta", "Alpha"]
    scored = scores_filter(client_list(viewer=org.admin), flow, viewer=org.admin)
    assert [c.label for c in scored.applied] == [
        "RFM segment: Champions",
        "RFM segment at the previous recompute: At risk",
    ]
    # Past FEW_MATCHES the same flow is an EXISTS per client.
    from lavka.analytics import filters

    monkeypatch.setattr(filters, "FEW_MATCHES", 0)
    assert names(org.admin, flow) == ["Alpha", "Delta"]


def test_segment_before_finds_nobody_without_a_previous_run(org, base):
    assert names(org.admin, {"segment_before": "champions"}) == []
    with pytest.raises(ValidationFailed) as failed:
        names(org.admin, {"segment_before": "heroes"})
    assert "segment_before" in failed.value.fields


def test_cohort_and_bought_keep_the_cohort_s_buyers_of_a_later_month(org, base):
    # The March 2025 cohort is Alpha and Bravo; of them only Bravo bought in June 2026.
    # Delta bought then too, but its first purchase was in January 2025.
    add_orders(base.alpha, [(D(2026, 5, 31), 100)])
    add_orders(base.bravo, [(D(2026, 6, 1), 50)])
    add_orders(base.delta, [(D(2026, 6, 10), 80)])

    assert names(org.admin, {"cohort": "2025-03", "bought": "2026-06"}) == ["Bravo"]
    assert names(org.admin, {"cohort": "2025-03", "bought": "2026-05"}) == ["Alpha"]
    assert names(org.admin, {"cohort": "2025-01", "bought": "2026-06"}) == ["Delta"]


def test_source_ignores_case_and_outer_spaces(org, base):
    # As the economics report groups channels: "Exhibition " is the same channel.
    base.delta.source = "Exhibition "
    base.delta.save(update_fields=["source"])

    assert names(org.admin, {"source": "Exhibition"}) == ["Bravo", "Delta"]
    assert names(org.admin, {"source": " exhibition"}) == ["Bravo", "Delta"]


def test_a_score_sort_s_page_is_one_query_when_the_list_holds_the_run_s_clients(org, base):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scored = scores_filter(client_list(viewer=org.admin), {"sort": "-clv"}, viewer=org.admin)
    with CaptureQueriesContext(connection) as queries:
        first = scored.page_ids(0, 2)
        second = scored.page_ids(2, 2)

    assert first == [base.delta.pk, base.echo.pk]
    assert second == [base.alpha.pk, base.bravo.pk]
    # Which of the ordered ids the list holds: one query a page, none on the scores.
    assert len(queries) == 2
    assert not any("analytics_clientscore" in q["sql"] for q in queries.captured_queries)


def test_a_score_filter_reads_the_matching_ids_from_the_arrays(org, base):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    names(org.admin, {"stage": "at_risk"})  # the arrays are loaded once per process
    with CaptureQueriesContext(connection) as queries:
        found = names(org.admin, {"stage": "at_risk"})

    assert found == ["Bravo"]
    # The current run, then the clients with the matching ids.
    assert [q["sql"].count("analytics_clientscore") for q in queries.captured_queries] == [0, 0]


@pytest.mark.parametrize("walk_ids", [1, 3, 15_000])
def test_a_scoped_viewer_s_score_sort_is_right_however_the_ids_are_found(
    org, base, monkeypatch, walk_ids
):
    # The rep holds two of the run's five scored clients. With chunks of at most one or
    # three ids the walk gives up and the database sorts; with more it finds them.
    from lavka.analytics import filters

    monkeypatch.setattr(filters, "WALK_IDS", walk_ids)
    scored = scores_filter(client_list(viewer=org.rep), {"sort": "-clv"}, viewer=org.rep)

    assert [scored.page_ids(offset, 2) for offset in (0, 2, 4)] == [
        [base.alpha.pk, base.bravo.pk],
        [base.charlie.pk, base.delta.pk],
        [base.foxtrot.pk],
    ]
    assert names(org.rep, {"sort": "leave", "segment": "champions,at_risk"}) == [
        "Alpha",
        "Bravo",
    ]


def test_a_score_sort_walks_on_while_the_list_holds_few_of_the_run_s_clients(
    org, base, monkeypatch
):
    # Only Bravo is an exhibition client. Without spare ids, the first chunk (Delta)
    # holds none of the list; the next one, eight times larger, holds Bravo.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lavka.analytics import filters

    monkeypatch.setattr(filters, "WALK_PAD", 0)

    clients = client_list(viewer=org.admin)
    scored = scores_filter(clients, {"sort": "-clv", "source": "exhibition"}, viewer=org.admin)
    with CaptureQueriesContext(connection) as queries:
        page = scored.page_ids(0, 1)

    assert page == [base.bravo.pk]
    assert len(queries) == 2
