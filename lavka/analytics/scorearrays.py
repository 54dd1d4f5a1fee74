"""The current run's scores that the client list filters and sorts on, as NumPy arrays
kept in this process: what finds the clients of a score filter and the order of a
score sort without reading a million score rows per page (lavka.analytics.filters).

A run's scores never change once it is current (they are written, with the run made
current, in one transaction, and only ever deleted with the run), so the arrays of a
run stay true for as long as the process lives. A process keeps one run's arrays (the
last asked for): some 50 bytes a client, about 50 MB at a million clients. Loading them
is one binary COPY on PostgreSQL (about 0.8 s at a million clients, once per process and
run; elsewhere one query read in batches). A sort's order over the whole run is built
the first time that sort is asked for (an argsort, some 100 ms at a million) and kept.

`ScoreArrays.mask(conditions)` evaluates the score filters as `filters._conditions`
builds them (a Q of `field`, `field__in`, `__gte`, `__lte`, `__gt`, `__lt` on the
columns below, combined with AND); anything else gives None and the caller reads the
database instead.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Q
from numpy.typing import NDArray

from lavka.analytics.models import ClientScore, ComputeRun

_EPOCH = dt.date(1970, 1, 1)
# Columns as loaded: codes as small integers; floats and the next purchase day (days
# since 1970) as float64, NaN where the score is NULL, so that a comparison with NULL
# is false as in SQL; the first purchase day (never NULL) as days since 1970.
CODES = ("segment", "abc", "xyz", "stage")
FLOATS = ("p_alive", "clv", "revenue")
DAYS = ("next_purchase_on", "first_on")
COLUMNS = (*CODES, *FLOATS, *DAYS)

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "exact": operator.eq,
    "gte": operator.ge,
    "lte": operator.le,
    "gt": operator.gt,
    "lt": operator.lt,
}

# Below this share of the run, a filtered sort sorts its matches; above, it reads the
# run's whole order (kept once built) in that order.
_SORT_MATCHES_SHARE = 1 / 16


@dataclass(eq=False)
class ScoreArrays:
    """One run's list columns, aligned with `client_id` (ascending)."""

    run_id: int
    client_id: NDArray[np.int64]
    columns: dict[str, NDArray[Any]]
    _orders: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return int(self.client_id.size)

    def mask(self, conditions: Q) -> NDArray[np.bool_] | None:
        """Which clients of the run meet `conditions` (a Q on ClientScore's columns, as
        `filters._conditions` builds it); None when the Q holds anything these arrays
        cannot evaluate (a subquery, OR, NOT, another column or lookup)."""
        keep = np.ones(len(self), dtype=np.bool_)
        if not conditions.children:
            return keep
        if conditions.connector != Q.AND or conditions.negated:
            return None
        for child in conditions.children:
            if not isinstance(child, tuple) or len(child) != 2:
                return None
            lookup, value = child
            name, _, op = str(lookup).partition("__")
            column = self.columns.get(name)
            if column is None:
                return None
            if op == "in":
                wanted = [_number(name, v) for v in value]
                if any(w is None for w in wanted):
                    return None
                keep &= np.isin(column, np.asarray(wanted, dtype=column.dtype))
                continue
            compare = _OPERATORS.get(op or "exact")
            number = _number(name, value)
            if compare is None or number is None:
                return None
            keep &= compare(column, number)
        return keep

    def ranked(
        self,
        name: str,
        *,
        descending: bool,
        keep: NDArray[np.bool_],
        limit: int | None = None,
    ) -> NDArray[np.int64]:
        """The ids of the clients in `keep` with a value of `name`, by that value, ties by
        client id (both reversed when `descending`): the order of
        `ORDER BY name [DESC], client_id [DESC]` over the run's non-NULL values. With
        `limit`, the first `limit` of them only (fewer: that is all of them), read from
        the front of the run's kept order, so that the first page of a sort over most
        of the run costs what the page needs, not a pass over a million rows."""
        values = self.columns[name]
        valid = keep & ~np.isnan(values) if values.dtype.kind == "f" else keep
        matches = int(np.count_nonzero(valid))
        if matches < len(self) * _SORT_MATCHES_SHARE:
            rows = np.flatnonzero(valid)
            rows = rows[np.argsort(values[rows], kind="stable")]
            rows = rows[::-1] if descending else rows
            return self.client_id[rows if limit is None else rows[:limit]]
        order = self._order(name)
        order = order[::-1] if descending else order
        if limit is None or limit >= matches:
            return self.client_id[order[valid[order]]]
        parts: list[NDArray[np.int64]] = []
        found, start = 0, 0
        step = max(1024, math.ceil(limit * len(self) / matches * 1.25))
        while found < limit and start < order.size:
            part = order[start : start + step]
            part = part[valid[part]]
            parts.append(part)
            found += part.size
            start += step
            step *= 4
        return self.client_id[np.concatenate(parts)[:limit]]

    def _order(self, name: str) -> NDArray[np.int64]:
        """The rows by `name`, ties by client id (a stable sort of rows already by id);
        NaN last. Built once per process and run."""
        with self._lock:
            order = self._orders.get(name)
            if order is None:
                order = np.argsort(self.columns[name], kind="stable")
                self._orders[name] = order
            return order


