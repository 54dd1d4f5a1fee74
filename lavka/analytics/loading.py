"""Reading the purchase history column-wise into NumPy arrays, never as ORM objects.

The query is built by the ORM (so filters are parameters, not strings) and then
streamed: on PostgreSQL as `COPY (query) TO STDOUT (FORMAT BINARY)` whose rows, all of
one fixed width, are parsed by a NumPy structured dtype chunk by chunk; on SQLite by
`fetchmany` into arrays. Amounts come in their own currency and are converted here
(`convert_to_reporting`): the rates table is small, so each currency's orders are
matched to the latest rate on or before their date with one `searchsorted`.

The recompute reads every live sale of the whole base (not one viewer's share): the
models are fitted on the population, and the scores are scoped when they are read.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Case, F, FloatField, IntegerField, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, Ord, RPad, Substr
from numpy.typing import NDArray

from lavka.sales.models import ExchangeRate, Order, OrderLine
from lavka.sales.models.orders import SALE_STATUSES

EPOCH_2000 = 10957  # days from 1970-01-01 to 2000-01-01 (PostgreSQL's date zero)
_CHUNK_BYTES = 32 << 20
_PIPE_BYTES = 4 << 20
_PSQL_KEYS = {
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "options",
}
_FETCH_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class Columns:
    """One row per order (or order line): `key` (client or product id), `day` (days
    since 1970-01-01), `amount` (in `currency`, a 3-letter code packed into an int)."""

    key: NDArray[np.int64]
    day: NDArray[np.int64]
    amount: NDArray[np.float64]
    currency: NDArray[np.int32]
    method: str = ""  # how it was read: "psql xN", "copy" or "fetchmany"
    # Orders: each row's order id (to find the order of a line). Lines: the buying
    # client's id. None where not read.
    row_id: NDArray[np.int64] | None = None
    client: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.key.size)


def pack_currency(code: str) -> int:
    raw = code.upper().ljust(3)[:3].encode("ascii", "replace")
    return (raw[0] << 16) | (raw[1] << 8) | raw[2]


def unpack_currency(value: int) -> str:
    return bytes([(value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF]).decode("ascii").strip()


def orders_query(as_of: dt.date) -> QuerySet[Any]:
    """Live sales up to `as_of`: (client id, date, total, currency, order id)."""
    return (
        Order.objects.filter(status__in=SALE_STATUSES, ordered_on__lte=as_of)
        .annotate(
            amount_f=Cast("total", FloatField()),
            currency_3=RPad(F("currency"), 3, Value(" ")),
        )
        .values_list("client_id", "ordered_on", "amount_f", "currency_3", "id")
        .order_by()
    )


def lines_query() -> QuerySet[Any]:
    """Every order line that names a product: (order id, product id, amount). Which of
    them count (their order's status, date and currency) is decided by the orders read
    before (`load_lines`), so the database reads one table without a join."""
    return (
        OrderLine.objects.filter(product__isnull=False)
        .annotate(amount_f=Coalesce(Cast("amount", FloatField()), Value(0.0)))
        .values_list("order_id", "product_id", "amount_f")
        .order_by()
    )


def load(query: QuerySet[Any]) -> Columns:
    """The four columns of `query` (see `orders_query`) as arrays, in this session."""
    if connection.vendor == "postgresql":
        loaded = _load_copy_binary(query)
        if loaded is not None:
            return replace(loaded, method="copy")
    return replace(_load_fetchmany(query), method="fetchmany")


# --- PostgreSQL: COPY BINARY -------------------------------------------------------------


def _row_dtype(*, packed: bool) -> np.dtype[Any]:
    """An order row of the binary COPY: client, day, amount, currency, order id. The
    currency as its three letters (`orders_query`) or, `packed`, as one int4
    (`_sales_in_pages`)."""
    currency = (
        [("currency_len", ">i4"), ("currency", ">i4")]
        if packed
        else [("currency_len", ">i4"), ("c0", "u1"), ("c1", "u1"), ("c2", "u1")]
    )
    return np.dtype(
        [
            ("fields", ">i2"),
            ("key_len", ">i4"),
            ("key", ">i8"),
            ("day_len", ">i4"),
            ("day", ">i4"),
            ("amount_len", ">i4"),
            ("amount", ">f8"),
            *currency,
            ("id_len", ">i4"),
            ("id", ">i8"),
        ]
    )


_HEADER = 19  # signature (11) + flags (4) + header extension length (4)


def copy_statement(query: QuerySet[Any] | tuple[str, Any]) -> tuple[str, Any]:
    """COPY of an ORM query, or of a static SQL text with its parameters."""
    sql, params = query if isinstance(query, tuple) else query.query.sql_with_params()
    return f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params  # no values pasted in


def _load_copy_binary(query: QuerySet[Any]) -> Columns | None:
    """Through this session's connection (so inside its transaction). psycopg hands
    COPY data over one row at a time, about 1 us of Python per row; `_run_psql`
    streams it in megabytes. None when a row is not of the fixed shape (a NULL or a
    currency code that is not three ASCII letters)."""
    statement, params = copy_statement(query)
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    parser = _Parser(_row_dtype(packed=False))
    with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
        for chunk in copy:
            if not parser.feed(chunk):
                return None
    return parser.finish()


class _Parser:
    """Fixed-width binary COPY rows to columns, fed in arbitrary pieces. `parse` turns
    whole rows into a part (None when a row is not of the expected shape) and `join`
    the parts into the result."""

    def __init__(self, dtype: np.dtype[Any], *, parse: Any = None, join: Any = None) -> None:
        self.dtype = dtype
        self.parse = parse or (lambda data: _parse(data, dtype))
        self.join = join or _concat
        self.pending = bytearray()
        self.header_done = False
        self.parts: list[Any] = []
        self.ok = True

    def feed(self, chunk: Any) -> bool:
        self.pending += chunk
        if not self.header_done:
            if len(self.pending) < _HEADER:
                return True
            del self.pending[:_HEADER]
            self.header_done = True
        if len(self.pending) >= _CHUNK_BYTES:
            whole = (len(self.pending) // self.dtype.itemsize) * self.dtype.itemsize
            parsed = self.parse(bytes(self.pending[:whole]))
            del self.pending[:whole]
            if parsed is None:
                self.ok = False
                return False
            self.parts.append(parsed)
        return True

    def finish(self) -> Any:
        if not self.ok:
            return None
        tail = bytes(self.pending)
        if tail.endswith(b"\xff\xff"):
            tail = tail[:-2]
        if len(tail) % self.dtype.itemsize:
            return None
        parsed = self.parse(tail)
        if parsed is None:
            return None
        self.parts.append(parsed)
        return self.join(self.parts)


def _parse(data: bytes, dtype: np.dtype[Any]) -> Columns | None:
    """Order rows (`_row_dtype`) to columns; None when a row is not of that shape (a
    NULL, or a currency code that is not three letters / could not be packed)."""
    rows = np.frombuffer(data, dtype=dtype)
    packed = "c0" not in (dtype.names or ())
    if rows.size and not (
        (rows["fields"] == 5).all()
        and (rows["key_len"] == 8).all()
        and (rows["day_len"] == 4).all()
        and (rows["amount_len"] == 8).all()
        and (rows["currency_len"] == (4 if packed else 3)).all()
        and (not packed or (rows["currency"] >= 0).all())
        and (rows["id_len"] == 8).all()
    ):
        return None
    if packed:
        codes = rows["currency"].astype(np.int32)
    else:
        codes = (
            (rows["c0"].astype(np.int32) << 16)
            | (rows["c1"].astype(np.int32) << 8)
            | rows["c2"].astype(np.int32)
        )
    return Columns(
        key=rows["key"].astype(np.int64),
        day=rows["day"].astype(np.int64) + EPOCH_2000,
        amount=rows["amount"].astype(np.float64),
        currency=codes,
        row_id=rows["id"].astype(np.int64),
    )


def psql_env() -> tuple[str, dict[str, str]] | None:
    """The connection string (without the password) and environment for the `psql`
    client, from this session's own connection: the password goes in PGPASSWORD, never
    on a command line. None without `psql`."""
    if shutil.which("psql") is None:
        return None
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    info = raw.info
    env = {"PATH": os.environ.get("PATH", ""), "PGCONNECT_TIMEOUT": "10"}
    if info.password:
        env["PGPASSWORD"] = info.password
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    # Only the keys every libpq knows: the bundled libpq of psycopg may add options
    # (such as sslcertmode) that the system's older psql refuses.
    params = {k: v for k, v in conninfo_to_dict(info.dsn).items() if k in _PSQL_KEYS}
    return make_conninfo("", **params), env


def psql_bind(statement: str, params: Any) -> str:
    """The statement with its parameters bound by psycopg's client-side binding (the
    driver quotes them; nothing is pasted in by hand)."""
    import psycopg

    raw = connection.connection
    assert raw is not None
    return psycopg.ClientCursor(raw).mogrify(statement, params)


def _run_psql(queries: Sequence[tuple[QuerySet[Any] | tuple[str, Any], Any]]) -> list[Any] | None:
    """Run each query's COPY in its own `psql` process, all at once (the server works
    on them in parallel), each query's output fed to its parser (`feed(chunk) ->
    bool`, `finish() -> result | None`). Only for committed data: other sessions do
    not see this session's open transaction."""
    started = _psql_started(queries)
    return None if started is None else started()


def _psql_started(
    queries: Sequence[tuple[QuerySet[Any] | tuple[str, Any], Any]],
) -> Callable[[], list[Any] | None] | None:
    """Start `_run_psql`'s processes, each drained by its own thread; the function that
    waits for their results. None without `psql`."""
    found = psql_env()
    if found is None:
        return None
    dsn, env = found
    jobs = []
    for query, parser in queries:
        statement, params = copy_statement(query)
        command = [
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            dsn,
            "-c",
            psql_bind(statement, params),
        ]
        process = subprocess.Popen(  # noqa: S603 - fixed program, no shell
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        jobs.append((process, parser))

    def drain(job: tuple[subprocess.Popen[bytes], Any]) -> Any:
        process, parser = job
        assert process.stdout is not None
        ok = True
        while True:
            chunk = process.stdout.read(_PIPE_BYTES)
            if not chunk:
                break
            if ok:
                ok = parser.feed(chunk)
        if process.wait() != 0:
            return None
        return parser.finish() if ok else None

    pool = ThreadPoolExecutor(max_workers=len(jobs))
    futures = [pool.submit(drain, job) for job in jobs]
    pool.shutdown(wait=False)

    def results() -> list[Any] | None:
        done = [future.result() for future in futures]
        if any(r is None for r in done):
            return None
        return [r for r in done if r is not None]

    return results


def load_orders(as_of: dt.date, reporting: str, *, workers: int = 2) -> Columns:
    """The sales up to `as_of` (see `orders_query`). On PostgreSQL with committed data
    and `psql` at hand, in `workers` parallel COPYs over ranges of the table's pages
    (`_sales_in_pages`); otherwise one COPY (or `fetchmany` elsewhere)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        pages = _page_ranges(workers)
        packed = _row_dtype(packed=True)
        parts = _run_psql([(_sales_in_pages(as_of, reporting, p), _Parser(packed)) for p in pages])
        if parts is not None:
            return replace(_concat(parts), method=f"psql x{len(pages)}")
    return load(orders_query(as_of))


def load_lines_started(orders: Columns, *, workers: int = 1) -> Callable[[], Columns]:
    """Start reading the lines of `orders` (see `load_lines`) and return the function
    that waits for them. On PostgreSQL with committed data and `psql` at hand, by
    `workers` `psql` COPYs over ranges of the table's pages, run and parsed on
    background threads while the caller computes (the clients' scores need only the
    orders); otherwise, or when a row is not of the expected shape, in this session
    when the function is called."""
    started = None
    pages: list[tuple[int, int] | None] = []
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        pages = _page_ranges(workers, OrderLine._meta.db_table)
        started = _psql_started([(_in_pages(lines_query(), p), _lines_parser()) for p in pages])

    def finish() -> Columns:
        parts = started() if started is not None else None
        raw: _RawLines | None = None
        method = "fetchmany"
        if parts is not None:
            raw, method = _RawLines.join(parts), f"psql x{len(pages)}"
        elif connection.vendor == "postgresql":
            raw, method = _lines_copy(lines_query()), "copy"
        if raw is None:
            raw, method = _lines_fetchmany(lines_query()), "fetchmany"
        return replace(_lines_of(raw, orders), method=method)

    return finish


def load_lines(orders: Columns, *, workers: int = 2) -> Columns:
    """The lines of `orders` (as read by `load_orders`, with their ids) that name a
    product: key = product id, the order's day and currency, the line's amount, and
    `client` = the buying client. Lines are read without a join (see `lines_query`)
    and matched to their order here; how, see `load_lines_started`."""
    return load_lines_started(orders, workers=workers)()


@dataclass(frozen=True, slots=True)
class _RawLines:
    order_id: NDArray[np.int64]
    product_id: NDArray[np.int64]
    amount: NDArray[np.float64]

    @staticmethod
    def join(parts: list[_RawLines]) -> _RawLines:
        if not parts:
            zero = np.zeros(0, dtype=np.int64)
            return _RawLines(zero, zero, np.zeros(0, dtype=np.float64))
        return _RawLines(
            np.concatenate([p.order_id for p in parts]),
            np.concatenate([p.product_id for p in parts]),
            np.concatenate([p.amount for p in parts]),
        )


_LINE_DTYPE = np.dtype(
    [
        ("fields", ">i2"),
        ("order_len", ">i4"),
        ("order", ">i8"),
        ("product_len", ">i4"),
        ("product", ">i8"),
        ("amount_len", ">i4"),
        ("amount", ">f8"),
    ]
)


def _parse_lines(data: bytes) -> _RawLines | None:
    rows = np.frombuffer(data, dtype=_LINE_DTYPE)
    if rows.size and not (
        (rows["fields"] == 3).all()
        and (rows["order_len"] == 8).all()
        and (rows["product_len"] == 8).all()
        and (rows["amount_len"] == 8).all()
    ):
        return None
    return _RawLines(
        rows["order"].astype(np.int64),
        rows["product"].astype(np.int64),
        rows["amount"].astype(np.float64),
    )


def _lines_parser() -> _Parser:
    """Binary COPY rows of `lines_query` to `_RawLines`."""
    return _Parser(_LINE_DTYPE, parse=_parse_lines, join=_RawLines.join)


def _lines_copy(query: QuerySet[Any]) -> _RawLines | None:
    """COPY through this session's connection (inside its transaction)."""
    statement, params = copy_statement(query)
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    parser = _lines_parser()
    with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
        for chunk in copy:
            if not parser.feed(chunk):
                return None
    return parser.finish()


def _lines_fetchmany(query: QuerySet[Any]) -> _RawLines:
    sql, params = query.query.sql_with_params()
    parts: list[_RawLines] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(_FETCH_ROWS)
            if not rows:
                break
            orders, products, amounts = zip(*rows, strict=True)
            parts.append(
                _RawLines(
                    np.array(orders, dtype=np.int64),
                    np.array(products, dtype=np.int64),
                    np.array([0.0 if a is None else a for a in amounts], dtype=np.float64),
                )
            )
    return _RawLines.join(parts)


def _lines_of(raw: _RawLines, orders: Columns) -> Columns:
    """Each line's row in `orders` by its order id (a table indexed by id when ids are
    compact, else sort and search); lines of orders not read are dropped."""
    ids = orders.row_id
    if ids is None or ids.size == 0 or raw.order_id.size == 0:
        return replace(_empty(), row_id=None, client=np.zeros(0, dtype=np.int64))
    low, high = int(ids.min()), int(ids.max())
    wanted = raw.order_id
    rows = np.full(wanted.size, -1, dtype=np.int64)
    inside = (wanted >= low) & (wanted <= high)
    if high - low <= 8 * ids.size + 1_000_000:
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[ids - low] = np.arange(ids.size)
        rows[inside] = table[wanted[inside] - low]
    else:
        order = np.argsort(ids, kind="stable")
        at = np.minimum(np.searchsorted(ids[order], wanted), ids.size - 1)
        found = ids[order][at] == wanted
        rows[found] = order[at[found]]
    keep = rows >= 0
    row = rows[keep]
    return Columns(
        key=raw.product_id[keep],
        day=orders.day[row],
        amount=raw.amount[keep],
        currency=orders.currency[row],
        client=orders.key[row],
    )


def _sales_in_pages(as_of: dt.date, reporting: str, pages: tuple[int, int] | None) -> QuerySet[Any]:
    """`orders_query` over a range of the table's pages, the currency as a number
    (`pack_currency`): the reporting currency's given as a constant, so only the few
    orders in other currencies have theirs computed (-1 when it is not three capital
    ASCII letters: then the caller reads the slow way). One pass over the table for
    every currency."""
    code = pack_currency(reporting)
    letter = [Ord(Substr("currency", i, 1)) for i in (1, 2, 3)]
    packed = letter[0] * 65536 + letter[1] * 256 + letter[2]
    query = (
        Order.objects.filter(status__in=SALE_STATUSES, ordered_on__lte=as_of)
        .annotate(
            amount_f=Cast("total", FloatField()),
            currency_code=Case(
                When(currency=reporting.upper(), then=Value(code)),
                When(currency__regex=r"^[A-Z]{3}$", then=packed),
                default=Value(-1),
                output_field=IntegerField(),
            ),
        )
        .values_list("client_id", "ordered_on", "amount_f", "currency_code", "id")
        .order_by()
    )
    return _in_pages(query, pages)


def _in_pages(query: QuerySet[Any], pages: tuple[int, int] | None) -> QuerySet[Any]:
    if pages is not None:
        # A TID range scan (PostgreSQL 14+) reads only these pages of the table.
        query = query.extra(  # static SQL, bound parameters
            where=["ctid >= %s::tid", "ctid < %s::tid"],
            params=[f"({pages[0]},0)", f"({pages[1]},0)"],
        )
    return query


def _page_ranges(workers: int, table: str | None = None) -> list[tuple[int, int] | None]:
    if workers <= 1:
        return [None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(%s) / current_setting('block_size')::int",
            [table or Order._meta.db_table],
        )
        pages = int(cursor.fetchone()[0]) + 1
    step = pages // workers + 1
    bounds = [min(i * step, pages) for i in range(workers)] + [2**31 - 1]
    return [(bounds[i], bounds[i + 1]) for i in range(workers)]


def _concat(parts: list[Columns]) -> Columns:
    if not parts:
        return _empty()
    if len(parts) == 1:
        return parts[0]
    return Columns(
        key=np.concatenate([p.key for p in parts]),
        day=np.concatenate([p.day for p in parts]),
        amount=np.concatenate([p.amount for p in parts]),
        currency=np.concatenate([p.currency for p in parts]),
        row_id=_join_optional([p.row_id for p in parts]),
        client=_join_optional([p.client for p in parts]),
    )


def _join_optional(parts: list[NDArray[np.int64] | None]) -> NDArray[np.int64] | None:
    if any(p is None for p in parts):
        return None
    return np.concatenate([p for p in parts if p is not None])


def _empty() -> Columns:
    return Columns(
        key=np.zeros(0, dtype=np.int64),
        day=np.zeros(0, dtype=np.int64),
        amount=np.zeros(0, dtype=np.float64),
        currency=np.zeros(0, dtype=np.int32),
        row_id=np.zeros(0, dtype=np.int64),
    )


# --- any database: fetchmany -------------------------------------------------------------


def _day_array(values: list[Any]) -> NDArray[np.int64]:
    if values and isinstance(values[0], dt.date):
        return np.array(values, dtype="datetime64[D]").astype(np.int64)
    return np.array([str(v)[:10] for v in values], dtype="datetime64[D]").astype(np.int64)


def _load_fetchmany(query: QuerySet[Any]) -> Columns:
    sql, params = query.query.sql_with_params()
    parts: list[Columns] = []
    codes: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(_FETCH_ROWS)
            if not rows:
                break
            keys, days, amounts, currencies, ids = zip(*rows, strict=True)
            parts.append(
                Columns(
                    key=np.array(keys, dtype=np.int64),
                    day=_day_array(list(days)),
                    amount=np.array([0.0 if a is None else a for a in amounts], dtype=np.float64),
                    currency=np.array(
                        [codes.setdefault(c, pack_currency(c or "")) for c in currencies],
                        dtype=np.int32,
                    ),
                    row_id=np.array(ids, dtype=np.int64),
                )
            )
    return _concat(parts)


# --- currency ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Converted:
    """Rows converted to the reporting currency; rows of a currency without a rate on
    their date are dropped and counted per currency in `skipped`."""

    columns: Columns
    skipped: dict[str, int]


def convert_to_reporting(columns: Columns, reporting: str) -> Converted:
    target = pack_currency(reporting)
    foreign = columns.currency != target
    if not foreign.any():
        return Converted(columns, {})
    amount = columns.amount.copy()
    keep = np.ones(len(columns), dtype=bool)
    skipped: dict[str, int] = {}
    rates = list(
        ExchangeRate.objects.order_by("currency", "valid_on").values_list(
            "currency", "valid_on", "rate"
        )
    )
    by_currency: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
    for code in {c for c, _, _ in rates}:
        mine = [(d, r) for c, d, r in rates if c == code]
        by_currency[pack_currency(code)] = (
            np.array([d for d, _ in mine], dtype="datetime64[D]").astype(np.int64),
            np.array([float(r) for _, r in mine], dtype=np.float64),
        )
    for code in np.unique(columns.currency[foreign]).tolist():
        rows = np.flatnonzero(columns.currency == code)
        days_rates = by_currency.get(code)
        if days_rates is None:
            keep[rows] = False
            skipped[unpack_currency(code)] = int(rows.size)
            continue
        days, values = days_rates
        index = np.searchsorted(days, columns.day[rows], side="right") - 1
        missing = index < 0
        amount[rows[~missing]] *= values[index[~missing]]
        if missing.any():
            keep[rows[missing]] = False
            skipped[unpack_currency(code)] = int(missing.sum())
    if keep.all():
        converted = replace(
            columns, amount=amount, currency=np.full(len(columns), target, dtype=np.int32)
        )
    else:
        converted = replace(
            columns,
            key=columns.key[keep],
            day=columns.day[keep],
            amount=amount[keep],
            currency=np.full(int(keep.sum()), target, dtype=np.int32),
            row_id=None if columns.row_id is None else columns.row_id[keep],
            client=None if columns.client is None else columns.client[keep],
        )
    return Converted(converted, skipped)


# --- client attributes (reports) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientAttributes:
    """Every client not in the trash, by ascending id: owner, team and tier (-1 where
    there is none), the day the client was created (days since 1970-01-01) and the
    acquisition channel (`Client.source`) as an index into `sources` ("" is index 0)."""

    client_id: NDArray[np.int64]
    owner_id: NDArray[np.int64]
    team_id: NDArray[np.int64]
    tier_id: NDArray[np.int64]
    created_day: NDArray[np.int64]
    source: NDArray[np.int32]
    sources: list[str]

    def rows_of(self, client_ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Row of each of `client_ids` in these arrays, -1 for a client not here (in the
        trash since)."""
        if self.client_id.size == 0:
            return np.full(client_ids.size, -1, dtype=np.int64)
        at = np.searchsorted(self.client_id, client_ids)
        at = np.minimum(at, self.client_id.size - 1)
        return np.where(self.client_id[at] == client_ids, at, -1)


# Every live client with its acquisition channel as a number (the channels numbered in
# alphabetical order from 1), so that each row is of fixed width for binary COPY.
_ATTRIBUTES_SQL = """
SELECT c.id::int8, c.owner_id::int8, COALESCE(c.team_id, -1)::int8,
       COALESCE(c.tier_id, -1)::int8, (c.created_at AT TIME ZONE 'UTC')::date, s.code::int4
FROM clients_client c
JOIN (SELECT source, row_number() OVER (ORDER BY source) AS code
      FROM (SELECT DISTINCT btrim(source) AS source FROM clients_client
            WHERE deleted_at IS NULL) d) s ON s.source = btrim(c.source)
WHERE c.deleted_at IS NULL
"""
_SOURCES_SQL = (
    "SELECT DISTINCT btrim(source) AS source FROM clients_client "
    "WHERE deleted_at IS NULL ORDER BY 1"
)
_ATTRIBUTE_DTYPE = np.dtype(
    [("fields", ">i2")]
    + [
        item
        for name, kind in (
            ("id", ">i8"),
            ("owner", ">i8"),
            ("team", ">i8"),
            ("tier", ">i8"),
            ("created", ">i4"),
            ("source", ">i4"),
        )
        for item in ((f"{name}_len", ">i4"), (name, kind))
    ]
)


def _parse_attributes(data: bytes) -> dict[str, NDArray[Any]] | None:
    rows = np.frombuffer(data, dtype=_ATTRIBUTE_DTYPE)
    if rows.size and not (
        (rows["fields"] == 6).all()
        and all((rows[f"{n}_len"] == 8).all() for n in ("id", "owner", "team", "tier"))
        and (rows["created_len"] == 4).all()
        and (rows["source_len"] == 4).all()
    ):
        return None
    return {
        "id": rows["id"].astype(np.int64),
        "owner": rows["owner"].astype(np.int64),
        "team": rows["team"].astype(np.int64),
        "tier": rows["tier"].astype(np.int64),
        "created": rows["created"].astype(np.int64) + EPOCH_2000,
        "source": rows["source"].astype(np.int32),
    }


def _join_attributes(parts: list[dict[str, NDArray[Any]]]) -> dict[str, NDArray[Any]]:
    if not parts:
        return {
            k: np.zeros(0, dtype=np.int64) for k in ("id", "owner", "team", "tier", "created")
        } | {"source": np.zeros(0, dtype=np.int32)}
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _attributes_copy() -> ClientAttributes | None:
    """PostgreSQL: one binary COPY (a `psql` process when the data is committed, else
    this session's connection), the channels' names by a second small query."""
    with connection.cursor() as cursor:
        cursor.execute(_SOURCES_SQL)
        names = [row[0] or "" for row in cursor.fetchall()]
    parser = _Parser(_ATTRIBUTE_DTYPE, parse=_parse_attributes, join=_join_attributes)
    columns: dict[str, NDArray[Any]] | None = None
    if not connection.in_atomic_block:
        found = _run_psql([((_ATTRIBUTES_SQL, []), parser)])
        columns = found[0] if found else None
    if columns is None:
        parser = _Parser(_ATTRIBUTE_DTYPE, parse=_parse_attributes, join=_join_attributes)
        statement, params = copy_statement((_ATTRIBUTES_SQL, []))
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
            for chunk in copy:
                if not parser.feed(chunk):
                    return None
        columns = parser.finish()
        if columns is None:
            return None
    # Codes 1..k follow `names`; renumber so that "" is 0 and the rest follow from 1.
    sources = [""] + [n for n in names if n]
    index = {name: i for i, name in enumerate(sources)}
    remap = np.array([0] + [index[n] for n in names], dtype=np.int32)
    order = np.argsort(columns["id"], kind="stable")
    return ClientAttributes(
        client_id=columns["id"][order],
        owner_id=columns["owner"][order],
        team_id=columns["team"][order],
        tier_id=columns["tier"][order],
        created_day=columns["created"][order],
        source=remap[columns["source"][order]],
        sources=sources,
    )


def load_client_attributes() -> ClientAttributes:
    """Every live client's owner, team, tier, creation day and channel: on PostgreSQL
    by binary COPY (about a second per million), elsewhere by `fetchmany`."""
    if connection.vendor == "postgresql":
        loaded = _attributes_copy()
        if loaded is not None:
            return loaded
    return _attributes_fetchmany()


def _attributes_fetchmany() -> ClientAttributes:
    """One query over the clients, read with `fetchmany` (5-9 s per million)."""
    from lavka.clients.models import Client

    query = (
        Client.objects.filter(deleted_at__isnull=True)
        .values_list("id", "owner_id", "team_id", "tier_id", "created_at", "source")
        .order_by("id")
    )
    sql, params = query.query.sql_with_params()
    ids: list[NDArray[np.int64]] = []
    owners: list[NDArray[np.int64]] = []
    teams: list[NDArray[np.int64]] = []
    tiers: list[NDArray[np.int64]] = []
    created: list[NDArray[np.int64]] = []
    source_rows: list[NDArray[np.int32]] = []
    codes: dict[str, int] = {"": 0}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(_FETCH_ROWS)
            if not rows:
                break
            i, o, t, r, c, s = zip(*rows, strict=True)
            ids.append(np.array(i, dtype=np.int64))
            owners.append(np.array([-1 if v is None else v for v in o], dtype=np.int64))
            teams.append(np.array([-1 if v is None else v for v in t], dtype=np.int64))
            tiers.append(np.array([-1 if v is None else v for v in r], dtype=np.int64))
            created.append(
                np.array(
                    [str(v)[:10] if not isinstance(v, dt.datetime) else v.date() for v in c],
                    dtype="datetime64[D]",
                ).astype(np.int64)
            )
            source_rows.append(
                np.array([codes.setdefault((v or "").strip(), len(codes)) for v in s], np.int32)
            )

    def join(parts: list[Any], dtype: Any) -> Any:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return ClientAttributes(
        client_id=join(ids, np.int64),
        owner_id=join(owners, np.int64),
        team_id=join(teams, np.int64),
        tier_id=join(tiers, np.int64),
        created_day=join(created, np.int64),
        source=join(source_rows, np.int32),
        sources=list(codes),
    )
