"""Writing a run's scores in bulk: `COPY ... FROM STDIN (FORMAT BINARY)` on PostgreSQL,
`bulk_create` in batches on SQLite.

The binary COPY stream is built by NumPy. A row's width depends only on which of its
columns are NULL, so the rows are grouped by their NULL pattern (a handful: fitted or
not, spend known or not, a next purchase date or not) and each group is one structured
array with a fixed layout, written with a single `tobytes()`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection, transaction
from numpy.typing import NDArray

from lavka.analytics.compute import ClientResults, ProductResults
from lavka.analytics.loading import EPOCH_2000
from lavka.analytics.models import ClientScore, ComputeRun, ProductScore

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext

_SQLITE_BATCH = 2000
_COPY_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    values: NDArray[Any]
    kind: str  # "int2", "int4", "int8", "float8", "date" (days since 1970)
    null: NDArray[np.bool_] | None = None


_WIRE = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "date": ">i4"}


def _wire(column: Column) -> NDArray[Any]:
    if column.kind == "date":
        return (column.values.astype(np.int64) - EPOCH_2000).astype(">i4")
    if column.kind == "float8":
        return np.nan_to_num(column.values.astype(np.float64)).astype(">f8")
    return column.values.astype(_WIRE[column.kind])


def binary_copy_chunks(columns: list[Column], rows_per_chunk: int = _COPY_ROWS) -> Any:
    """Yield the bytes of a binary COPY stream of `columns` (header, rows, trailer)."""
    yield b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    n = columns[0].values.size if columns else 0
    wire = [_wire(c) for c in columns]
    pattern = np.zeros(n, dtype=np.int64)
    for j, column in enumerate(columns):
        if column.null is not None:
            pattern |= column.null.astype(np.int64) << j
    for code in np.unique(pattern).tolist():
        rows = np.flatnonzero(pattern == code)
        fields: list[tuple[str, str]] = [("n", ">i2")]
        for j, column in enumerate(columns):
            fields.append((f"l{j}", ">i4"))
            if not (code >> j) & 1:
                fields.append((f"v{j}", _WIRE[column.kind]))
        layout = np.dtype(fields)
        for start in range(0, rows.size, rows_per_chunk):
            part = rows[start : start + rows_per_chunk]
            block = np.empty(part.size, dtype=layout)
            block["n"] = len(columns)
            for j in range(len(columns)):
                if (code >> j) & 1:
                    block[f"l{j}"] = -1
                else:
                    block[f"l{j}"] = layout[f"v{j}"].itemsize
                    block[f"v{j}"] = wire[j][part]
            yield block.tobytes()
    yield b"\xff\xff"


def copy_columns(table: str, columns: list[Column]) -> None:
    names = ", ".join(connection.ops.quote_name(c.name) for c in columns)
    statement = f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN (FORMAT BINARY)"
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in binary_copy_chunks(columns):
            copy.write(chunk)


def _nan(values: NDArray[np.float64]) -> NDArray[np.bool_]:
    return np.isnan(values)


def client_columns(run: ComputeRun, results: ClientResults) -> list[Column]:
    n = len(results)
    return [
        Column("run_id", np.full(n, run.pk, dtype=np.int64), "int8"),
        Column("client_id", results.client_id, "int8"),
        Column("first_on", results.first_on, "date"),
        Column("last_on", results.last_on, "date"),
        Column("recency_days", results.recency_days, "int4"),
        Column("frequency", results.frequency, "int4"),
        Column("revenue", results.revenue, "float8"),
        Column("r", results.r, "int2"),
        Column("f", results.f, "int2"),
        Column("m", results.m, "int2"),
        Column("segment", results.segment, "int2"),
        Column("abc", results.abc, "int2"),
        Column("xyz", results.xyz, "int2"),
        Column("window_revenue", results.window_revenue, "float8"),
        Column("p_alive", results.p_alive, "float8", _nan(results.p_alive)),
        Column("expected_30", results.expected_30, "float8", _nan(results.expected_30)),
        Column("expected_90", results.expected_90, "float8", _nan(results.expected_90)),
        Column("expected_365", results.expected_365, "float8", _nan(results.expected_365)),
        Column("expected_spend", results.expected_spend, "float8", _nan(results.expected_spend)),
        Column("clv", results.clv, "float8", _nan(results.clv)),
        Column(
            "next_purchase_on",
            np.maximum(results.next_purchase_on, 0),
            "date",
            results.next_purchase_on < 0,
        ),
        Column("purchases_reason", results.purchases_reason, "int2"),
        Column("spend_reason", results.spend_reason, "int2"),
        Column("stage", results.stage, "int2"),
        Column("lifecycle_days", results.lifecycle_days, "int4"),
    ]


def product_columns(run: ComputeRun, results: ProductResults) -> list[Column]:
    n = len(results)
    return [
        Column("run_id", np.full(n, run.pk, dtype=np.int64), "int8"),
        Column("product_id", results.product_id, "int8"),
        Column("revenue", results.revenue, "float8"),
        Column("abc", results.abc, "int2"),
        Column("xyz", results.xyz, "int2"),
        Column("cv", results.cv, "float8", _nan(results.cv)),
    ]


def _python_value(column: Column, i: int) -> Any:
    if column.null is not None and column.null[i]:
        return None
    value = column.values[i]
    if column.kind == "date":
        return np.datetime64(int(value), "D").astype(object)
    if column.kind == "float8":
        return float(value)
    return int(value)


def bulk_create_columns(model: Any, columns: list[Column]) -> None:
    n = columns[0].values.size if columns else 0
    for start in range(0, n, _SQLITE_BATCH):
        stop = min(n, start + _SQLITE_BATCH)
        model.objects.bulk_create(
            [model(**{c.name: _python_value(c, i) for c in columns}) for i in range(start, stop)],
            batch_size=_SQLITE_BATCH,
        )


def _columns_write(model: Any, columns: list[Column]) -> None:
    if not columns[0].values.size:
        return
    if connection.vendor == "postgresql":
        copy_columns(model._meta.db_table, columns)
    else:
        bulk_create_columns(model, columns)


def client_scores_write_started(run: ComputeRun, clients: ClientResults) -> ScoresWriting:
    """Start writing every client's scores of `run`. On PostgreSQL, outside a
    transaction, a background thread writes them with its own connection in its own
    transaction (the database's work overlaps the caller's next steps) and commits:
    nobody reads the scores of a run before it has succeeded, and a run that fails
    has its scores deleted (`ScoresWriting.undo`). Otherwise they are written when
    `wait()` is called, in the caller's transaction."""
    columns = client_columns(run, clients)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return ScoresWriting(run, lambda: _columns_write(ClientScore, columns))

    def write() -> None:
        try:
            with transaction.atomic():
                _columns_write(ClientScore, columns)
        finally:
            connection.close()  # this thread's own connection

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scores-write")
    written = pool.submit(write)
    pool.shutdown(wait=False)
    # Waiting is taking the result: it raises what the write raised.
    return ScoresWriting(run, written.result, in_background=True)