def _number(name: str, value: Any) -> float | int | None:
    """A filter's value as the arrays hold it (a date as days since 1970)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return (value - _EPOCH).days if name in DAYS else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


# --- the arrays of this process -----------------------------------------------------

_kept: tuple[tuple[Any, ...], ScoreArrays] | None = None
_loading = threading.Lock()


def score_arrays(run: ComputeRun) -> ScoreArrays:
    """`run`'s arrays, loaded on first use in this process (see the module's note)."""
    global _kept
    key = (connection.alias, connection.settings_dict.get("NAME"), run.pk, run.started_at)
    kept = _kept
    if kept is not None and kept[0] == key:
        return kept[1]
    with _loading:
        kept = _kept
        if kept is not None and kept[0] == key:
            return kept[1]
        _kept = None  # let the previous run's arrays go before loading the next
        arrays = _load(run.pk)
        _kept = (key, arrays)
        return arrays


def score_arrays_forget() -> None:
    """Drop the arrays this process keeps (tests that rewrite a run's scores)."""
    global _kept
    with _loading:
        _kept = None


def _load(run_id: int) -> ScoreArrays:
    if connection.vendor == "postgresql":
        client_id, columns = _load_copy(run_id)
    else:
        client_id, columns = _load_rows(run_id)
    if client_id.size > 1 and not bool(np.all(client_id[1:] > client_id[:-1])):
        order = np.argsort(client_id, kind="stable")
        client_id = client_id[order]
        columns = {name: values[order] for name, values in columns.items()}
    return ScoreArrays(run_id=run_id, client_id=client_id, columns=columns)


_COPY_SQL = (
    "SELECT client_id, segment, abc, xyz, stage, COALESCE(p_alive, 'NaN'::float8), "
    "COALESCE(clv, 'NaN'::float8), revenue, "
    "COALESCE(next_purchase_on - DATE '1970-01-01', -2147483648), first_on - DATE '1970-01-01' "
    "FROM analytics_clientscore WHERE run_id = %s"
)
_ROW = np.dtype(
    [("fields", ">i2"), ("client_len", ">i4"), ("client_id", ">i8")]
    + [item for name in CODES for item in ((f"{name}_len", ">i4"), (name, ">i2"))]
    + [item for name in FLOATS for item in ((f"{name}_len", ">i4"), (name, ">f8"))]
    + [item for name in DAYS for item in ((f"{name}_len", ">i4"), (name, ">i4"))]
)
_HEADER = 19  # signature (11) + flags (4) + header extension length (4)
_PIECE = 16 << 20
_NO_DAY = -2147483648


def _load_copy(run_id: int) -> tuple[NDArray[np.int64], dict[str, NDArray[Any]]]:
    """One binary COPY of fixed-width rows (NULLs coalesced), turned into columns a
    piece at a time (the rows as received are twice the columns' size)."""
    statement = f"COPY ({_COPY_SQL}) TO STDOUT (FORMAT BINARY)"
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    pending = bytearray()
    parts: list[dict[str, NDArray[Any]]] = []
    header = True
    with raw.cursor() as cursor, cursor.copy(statement, [run_id]) as copy:
        while data := copy.read():
            pending += data
            if len(pending) >= _PIECE:
                parts.append(_columns(pending, header=header))
                header = False
    if pending.endswith(b"\xff\xff"):
        del pending[-2:]
    parts.append(_columns(pending, header=header))
    if pending:
        raise ValueError("unexpected COPY row shape")
    joined = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    return joined.pop("client_id"), joined


def _columns(pending: bytearray, *, header: bool) -> dict[str, NDArray[Any]]:
    """The columns of the whole rows at the front of `pending` (removed from it)."""
    start = _HEADER if header else 0
    whole = (len(pending) - start) // _ROW.itemsize * _ROW.itemsize
    rows = np.frombuffer(memoryview(pending)[start : start + whole], dtype=_ROW)
    if rows.size and not (rows["fields"] == 1 + len(COLUMNS)).all():
        raise ValueError("unexpected COPY row shape")
    columns: dict[str, NDArray[Any]] = {"client_id": rows["client_id"].astype(np.int64)}
    columns |= {name: rows[name].astype(np.int16) for name in CODES}
    columns |= {name: rows[name].astype(np.float64) for name in FLOATS}
    for name in DAYS:
        days = rows[name].astype(np.float64)
        days[rows[name] == _NO_DAY] = np.nan
        columns[name] = days
    del rows
    del pending[: start + whole]
    return columns


def _load_rows(run_id: int) -> tuple[NDArray[np.int64], dict[str, NDArray[Any]]]:
    """Other databases: one query read in batches (small bases)."""
    rows = list(
        ClientScore.objects.filter(run_id=run_id)
        .order_by("client_id")
        .values_list("client_id", *COLUMNS)
        .iterator(chunk_size=10_000)
    )
    client_id = np.array([r[0] for r in rows], dtype=np.int64)
    columns: dict[str, NDArray[Any]] = {}
    for i, name in enumerate(COLUMNS, start=1):
        if name in CODES:
            columns[name] = np.array([r[i] for r in rows], dtype=np.int16)
        elif name in FLOATS:
            columns[name] = np.array([np.nan if r[i] is None else r[i] for r in rows], np.float64)
        else:
            columns[name] = np.array(
                [np.nan if r[i] is None else (r[i] - _EPOCH).days for r in rows], np.float64
            )
    return client_id, columns
