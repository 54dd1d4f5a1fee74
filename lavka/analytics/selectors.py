"""Reads of the analytics. Runs are visible to anyone with analytics access; a client's
scores follow the analytics read scope over the client's owner and team, within the
clients the viewer may see at all (`clients_visible_to`). Counts over the whole base
come from the run itself (one row); a viewer with a narrower scope gets them counted
over their own clients."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum

from lavka.analytics.engine.lifecycle import STAGE_LABELS, STAGES
from lavka.analytics.engine.rfm import SEGMENT_LABELS, SEGMENTS, Segment
from lavka.analytics.engine.sufficiency import REASON_LABELS, Reason
from lavka.analytics.models import ClientScore, ComputeRun
from lavka.analytics.permissions import can_read_analytics
from lavka.clients.models import Client
from lavka.clients.selectors import clients_visible_to
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, Scope, can_access, scope_for, scope_queryset

ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z")


def runs_visible_to(viewer: Any) -> QuerySet[ComputeRun]:
    runs = ComputeRun.objects.select_related("started_by")
    return runs if can_read_analytics(viewer) else runs.none()


def run_current(*, viewer: Any) -> ComputeRun | None:
    return runs_visible_to(viewer).filter(is_current=True).first()


def run_get(*, viewer: Any, run_id: int) -> ComputeRun:
    try:
        return runs_visible_to(viewer).get(pk=run_id)
    except (ComputeRun.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="analytics run", id=run_id) from None


def run_list(*, viewer: Any, limit: int = 20) -> list[ComputeRun]:
    return list(runs_visible_to(viewer)[:limit])


def analytics_clients_visible_to(viewer: Any) -> QuerySet[Client]:
    """The clients whose scores `viewer` may read."""
    return scope_queryset(clients_visible_to(viewer), viewer, Area.ANALYTICS, Action.READ)


def sees_whole_base(viewer: Any) -> bool:
    return (
        scope_for(viewer, Area.ANALYTICS, Action.READ) == Scope.ALL
        and scope_for(viewer, Area.CLIENTS, Action.READ) == Scope.ALL
    )


def scores_visible_to(viewer: Any, run: ComputeRun) -> QuerySet[ClientScore]:
    scores = ClientScore.objects.filter(run_id=run.pk)
    if sees_whole_base(viewer):
        return scores
    return scores.filter(client_id__in=analytics_clients_visible_to(viewer).values("pk"))


@dataclass(frozen=True, slots=True)
class SegmentCount:
    segment: Segment
    label: Any
    clients: int
    share: float  # of the clients counted, 0..1


def segment_counts(*, viewer: Any, run: ComputeRun) -> list[SegmentCount]:
    """Clients per RFM segment in `run`, every segment listed (0 when empty)."""
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics run", id=run.pk)
    if sees_whole_base(viewer):
        counts = {Segment(k): int(v) for k, v in (run.segment_counts or {}).items()}
    else:
        rows = scores_visible_to(viewer, run).values_list("segment").annotate(n=Count("*"))
        counts = {SEGMENTS[code]: n for code, n in rows}
    total = sum(counts.values()) or 1
    return [
        SegmentCount(s, SEGMENT_LABELS[s], counts.get(s, 0), counts.get(s, 0) / total)
        for s in SEGMENTS
    ]


@dataclass(frozen=True, slots=True)
class MatrixCell:
    abc: str
    xyz: str
    clients: int
    revenue: float


def abc_xyz_cells(*, viewer: Any, run: ComputeRun) -> list[list[MatrixCell]]:
    """The 3x3 ABC-XYZ matrix of clients (rows A, B, C; columns X, Y, Z): clients and
    their revenue in the ABC/XYZ window."""
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics run", id=run.pk)
    counts = [[0] * 3 for _ in range(3)]
    revenue = [[0.0] * 3 for _ in range(3)]
    if sees_whole_base(viewer):
        stored = run.abc_xyz or {}
        counts = stored.get("counts", counts)
        revenue = stored.get("revenue", revenue)
    else:
        rows = (
            scores_visible_to(viewer, run)
            .values_list("abc", "xyz")
            .annotate(n=Count("*"), value=Sum("window_revenue"))
        )
        for a, x, n, value in rows:
            counts[a][x], revenue[a][x] = n, float(value or 0)
    return [
        [MatrixCell(ABC[a], XYZ[x], int(counts[a][x]), float(revenue[a][x])) for x in range(3)]
        for a in range(3)
    ]


@dataclass(frozen=True, slots=True)
class SegmentFlow:
    before: Any  # segment labels
    now: Any
    clients: int


@dataclass(frozen=True, slots=True)
class SegmentMoves:
    """How the clients of `run` moved since the run that was current before it."""

    from_as_of: dt.date
    changes: list[SegmentFlow]  # clients who changed segment, largest flows first
    stayed: int
    new: int  # scored now, not then (first purchase since)


def segment_moves(*, viewer: Any, run: ComputeRun) -> SegmentMoves | None:
    """Movement between RFM segments since the previous run, stored with the run for
    the whole base (the "moves" report; in the run's parameters for runs before it was
    one); None for a viewer who sees only part of it, for a first run, or until the
    report is there."""
    moves = (run.parameters or {}).get("moves")
    if not moves or not can_read_analytics(viewer) or not sees_whole_base(viewer):
        return None
    report = (run.reports or {}).get("moves")
    stored = report.get("flows") if isinstance(report, dict) else moves.get("flows")
    if stored is None:
        return None
    flows = [(SEGMENTS[a], SEGMENTS[b], n) for a, b, n in stored]
    changes = sorted(
        (SegmentFlow(SEGMENT_LABELS[a], SEGMENT_LABELS[b], n) for a, b, n in flows if a != b),
        key=lambda f: -f.clients,
    )
    stayed = sum(n for a, b, n in flows if a == b)
    return SegmentMoves(
        from_as_of=dt.date.fromisoformat(moves["from_as_of"]),
        changes=changes,
        stayed=stayed,
        new=run.clients - stayed - sum(f.clients for f in changes),
    )


# --- the client card ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardScores:
    """What the client card shows; None fields come with a `*_reason` label."""

    as_of: dt.date
    currency: str
    segment: Segment
    segment_label: Any
    r: int
    f: int
    m: int
    abc_xyz: str
    leave_probability: float | None  # 1 - P(alive), 0..1
    expected_30: float | None
    expected_90: float | None
    expected_365: float | None
    expected_spend: float | None
    clv: float | None
    clv_months: int
    next_purchase_on: dt.date | None
    purchases_reason: Any  # a translated "not enough data" label, or ""
    spend_reason: Any
    stage: str = ""  # lifecycle.STAGES code
    stage_label: Any = ""
    lifecycle_days: int = 0
    # What the buying report suggests (`buying.client_insight`): the product to offer,
    # the category due and its date; None when there is none (or no report yet).
    insight: Any = None

    @property
    def has_enough_data(self) -> bool:
        return not self.purchases_reason and not self.spend_reason


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _reason(code: int) -> Any:
    return "" if code == Reason.OK else REASON_LABELS.get(Reason(code), "")


def client_scores(*, viewer: Any, client: Client, with_insight: bool = False) -> CardScores | None:
    """The client's scores of the current run, or None (never computed, no purchase
    yet, or not the viewer's to see). One query; `with_insight` adds the buying
    report's suggestion (`buying.client_insight`, its own queries) for a client with
    scores."""
    score = (
        ClientScore.objects.filter(
            client_id=client.pk,
            run__is_current=True,
            client_id__in=analytics_clients_visible_to(viewer).filter(pk=client.pk).values("pk"),
        )
        .select_related("run")
        .first()
    )
    if score is None:
        return None
    segment = SEGMENTS[score.segment]
    p_alive = _number(score.p_alive)
    settings = (score.run.parameters or {}).get("settings", {})
    stage = STAGES[score.stage] if 0 <= score.stage < len(STAGES) else ""
    return CardScores(
        as_of=score.run.as_of,
        currency=score.run.currency,
        segment=segment,
        segment_label=SEGMENT_LABELS[segment],
        r=score.r,
        f=score.f,
        m=score.m,
        abc_xyz=ABC[score.abc] + XYZ[score.xyz],
        leave_probability=None if p_alive is None else 1.0 - p_alive,
        expected_30=_number(score.expected_30),
        expected_90=_number(score.expected_90),
        expected_365=_number(score.expected_365),
        expected_spend=_number(score.expected_spend),
        clv=_number(score.clv),
        clv_months=int(settings.get("clv_months", 12)),
        next_purchase_on=score.next_purchase_on,
        purchases_reason=_reason(score.purchases_reason),
        spend_reason=_reason(score.spend_reason),
        stage=stage,
        stage_label=STAGE_LABELS.get(stage, ""),
        lifecycle_days=score.lifecycle_days,
        insight=_client_insight(viewer, client) if with_insight else None,
    )


def _client_insight(viewer: Any, client: Client) -> Any:
    """The buying report's suggestion for the card (`buying.client_insight`: the
    suggested product, the category due and when), or None while that report has no
    such reader."""
    from lavka.analytics import buying

    reader = getattr(buying, "client_insight", None)
    return None if reader is None else reader(viewer=viewer, client=client)


# --- the client list's columns ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowScores:
    """What a row of the client list shows of a client's scores."""

    currency: str
    segment: Segment
    segment_label: Any
    abc_xyz: str
    clv: float | None
    leave_probability: float | None  # 1 - P(alive), 0..1
    next_purchase_on: dt.date | None
    stage: str
    stage_label: Any
    revenue: float


