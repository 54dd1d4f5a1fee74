"""The touchpoints report (see `reports.py` and `engine/touch_effect.py`): per kind and
channel of touchpoint over the 12 months up to the as-of day, how often it was used,
how many clients it reached, and how often the same client bought (and how much) or
had a deal moved to another stage within 7, 14 and 30 days after it, against a
baseline: the same clients' purchase rate in random windows without a touch.

Stored as `ComputeRun.reports["touchpoints"]`:

    {"from": "2025-07-01", "to": "2026-06-30", "horizons": [7, 14, 30],
     "touches": n, "clients": n, "currency": "RUB", "moves": n,
     "rows": [{"kind": "call", "channel": "phone", "touches": n, "reach": n,
               "within": {"7": {"eligible": n, "purchased": n, "purchase_rate": 0..1,
                                "revenue": x, "moved": n, "move_rate": 0..1,
                                "either": n, "either_rate": 0..1,
                                "baseline_sampled": n, "baseline_rate": 0..1 | null,
                                "lift": x | null}, "14": {...}, "30": {...}}}, ...]}

Rates are over the *eligible* touches of a horizon: those at least N days old on the
as-of day (a younger touch has not had its N days yet). A stage move is a
`DealStageChange` with a previous stage (a deal's creation is not a move) of a live
deal of the same client. The day of a touch or a move is its date in the site's time
zone.

Touchpoints are read column-wise: on PostgreSQL as `COPY (query) TO STDOUT (FORMAT
BINARY)` of fixed-width rows (client, day, and the kind's index and `hashtext` of the
channel packed in one bigint) parsed by a NumPy dtype, while one GROUP BY over the same
rows names the (kind, channel) pair behind each number; with committed data the COPY
runs in a `psql` process (as `loading.load_orders` does: psycopg hands COPY data over
one row at a time) at the same time as the GROUP BY, else both in this session;
elsewhere `fetchmany`. The stage moves come the same way.

Both reports cover the whole base; `report_readable` (in `cohorts.py`) refuses a viewer
who sees only part of it with `WholeBaseOnly` rather than show totals over clients
hidden from them.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection
from django.db.models import Count, F, Func, IntegerField, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from lavka.analytics.cohorts import report_readable
from lavka.analytics.engine.touch_effect import HORIZONS, touch_effect
from lavka.analytics.loading import EPOCH_2000, psql_bind, psql_env
from lavka.analytics.models import ComputeRun
from lavka.clients.models import Touchpoint
from lavka.sales.models import DealStageChange

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext

WINDOW_DAYS = 365
_FETCH_ROWS = 50_000
_HEADER = 19  # COPY BINARY signature (11) + flags (4) + header extension length (4)
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("client_len", ">i4"),
        ("client", ">i8"),
        ("day_len", ">i4"),
        ("day", ">i4"),
        ("code_len", ">i4"),
        ("code", ">i8"),
    ]
)


@dataclass(frozen=True, slots=True)
class Rows:
    """One row per touch (or stage move): client id, day (days since 1970-01-01) and
    group (an index into `groups`, the (kind, channel) pairs; 0 for moves)."""

    client: NDArray[np.int64]
    day: NDArray[np.int64]
    group: NDArray[np.int64]
    groups: list[tuple[str, str]]
    method: str = ""

    def __len__(self) -> int:
        return int(self.client.size)


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first 00:00, the day after last 00:00) in the site's time zone."""
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min), zone)
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min), zone)
    return start, end


def touches_query(first: dt.date, last: dt.date) -> QuerySet[Any]:
    start, end = _bounds(first, last)
    return (
        Touchpoint.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .annotate(day=TruncDate("occurred_at"))
        .values_list("client_id", "day", "kind", "channel")
        .order_by()
    )