@dataclass
class ScoresWriting:
    """A write of a run's client scores under way (`client_scores_write_started`)."""

    run: ComputeRun
    wait: Callable[[], None]
    in_background: bool = False

    def undo(self) -> None:
        """After a failure: wait for a background write to end and delete what it
        committed (nothing to do for a write in the caller's transaction)."""
        if not self.in_background:
            return
        with contextlib.suppress(Exception):
            self.wait()
        ClientScore.objects.filter(run_id=self.run.pk).delete()


def product_scores_write(run: ComputeRun, products: ProductResults) -> None:
    """Write every product's scores of `run` (in the caller's transaction)."""
    _columns_write(ProductScore, product_columns(run, products))


def segment_flows(*, previous_run_id: int, run_id: int) -> list[list[int]]:
    """[[segment before, segment now, clients], ...] for the clients scored in both
    runs: one GROUP BY over a join of the two runs' rows on the primary key."""
    table = connection.ops.quote_name(ClientScore._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.segment, c.segment, COUNT(*) FROM {table} c "  # noqa: S608 - the model's table
            f"JOIN {table} p ON p.client_id = c.client_id AND p.run_id = %s "
            "WHERE c.run_id = %s GROUP BY p.segment, c.segment ORDER BY 1, 2",
            [previous_run_id, run_id],
        )
        return [[int(a), int(b), int(n)] for a, b, n in cursor.fetchall()]


def moves_report(context: ReportContext) -> dict[str, Any] | None:
    """The "moves" report: clients per (segment before, segment now) against the run
    the recompute counted movement from (`parameters["moves"]["from_run"]`); None for
    a first run. A report rather than a step of the recompute: a join of two runs of a
    million rows each (1.5 s) that nothing in the scores depends on."""
    moves = (context.run.parameters or {}).get("moves")
    if not isinstance(moves, dict) or moves.get("from_run") is None:
        return None
    if connection.vendor == "postgresql":
        # The new run's rows have no statistics yet: without them the planner may join
        # two runs of a million rows by a nested loop (minutes).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(ClientScore._meta.db_table)}")
    return {"flows": segment_flows(previous_run_id=moves["from_run"], run_id=context.run.pk)}