def row_scores(
    *, viewer: Any, clients: list[Client], run: ComputeRun | None = None
) -> dict[int, RowScores]:
    """The scores of `clients` (rows of a list, with owner_id and team_id loaded) in
    `run` (default: the current run) that the viewer may read, by client id. One query
    (none without analytics access or rows); who may read each row's scores is decided
    from the row itself."""
    if not clients or not can_read_analytics(viewer):
        return {}
    scores = ClientScore.objects.filter(client_id__in=[c.pk for c in clients])
    scores = (
        scores.filter(run_id=run.pk) if run is not None else scores.filter(run__is_current=True)
    )
    rows = scores.values_list(
        "client_id",
        "segment",
        "abc",
        "xyz",
        "clv",
        "p_alive",
        "next_purchase_on",
        "stage",
        "revenue",
        "run__currency",
    )
    by_client = {c.pk: c for c in clients}
    whole = sees_whole_base(viewer)
    found: dict[int, RowScores] = {}
    for client_id, segment, abc, xyz, clv, p_alive, next_on, stage, revenue, currency in rows:
        client = by_client[client_id]
        if not whole and not can_access(
            viewer,
            area=Area.ANALYTICS,
            action=Action.READ,
            owner_id=client.owner_id,
            team_id=client.team_id,
        ):
            continue
        p = _number(p_alive)
        code = STAGES[stage] if 0 <= stage < len(STAGES) else ""
        found[client_id] = RowScores(
            currency=currency,
            segment=SEGMENTS[segment],
            segment_label=SEGMENT_LABELS[SEGMENTS[segment]],
            abc_xyz=ABC[abc] + XYZ[xyz],
            clv=_number(clv),
            leave_probability=None if p is None else 1.0 - p,
            next_purchase_on=next_on,
            stage=code,
            stage_label=STAGE_LABELS.get(code, ""),
            revenue=float(revenue),
        )
    return found


def client_score_history(*, viewer: Any, client: Client, limit: int = 12) -> list[ClientScore]:
    """The client's scores in the latest `limit` successful runs, newest first (how the
    client moved between segments). Two queries."""
    run_ids = list(
        runs_visible_to(viewer)
        .filter(status=ComputeRun.Status.SUCCEEDED)
        .values_list("pk", flat=True)[:limit]
    )
    return list(
        ClientScore.objects.filter(
            run_id__in=run_ids,
            client_id=client.pk,
            client_id__in=analytics_clients_visible_to(viewer).filter(pk=client.pk).values("pk"),
        )
        .select_related("run")
        .order_by("-run__as_of", "-run_id")
    )