def moves_query(first: dt.date, last: dt.date) -> QuerySet[Any]:
    """Moves of live deals from one stage to another: (client id, day)."""
    start, end = _bounds(first, last)
    return (
        DealStageChange.objects.filter(
            from_stage__isnull=False,
            deal__deleted_at__isnull=True,
            changed_at__gte=start,
            changed_at__lt=end,
        )
        .annotate(day=TruncDate("changed_at"))
        .values_list("deal__client_id", "day")
        .order_by()
    )


def load_touches(first: dt.date, last: dt.date) -> Rows:
    """The touches from `first` to `last` (days in the site's time zone). On PostgreSQL
    each row comes as (client, day, kind index << 32 | hashtext(channel)) by COPY
    while one GROUP BY over the same rows names the (kind, channel) pairs behind
    those numbers; with committed data the COPY runs in a `psql` process at the same
    time as the GROUP BY, so the two scans overlap."""
    query = touches_query(first, last)
    if connection.vendor != "postgresql":
        return _fetch(query, with_group=True)
    kinds = list(Touchpoint.Kind.values)
    sql, params = query.query.sql_with_params()
    # ORM-built SQL, bound parameters.
    statement = (
        "SELECT t.c::int8, t.d::date, "  # noqa: S608
        "(COALESCE(array_position(%s::text[], t.k::text), 0)::int8 << 32) "
        "| (hashtext(t.ch)::int8 & 4294967295) "
        f"FROM ({sql}) AS t(c, d, k, ch)"
    )
    copying = _copy_start(statement, [kinds, *params])
    named = (
        query.values_list("kind", "channel")
        .annotate(h=Func(F("channel"), function="hashtext", output_field=IntegerField()))
        .annotate(n=Count("*"))
        .values_list("kind", "channel", "h")
        .order_by()
    )
    labels: dict[int, list[tuple[str, str]]] = {}
    for kind, channel, hashed in named:
        index = kinds.index(kind) + 1 if kind in kinds else 0
        labels.setdefault((index << 32) | (int(hashed) & 0xFFFFFFFF), []).append((kind, channel))
    loaded = _copy_finish(copying)
    if loaded is None:
        return _fetch(query, with_group=True)
    client, day, code, method = loaded
    codes = np.array(sorted(labels), dtype=np.int64)
    # Two channels with one hash (a 1 in 4 billion chance per pair) share a row.
    pairs = [
        found[0] if len(found) == 1 else (found[0][0], " / ".join(sorted(c for _, c in found)))
        for found in (labels[int(c)] for c in codes)
    ]
    if codes.size == 0:
        return Rows(client[:0], day[:0], code[:0], [], method)
    at = np.minimum(np.searchsorted(codes, code), codes.size - 1)
    keep = codes[at] == code  # a touch added between the two reads is left out
    return Rows(client[keep], day[keep], at[keep].astype(np.int64), pairs, method)


def load_moves(first: dt.date, last: dt.date) -> Rows:
    query = moves_query(first, last)
    if connection.vendor == "postgresql":
        sql, params = query.query.sql_with_params()
        statement = f"SELECT t.c::int8, t.d::date, 0::int8 FROM ({sql}) AS t(c, d)"  # noqa: S608
        loaded = _copy_finish(_copy_start(statement, list(params)))
        if loaded is not None:
            client, day, group, method = loaded
            return Rows(client, day, group, [], method)
    return _fetch(query, with_group=False)


# --- PostgreSQL ---------------------------------------------------------------------------


def _parse(
    data: bytes,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]] | None:
    body = data[_HEADER:]
    if body.endswith(b"\xff\xff"):
        body = body[:-2]
    if len(body) % _ROW.itemsize:
        return None
    rows = np.frombuffer(body, dtype=_ROW)
    if rows.size and not (
        (rows["fields"] == 3).all()
        and (rows["client_len"] == 8).all()
        and (rows["day_len"] == 4).all()
        and (rows["code_len"] == 8).all()
    ):
        return None
    return (
        rows["client"].astype(np.int64),
        rows["day"].astype(np.int64) + EPOCH_2000,
        rows["code"].astype(np.int64),
    )


@dataclass
class _Copying:
    statement: str
    params: list[Any]
    process: subprocess.Popen[bytes] | None


