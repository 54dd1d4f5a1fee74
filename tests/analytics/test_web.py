from __future__ import annotations

import datetime as dt
import html
import re

from django.template.loader import render_to_string
from django.urls import reverse

from lavka.analytics.models import ComputeRun
from lavka.analytics.reports import REPORTS
from lavka.analytics.selectors import client_scores
from lavka.analytics.services import STEPS, analytics_recompute
from lavka.jobs.models import Job

AS_OF = dt.date(2026, 6, 30)


def test_the_page_shows_the_last_run(client, history, org, django_assert_max_num_queries):
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.analyst)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("analytics:overview"))

    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="segments"' in text
    assert 'data-cell="AX"' in text
    assert "Loading orders" in text
    assert 'data-testid="recompute"' in text


def test_a_rep_sees_the_page_without_the_button(client, history, org):
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.rep)

    response = client.get(reverse("analytics:overview"))

    assert response.status_code == 200
    assert 'data-testid="recompute"' not in response.content.decode()


def test_a_rep_cannot_recompute(client, history, org):
    client.force_login(org.rep)

    response = client.post(reverse("analytics:recompute"))

    assert response.status_code == 403
    assert ComputeRun.objects.count() == 0
    assert not Job.objects.filter(kind="analytics.recompute").exists()


def test_a_service_agent_has_no_analytics_page(client, org):
    client.force_login(org.agent)

    assert client.get(reverse("analytics:overview")).status_code == 404


def test_the_button_runs_the_job_end_to_end(
    client, history, org, django_capture_on_commit_callbacks
):
    client.force_login(org.analyst)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:recompute"), {"as_of": "2026-06-30"})

    job = Job.objects.get(kind="analytics.recompute")
    job.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('analytics:overview')}?job={job.pk}"
    assert job.status == Job.Status.SUCCEEDED
    assert job.done == job.total == len(STEPS) + len(REPORTS)
    run = ComputeRun.objects.get(is_current=True)
    assert job.result["run_id"] == run.pk
    assert run.as_of == AS_OF and run.started_by == org.analyst
    page = client.get(response["Location"]).content.decode()
    assert 'data-job-status="succeeded"' in page


def test_a_bad_date_is_shown_next_to_the_field(client, history, org):
    client.force_login(org.analyst)

    response = client.post(reverse("analytics:recompute"), {"as_of": "31.06.2026"})

    assert response.status_code == 422
    assert 'id="analytics-as-of-error"' in response.content.decode()
    assert not Job.objects.exists()


def test_the_card_partial_shows_the_scores(history, org, simulated_base):
    analytics_recompute(actor=org.admin, as_of=AS_OF)
    scores = client_scores(viewer=org.rep, client=history.monthly)

    html = render_to_string("web/analytics/_card_scores.html", {"analytics_scores": scores})

    assert 'data-testid="card-segment"' in html
    assert str(scores.segment_label) in html
    assert scores.leave_probability is not None
    assert f"{round(scores.leave_probability * 100)}%" in html


def test_the_card_partial_is_empty_without_scores():
    assert (
        render_to_string("web/analytics/_card_scores.html", {"analytics_scores": None}).strip()
        == ""
    )


def test_the_card_scores_take_one_query(history, org, django_assert_num_queries):
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    rep = type(org.rep).objects.select_related("role", "team").get(pk=org.rep.pk)

    with django_assert_num_queries(1):
        scores = client_scores(viewer=rep, client=history.twice)

    assert scores is not None and scores.abc_xyz == "AZ"


def test_a_reps_page_counts_only_their_clients(client, history, org, django_assert_max_num_queries):
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.rep)

    with django_assert_max_num_queries(14):
        response = client.get(reverse("analytics:overview"))

    assert response.status_code == 200
    assert response.context["segments_total"] == 3


