"""The import's database hot path: multi-row inserts and key lookups written as plain
SQL, because building them through the ORM costs more than running them when a
million rows arrive (Django spends most of a `bulk_create` compiling SQL, and
psycopg most of a 2,000-value `IN (...)` splitting the statement).

Only `lavka.imports` uses this module; it writes rows the engine has already
validated and checked against the access policy."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, connection, models
from django.utils import timezone


def _sqlite_max_params(cursor: Any) -> int:
    """How many parameters to give one SQLite statement: the build's limit (32,766 by
    default since SQLite 3.32; builds differ), but no more than that default, which
    also keeps the statement's text well under SQLite's 1 MB limit."""
    import sqlite3

    raw = getattr(cursor.cursor, "connection", None)
    try:
        limit = int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # type: ignore[union-attr]
    except (AttributeError, sqlite3.Error):
        return 999
    return min(limit, 32_766)


class FastInsert:
    """Inserts rows of one model and returns their ids, in order. Columns a row does
    not give take the field's default (evaluated once per batch).

    PostgreSQL: ids from the table's sequence, then COPY. SQLite: ids counted on from
    the largest one in use (the caller's IMMEDIATE transaction holds the write lock,
    so nobody else can take them), then one multi-row INSERT ... SELECT ... FROM
    (VALUES ...) per batch (more only when the batch has more values than a statement
    may have parameters), with the columns every row leaves to its default given once.
    Few statements, because SQLite's full-text index writes its pending terms out at
    the end of every statement (row-by-row INSERTs cost five times as much). Plain
    parameters rather than one JSON parameter picked apart with json_extract: that
    parsed each row's JSON again for every column (SQLite 3.40 keeps no parse), 12
    us a row of 12 columns against 2-4 us bound (measured on this machine)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        now = timezone.now()
        self.names: list[str] = []
        self.defaults: list[Any] = []
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = now
            else:
                value = f.get_default()  # "" for text fields without a default
            self.names.append(f.attname)
            self.defaults.append(
                f.get_db_prep_save(value, connection) if value is not None else None
            )
        self.table = model._meta.db_table
        self.pk = model._meta.pk.column  # type: ignore[union-attr]

    def reserve(self, count: int) -> list[int]:
        """PostgreSQL: take `count` ids from the table's sequence now, for rows that
        `insert(rows, ids=...)` writes later, perhaps on another connection (a
        sequence hands out each number once, whatever becomes of the transaction)."""
        if connection.vendor != "postgresql":
            raise RuntimeError("FastInsert.reserve needs PostgreSQL's sequences.")
        if count <= 0:
            return []
        with connection.cursor() as cursor:
            return self._nextval(cursor, count)

    def insert(self, rows: list[dict[str, Any]], *, ids: list[int] | None = None) -> list[int]:
        """Insert rows ({attname: python value}); their ids, in order (`ids` when given:
        ids `reserve` took)."""
        if not rows:
            return []
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                return self._copy(cursor, rows, ids)
            if ids is not None:
                raise RuntimeError("Reserved ids need PostgreSQL's sequences.")
            if not connection.in_atomic_block:
                raise RuntimeError("FastInsert on SQLite needs the caller's transaction.")
            table = qn(self.table)
            cursor.execute(f"SELECT max(id) FROM {table}")  # noqa: S608 (a model's table)
            largest = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.table])
            sequence = cursor.fetchone()
            start = max(largest, sequence[0] if sequence else 0) + 1
            given = set().union(*rows)
            columns = list(zip(self.fields, self.defaults, strict=True))
            sent = [(f, d) for f, d in columns if f.attname in given]
            fixed = [(f, d) for f, d in columns if f.attname not in given]
            sent_names = [f.attname for f, _d in sent]
            sent_defaults = [d for _f, d in sent]
            width = len(sent) + 1
            names = ", ".join(qn(c) for c in [self.pk, *(f.column for f, _d in sent + fixed)])
            picks = ", ".join(f"column{i}" for i in range(1, width + 1))
            constants = "".join(", %s" for _f in fixed)
            one = "(" + ", ".join(["%s"] * width) + ")"
            per_statement = max(1, (_sqlite_max_params(cursor) - len(fixed)) // width)
            for first in range(0, len(rows), per_statement):
                chunk = rows[first : first + per_statement]
                params: list[Any] = [d for _f, d in fixed]
                for number, row in enumerate(chunk, start + first):
                    params.append(number)
                    params.extend(map(row.get, sent_names, sent_defaults))
                cursor.execute(
                    f"INSERT INTO {table} ({names}) "  # noqa: S608 (names from the model)
                    f"SELECT {picks}{constants} FROM (VALUES {', '.join([one] * len(chunk))})",
                    params,
                )
        return list(range(start, start + len(rows)))

    def _nextval(self, cursor: Any, count: int) -> list[int]:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.pk])
        sequence = cursor.fetchone()[0]
        # Named once: pg_get_serial_sequence per row costs ten times the nextval.
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [r[0] for r in cursor.fetchall()]

    def _copy(self, cursor: Any, rows: list[dict[str, Any]], ids: list[int] | None) -> list[int]:
        qn = connection.ops.quote_name
        if ids is None:
            ids = self._nextval(cursor, len(rows))
        elif len(ids) != len(rows):
            raise ValueError("One reserved id per row.")
        columns = ", ".join(qn(c) for c in [self.pk, *(f.column for f in self.fields)])
        names, defaults = self.names, self.defaults
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {qn(self.table)} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *map(row.get, names, defaults)))
        return ids


