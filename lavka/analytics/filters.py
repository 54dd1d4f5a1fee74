"""The client list filtered and sorted by the current run's scores: the drill-down
parameters the dashboard and the other analytics pages link to (`/clients/?abc=A&xyz=X`),
read the same way by the web list and the API.

Filters (all optional, combined with AND): `segment` (RFM segment codes), `abc`
(A/B/C), `xyz` (X/Y/Z), `stage` (lifecycle stage codes) - each one value or several
separated by commas; `clv_min`/`clv_max` (reporting currency), `leave_min`/`leave_max`
(probability of leaving, percent 0-100), `next_from`/`next_to` (next purchase date,
YYYY-MM-DD), `cohort` (month of the first purchase, YYYY-MM), `bought` (a month in
which the client made a purchase, YYYY-MM: the buyers behind a month's revenue),
`source` (the client's acquisition channel, case and outer spaces ignored, as the
economics report groups channels), `due_category` (a product
category the client is due to buy, from the buying report's insights) and
`segment_before` (RFM segment codes in the run the current one's movement between
segments is counted from: with `segment`, the clients behind one flow). Sorts: `clv`, `leave`,
`next_purchase`, `revenue`, each with an optional leading "-".

How it reads: the current run's scores are kept in each process as arrays
(`scorearrays`), which evaluate the score filters and give a sort's order without
reading the run's million score rows. A score filter is the ids of the matching clients
when there are a few thousand at most, else one EXISTS over the current run's scores on
their primary key (run_id, client_id); either way a client without scores (or whose
scores the viewer may not read) drops out. A sort by a score takes the arrays' order and
asks the database which of those ids the list holds, a chunk at a time
(`ScoredClients._walked`). When the arrays cannot serve (a filter they cannot evaluate,
such as `segment_before`, or a list holding few of the run's clients on a deep page),
the page's client ids come from the scores side, joined to the clients the list holds:
by CLV in the order of the index on (run_id, abc, xyz, clv), one ABC-XYZ cell at a time
and merged when the list spans several; by the other scores, which have no index, a
top-N sort of the matching scores. Clients without a value (no scores, "not enough
data", not the viewer's to see) follow, by name. Bad values raise
`ValidationFailed` whose `fields` name the parameter.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Exists, F, Lookup, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Trim
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from numpy.typing import NDArray

from lavka.analytics.engine.lifecycle import STAGE_LABELS, STAGES
from lavka.analytics.engine.rfm import SEGMENT_LABELS, SEGMENTS
from lavka.analytics.models import ClientInsight, ClientScore, ComputeRun
from lavka.analytics.scorearrays import ScoreArrays, score_arrays
from lavka.analytics.selectors import ABC, XYZ, runs_visible_to
from lavka.clients.models import Client
from lavka.core.errors import ValidationFailed
from lavka.identity.access import Action, Area, Scope, record_filter, scope_for
from lavka.sales.models import Order, ProductCategory
from lavka.sales.models.orders import SALE_STATUSES

# The parameters this module reads (saved views and "clear the filters" use the list).
SCORE_PARAMS = (
    "segment",
    "abc",
    "xyz",
    "stage",
    "clv_min",
    "clv_max",
    "leave_min",
    "leave_max",
    "next_from",
    "next_to",
    "cohort",
    "due_category",
    "segment_before",
)
PARAMS = (*SCORE_PARAMS, "source", "bought")

# sort parameter -> (ClientScore field, whether the field runs descending). "leave"
# is 1 - P(alive): the least likely to leave first is the highest P(alive) first.
SORTS: dict[str, tuple[str, bool]] = {
    "clv": ("clv", False),
    "-clv": ("clv", True),
    "leave": ("p_alive", True),
    "-leave": ("p_alive", False),
    "next_purchase": ("next_purchase_on", False),
    "-next_purchase": ("next_purchase_on", True),
    "revenue": ("revenue", False),
    "-revenue": ("revenue", True),
}

INVALID = gettext_lazy("The list cannot be filtered this way: check the marked parameters.")


@dataclass(frozen=True, slots=True)
class AppliedFilter:
    """One active filter as the page shows it: a chip with its label, removed by
    dropping `params` from the address."""

    params: tuple[str, ...]
    label: str


@dataclass
class ScoredClients:
    """A client list with the score filters applied.

    `clients`: the filtered clients (the caller's ordering kept); what a count or an
    estimate of the list reads. `sort`: the score sort in force ("-clv"), or "".
    With a score sort, a page is `page_ids(offset, limit)` (then load those clients and
    keep that order); without one, slice `clients` as before."""

    clients: QuerySet[Client]
    applied: list[AppliedFilter]
    run: ComputeRun | None
    sort: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    _base: QuerySet[Client] | None = None
    _conditions: Q = field(default_factory=Q)
    _analytics_scope: Q | None = None
    # The run's arrays and which of its clients meet the score filters (None: the
    # filters are not all the arrays' to evaluate; the database does the work).
    _arrays: ScoreArrays | None = None
    _keep: NDArray[np.bool_] | None = None

    @property
    def is_filtered(self) -> bool:
        return bool(self.applied)

    def page_ids(self, offset: int, limit: int) -> list[int]:
        """The ids of clients `offset` .. `offset + limit - 1` in the score sort: those
        with a value first (the value's order, then id), then the others by name. From
        the run's arrays (`_walked`): one query while the page holds valued clients and
        the list holds most of them, up to WALK_QUERIES when it holds few. Otherwise the
        database sorts: one query, or one per ABC-XYZ cell by CLV. One or two more
        where the page runs past the valued clients."""
        if not self.sort:
            raise ValueError("page_ids needs a score sort")
        name, descending = SORTS[self.sort]
        ids: list[int] = []
        keyed = self._keyed(name)
        walked = None if keyed is None else self._walked(name, descending, offset + limit)
        if walked is not None:
            ids = walked[offset : offset + limit]
        elif keyed is not None:
            order = F(name).desc() if descending else F(name).asc()
            tie = "-client_id" if descending else "client_id"
            cells = self._cells() if name == "clv" else None
            if cells is not None and len(cells) > 1:
                ids = self._merged(keyed, cells, descending, offset, limit)
            else:
                ids = list(
                    keyed.order_by(order, tie).values_list("client_id", flat=True)[
                        offset : offset + limit
                    ]
                )
        if len(ids) == limit:
            return ids
        if walked is not None:
            with_value = len(walked)  # short of the page: every valued client was seen
        elif keyed is None:
            with_value = 0
        elif ids or offset == 0:
            with_value = offset + len(ids)
        else:
            with_value = keyed.count()
        rest = self.clients
        if keyed is not None:
            has_value = Exists(
                ClientScore.objects.filter(
                    self._conditions,
                    run_id=self.run.pk if self.run else 0,
                    client_id=OuterRef("pk"),
                    **{f"{name}__isnull": False},
                )
            )
            hidden = self._analytics_scope
            rest = rest.exclude(has_value if hidden is None else hidden & has_value)
        start = max(0, offset - with_value)
        more = rest.order_by("name", "id").values_list("pk", flat=True)
        return ids + list(more[start : start + limit - len(ids)])

    def _walked(self, name: str, descending: bool, want: int) -> list[int] | None:
        """The first `want` valued clients of the list in the sort's order (all of them
        when fewer), from the run's arrays: the arrays give the order, the database
        which of those ids the list holds (the viewer's scope, the list's own filters),
        a chunk of ids a query, each chunk sized by the share held so far. None without
        arrays, or when finding them would take more than WALK_QUERIES queries or
        chunks of more than WALK_IDS ids (a list that holds few of the run's clients:
        a scoped viewer's deep page); the database sorts then."""
        if self._arrays is None or self._keep is None or self._base is None:
            return None
        base = self._base.order_by()
        if self._analytics_scope is not None:
            base = base.filter(self._analytics_scope)
        found: list[int] = []
        start = 0
        size = want + want // 8 + WALK_PAD
        for _query in range(WALK_QUERIES):
            if size > WALK_IDS:
                return None
            ranked = self._arrays.ranked(
                name, descending=descending, keep=self._keep, limit=start + size
            )
            chunk = ranked[start:].tolist()
            held = set(base.filter(ids_among(chunk)).values_list("pk", flat=True))
            found.extend(pk for pk in chunk if pk in held)
            start += len(chunk)
            if len(found) >= want or len(chunk) < size:  # short: no more valued ids
                return found
            share = len(found) / start
            more = math.ceil((want - len(found)) / share * 1.25) if share else start * 8
            size = more + WALK_PAD
        return None

    def _cells(self) -> list[tuple[int, int]] | None:
        """The ABC-XYZ cells the list may hold that have clients in the run (its stored
        matrix), when the filters leave more than one; None: no such matrix."""
        counts = (self.run.abc_xyz or {}).get("counts") if self.run else None
        if not counts:
            return None
        abc = self.values.get("abc", [0, 1, 2])
        xyz = self.values.get("xyz", [0, 1, 2])
        return [(a, x) for a in abc for x in xyz if counts[a][x]]

    def _merged(
        self,
        keyed: QuerySet[ClientScore],
        cells: list[tuple[int, int]],
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[int]:
        """A page by CLV over several ABC-XYZ cells: the first `offset + limit` of each
        cell in the order of the (run, abc, xyz, clv) index, merged. One indexed query a
        cell, instead of sorting every client of the run by CLV."""
        order = F("clv").desc() if descending else F("clv").asc()
        tie = "-client_id" if descending else "client_id"
        runs = [
            list(
                keyed.filter(abc=a, xyz=x)
                .order_by(order, tie)
                .values_list("clv", "client_id")[: offset + limit]
            )
            for a, x in cells
        ]
        merged = heapq.merge(*runs, reverse=descending)
        return [client_id for _clv, client_id in merged][offset : offset + limit]

    def _keyed(self, name: str) -> QuerySet[ClientScore] | None:
        """The current run's scores with a value of `name` of the clients in the list
        that the viewer may read the scores of."""
        if self.run is None or self._base is None:
            return None
        base = self._base
        if self._analytics_scope is not None:
            base = base.filter(self._analytics_scope)
        return ClientScore.objects.filter(
            self._conditions,
            run_id=self.run.pk,
            client_id__in=base.order_by().values("pk"),
            **{f"{name}__isnull": False},
        )

    def __len__(self) -> int:  # the API's paginator counts with count() first
        return self.count()

    def count(self) -> int:
        return self.clients.order_by().count()

    def __getitem__(self, page: slice) -> list[Client]:
        """Clients of a slice (the API's pagination): in the score sort when there is
        one, else `clients` sliced."""
        if not isinstance(page, slice):
            raise TypeError("slice only")
        start, stop = page.start or 0, page.stop
        if stop is None:
            raise TypeError("an open slice would read the whole list")
        if not self.sort:
            return list(self.clients[start:stop])
        ids = self.page_ids(start, stop - start)
        rank = {pk: i for i, pk in enumerate(ids)}
        return sorted(self.clients.filter(pk__in=ids), key=lambda c: rank[c.pk])


def scores_filter(
    queryset: QuerySet[Client], params: Mapping[str, Any], *, viewer: Any
) -> ScoredClients:
    """`queryset` (clients the viewer may see, with the list's own filters) filtered by
    the score parameters in `params` (a QueryDict or a dict of strings) against the
    current run. Raises ValidationFailed (fields keyed by parameter) for a bad value.
    Queries: one for the current run when a score parameter or sort is given, and one
    for the ids of the clients matching the score filters (see `_matching`)."""
    parsed, errors = _parse(params)
    sort = str(params.get("sort") or "")
    sort = sort if sort in SORTS else ""
    if errors:
        raise ValidationFailed(INVALID, fields=errors)
    applied = _applied(parsed)
    clients = queryset
    if parsed.get("source") is not None:
        channel = Lower(Trim("source"))
        clients = clients.alias(channel=channel).filter(channel=parsed["source"].lower())
    if parsed.get("bought") is not None:
        clients = clients.filter(_bought_in(parsed["bought"]))
    score_given = any(k in parsed for k in SCORE_PARAMS)
    if not score_given and not sort:
        return ScoredClients(clients=clients, applied=applied, run=None, values=parsed)
    # The current run without its reports (some 100 KB of JSON at 1M clients: 6 ms a page).
    run = runs_visible_to(viewer).filter(is_current=True).defer("reports").first()
    analytics_scope = _analytics_scope(viewer)
    conditions = _conditions(parsed)
    if "segment_before" in parsed:
        conditions &= _segment_before(run, parsed["segment_before"])
    base = clients
    arrays, keep = None, None
    if run is not None and analytics_scope != _NOBODY:
        arrays = score_arrays(run)
        keep = arrays.mask(conditions)
    if score_given:
        if run is None:
            clients = clients.none()
        else:
            if analytics_scope is not None:
                clients = clients.filter(analytics_scope)
            if conditions:
                matched = None if arrays is None or keep is None else arrays.client_id[keep]
                clients = clients.filter(_matching(run, conditions, matched))
            if "due_category" in parsed:
                clients = clients.filter(_due(run, parsed["due_category"]))
                base = base.filter(_due(run, parsed["due_category"]))
    return ScoredClients(
        clients=clients,
        applied=applied,
        run=run,
        sort=sort,
        values=parsed,
        _base=base,
        _conditions=conditions,
        _analytics_scope=analytics_scope,
        _arrays=arrays if keep is not None else None,
        _keep=keep,
    )


# Up to this many clients matching the score filters, the list is the clients with those
# ids; beyond, an EXISTS per client. With few matches, the EXISTS would make PostgreSQL
# walk every client by name probing scores (1.2 s at 1M clients for 25 matches); with
# many, it finds a page of them after a few thousand clients.
FEW_MATCHES = 5000
# A sort by a score asks the database which ids of the arrays' order the list holds in
# at most this many queries of at most this many ids each (see ScoredClients._walked).
WALK_QUERIES = 3
WALK_IDS = 15_000
WALK_PAD = 8  # ids asked for beyond what the share found so far predicts
# What record_filter gives a viewer who may read no client's scores.
_NOBODY = Q(pk__in=[])


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """`field = ANY(%s)` with the ids as one array parameter: Django compiles an `IN`
    of thousands of parameters slowly (65 ms for 10,000 ids against 30 ms this way)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*params, list(self.rhs)]


def ids_among(ids: list[int]) -> Q:
    """Clients whose id is in `ids`: one array parameter on PostgreSQL, `IN` elsewhere."""
    if ids and connection.vendor == "postgresql":
        return Q(_AnyOf(F("pk"), ids))
    return Q(pk__in=ids)


def _month_after(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _bought_in(first: dt.date) -> Exists:
    """The clients with a sale (a live order confirmed, shipped or paid) in the month."""
    return Exists(
        Order.objects.filter(
            client_id=OuterRef("pk"),
            status__in=SALE_STATUSES,
            ordered_on__gte=first,
            ordered_on__lt=_month_after(first),
        )
    )


def _matching(run: ComputeRun, conditions: Q, matched: NDArray[np.int64] | None = None) -> Q:
    """The clients whose scores in `run` meet `conditions`: their ids when there are at
    most FEW_MATCHES, else an EXISTS on the scores' primary key. `matched`: those ids
    from the run's arrays; without them, one query that stops after FEW_MATCHES + 1
    rows (reading the whole run when fewer match)."""
    scores = ClientScore.objects.filter(conditions, run_id=run.pk)
    if matched is not None:
        ids = matched[: FEW_MATCHES + 1].tolist()
    else:
        ids = list(scores.values_list("client_id", flat=True)[: FEW_MATCHES + 1])
    if len(ids) <= FEW_MATCHES:
        return ids_among(ids)
    return Q(Exists(scores.filter(client_id=OuterRef("pk"))))


def _segment_before(run: ComputeRun | None, segments: list[int]) -> Q:
    """Scores of clients whose RFM segment was one of `segments` in the run that `run`'s
    movement between segments is counted from (`parameters["moves"]["from_run"]`): an
    EXISTS on that run's scores by primary key. With `segment`, the clients behind one
    flow of the movement. Nobody when `run` has no previous run."""
    moves = (run.parameters or {}).get("moves") if run is not None else None
    previous = moves.get("from_run") if isinstance(moves, dict) else None
    if previous is None:
        return Q(client_id__in=[])
    return Q(
        Exists(
            ClientScore.objects.filter(
                run_id=previous, client_id=OuterRef("client_id"), segment__in=segments
            )
        )
    )


def _analytics_scope(viewer: Any) -> Q | None:
    """Which clients' scores the viewer may read, as a filter on clients (None: all
    the clients they see). The list is already within the clients area's scope."""
    if scope_for(viewer, Area.ANALYTICS, Action.READ) == Scope.ALL:
        return None
    return record_filter(viewer, Area.ANALYTICS, Action.READ)


def _due(run: ComputeRun, category_id: int) -> Q:
    """Clients whose category due first is `category_id` (the buying report's
    insights of the run), as one EXISTS on the insight's primary key."""
    return Q(
        Exists(
            ClientInsight.objects.filter(
                run_id=run.pk, client_id=OuterRef("pk"), due_category_id=category_id
            )
        )
    )


# --- parsing ----------------------------------------------------------------------


def _choices(
    params: Mapping[str, Any], name: str, codes: tuple[str, ...], errors: dict[str, list[str]]
) -> list[int] | None:
    raw = _raw(params, name)
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    lookup = {c.lower(): i for i, c in enumerate(codes)}
    bad = [v for v in values if v.lower() not in lookup]
    if bad or not values:
        errors[name] = [
            _("“%(value)s” is not a valid value of %(param)s; use one of: %(choices)s.")
            % {"value": ", ".join(bad) or raw, "param": name, "choices": ", ".join(codes)}
        ]
        return None
    return sorted({lookup[v.lower()] for v in values})


def _raw(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _number(
    params: Mapping[str, Any],
    name: str,
    errors: dict[str, list[str]],
    *,
    percent: bool = False,
) -> float | None:
    raw = _raw(params, name)
    if raw is None:
        return None
    try:
        value = float(raw.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (percent and not 0 <= value <= 100):
        message = (
            _("%(param)s must be a percentage from 0 to 100, not “%(value)s”.")
            if percent
            else _("%(param)s must be a number, not “%(value)s”.")
        )
        errors[name] = [message % {"param": name, "value": raw}]
        return None
    return value


def _date(params: Mapping[str, Any], name: str, errors: dict[str, list[str]]) -> dt.date | None:
    raw = _raw(params, name)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = [
            _("%(param)s must be a date as YYYY-MM-DD, not “%(value)s”.")
            % {"param": name, "value": raw}
        ]
        return None


def _month(params: Mapping[str, Any], name: str, errors: dict[str, list[str]]) -> dt.date | None:
    raw = _raw(params, name)
    if raw is None:
        return None
    try:
        year, month = raw.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(raw)
        return dt.date(int(year), int(month), 1)
    except ValueError:
        errors[name] = [
            _("%(param)s must be a month as YYYY-MM, not “%(value)s”.")
            % {"param": name, "value": raw}
        ]
        return None


def _range(parsed: dict[str, Any], low: str, high: str, errors: dict[str, list[str]]) -> None:
    a, b = parsed.get(low), parsed.get(high)
    if a is not None and b is not None and a > b:
        errors[high] = [_("%(high)s must not be less than %(low)s.") % {"high": high, "low": low}]


def _parse(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The parameters present, as values (segment/abc/xyz/stage: index lists), and the
    errors by parameter."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {
        "segment": _choices(params, "segment", tuple(str(s) for s in SEGMENTS), errors),
        "segment_before": _choices(
            params, "segment_before", tuple(str(s) for s in SEGMENTS), errors
        ),
        "abc": _choices(params, "abc", ABC, errors),
        "xyz": _choices(params, "xyz", XYZ, errors),
        "stage": _choices(params, "stage", STAGES, errors),
        "clv_min": _number(params, "clv_min", errors),
        "clv_max": _number(params, "clv_max", errors),
        "leave_min": _number(params, "leave_min", errors, percent=True),
        "leave_max": _number(params, "leave_max", errors, percent=True),
        "next_from": _date(params, "next_from", errors),
        "next_to": _date(params, "next_to", errors),
        "cohort": _month(params, "cohort", errors),
        "source": _raw(params, "source"),
        "bought": _month(params, "bought", errors),
    }
    due = _raw(params, "due_category")
    if due is not None:
        if due.isdigit():
            parsed["due_category"] = int(due)
        else:
            errors["due_category"] = [
                _("%(param)s must be the number of a product category, not “%(value)s”.")
                % {"param": "due_category", "value": due}
            ]
    _range(parsed, "clv_min", "clv_max", errors)
    _range(parsed, "leave_min", "leave_max", errors)
    _range(parsed, "next_from", "next_to", errors)
    return {k: v for k, v in parsed.items() if v is not None}, errors


def _conditions(parsed: dict[str, Any]) -> Q:
    """The filters on ClientScore's own columns."""
    q = Q()
    for name in ("segment", "abc", "xyz", "stage"):
        if name in parsed:
            values = parsed[name]
            q &= Q(**{name: values[0]}) if len(values) == 1 else Q(**{f"{name}__in": values})
    if "clv_min" in parsed:
        q &= Q(clv__gte=parsed["clv_min"])
    if "clv_max" in parsed:
        q &= Q(clv__lte=parsed["clv_max"])
    # Probability of leaving = 1 - P(alive), in percent.
    if "leave_min" in parsed:
        q &= Q(p_alive__lte=1 - parsed["leave_min"] / 100)
    if "leave_max" in parsed:
        q &= Q(p_alive__gte=1 - parsed["leave_max"] / 100)
    if "next_from" in parsed:
        q &= Q(next_purchase_on__gte=parsed["next_from"])
    if "next_to" in parsed:
        q &= Q(next_purchase_on__lte=parsed["next_to"])
    if "cohort" in parsed:
        first = parsed["cohort"]
        q &= Q(first_on__gte=first, first_on__lt=_month_after(first))
    return q


# --- chips ------------------------------------------------------------------------


def _codes(values: list[int], codes: tuple[str, ...]) -> str:
    return ", ".join(codes[v] for v in values)


def _span(low: str | None, high: str | None) -> str:
    if low is not None and high is not None:
        return _("%(low)s to %(high)s") % {"low": low, "high": high}
    if low is not None:
        return _("from %(low)s") % {"low": low}
    return _("up to %(high)s") % {"high": high}


def _applied(parsed: dict[str, Any]) -> list[AppliedFilter]:
    """The active filters as chips, in the order of the filter panel."""
    chips: list[AppliedFilter] = []

    def number(value: float | None, decimals: int = 0) -> str | None:
        if value is None:
            return None
        return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)

    def day(value: dt.date | None) -> str | None:
        return None if value is None else formats.date_format(value, "SHORT_DATE_FORMAT")

    if "segment" in parsed:
        labels = ", ".join(str(SEGMENT_LABELS[SEGMENTS[i]]) for i in parsed["segment"])
        chips.append(AppliedFilter(("segment",), _("RFM segment: %(value)s") % {"value": labels}))
    if "segment_before" in parsed:
        labels = ", ".join(str(SEGMENT_LABELS[SEGMENTS[i]]) for i in parsed["segment_before"])
        chips.append(
            AppliedFilter(
                ("segment_before",),
                _("RFM segment at the previous recompute: %(value)s") % {"value": labels},
            )
        )
    if "abc" in parsed and "xyz" in parsed:
        cells = ", ".join(ABC[a] + XYZ[x] for a in parsed["abc"] for x in parsed["xyz"])
        chips.append(AppliedFilter(("abc", "xyz"), _("ABC-XYZ: %(value)s") % {"value": cells}))
    elif "abc" in parsed:
        chips.append(
            AppliedFilter(("abc",), _("ABC: %(value)s") % {"value": _codes(parsed["abc"], ABC)})
        )
    elif "xyz" in parsed:
        chips.append(
            AppliedFilter(("xyz",), _("XYZ: %(value)s") % {"value": _codes(parsed["xyz"], XYZ)})
        )
    if "stage" in parsed:
        labels = ", ".join(str(STAGE_LABELS[STAGES[i]]) for i in parsed["stage"])
        chips.append(AppliedFilter(("stage",), _("Lifecycle stage: %(value)s") % {"value": labels}))
    if "clv_min" in parsed or "clv_max" in parsed:
        span = _span(number(parsed.get("clv_min")), number(parsed.get("clv_max")))
        chips.append(AppliedFilter(("clv_min", "clv_max"), _("CLV: %(value)s") % {"value": span}))
    if "leave_min" in parsed or "leave_max" in parsed:
        low, high = parsed.get("leave_min"), parsed.get("leave_max")
        span = _span(
            None if low is None else f"{number(low, 0 if low == int(low) else 1)}%",
            None if high is None else f"{number(high, 0 if high == int(high) else 1)}%",
        )
        chips.append(
            AppliedFilter(
                ("leave_min", "leave_max"),
                _("Probability of leaving: %(value)s") % {"value": span},
            )
        )
    if "next_from" in parsed or "next_to" in parsed:
        span = _span(day(parsed.get("next_from")), day(parsed.get("next_to")))
        chips.append(
            AppliedFilter(("next_from", "next_to"), _("Next purchase: %(value)s") % {"value": span})
        )
    if "cohort" in parsed:
        month = formats.date_format(parsed["cohort"], "YEAR_MONTH_FORMAT")
        chips.append(
            AppliedFilter(("cohort",), _("First purchase in %(month)s") % {"month": month})
        )
    if "bought" in parsed:
        month = formats.date_format(parsed["bought"], "YEAR_MONTH_FORMAT")
        chips.append(AppliedFilter(("bought",), _("Bought in %(month)s") % {"month": month}))
    if "source" in parsed:
        chips.append(
            AppliedFilter(("source",), _("Source: %(value)s") % {"value": parsed["source"]})
        )
    if "due_category" in parsed:
        chips.append(
            AppliedFilter(
                ("due_category",),
                _("Due to buy from category %(value)s")
                % {"value": _category_name(parsed["due_category"])},
            )
        )
    return chips


def _category_name(category_id: int) -> str:
    """The category's name for its chip (one small query), or its number."""
    name = ProductCategory.objects.filter(pk=category_id).values_list("name", flat=True).first()
    return str(name) if name else str(category_id)