def test_the_page_shows_movement_since_the_previous_run(client, history, org):
    analytics_recompute(actor=org.analyst, as_of=dt.date(2026, 5, 31))
    analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.analyst)

    response = client.get(reverse("analytics:overview"))

    moves = response.context["moves"]
    # Quintile scores: four clients were there in May, Newcomer is new.
    assert moves.new == 1
    assert moves.stayed + sum(flow.clients for flow in moves.changes) == 4
    assert 'data-testid="moves"' in response.content.decode()


def test_the_client_card_shows_the_scores_and_the_key_account_badge(
    client, history, org, simulated_base
):
    from lavka.keyaccounts.services import key_account_create

    analytics_recompute(actor=org.admin, as_of=AS_OF)
    key_account_create(actor=org.admin, client=history.monthly, manager=org.rep)
    client.force_login(org.rep)

    card = client.get(reverse("clients:show", args=[history.monthly.pk])).content.decode()
    other = client.get(reverse("clients:show", args=[history.twice.pk])).content.decode()

    assert 'data-testid="card-segment"' in card
    assert 'data-testid="key-account-badge"' in card
    assert 'data-testid="key-account-badge"' not in other


def _listed(http, url):
    response = http.get(html.unescape(url))
    assert response.status_code == 200
    return sorted(re.findall(r"data-row-link>([^<]+)</a>", response.content.decode()))


def _scored_names(run, **where):
    from lavka.analytics.models import ClientScore
    from lavka.clients.models import Client

    ids = ClientScore.objects.filter(run=run, **where).values("client_id")
    return sorted(Client.objects.filter(pk__in=ids).values_list("name", flat=True))


def test_the_segments_page_drills_into_segments_cells_and_flows(client, history, org):
    from lavka.analytics.engine.rfm import SEGMENTS
    from lavka.analytics.models import ClientScore

    first = analytics_recompute(actor=org.analyst, as_of=dt.date(2026, 5, 31))
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.analyst)

    text = client.get(reverse("analytics:overview")).content.decode()

    segments = re.findall(r'<a href="(/clients/\?segment=(\w+))" data-testid="segment-link">', text)
    assert len(segments) == len(SEGMENTS)
    for url, code in segments:
        assert _listed(client, url) == _scored_names(run, segment=SEGMENTS.index(code))
    assert _listed(client, "/clients/?abc=A&xyz=X") == _scored_names(run, abc=0, xyz=0)
    assert 'href="/clients/?abc=A&amp;xyz=X"' in text
    was = dict(ClientScore.objects.filter(run=first).values_list("client_id", "segment"))
    flows = re.findall(r'<a href="([^"]+)" data-testid="flow-clients">(\d+)</a>', text)
    assert flows  # somebody moved between May and June
    for url, count in flows:
        query = dict(p.split("=") for p in html.unescape(url).split("?")[1].split("&"))
        before, now = SEGMENTS.index(query["segment_before"]), SEGMENTS.index(query["segment"])
        moved = [
            c
            for c, s in ClientScore.objects.filter(run=run, segment=now).values_list(
                "client_id", "segment"
            )
            if was.get(c) == before
        ]
        assert len(_listed(client, url)) == len(moved) == int(count)


def test_the_segments_page_exports_its_tables(client, history, org):
    run = analytics_recompute(actor=org.analyst, as_of=AS_OF)
    client.force_login(org.analyst)
    url = reverse("analytics:overview")

    segments = client.get(url, {"export": "segments.csv"}).content.decode("utf-8-sig")
    matrix = client.get(url, {"export": "matrix.csv"}).content.decode("utf-8-sig")
    moves = client.get(url, {"export": "moves.csv"}).content.decode("utf-8-sig")

    rows = [r.split(",") for r in segments.strip().splitlines()]
    assert rows[0] == ["Segment", "Code", "Clients", "Share"]
    assert sum(int(r[2]) for r in rows[1:]) == run.clients
    assert matrix.splitlines()[0] == "Class,Clients,Revenue in the window,Currency"
    assert len(matrix.strip().splitlines()) == 10
    assert moves.strip() == "Segment before,Segment now,Clients"  # one run: no movement
    assert client.get(url, {"export": "nope.csv"}).status_code == 404
