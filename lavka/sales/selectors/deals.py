"""Reads of deals: every read starts from `deals_visible_to(viewer)`.

The board reads a pipeline's columns in a fixed number of queries, whatever the
number of stages and deals: the stages, the counts and sums per column, the ids of
each column's first page (one UNION ALL of per-stage LIMIT queries, each a short range
of the index deal_board_idx), and the cards of those ids.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from lavka.clients.models import Client, Person
from lavka.clients.selectors.blocks import people_visible_to
from lavka.core.errors import NotFound
from lavka.identity.access import Action, Area, scope_queryset
from lavka.sales.models import (
    Deal,
    DealColumnTotal,
    DealLine,
    DealStageChange,
    Pipeline,
    Stage,
)
from lavka.sales.selectors.pipelines import stage_list

# A card's place in its column, and the cursor of keyset pagination: (position, id).
Cursor = tuple[int, int]

BOARD_PAGE = 20
BOARD_PAGE_MAX = 200


def deals_visible_to(viewer: Any) -> QuerySet[Deal]:
    """Every live deal `viewer` may read (the sales area's read scope, by the deal's
    owner and team). All deal reads start here."""
    return scope_queryset(Deal.objects.all(), viewer, Area.SALES, Action.READ)


def deal_get(*, viewer: Any, deal_id: int) -> Deal:
    """One deal the viewer may read; NotFound whether it is missing or not theirs."""
    try:
        return (
            deals_visible_to(viewer)
            .select_related("client", "person", "pipeline", "stage", "owner", "team")
            .get(pk=deal_id)
        )
    except (Deal.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="deal", id=deal_id) from None


def deal_list(
    *,
    viewer: Any,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    owner_id: int | None = None,
    client_id: int | None = None,
    status: str = "all",
    query: str = "",
    team_id: int | None = None,
    tier_id: int | None = None,
    created_from: dt.date | None = None,
    created_to: dt.date | None = None,
    reached_stage_id: int | None = None,
    closes_in: dt.date | None = None,
) -> QuerySet[Deal]:
    """The deals list, newest first. `status`: "open", "won", "lost" or "all".

    The analytics drill-down's filters: `team_id` (the deal's team), `tier_id` (its
    client's tier), `created_from`/`created_to` (creation day, inclusive, in the current
    time zone), `reached_stage_id` (deals that are in the stage or have ever entered it:
    the dashboard's funnel) and `closes_in` (expected to close in that date's month)."""
    deals = deals_visible_to(viewer).select_related("client", "stage", "owner")
    if pipeline_id is not None:
        deals = deals.filter(pipeline_id=pipeline_id)
    if stage_id is not None:
        deals = deals.filter(stage_id=stage_id)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    if client_id is not None:
        deals = deals.filter(client_id=client_id)
    if team_id is not None:
        deals = deals.filter(team_id=team_id)
    if tier_id is not None:
        deals = deals.filter(client__tier_id=tier_id)
    if created_from is not None:
        deals = deals.filter(created_at__gte=_day_start(created_from))
    if created_to is not None:
        deals = deals.filter(created_at__lt=_day_start(created_to + dt.timedelta(days=1)))
    if reached_stage_id is not None:
        entered = DealStageChange.objects.filter(
            deal_id=OuterRef("pk"), to_stage_id=reached_stage_id
        )
        deals = deals.filter(Q(stage_id=reached_stage_id) | Exists(entered))
    if closes_in is not None:
        first = closes_in.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        deals = deals.filter(expected_close_on__gte=first, expected_close_on__lt=following)
    if status in (Stage.Kind.OPEN, Stage.Kind.WON, Stage.Kind.LOST):
        deals = deals.filter(stage__kind=status)
    for word in query.split():
        deals = deals.filter(Q(title__icontains=word) | Q(client__name__icontains=word))
    return deals.order_by("-created_at", "-id")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def client_deals(*, viewer: Any, client: Client) -> QuerySet[Deal]:
    """The deals of a client the viewer may see (for the client card)."""
    return deal_list(viewer=viewer, client_id=client.pk)


def deal_lines(*, viewer: Any, deal: Deal) -> list[DealLine]:
    if not deals_visible_to(viewer).filter(pk=deal.pk).exists():
        raise NotFound(resource="deal", id=deal.pk)
    return list(DealLine.objects.filter(deal_id=deal.pk).select_related("product"))


# --- the board -------------------------------------------------------------------------


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    # Sum of the amounts in the column, per currency.
    totals: dict[str, Decimal] = field(default_factory=dict)
    deals: list[Deal] = field(default_factory=list)
    # Pass as `after={stage.pk: next_after}` (or to deals_column) for the next page.
    next_after: Cursor | None = None


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[BoardColumn]


def _after(deals: QuerySet[Deal], after: Cursor | None) -> QuerySet[Deal]:
    if after is None:
        return deals
    position, pk = after
    # `position >= ...` is implied by the OR, but lets the database start reading the
    # index at the cursor instead of at the top of the column.
    return deals.filter(position__gte=position).filter(
        Q(position__gt=position) | Q(position=position, pk__gt=pk)
    )


def _cards(ids: list[int]) -> dict[int, Deal]:
    deals = (
        Deal.objects.filter(pk__in=ids)
        .select_related("client", "owner")
        .defer("client__search_text", "client__notes", "client__custom")
    )
    return {deal.pk: deal for deal in deals}


def column_totals(
    *, viewer: Any, stage_ids: list[int], owner_id: int | None = None
) -> dict[int, tuple[int, dict[str, Decimal]]]:
    """{stage id: (number of deals, {currency: sum})} of the live deals the viewer may
    see in those stages (only `owner_id`'s, if given). Reads the counters that the
    database keeps per (stage, owner, team, currency) (DealColumnTotal), scoped like
    deals: a few rows per column instead of every deal. One query."""
    rows = scope_queryset(
        DealColumnTotal.objects.filter(stage_id__in=stage_ids, deals__gt=0),
        viewer,
        Area.SALES,
        Action.READ,
    )
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    result: dict[int, tuple[int, dict[str, Decimal]]] = {pk: (0, {}) for pk in stage_ids}
    for row in (
        rows.values("stage_id", "currency").annotate(n=Sum("deals"), total=Sum("amount")).order_by()
    ):
        count, totals = result[row["stage_id"]]
        totals[row["currency"]] = row["total"] or Decimal(0)
        result[row["stage_id"]] = (count + (row["n"] or 0), totals)
    return result


def deals_board(
    *,
    viewer: Any,
    pipeline: Pipeline,
    per_column: int = BOARD_PAGE,
    after: Mapping[int, Cursor] | None = None,
    owner_id: int | None = None,
) -> Board:
    """The kanban board of `pipeline`: for every stage in use, the count and totals of
    the deals the viewer may see and the first `per_column` cards (or the page after
    `after[stage_id]`), ordered by position. At most four queries."""
    per_column = max(1, min(per_column, BOARD_PAGE_MAX))
    after = after or {}
    stages = stage_list(viewer=viewer, pipeline=pipeline)
    columns = {stage.pk: BoardColumn(stage=stage) for stage in stages}
    if not stages:
        return Board(pipeline=pipeline, columns=[])
    deals = deals_visible_to(viewer)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)

    for stage_id, (count, totals) in column_totals(
        viewer=viewer, stage_ids=list(columns), owner_id=owner_id
    ).items():
        columns[stage_id].count = count
        columns[stage_id].totals = totals
    wanted = [pk for pk, column in columns.items() if column.count]
    if not wanted:
        return Board(pipeline=pipeline, columns=list(columns.values()))

    # One statement: the first page (plus one, to know if there is more) of every
    # column. Each part is a LIMIT over a range of deal_board_idx.
    parts: list[str] = []
    params: list[Any] = []
    for index, stage_id in enumerate(wanted):
        page = (
            _after(deals.filter(stage_id=stage_id), after.get(stage_id))
            .order_by("position", "id")
            .values_list("id", "stage_id", "position")[: per_column + 1]
        )
        sql, part_params = page.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS column_{index}")  # noqa: S608 - compiled SQL
        params.extend(part_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()

    per_stage: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pk, stage_id, position in rows:
        per_stage[stage_id].append((position, pk))
    shown: dict[int, list[tuple[int, int]]] = {}
    for stage_id, keys in per_stage.items():
        keys.sort()
        if len(keys) > per_column:
            columns[stage_id].next_after = keys[per_column - 1]
        shown[stage_id] = keys[:per_column]
    cards = _cards([pk for keys in shown.values() for _position, pk in keys])
    for stage_id, keys in shown.items():
        columns[stage_id].deals = [cards[pk] for _position, pk in keys if pk in cards]
    return Board(pipeline=pipeline, columns=list(columns.values()))


def deals_column(
    *,
    viewer: Any,
    stage: Stage,
    after: Cursor | None = None,
    limit: int = BOARD_PAGE,
    owner_id: int | None = None,
) -> tuple[list[Deal], Cursor | None]:
    """The next page of one board column: (cards, cursor of the page after or None)."""
    limit = max(1, min(limit, BOARD_PAGE_MAX))
    deals = deals_visible_to(viewer).filter(stage_id=stage.pk)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    page = list(
        _after(deals, after)
        .select_related("client", "owner")
        .defer("client__search_text", "client__notes", "client__custom")
        .order_by("position", "id")[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit]
    return page, ((page[-1].position, page[-1].pk) if more else None)


# --- stage history ---------------------------------------------------------------------


@dataclass(frozen=True)
class StageTime:
    stage_id: int
    stage_name: str
    # Total time the deal has spent in the stage (all its visits). The clock of a
    # deal's current stage runs until now while the deal is open; it stops when the
    # deal closes, so the won or lost stage itself counts zero.
    duration: dt.timedelta
    visits: int
    is_current: bool


def deal_stage_history(*, viewer: Any, deal: Deal) -> list[DealStageChange]:
    """The deal's stage changes, oldest first, with stages and who moved it."""
    if not deals_visible_to(viewer).filter(pk=deal.pk).exists():
        raise NotFound(resource="deal", id=deal.pk)
    return list(
        DealStageChange.objects.filter(deal_id=deal.pk)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def deal_stage_times(*, viewer: Any, deal: Deal, now: dt.datetime | None = None) -> list[StageTime]:
    """Time spent in each stage the deal has been in, in the order first entered."""
    now = now or timezone.now()
    history = deal_stage_history(viewer=viewer, deal=deal)
    totals: dict[int, dt.timedelta] = {}
    visits: dict[int, int] = defaultdict(int)
    names: dict[int, str] = {}
    for index, change in enumerate(history):
        stage = change.to_stage
        if index + 1 < len(history):
            left = history[index + 1].changed_at
        elif stage.kind == Stage.Kind.OPEN:
            left = now
        else:
            left = change.changed_at
        totals[stage.pk] = totals.get(stage.pk, dt.timedelta()) + max(
            left - change.changed_at, dt.timedelta()
        )
        visits[stage.pk] += 1
        names[stage.pk] = stage.name
    current = history[-1].to_stage_id if history else None
    return [
        StageTime(
            stage_id=pk,
            stage_name=names[pk],
            duration=duration,
            visits=visits[pk],
            is_current=pk == current,
        )
        for pk, duration in totals.items()
    ]


def deal_person_choices(*, viewer: Any, deal: Deal) -> list[Person]:
    """The people who work at the deal's client (now or before), who can be its
    contact person; main contacts first."""
    if not deals_visible_to(viewer).filter(pk=deal.pk).exists():
        raise NotFound(resource="deal", id=deal.pk)
    return list(
        people_visible_to(viewer)
        .filter(employments__organisation_id=deal.client_id)
        .order_by("-employments__is_primary", "last_name", "first_name", "id")
        .distinct()
    )