def _copy_start(statement: str, params: list[Any]) -> _Copying:
    """Start `COPY (statement) TO STDOUT (FORMAT BINARY)` of (int8, date, int8) rows in a
    `psql` process when the data is committed (other sessions see it) and `psql` is at
    hand; `_copy_finish` reads it (or runs it in this session)."""
    copy = f"COPY ({statement}) TO STDOUT (FORMAT BINARY)"
    process = None
    if not connection.in_atomic_block:
        found = psql_env()
        if found is not None:
            dsn, env = found
            command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn]
            command += ["-c", psql_bind(copy, params)]
            process = subprocess.Popen(  # noqa: S603 - fixed program (psql on PATH), no shell
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
    return _Copying(copy, params, process)


def _copy_finish(copying: _Copying) -> tuple[Any, Any, Any, str] | None:
    """The rows of a started COPY; None when a row is not of the fixed shape."""
    if copying.process is not None:
        out, _err = copying.process.communicate()
        if copying.process.returncode == 0:
            parsed = _parse(out)
            if parsed is not None:
                return (*parsed, "psql")
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    data = bytearray()
    with raw.cursor() as cursor, cursor.copy(copying.statement, copying.params) as stream:
        for chunk in stream:
            data += chunk
    parsed = _parse(bytes(data))
    return None if parsed is None else (*parsed, "copy")


# --- any database -------------------------------------------------------------------------


def _days(values: list[Any]) -> NDArray[np.int64]:
    return np.array([str(v)[:10] for v in values], dtype="datetime64[D]").astype(np.int64)


def _fetch(query: QuerySet[Any], *, with_group: bool) -> Rows:
    sql, params = query.query.sql_with_params()
    clients: list[NDArray[np.int64]] = []
    days: list[NDArray[np.int64]] = []
    groups: list[NDArray[np.int64]] = []
    codes: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(_FETCH_ROWS)
            if not rows:
                break
            columns = list(zip(*rows, strict=True))
            clients.append(np.array(columns[0], dtype=np.int64))
            days.append(_days(list(columns[1])))
            if with_group:
                groups.append(
                    np.array(
                        [
                            codes.setdefault((k, c or ""), len(codes))
                            for k, c in zip(columns[2], columns[3], strict=True)
                        ],
                        dtype=np.int64,
                    )
                )
            else:
                groups.append(np.zeros(len(rows), dtype=np.int64))

    def join(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return Rows(join(clients), join(days), join(groups), list(codes), "fetchmany")


# --- the report ---------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def report(context: ReportContext) -> dict[str, Any] | None:
    last = context.as_of
    first = last - dt.timedelta(days=WINDOW_DAYS - 1)
    touches = load_touches(first, last)
    moves = load_moves(first, last)
    as_of_day = int(np.datetime64(last, "D").astype(np.int64))
    effect = touch_effect(
        touches.client,
        touches.day,
        touches.group,
        len(touches.groups),
        order_client=context.orders.key,
        order_day=context.orders.day,
        order_amount=context.orders.amount,
        move_client=moves.client,
        move_day=moves.day,
        as_of_day=as_of_day,
        horizons=HORIZONS,
        seed=last.toordinal(),
    )
    rows: list[dict[str, Any]] = []
    for g, (kind, channel) in enumerate(touches.groups):
        within: dict[str, dict[str, Any]] = {}
        for h in effect.horizons:
            eligible = int(h.eligible[g])
            sampled = int(h.baseline_sampled[g])
            rate = _rate(int(h.purchased[g]), eligible)
            baseline = _rate(int(h.baseline_purchased[g]), sampled)
            within[str(h.days)] = {
                "eligible": eligible,
                "purchased": int(h.purchased[g]),
                "purchase_rate": rate,
                "revenue": round(float(h.revenue[g]), 2),
                "moved": int(h.moved[g]),
                "move_rate": _rate(int(h.moved[g]), eligible),
                "either": int(h.either[g]),
                "either_rate": _rate(int(h.either[g]), eligible),
                "baseline_sampled": sampled,
                "baseline_rate": baseline,
                "lift": round(rate / baseline, 3) if rate is not None and baseline else None,
            }
        row: dict[str, Any] = {
            "kind": kind,
            "channel": channel,
            "touches": int(effect.touches[g]),
            "reach": int(effect.reach[g]),
            "within": within,
        }
        rows.append(row)
    rows.sort(key=lambda r: (-r["touches"], r["kind"], r["channel"]))
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "horizons": list(HORIZONS),
        "touches": int(effect.touches.sum()),
        "clients": effect.total_reach,
        "moves": len(moves),
        "currency": context.run.currency,
        "read_by": {"touches": touches.method, "moves": moves.method},
        "rows": rows,
    }


# --- reading -----------------------------------------------------------------------------

SORTS = (
    "kind",
    "channel",
    "touches",
    "reach",
    "eligible",
    "purchase_rate",
    "baseline_rate",
    "lift",
    "revenue",
    "move_rate",
    "either_rate",
)


@dataclass(frozen=True, slots=True)
class TouchRow:
    kind: str
    kind_label: str
    channel: str
    channel_label: str
    touches: int
    reach: int
    eligible: int
    purchased: int
    purchase_rate: float | None
    revenue: float
    moved: int
    move_rate: float | None
    either: int
    either_rate: float | None
    baseline_sampled: int
    baseline_rate: float | None
    lift: float | None


@dataclass(frozen=True, slots=True)
class Touchpoints:
    as_of: dt.date
    first: dt.date
    currency: str
    within_days: int
    touches: int
    clients: int
    rows: list[TouchRow]


def touchpoints_read(
    *, viewer: Any, run: ComputeRun, within_days: int = 30, sort: str = "-touches"
) -> Touchpoints | None:
    """The touchpoint report of `run` for the horizon `within_days` (7, 14 or 30; any
    other value means 30), rows sorted by `sort` (a name of `SORTS`, "-" for
    descending; empty values last). None when the run has no touchpoint report.
    Raises as `cohorts.report_readable`."""
    stored = report_readable(viewer=viewer, run=run).get("touchpoints")
    if not isinstance(stored, dict) or "rows" not in stored:
        return None
    if within_days not in HORIZONS:
        within_days = 30
    kinds = dict(Touchpoint.Kind.choices)
    rows = []
    for row in stored["rows"]:
        figures = (row.get("within") or {}).get(str(within_days)) or {}
        rows.append(
            TouchRow(
                kind=row["kind"],
                kind_label=str(kinds.get(row["kind"], row["kind"])),
                channel=row["channel"],
                channel_label=row["channel"] or str(_("No channel")),
                touches=int(row["touches"]),
                reach=int(row["reach"]),
                eligible=int(figures.get("eligible") or 0),
                purchased=int(figures.get("purchased") or 0),
                purchase_rate=figures.get("purchase_rate"),
                revenue=float(figures.get("revenue") or 0.0),
                moved=int(figures.get("moved") or 0),
                move_rate=figures.get("move_rate"),
                either=int(figures.get("either") or 0),
                either_rate=figures.get("either_rate"),
                baseline_sampled=int(figures.get("baseline_sampled") or 0),
                baseline_rate=figures.get("baseline_rate"),
                lift=figures.get("lift"),
            )
        )
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in SORTS:
        field, descending = "touches", True
    attribute = {"kind": "kind_label", "channel": "channel_label"}.get(field, field)
    present = [r for r in rows if getattr(r, attribute) is not None]
    missing = [r for r in rows if getattr(r, attribute) is None]
    present.sort(key=lambda r: getattr(r, attribute), reverse=descending)
    return Touchpoints(
        as_of=run.as_of,
        first=dt.date.fromisoformat(stored["from"]),
        currency=str(stored.get("currency") or run.currency),
        within_days=within_days,
        touches=int(stored.get("touches") or 0),
        clients=int(stored.get("clients") or 0),
        rows=present + missing,
    )