Deferred = list[tuple[type[models.Model], list[dict[str, Any]], list[int] | None]]


class Inserts:
    """Where an import's new rows go: straight into the database, in the caller's
    transaction; or, once `defer()` was called (PostgreSQL), into a list that a writer
    thread inserts later in the batch's own transaction (`inserts_write`), with the ids
    the caller needs taken from the sequences now."""

    def __init__(self) -> None:
        self.deferred: Deferred | None = None

    def defer(self) -> None:
        self.deferred = []

    def add(
        self, model: type[models.Model], rows: list[dict[str, Any]], *, ids: bool = False
    ) -> list[int]:
        """Insert (or queue) rows of `model`; with `ids`, their ids in order."""
        if not rows:
            return []
        if self.deferred is None:
            return FastInsert(model).insert(rows)
        reserved = FastInsert(model).reserve(len(rows)) if ids else None
        self.deferred.append((model, rows, reserved))
        return reserved or []

    def take(self) -> Deferred:
        """The rows queued so far, in the order they were added (the queue empties)."""
        taken = self.deferred or []
        if self.deferred is not None:
            self.deferred = []
        return taken


def inserts_write(deferred: Deferred) -> None:
    """Insert what `Inserts.take` gave, in the caller's transaction."""
    for model, rows, ids in deferred:
        FastInsert(model).insert(rows, ids=ids)


# The partial indexes of the client's keys (see Client.Meta).
KEY_INDEXES = {
    "external_id": "client_external_id_unique",
    "email": "client_email_idx",
    "inn": "client_inn_idx",
    "phone": "client_phone_idx",
}


def values_in(column: str, values: Collection[str]) -> tuple[str, list[Any]]:
    """An SQL condition "`column` is one of `values`" with its parameters: one array
    parameter on PostgreSQL, a list of them on SQLite."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def clients_with(
    column: str, values: Collection[str], *, extra: str = "", live_only: bool = False
) -> list[tuple[Any, ...]]:
    """(id, `column`, deleted_at, *`extra` columns) of the clients whose `column` is one
    of `values`, newest first. Written so that both databases use the column's partial
    index (`column` <> '', and for the external id also deleted_at IS NULL) rather
    than scanning every live client through the deleted_at index, which made each
    batch slower the bigger the table; callers skip trashed clients themselves."""
    if not values:
        return []
    condition, params = values_in(column, values)
    live = " AND deleted_at IS NULL" if live_only else ""
    # SQLite without statistics guesses that "deleted_at IS NULL" finds ten rows and
    # would walk the deleted_at index (every live client) instead: name the index.
    indexed = f" INDEXED BY {KEY_INDEXES[column]}" if connection.vendor == "sqlite" else ""
    sql = (
        f"SELECT id, {column}, deleted_at{extra} FROM clients_client{indexed} "  # noqa: S608
        f"WHERE NOT ({column} = ''){live} AND {condition} ORDER BY id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


SQLITE_IMPORT_CACHE_KIB = 131072


def import_connection_setup(*, checkpoints: bool = True) -> None:
    """Settings for an import on this thread's connection, kept until it closes (a
    writer thread's). SQLite: a page cache of 128 MB instead of 2 MB, so the indexes
    of a table of a million clients stay in memory rather than being read back from
    the file for every batch; without `checkpoints`, commits leave copying the
    write-ahead log into the database to `sqlite_checkpoint` on another thread."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
            if not checkpoints:
                cursor.execute("PRAGMA wal_autocheckpoint = 0")


def sqlite_checkpoint() -> None:
    """SQLite: copy what the write-ahead log holds into the database file, without
    waiting for readers or the writer (PASSIVE)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def import_session() -> Iterator[None]:
    """`import_connection_setup` on this thread's connection for the length of an
    import; the previous settings come back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
    import_connection_setup()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def batch_commit_settings() -> None:
    """Inside a batch's transaction. PostgreSQL: do not wait for the commit to reach the
    disk. A crash may then lose the last batches that were reported committed, but
    only whole: each batch's checkpoint is in the same transaction, so a resumed run
    imports them again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


class PlannerStatistics:
    """PostgreSQL plans each batch's key lookups from the table's statistics, which
    autovacuum refreshes only about once a minute. While an import grows the client
    table from nothing to a million rows, the planner would keep planning for a small
    table (scanning it whole, or through the deleted_at index, for every batch), so
    each batch would be slower than the last. `rows_added` ANALYZEs the columns the
    lookups filter on each time the table has about doubled, a handful of times per
    million rows. A database user that may not ANALYZE only loses the speed."""

    COLUMNS = "external_id, email, inn, phone, deleted_at"
    FIRST = 20_000

    def __init__(self) -> None:
        self.base: float | None = None
        self.added = 0

    def rows_added(self, count: int) -> None:
        if connection.vendor != "postgresql" or count <= 0 or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            if self.base is None:
                cursor.execute(
                    "SELECT reltuples FROM pg_class WHERE oid = 'clients_client'::regclass"
                )
                self.base = max(float(cursor.fetchone()[0]), 0.0)
            self.added += count
            if self.added < max(self.base, self.FIRST):
                return
            try:
                cursor.execute(f"ANALYZE clients_client ({self.COLUMNS})")
            except DatabaseError:
                self.base = float("inf")  # not allowed: do not try again
                return
        self.base += self.added
        self.added = 0
