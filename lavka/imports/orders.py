"""The order import engine: the purchase history from an accounting system's export
(client, date, product, quantity, amount; optionally order number, unit price,
currency, status, client keys, product code, category).

Two phases, each safe to interrupt:

1. *Staging.* The file is read in batches (`BATCH_SIZE` lines). Each row is cleaned
   (a bad row is rejected with its row, column and reason), in forked reading
   processes on the command line, which also parse a CSV file's lines as long as they
   hold no quotes (from the first that does, the command's process parses them). Its
   client is found by external id, INN or email (or name when the file has no key),
   or created; its product by code, else by name, or created (in the mapped category).
   The cleaned lines go to `OrderImportLine` (one COPY per batch on PostgreSQL, one
   executemany on SQLite). Each batch is one transaction with its new clients and
   products, its row errors and the run's `committed_row` checkpoint: a crash loses no
   more than the batch in flight, and a resumed run starts after the last committed
   one.
2. *Orders.* Once every row is staged, one transaction groups the staged lines into
   orders, set-based in SQL: by order number within its year (accounting systems such
   as 1C number documents anew each year), or without one by (client, date). An
   order is found by (source, external id); one whose lines and header are the same
   as in the file is left alone, one that differs gets the file's header and lines,
   a new one is inserted with its lines and its total summed in SQL. The foreign keys
   stay in place (readers are never locked out); from `SET_CHECK_ORDERS` orders on, a
   superuser checks them set-based (`_key_checks_pause`). The staged lines are
   deleted, the run is marked done, and one audit event and one outbox event
   ("orders.imported") are recorded, all in that transaction.

A dry run does phase 1 without writing anything (new clients and products get
provisional ids) and counts the orders the file holds; it writes only the run's
counts and row errors.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from hashlib import sha1
from types import SimpleNamespace
from typing import Any, NamedTuple

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.clients import identifiers
from lavka.clients.models import Client, ContactPoint, Tier, TierChange
from lavka.clients.permissions import can_create_client
from lavka.clients.selectors.core import clients_visible_to
from lavka.clients.services.core import search_text_for
from lavka.identity.access import Action as AccessAction
from lavka.identity.access import (
    Area,
    Capability,
    Scope,
    can_access,
    has_capability,
    scope_for,
)
from lavka.imports.cleaning import RowProblem
from lavka.imports.engine import error_report_write, problem_rows, run_path, run_table
from lavka.imports.models import ImportRowError, ImportRun, OrderImportLine
from lavka.imports.orders_fields import ORDER_IMPORTED_FIELDS
from lavka.imports.pipeline import OrderedWriter
from lavka.imports.readers import ROUND_TRIP_MARK, FileProblem, _describe_csv_error
from lavka.imports.writing import (
    Deferred,
    Inserts,
    PlannerStatistics,
    batch_commit_settings,
    clients_with,
    import_session,
    inserts_write,
)
from lavka.sales.models import Order, OrderLine, Product, ProductCategory
from lavka.sales.selectors.catalogue import reporting_currency

BATCH_SIZE = 50_000
SOURCE = "import"
ORDER_COUNT_KEYS = (
    "lines",
    "orders_created",
    "orders_updated",
    "orders_unchanged",
    "clients_created",
    "products_created",
    "rejected",
)
DRY_RUN_COUNT_KEYS = ("lines", "orders", "clients_created", "products_created", "rejected")
QUANTITY_LIMIT = Decimal("1e11")
MONEY_LIMIT = Decimal("1e15")
CENT = Decimal("0.01")
MILLI = Decimal("0.001")

STATUS_WORDS: dict[str, str] = {
    "draft": Order.Status.DRAFT,
    "черновик": Order.Status.DRAFT,
    "новый": Order.Status.DRAFT,
    "confirmed": Order.Status.CONFIRMED,
    "подтвержден": Order.Status.CONFIRMED,
    "подтверждён": Order.Status.CONFIRMED,
    "проведен": Order.Status.CONFIRMED,
    "проведён": Order.Status.CONFIRMED,
    "в работе": Order.Status.CONFIRMED,
    "shipped": Order.Status.SHIPPED,
    "отгружен": Order.Status.SHIPPED,
    "отгружено": Order.Status.SHIPPED,
    "доставлен": Order.Status.SHIPPED,
    "paid": Order.Status.PAID,
    "оплачен": Order.Status.PAID,
    "оплачено": Order.Status.PAID,
    "закрыт": Order.Status.PAID,
    "cancelled": Order.Status.CANCELLED,
    "canceled": Order.Status.CANCELLED,
    "отменен": Order.Status.CANCELLED,
    "отменён": Order.Status.CANCELLED,
    "отмена": Order.Status.CANCELLED,
}
STATUS_WORDS = {word: str(status) for word, status in STATUS_WORDS.items()}  # plain text
STATUS_VALUES = frozenset(Order.Status.values)
CONFIRMED = str(Order.Status.CONFIRMED.value)
CURRENCY_WORDS = {
    "руб": "RUB",
    "руб.": "RUB",
    "р": "RUB",
    "р.": "RUB",
    "₽": "RUB",
    "rur": "RUB",
    "рубль": "RUB",
    "$": "USD",
    "€": "EUR",
}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y", "%Y.%m.%d", "%d-%m-%Y")


def order_column_fields(run: ImportRun) -> dict[int, str]:
    """Column index -> order field, keeping only fields this engine imports."""
    return {
        int(index): name
        for index, name in (run.mapping or {}).items()
        if name in ORDER_IMPORTED_FIELDS
    }


def mapping_problems(fields: set[str]) -> list[str]:
    """What a mapping lacks for an order import: a date, a client, a product, an amount
    or a price."""
    problems = []
    if "ordered_on" not in fields:
        problems.append(_("Map a column to the order date."))
    if not fields & {"client_name", "client_external_id", "client_inn", "client_email"}:
        problems.append(_("Map a column to the client (name, external ID, INN or email)."))
    if not fields & {"product_code", "product_name"}:
        problems.append(_("Map a column to the product (code or name)."))
    if not fields & {"amount", "unit_price"}:
        problems.append(_("Map a column to the amount or the unit price."))
    return problems


# --- cleaning one row -----------------------------------------------------------------

ONE = Decimal(1)
_PLAIN = re.compile(r"(\d+)(?:\.(\d*))?\Z")


def _number_parse(text: str, name: str) -> Decimal | str:
    """`text` as a quantity (> 0, at most 3 decimals) or an amount of money (>= 0, 2
    decimals), rounded half up; or the reason it is not one."""
    plain = _SPACES.sub("", text).replace(",", ".")
    quantity = name == "quantity"
    match = _PLAIN.match(plain)
    if match is None:
        if _NUMBER.match(plain) and plain.startswith("-"):
            return (
                _("Enter a number greater than zero.")
                if quantity
                else _("Enter a number from 0 up to %(max)s.") % {"max": f"{int(MONEY_LIMIT):,}"}
            )
        return _("Enter a number.")
    try:
        value = Decimal(plain)
    except InvalidOperation:  # pragma: no cover (the pattern admits only numbers)
        return _("Enter a number.")
    places = MILLI if quantity else CENT
    if match.group(2) and len(match.group(2)) > (3 if quantity else 2):
        value = value.quantize(places)
    if quantity and (value == 0 or value >= QUANTITY_LIMIT):
        return _("Enter a number greater than zero and below %(max)s.") % {
            "max": f"{int(QUANTITY_LIMIT):,}"
        }
    if not quantity and value >= MONEY_LIMIT:
        return _("Enter a number from 0 up to %(max)s.") % {"max": f"{int(MONEY_LIMIT):,}"}
    return value


def _too_long(number: int, column: str, value: str, limit: int) -> RowProblem:
    return RowProblem(
        number, column, value[:500], _("At most %(max)s characters.") % {"max": limit}
    )


class Line(NamedTuple):
    """A cleaned row, before its client and product are known (a tuple, so that
    worker processes hand it back cheaply). What the staging table needs beyond the
    client, the product and the order key is already written out as COPY text."""

    row: int
    number: str
    ordered_on: str  # ISO date
    client_ext: str
    client_inn: str
    client_email: str
    client_name: str
    product_code: str
    product_name: str
    category: str
    # The order's external id when the row has a number: the number within its year
    # (accounting systems such as 1C number documents anew each year), COPY-escaped;
    # "" when the order is the client's on that day (known once the client is).
    key: str
    # `STAGE_LINE_COLUMNS` in COPY's text format.
    copy: str


class RowReader:
    """Turns a file row into a `Line` or the list of its problems. No database.

    Written for speed (it runs once per line of files with millions of them): cells
    are picked by precomputed index, and dates, numbers and keys that repeat are
    converted once (bounded caches)."""

    def __init__(self, header: list[str], fields: dict[int, str], default_currency: str) -> None:
        self.index = {name: i for i, name in fields.items()}
        # Each field's column name for the report ("" when not mapped).
        self.columns = dict.fromkeys(ORDER_IMPORTED_FIELDS, "")
        self.columns.update(
            {name: header[i] if i < len(header) else str(i + 1) for i, name in fields.items()}
        )
        self.width = max(fields, default=-1) + 1
        # Each field's cell index; -1 (the blank cell `read` appends) when not mapped.
        self.at = {name: self.index.get(name, -1) for name in ORDER_IMPORTED_FIELDS}
        self.default_currency = default_currency
        self.has_number = "number" in self.index
        self.dates: dict[str, str | None] = {}  # as typed -> ISO date
        self.inns: dict[str, str | RowProblemReason] = {}
        self.emails: dict[str, str | RowProblemReason] = {}
        self.numbers: dict[tuple[str, str], Decimal | str] = {}

    def _date(self, text: str) -> str | None:
        found = self.dates.get(text, ...)
        if found is not ...:
            return found  # type: ignore[return-value]
        value = None
        head = text.replace("T", " ").split(" ")[0]
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(head, fmt).date()  # noqa: DTZ007 (a date)
            except ValueError:
                continue
            if 1900 <= parsed.year <= 2100:
                value = parsed.isoformat()
            break
        if len(self.dates) < 100_000:
            self.dates[text] = value
        return value

    def _decimal(
        self, text: str, name: str, number: int, problems: list[RowProblem]
    ) -> Decimal | None:
        """A quantity (> 0, 3 decimals) or money (>= 0, 2 decimals); None and a problem
        when the cell is not such a number."""
        key = (name, text)
        found = self.numbers.get(key)
        if found is None:
            found = _number_parse(text, name)
            if len(self.numbers) < 200_000:
                self.numbers[key] = found
        if isinstance(found, str):
            problems.append(RowProblem(number, self.columns[name], text[:500], found))
            return None
        return found

    def read(self, number: int, cells: list[str]) -> Line | list[RowProblem]:
        problems: list[RowProblem] = []
        columns = self.columns
        at = self.at
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        cells.append("")  # what an unmapped field reads
        text = cells[at["ordered_on"]].strip()
        ordered_on = self._date(text) if text else None
        if ordered_on is None:
            problems.append(
                RowProblem(
                    number,
                    columns["ordered_on"],
                    text[:500],
                    _("Enter a date such as 31.12.2025 or 2025-12-31.")
                    if text
                    else _("The date is missing."),
                )
            )
        order_number = cells[at["number"]].strip()
        if len(order_number) > 50:
            problems.append(_too_long(number, columns["number"], order_number, 50))
        # The client.
        ext = cells[at["client_external_id"]].strip()
        name = cells[at["client_name"]].strip()
        inn = cells[at["client_inn"]].strip()
        email = cells[at["client_email"]].strip()
        if inn:
            inn = self._key(
                self.inns, identifiers.inn_normalised, inn, number, "client_inn", problems
            )
        if email:
            email = self._key(
                self.emails, identifiers.email_normalised, email, number, "client_email", problems
            )
        if len(ext) > 100:
            problems.append(_too_long(number, columns["client_external_id"], ext, 100))
        if len(name) > 300:
            problems.append(_too_long(number, columns["client_name"], name, 300))
        if not (ext or inn or email or name) and not problems:
            problems.append(
                RowProblem(
                    number,
                    columns.get("client_name")
                    or columns.get("client_external_id")
                    or columns.get("client_inn")
                    or columns.get("client_email", ""),
                    "",
                    _("The client is missing: give its name, external ID, INN or email."),
                )
            )
        # The product.
        code = cells[at["product_code"]].strip()
        product = cells[at["product_name"]].strip()
        category = cells[at["category"]].strip()
        if not (code or product):
            problems.append(
                RowProblem(
                    number,
                    columns.get("product_code") or columns.get("product_name", ""),
                    "",
                    _("The product is missing: give its code or name."),
                )
            )
        if len(code) > 64:
            problems.append(_too_long(number, columns["product_code"], code, 64))
        if len(product) > 200:
            problems.append(_too_long(number, columns["product_name"], product, 200))
        if len(category) > 120:
            problems.append(_too_long(number, columns["category"], category, 120))
        # Quantity, price, amount.
        text = cells[at["quantity"]].strip()
        quantity = self._decimal(text, "quantity", number, problems) if text else ONE
        text = cells[at["unit_price"]].strip()
        price = self._decimal(text, "unit_price", number, problems) if text else None
        text = cells[at["amount"]].strip()
        amount = self._decimal(text, "amount", number, problems) if text else None
        if price is None and amount is None and not problems:
            problems.append(
                RowProblem(
                    number,
                    columns.get("amount") or columns.get("unit_price", ""),
                    "",
                    _("The amount is missing: give the amount or the unit price."),
                )
            )
        # Status and currency.
        status: str = CONFIRMED
        text = cells[at["status"]].strip()
        if text:
            word = text.casefold()
            found = STATUS_WORDS.get(word) or (word if word in STATUS_VALUES else None)
            if found is None:
                problems.append(
                    RowProblem(
                        number,
                        columns["status"],
                        text[:500],
                        _("Unknown status: use draft, confirmed, shipped, paid or cancelled."),
                    )
                )
            else:
                status = found
        currency = self.default_currency
        text = cells[at["currency"]].strip()
        if text:
            code3 = CURRENCY_WORDS.get(text.casefold(), text.upper())
            if len(code3) != 3 or not code3.isalpha():
                problems.append(
                    RowProblem(
                        number,
                        columns["currency"],
                        text[:500],
                        _("Use a three-letter currency code, e.g. RUB."),
                    )
                )
            else:
                currency = code3
        if problems:
            return problems
        assert ordered_on is not None and quantity is not None
        if amount is None:
            assert price is not None
            amount = (price * quantity).quantize(CENT)
            if amount >= MONEY_LIMIT:
                return [
                    RowProblem(
                        number,
                        columns["unit_price"],
                        cells[at["unit_price"]].strip()[:500],
                        _("The amount is too large."),
                    )
                ]
        if price is None:
            price = (amount / quantity).quantize(CENT)
        if self.has_number and order_number:
            key = f"{order_number}/{ordered_on[:4]}"
            if _COPY_SPECIAL.search(key):
                key = _copy_field(key)
        else:
            key = ""
        number_text, code_text, product_text = order_number, code, product
        if (
            _COPY_SPECIAL.search(order_number)
            or _COPY_SPECIAL.search(code)
            or _COPY_SPECIAL.search(product)
        ):
            number_text, code_text, product_text = map(_copy_field, (order_number, code, product))
        return Line(
            number,
            order_number,
            ordered_on,
            ext,
            inn,
            email,
            name,
            code,
            product,
            category,
            key,
            f"{number}\t{number_text}\t{ordered_on}\t{status}\t{currency}\t{code_text}\t"
            f"{product_text}\t{quantity}\t{price}\t{amount}",
        )

    def _key(
        self,
        cache: dict[str, str | RowProblemReason],
        normalise: Callable[[str], str],
        text: str,
        number: int,
        name: str,
        problems: list[RowProblem],
    ) -> str:
        found = cache.get(text)
        if found is None:
            try:
                found = normalise(text)
            except identifiers.BadValue as exc:
                found = RowProblemReason(str(exc))
            if len(cache) < 2_000_000:
                cache[text] = found
        if isinstance(found, RowProblemReason):
            problems.append(RowProblem(number, self.columns[name], text[:500], found.reason))
            return ""
        return found


@dataclass(frozen=True)
class RowProblemReason:
    reason: str


# --- clients and products ------------------------------------------------------------


class Clients:
    """Finds (or creates) each line's client: by external id, INN, email; by name when
    a line has none of them. Remembers what it found, so a million lines cost a few
    queries per batch for the clients not seen before."""

    KEYS = ("external_id", "inn", "email")

    def __init__(self, actor: Any, dry_run: bool, inserts: Inserts) -> None:
        self.actor = actor
        self.dry_run = dry_run
        self.inserts = inserts
        self.known: dict[str, dict[str, int]] = {k: {} for k in (*self.KEYS, "name")}
        self.refused: dict[str, dict[str, str]] = {k: {} for k in (*self.KEYS, "name")}
        self.sees_all = scope_for(actor, Area.CLIENTS, AccessAction.READ) == Scope.ALL
        self.may_create = can_create_client(actor)
        self.default_tier = Tier.objects.filter(is_default=True).order_by("order").first()
        self.provisional = 0
        self.created = 0

    @staticmethod
    def keys(line: Line) -> list[tuple[str, str]]:
        keys = [
            ("external_id", line.client_ext),
            ("inn", line.client_inn),
            ("email", line.client_email),
        ]
        found = [(k, v) for k, v in keys if v]
        return found or [("name", line.client_name.casefold())]

    def _lookup(self, key: str, value: str) -> int | str | None:
        pk = self.known[key].get(value)
        if pk is not None:
            return pk
        return self.refused[key].get(value)

    def resolve(
        self, lines: list[Line], columns: dict[str, str]
    ) -> tuple[dict[int, int], list[RowProblem]]:
        """row -> client id for the batch's lines; problems for the refused ones."""
        found: dict[int, int] = {}
        problems: list[RowProblem] = []
        pending: list[Line] = []
        by_ext, by_inn, by_email = (self.known[k] for k in self.KEYS)
        by_name = self.known["name"]
        for line in lines:
            # The common case first: the line's first key is known.
            if line.client_ext:
                pk = by_ext.get(line.client_ext)
            elif line.client_inn:
                pk = by_inn.get(line.client_inn)
            elif line.client_email:
                pk = by_email.get(line.client_email)
            else:
                pk = by_name.get(line.client_name.casefold())
            if pk is not None:
                found[line.row] = pk
                continue
            outcome = self._first(line)
            if outcome is None:
                pending.append(line)
            elif isinstance(outcome, int):
                found[line.row] = outcome
            else:
                problems.append(self._problem(line, outcome, columns))
        if not pending:
            return found, problems
        self._load(pending)
        new: dict[tuple[str, str], list[Line]] = {}
        for line in pending:
            outcome = self._first(line)
            if outcome is None:
                new.setdefault(self.keys(line)[0], []).append(line)
            elif isinstance(outcome, int):
                found[line.row] = outcome
            else:
                problems.append(self._problem(line, outcome, columns))
        if new and not self.may_create:
            for group in new.values():
                for line in group:
                    problems.append(
                        self._problem(
                            line,
                            _("There is no such client, and you may not add clients."),
                            columns,
                        )
                    )
            return found, problems
        if new:
            ids = self._create([group[0] for group in new.values()])
            for pk, group in zip(ids, new.values(), strict=True):
                for key, value in self.keys(group[0]):
                    self.known[key][value] = pk
                for line in group:
                    found[line.row] = pk
                    for key, value in self.keys(line):
                        self.known[key].setdefault(value, pk)
        return found, problems

    def _first(self, line: Line) -> int | str | None:
        for key, value in self.keys(line):
            outcome = self._lookup(key, value)
            if outcome is not None:
                return outcome
        return None

    @staticmethod
    def _problem(line: Line, reason: str, columns: dict[str, str]) -> RowProblem:
        for column, value in (
            ("client_external_id", line.client_ext),
            ("client_inn", line.client_inn),
            ("client_email", line.client_email),
        ):
            if value:
                return RowProblem(line.row, columns.get(column, ""), value[:500], reason)
        return RowProblem(line.row, columns.get("client_name", ""), line.client_name[:500], reason)

    def _load(self, lines: list[Line]) -> None:
        """Look the lines' keys up in the database: one query per key."""
        found: dict[int, list[tuple[str, str]]] = {}
        pairs = [pair for line in lines for pair in self.keys(line)]
        for key in self.KEYS:
            wanted = {v for k, v in pairs if k == key}
            wanted -= self.known[key].keys()
            if not wanted:
                continue
            for pk, value, deleted_at in clients_with(key, wanted, live_only=key == "external_id"):
                if deleted_at is None:
                    found.setdefault(pk, []).append((key, value))  # newest first: oldest wins
        names = {v for k, v in pairs if k == "name"}
        names -= self.known["name"].keys()
        if names:
            rows = (
                Client.objects.filter(name__in={line.client_name for line in lines})
                .order_by("-id")
                .values_list("id", "name")
            )
            for pk, name in rows:
                if name.casefold() in names:
                    found.setdefault(pk, []).append(("name", name.casefold()))
        if not found:
            return
        visible = (
            set(found)
            if self.sees_all
            else set(
                clients_visible_to(self.actor)
                .filter(pk__in=list(found))
                .values_list("id", flat=True)
            )
        )
        for pk in sorted(found, reverse=True):  # the oldest client last, so it wins
            for key, value in found[pk]:
                if pk in visible:
                    self.known[key][value] = pk
                    self.refused[key].pop(value, None)
                elif value not in self.known[key]:
                    self.refused[key][value] = _not_yours(key)

    def _create(self, lines: list[Line]) -> list[int]:
        self.created += len(lines)
        if self.dry_run:
            ids = list(range(-self.provisional - 1, -self.provisional - 1 - len(lines), -1))
            self.provisional += len(lines)
            return ids
        actor = self.actor
        tier_id = self.default_tier.pk if self.default_tier else None
        rows = []
        for line in lines:
            name = (line.client_name or line.client_ext or line.client_inn or line.client_email)[
                :300
            ]
            values = {
                "name": name,
                "external_id": line.client_ext,
                "inn": line.client_inn,
                "email": line.client_email,
            }
            probe = SimpleNamespace(legal_name="", phone="", ogrn="", vat="", city="", **values)
            rows.append(
                {
                    **values,
                    "kind": Client.Kind.ORGANISATION,
                    "owner_id": actor.pk,
                    "team_id": actor.team_id,
                    "tier_id": tier_id,
                    "search_text": search_text_for(probe),  # type: ignore[arg-type]
                }
            )
        ids = self.inserts.add(Client, rows, ids=True)
        self.inserts.add(
            ContactPoint,
            [
                {
                    "client_id": pk,
                    "kind": ContactPoint.Kind.EMAIL,
                    "value": row["email"],
                    "is_primary": True,
                }
                for pk, row in zip(ids, rows, strict=True)
                if row["email"]
            ],
        )
        if tier_id is not None:
            self.inserts.add(
                TierChange,
                [{"client_id": pk, "to_tier_id": tier_id, "changed_by_id": actor.pk} for pk in ids],
            )
        return ids


def _not_yours(key: str) -> str:
    return {
        "external_id": _("A client with this external ID exists and is not yours."),
        "inn": _("A client with this INN exists and is not yours."),
        "email": _("A client with this email exists and is not yours."),
        "name": _("A client with this name exists and is not yours."),
    }[key]


class Products:
    """Finds (or creates) each line's product: by code, else by name; and the category
    a new product goes in."""

    def __init__(self, actor: Any, dry_run: bool, inserts: Inserts) -> None:
        self.actor = actor
        self.dry_run = dry_run
        self.inserts = inserts
        self.may_create = has_capability(actor, Capability.MANAGE_SETTINGS)
        self.by_code: dict[str, tuple[int, int | None]] = {}
        self.by_name: dict[str, tuple[int, int | None]] = {}
        self.categories: dict[str, int] | None = None
        self.provisional = 0
        self.created = 0

    def _category(self, name: str) -> int | None:
        if not name:
            return None
        if self.categories is None:
            self.categories = {}
            for pk, existing in ProductCategory.objects.order_by("-id").values_list("id", "name"):
                self.categories[existing.casefold()] = pk
        folded = name.casefold()
        if folded not in self.categories:
            if self.dry_run:
                self.provisional += 1
                self.categories[folded] = -self.provisional
            else:
                made = self.inserts.add(ProductCategory, [{"name": name}], ids=True)
                self.categories[folded] = made[0]
        return self.categories[folded]

    def resolve(
        self, lines: list[Line], columns: dict[str, str]
    ) -> tuple[dict[int, tuple[int, int | None]], list[RowProblem]]:
        """row -> (product id, category id)."""
        codes = {line.product_code for line in lines if line.product_code} - self.by_code.keys()
        names = {
            line.product_name.casefold()
            for line in lines
            if not line.product_code and line.product_name
        } - self.by_name.keys()
        if codes:
            for pk, code, category_id in Product.objects.filter(code__in=codes).values_list(
                "id", "code", "category_id"
            ):
                self.by_code[code] = (pk, category_id)
        if names:
            wanted = {line.product_name for line in lines if not line.product_code}
            for pk, name, category_id in (
                Product.objects.filter(name__in=wanted)
                .order_by("-id")
                .values_list("id", "name", "category_id")
            ):
                self.by_name[name.casefold()] = (pk, category_id)
        found: dict[int, tuple[int, int | None]] = {}
        problems: list[RowProblem] = []
        new: dict[str, list[Line]] = {}
        for line in lines:
            hit = (
                self.by_code.get(line.product_code)
                if line.product_code
                else self.by_name.get(line.product_name.casefold())
            )
            if hit is not None:
                found[line.row] = (
                    hit[0],
                    hit[1] if hit[1] is not None else self._category(line.category),
                )
            elif not self.may_create:
                column = "product_code" if line.product_code else "product_name"
                problems.append(
                    RowProblem(
                        line.row,
                        columns.get(column, ""),
                        (line.product_code or line.product_name)[:500],
                        _("There is no such product, and only an administrator may add products."),
                    )
                )
            else:
                key = line.product_code or "\0" + line.product_name.casefold()
                new.setdefault(key, []).append(line)
        if new:
            rows: list[dict[str, Any]] = []
            for group in new.values():
                first = group[0]
                code = (
                    first.product_code
                    or "IMP-"
                    + sha1(first.product_name.casefold().encode(), usedforsecurity=False)
                    .hexdigest()[:12]
                    .upper()
                )
                rows.append(
                    {
                        "code": code,
                        "name": (first.product_name or first.product_code)[:200],
                        "kind": Product.Kind.PRODUCT,
                        "category_id": self._category(first.category),
                        "is_active": True,
                    }
                )
            self.created += len(rows)
            if self.dry_run:
                ids = list(range(-self.provisional - 1, -self.provisional - 1 - len(rows), -1))
                self.provisional += len(rows)
            else:
                ids = self.inserts.add(Product, rows, ids=True)
            for pk, row, (key, group) in zip(ids, rows, new.items(), strict=True):
                made: tuple[int, int | None] = (pk, row["category_id"])
                if key.startswith("\0"):
                    self.by_name[key[1:]] = made
                else:
                    self.by_code[key] = made
                for line in group:
                    found[line.row] = made
        return found, problems


# --- phase 1: staging ----------------------------------------------------------------

# The staging table's columns in the order of a staged line's COPY text: first those a
# reading process writes out (`Line.copy`), then those known once the client and the
# product are.
STAGE_LINE_COLUMNS = (
    "row",
    "number",
    "ordered_on",
    "status",
    "currency",
    "product_code",
    "product_name",
    "quantity",
    "unit_price",
    "amount",
)
STAGE_COLUMNS = (
    *STAGE_LINE_COLUMNS,
    "run_id",
    "order_key",
    "client_id",
    "product_id",
    "category_id",
)
_NULLABLE = frozenset({"product_id", "category_id"})


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_COPY_UNESCAPE = re.compile(r"\\(.)")
_COPY_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r"}


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if _COPY_SPECIAL.search(text):
        return _COPY_SPECIAL.sub(lambda m: _COPY_ESCAPES[m.group()], text)
    return text


def _copy_values(line: str) -> tuple[Any, ...]:
    """A staged line's COPY text back as values (SQLite, which has no COPY)."""
    values: list[Any] = []
    for name, text in zip(STAGE_COLUMNS, line.rstrip("\n").split("\t"), strict=True):
        if text == "\\N" and name in _NULLABLE:
            values.append(None)
        elif "\\" in text:
            values.append(
                _COPY_UNESCAPE.sub(lambda m: _COPY_UNESCAPES.get(m.group(1), m.group(1)), text)
            )
        else:
            values.append(text)
    return tuple(values)


def _stage(lines: list[str]) -> None:
    """Write staged lines (COPY text, `STAGE_COLUMNS`): one COPY of the whole batch on
    PostgreSQL (one string: several times cheaper than handing psycopg the rows one by
    one), one executemany on SQLite."""
    if not lines:
        return
    qn = connection.ops.quote_name
    table = qn(OrderImportLine._meta.db_table)
    names = ", ".join(qn(c) for c in STAGE_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                copy.write("".join(lines))
        else:
            marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 (model names)
                [_copy_values(line) for line in lines],
            )


@dataclass
class Batch:
    first_row: int
    last_row: int
    staged: list[str] = field(default_factory=list)  # COPY text lines, `STAGE_COLUMNS`
    problems: list[RowProblem] = field(default_factory=list)


class Read(NamedTuple):
    """A batch of rows read (`RowReader.read`): rows `first_row`..`last_row` of the
    file, the clean lines and the problems of the others; or, when `error` is not empty,
    the reason the file cannot be read on (at a line of this batch)."""

    first_row: int
    last_row: int
    lines: list[Line]
    problems: list[RowProblem]
    error: str = ""


# A batch still to read: ("rows", [(line number, cells), ...]) parsed by `csv` in the
# command's process, or ("text", lines before it, bytes, start after) when whole lines
# of the file can be handed to a reading process as they are.
Piece = tuple[Any, ...]

# Encodings in which a newline and a quote are single bytes that no other character
# contains, so a CSV file can be cut into lines without decoding it.
_LINE_SAFE_ENCODINGS = frozenset(
    {"utf-8", "utf-8-sig", "cp1251", "koi8-r", "koi8-u", "cp866", "ascii", "latin-1", "cp1252"}
)


def _line_safe(encoding: str) -> bool:
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    return name in _LINE_SAFE_ENCODINGS or name.startswith("iso8859")


def _plain_lines(block: bytes) -> bool:
    """Lines without quotes and without a carriage return of their own: each line of
    such a block is one CSV record, so it can be cut anywhere between lines."""
    return b'"' not in block and block.count(b"\r") == block.count(b"\r\n")


def _read_piece(reader: RowReader, piece: Piece, encoding: str, delimiter: str) -> Read:
    """Read a piece (see `Piece`); in a worker process or in this one."""
    lines: list[Line] = []
    problems: list[RowProblem] = []
    append, extend, read = lines.append, problems.extend, reader.read
    if piece[0] == "rows":
        rows = piece[1]
        for number, cells in rows:
            outcome = read(number, cells)
            if type(outcome) is Line:
                append(outcome)
            else:
                extend(outcome)  # type: ignore[arg-type]
        return Read(rows[0][0], rows[-1][0], lines, problems)
    _kind, before, block, start_after = piece
    last = before + block.count(b"\n") + (not block.endswith(b"\n"))
    try:
        text = block.decode(encoding)
    except UnicodeDecodeError as exc:
        line = before + block.count(b"\n", 0, exc.start) + 1
        return Read(before + 1, last, [], [], _describe_csv_error(exc, line))
    if before == 0 and encoding.replace("_", "-").lower() in ("utf-8-sig", "utf8-sig"):
        text = text.removeprefix("\ufeff")
    rows_of = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in rows_of:
            number = before + rows_of.line_num
            if number > start_after and "".join(cells).strip():
                outcome = read(number, cells)
                if type(outcome) is Line:
                    append(outcome)
                else:
                    extend(outcome)  # type: ignore[arg-type]
    except csv.Error as exc:
        return Read(before + 1, last, [], [], _describe_csv_error(exc, before + rows_of.line_num))
    return Read(max(before + 1, start_after + 1), last, lines, problems)


class OrderImporter:
    def __init__(self, *, run: ImportRun, actor: Any, dry_run: bool) -> None:
        self.run = run
        self.actor = actor
        self.dry_run = dry_run
        self.table = run_table(run)
        self.reader = RowReader(self.table.header, order_column_fields(run), reporting_currency())
        # New clients and products (and their categories, contact points, tier
        # history): written at once, or handed to the batch's writer thread.
        self.inserts = Inserts()
        self.clients = Clients(actor, dry_run, self.inserts)
        self.products = Products(actor, dry_run, self.inserts)
        # Dry run only: order key -> (client id, date, first row), to count orders.
        self.orders: dict[str, tuple[int, str, int]] = {}
        self.encoding = self.table.encoding or "utf-8"
        self.delimiter = self.table.delimiter or ","

    def _csv_rows(self, offset: int = 0, before: int = 0) -> Iterator[tuple[int, list[str]]]:
        """The file's data rows with their line numbers, parsed by `csv` here; from byte
        `offset` (the start of line `before` + 1) when not 0, else after the header. As
        `readers.read_csv` does, with the encoding and delimiter it found, in a leaner
        loop: this runs once per line of files with millions of them."""
        table = self.table
        if table.format != "csv":
            yield from table.rows
            return
        close = getattr(table.rows, "close", None)
        if close:
            close()
        with run_path(self.run).open("rb") as raw:
            raw.seek(offset)
            handle = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="")
            reader = csv.reader(handle, delimiter=self.delimiter, strict=True)
            try:
                if not offset:
                    first = next(reader, [])
                    if first and first[0].startswith(ROUND_TRIP_MARK):
                        next(reader, [])
                for row in reader:
                    if "".join(row).strip():
                        yield before + reader.line_num, row
            except (csv.Error, UnicodeDecodeError) as exc:
                raise FileProblem(_describe_csv_error(exc, before + reader.line_num)) from None

    def _row_pieces(
        self, rows: Iterator[tuple[int, list[str]]], start_after: int
    ) -> Iterator[Piece]:
        batch: list[tuple[int, list[str]]] = []
        for number, cells in rows:
            if number <= start_after:
                continue
            batch.append((number, cells))
            if len(batch) >= BATCH_SIZE:
                yield ("rows", batch)
                batch = []
        if batch:
            yield ("rows", batch)

    def pieces(self, start_after: int) -> Iterator[Piece]:
        """The rows after line `start_after`, in batches of `BATCH_SIZE` lines. A CSV
        file's lines go out as they are (its reading processes parse them) as long as
        they hold no quote and no line break of their own; from the first batch that
        does, and for other files, the rows are parsed here."""
        if self.table.format != "csv" or not _line_safe(self.encoding):
            yield from self._row_pieces(self._csv_rows(), start_after)
            return
        close = getattr(self.table.rows, "close", None)
        if close:
            close()
        from itertools import islice

        with run_path(self.run).open("rb") as handle:
            head = [handle.readline()]
            first = head[0].decode(self.encoding, errors="replace").lstrip("\ufeff")
            if first.startswith(ROUND_TRIP_MARK) or first.startswith('"' + ROUND_TRIP_MARK):
                head.append(handle.readline())
            if not _plain_lines(b"".join(head)):
                yield from self._row_pieces(self._csv_rows(), start_after)
                return
            offset = sum(map(len, head))
            before = len(head)
            while True:
                block = b"".join(islice(handle, BATCH_SIZE))
                if not block:
                    return
                if not _plain_lines(block):
                    yield from self._row_pieces(self._csv_rows(offset, before), start_after)
                    return
                lines = block.count(b"\n") + (not block.endswith(b"\n"))
                if before + lines > start_after:
                    yield ("text", before, block, start_after)
                offset += len(block)
                before += lines

    def prepare(self, read: Read) -> Batch:
        """Resolve a batch's clients and products and write out its staged lines;
        creates its new clients and products (not in a dry run), so the caller holds
        the transaction."""
        if read.error:
            raise FileProblem(read.error)
        batch = Batch(first_row=read.first_row, last_row=read.last_row)
        batch.problems.extend(read.problems)
        columns = self.reader.columns
        clients, problems = self.clients.resolve(read.lines, columns)
        batch.problems.extend(problems)
        lines = [line for line in read.lines if line.row in clients]
        products, problems = self.products.resolve(lines, columns)
        batch.problems.extend(problems)
        tail = f"\t{self.run.pk}\t"
        staged = batch.staged.append
        dry_run = self.dry_run
        for line in lines:
            product = products.get(line.row)
            if product is None:
                continue
            client_id = clients[line.row]
            key = line.key or f"{client_id}:{line.ordered_on}"
            if dry_run:
                first = self.orders.get(key)
                if first is None:
                    self.orders[key] = (client_id, line.ordered_on, line.row)
                elif first[0] != client_id or first[1] != line.ordered_on:
                    batch.problems.append(_mismatch(line.row, line.number, first[2], columns))
                    continue
            category = "\\N" if product[1] is None else product[1]
            staged(f"{line.copy}{tail}{key}\t{client_id}\t{product[0]}\t{category}\n")
        return batch


def _mismatch(row: int, number: str, first_row: int, columns: dict[str, str]) -> RowProblem:
    return RowProblem(
        row,
        columns.get("number", ""),
        number[:500],
        _(
            "Order %(number)s already began in row %(row)d with another client or date: "
            "one order has one client and one date."
        )
        % {"number": number, "row": first_row},
    )


def _rejected(problems: list[RowProblem]) -> int:
    return len({p.row for p in problems})


# Set in the parent just before the reading processes fork; they inherit it.
_WORKER_READER: tuple[RowReader, str, str] | None = None


def _read_in_worker(piece: Piece) -> Read:
    assert _WORKER_READER is not None
    return _read_piece(*_WORKER_READER[:1], piece, *_WORKER_READER[1:])


@contextlib.contextmanager
def _read_ahead(
    importer: OrderImporter, pieces: Iterator[Piece], workers: int
) -> Iterator[Iterator[Read]]:
    """The pieces read (`RowReader.read`) by `workers` forked processes, a few ahead (at
    most two per worker in flight, so memory stays bounded), in the file's order. The
    processes never touch the database. Without workers, read here one by one."""
    reader, encoding, delimiter = importer.reader, importer.encoding, importer.delimiter
    if workers <= 0:
        yield (_read_piece(reader, piece, encoding, delimiter) for piece in pieces)
        return
    import multiprocessing
    from collections import deque

    global _WORKER_READER
    _WORKER_READER = (reader, encoding, delimiter)
    pool = multiprocessing.get_context("fork").Pool(workers)

    def stream() -> Iterator[Read]:
        pending: deque[Any] = deque()
        for piece in pieces:
            pending.append(pool.apply_async(_read_in_worker, (piece,)))
            if len(pending) >= workers * 2:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()

    try:
        yield stream()
    finally:
        pool.terminate()
        _WORKER_READER = None


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Staging allocates millions of short-lived tuples and strings, none in reference
    cycles, while the import keeps large dictionaries of what it found; Python's cyclic
    collector would walk all of them again and again. For its length, what exists is
    frozen (out of the collector's sight, and not copied page by page into the forked
    reading processes when the collector touches it) and young objects are collected
    less often."""
    import gc

    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def orders_import_execute(
    *,
    run: ImportRun,
    actor: Any,
    dry_run: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Import (or, with `dry_run`, only check) the run's order lines; a resumed run
    stages the rows after `committed_row`, then writes the orders. `workers` > 0 reads
    rows in that many forked processes: only from a single-threaded program (the
    command line), never inside a threaded worker."""
    total = run.options.get("last_row")
    importer = OrderImporter(run=run, actor=actor, dry_run=dry_run)
    if dry_run:
        ImportRowError.objects.filter(run=run).delete()
        counts = dict.fromkeys(DRY_RUN_COUNT_KEYS, 0)
        stream_of = _read_ahead(importer, importer.pieces(0), workers)
        with import_session(), _few_collections(), stream_of as stream:
            for read in stream:
                batch = importer.prepare(read)
                ImportRowError.objects.bulk_create(problem_rows(run, batch.problems))
                counts["lines"] += len(batch.staged)
                counts["rejected"] += _rejected(batch.problems)
                if progress is not None:
                    progress(batch.last_row, total)
        counts.update(
            orders=len(importer.orders),
            clients_created=importer.clients.created,
            products_created=importer.products.created,
            dry_run=True,
        )
        report = error_report_write(run)
        ImportRun.objects.filter(pk=run.pk).update(counts=counts, error_report=report)
        run.counts, run.error_report = counts, report
        return {"counts": counts, "error_report": report, "last_row": total}

    start_after = run.committed_row
    counts = {**dict.fromkeys(ORDER_COUNT_KEYS, 0), "staged": 0, **(run.counts or {})}
    if start_after and _staged_count(run) != counts["staged"]:
        # The staged lines are gone (the database crashed: on PostgreSQL the staging
        # table is not crash-safe): stage the file again; the clients and products
        # already created are found this time.
        start_after = 0
    if start_after == 0:
        counts = {**dict.fromkeys(ORDER_COUNT_KEYS, 0), "staged": 0}
        with transaction.atomic():
            ImportRowError.objects.filter(run=run).delete()
            _stage_delete(run)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    run.counts = counts
    started = time.monotonic()
    try:
        _stage_all(run, actor, importer, start_after, counts, progress, workers)
    except FileProblem:
        # A broken line (a file not read through at upload): the run cannot go on.
        with transaction.atomic():
            _stage_delete(run)
        raise
    staged = time.monotonic()
    with import_session():
        counts = _orders_write(run, actor, dict(run.counts))
    seconds = {
        "staging": round(staged - started, 1),
        "orders": round(time.monotonic() - staged, 1),
    }
    report = error_report_write(run)
    ImportRun.objects.filter(pk=run.pk).update(
        error_report=report, options={**run.options, "seconds": seconds}
    )
    run.error_report = report
    return {
        "counts": counts,
        "error_report": report,
        "last_row": run.committed_row,
        "seconds": seconds,
    }


def _stage_all(
    run: ImportRun,
    actor: Any,
    importer: OrderImporter,
    start_after: int,
    counts: dict[str, Any],
    progress: Callable[[int, int | None], None] | None,
    workers: int,
) -> None:
    """Phase 1: stage the rows after `start_after`, one transaction per batch."""
    total = run.options.get("last_row")
    statistics = PlannerStatistics()
    stream_of = _read_ahead(importer, importer.pieces(start_after), workers)
    with import_session(), _few_collections(), stream_of as stream:
        if workers > 0 and connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Other threads' connections could not see a caller's open transaction
            # (nor commit batches apart from it), so only outside one.
            _stage_pipelined(run, importer, stream, counts, progress, statistics)
            return
        for read in stream:
            with transaction.atomic():
                batch_commit_settings()
                created_before = importer.clients.created
                batch = importer.prepare(read)
                _stage(batch.staged)
                ImportRowError.objects.bulk_create(problem_rows(run, batch.problems))
                new_counts = _counts_after(
                    counts,
                    batch,
                    clients=importer.clients.created - created_before,
                    products=importer.products.created,
                )
                ImportRun.objects.filter(pk=run.pk).update(
                    committed_row=batch.last_row, counts=new_counts
                )
            importer.products.created = 0
            counts = new_counts
            run.committed_row, run.counts = batch.last_row, counts
            statistics.rows_added(importer.clients.created - created_before)
            if progress is not None:
                progress(batch.last_row, total)


def _counts_after(
    counts: dict[str, Any], batch: Batch, *, clients: int, products: int
) -> dict[str, Any]:
    """The run's counts once `batch` (which created `clients` and `products`) is in."""
    return {
        **counts,
        "staged": counts["staged"] + len(batch.staged),
        "rejected": counts["rejected"] + _rejected(batch.problems),
        "clients_created": counts["clients_created"] + clients,
        "products_created": counts["products_created"] + products,
    }


class _Staged(NamedTuple):
    """A prepared batch for a writer thread: its new rows, its staged lines and
    problems, and the run's counts once it has committed."""

    batch: Batch
    inserts: Deferred
    counts: dict[str, Any]


# Writer threads of the pipelined staging: two, so that the database's share (index
# upkeep of the new clients, the staging COPY, commits) runs on both cores while this
# process matches the next batch.
STAGING_WRITERS = 2


def _stage_pipelined(
    run: ImportRun,
    importer: OrderImporter,
    stream: Iterator[Read],
    counts: dict[str, Any],
    progress: Callable[[int, int | None], None] | None,
    statistics: PlannerStatistics,
) -> None:
    """Phase 1 on PostgreSQL: this thread matches each batch's clients and products
    (the new ones get ids from the sequences at once) while writer threads write the
    batches before it, each in its own transaction that commits strictly in the file's
    order (`OrderedWriter`), its checkpoint and counts with it: a crash or a failure
    leaves whole batches, and the run resumes after the last committed one."""

    def write(item: _Staged, turn: Callable[[], None]) -> None:
        with transaction.atomic():
            batch_commit_settings()
            inserts_write(item.inserts)
            _stage(item.batch.staged)
            ImportRowError.objects.bulk_create(problem_rows(run, item.batch.problems))
            turn()  # the batches before this one have committed
            ImportRun.objects.filter(pk=run.pk).update(
                committed_row=item.batch.last_row, counts=item.counts
            )

    importer.inserts.defer()
    writer = OrderedWriter(write=write, threads=STAGING_WRITERS)
    # Per batch handed over: its last row, the run's counts after it, clients created
    # (not the batch itself: what is written is let go).
    submitted: list[tuple[int, dict[str, Any], int]] = []
    reported = 0

    def committed_so_far() -> None:
        nonlocal reported
        count = writer.committed
        for _last_row, _counts, created in submitted[reported:count]:
            statistics.rows_added(created)
        if count > reported:
            run.committed_row, run.counts = submitted[count - 1][:2]
        reported = count

    try:
        for read in stream:
            created_before = importer.clients.created
            batch = importer.prepare(read)
            created = importer.clients.created - created_before
            counts = _counts_after(
                counts, batch, clients=created, products=importer.products.created
            )
            importer.products.created = 0
            writer.submit(_Staged(batch, importer.inserts.take(), counts))
            submitted.append((batch.last_row, counts, created))
            committed_so_far()
            if progress is not None:
                progress(run.committed_row, run.options.get("last_row"))
    except BaseException:
        # Let the batches already handed over commit (or fail) before giving up.
        with contextlib.suppress(BaseException):
            writer.close()
        committed_so_far()
        raise
    writer.close()
    committed_so_far()


# --- phase 2: orders, set-based ------------------------------------------------------


def _staged_count(run: ImportRun) -> int:
    return int(OrderImportLine.objects.filter(run_id=run.pk).count())


def _stage_delete(run: ImportRun) -> None:
    """Delete the run's staged lines (the whole table at once when they are the only
    ones: PostgreSQL deletes millions of rows one by one otherwise)."""
    table = connection.ops.quote_name(OrderImportLine._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE run_id < %s OR run_id > %s LIMIT 1",  # noqa: S608
                [run.pk, run.pk],
            )
            if cursor.fetchone() is None:
                cursor.execute(f"TRUNCATE {table}")
                return
        cursor.execute(f"DELETE FROM {table} WHERE run_id = %s", [run.pk])  # noqa: S608


# From this many orders written on PostgreSQL, their foreign keys are checked set-based
# (see `_key_checks_pause`).
SET_CHECK_ORDERS = 50_000
_RI_CHECKS = "('\"RI_FKey_check_ins\"'::regproc, '\"RI_FKey_check_upd\"'::regproc)"


def _key_checks_pause(cursor: Any, tables: list[str]) -> list[tuple[str, str]]:
    """Turn off, for the rest of this transaction, the triggers that check the foreign
    keys of rows written to `tables` (the orders and their lines): row by row, they
    cost most of a large import (for ten million lines, some forty million lookups,
    each locking the row it finds). `_key_checks_resume` checks the rows this import
    wrote with one query per key and turns them back on. Turning them off locks only
    `tables`, and only against writers (SHARE ROW EXCLUSIVE): everybody can still read
    the orders, and use the clients, the products and the users. Only a superuser may
    turn these triggers off; for anyone else, nothing changes (returns []) and the
    keys are checked row by row as usual. Returns (table, trigger) of each."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    found = cursor.fetchone()
    if not (found and found[0]):
        return []
    cursor.execute(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid = ANY(%s::regclass[]) AND cardinality(conkey) <> 1",
        [tables],
    )
    if cursor.fetchone()[0]:
        return []  # only single-column keys are checked by `_key_checks_resume`
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "  # noqa: S608 (constants)
        f"WHERE tgrelid = ANY(%s::regclass[]) AND tgfoid IN {_RI_CHECKS} "
        "AND tgenabled <> 'D' ORDER BY 1, 2",
        [tables],
    )
    triggers = cursor.fetchall()
    qn = connection.ops.quote_name
    try:
        with transaction.atomic():
            for table, name in triggers:
                cursor.execute(f"ALTER TABLE {qn(table)} DISABLE TRIGGER {qn(name)}")
    except DatabaseError:
        return []
    return triggers


def _key_checks_resume(cursor: Any, paused: list[tuple[str, str]]) -> None:
    """Check every foreign key of the orders and lines this import wrote (`imp_final`'s
    new and changed ones), one query per key, and turn the triggers `_key_checks_pause`
    turned off back on. As the row-by-row check does, each referenced row is locked
    (FOR KEY SHARE) so that nobody can delete it before this transaction commits,
    except in the paused tables themselves, where no one else can write meanwhile. A
    row whose key points nowhere fails the whole transaction (IntegrityError)."""
    from django.db import IntegrityError

    qn = connection.ops.quote_name
    tables = sorted({table for table, _name in paused})
    cursor.execute(
        "SELECT c.conname, c.conrelid::regclass::text, a.attname, "
        "c.confrelid::regclass::text, r.attname FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute r ON r.attrelid = c.confrelid AND r.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) ORDER BY 1",
        [tables],
    )
    link = {Order._meta.db_table: "id", OrderLine._meta.db_table: "order_id"}
    for name, table, column, target, target_column in cursor.fetchall():
        if column == link[table]:
            # The lines' order: by the join they were written with, an order of
            # `imp_final`. A new one was written by this transaction into a table that
            # nobody else may write to until it commits (the pause's lock), so it is
            # there; a changed one was found before that lock was taken, so it is
            # checked (and locked) like any other key.
            keys = "SELECT order_id AS k FROM imp_final WHERE action = 'changed'"
        else:
            keys = (
                f"SELECT DISTINCT t.{qn(column)} AS k FROM {qn(table)} t JOIN imp_final f "  # noqa: S608
                f"ON t.{qn(link[table])} = f.order_id WHERE f.action IN ('new', 'changed') "
                f"AND t.{qn(column)} IS NOT NULL"
            )
        lock = "" if target in tables else " FOR KEY SHARE OF r"
        cursor.execute(
            f"WITH keys AS MATERIALIZED ({keys}) SELECT (SELECT count(*) FROM keys), "  # noqa: S608
            f"(SELECT count(*) FROM (SELECT 1 FROM {qn(target)} r WHERE r.{qn(target_column)} "
            f"IN (SELECT k FROM keys){lock}) x)"
        )
        wanted, there = cursor.fetchone()
        if wanted != there:
            raise IntegrityError(
                f"{table}.{column}: {wanted - there} value(s) not in {target} ({name})"
            )
    for table, trigger in paused:
        cursor.execute(f"ALTER TABLE {qn(table)} ENABLE TRIGGER {qn(trigger)}")


def _run_columns(run: ImportRun) -> dict[str, str]:
    """Mapped field -> the column's name in the file, for the report."""
    header = run.options.get("header", [])
    return {
        name: header[i] if i < len(header) else str(i + 1)
        for i, name in order_column_fields(run).items()
    }


def _refuse_others_orders(cursor: Any, run: ImportRun, actor: Any) -> int:
    """Orders the file would change but the actor may not (someone else's, under the
    access policy) are left alone: their rows are reported, one problem per order at
    its first row. The number of rows refused."""
    if scope_for(actor, Area.SALES, AccessAction.WRITE) == Scope.ALL:
        return 0
    orders = connection.ops.quote_name(Order._meta.db_table)
    cursor.execute(
        f"SELECT f.order_key, f.first_row, f.n, f.number, o.owner_id, o.team_id "  # noqa: S608
        f"FROM imp_final f JOIN {orders} o ON o.id = f.order_id WHERE f.action = 'changed'"
    )
    refused = [
        (key, first_row, n, number)
        for key, first_row, n, number, owner_id, team_id in cursor.fetchall()
        if not can_access(
            actor, area=Area.SALES, action=AccessAction.WRITE, owner_id=owner_id, team_id=team_id
        )
    ]
    if not refused:
        return 0
    column = _run_columns(run).get("number", "")
    ImportRowError.objects.bulk_create(
        ImportRowError(
            run=run,
            row=first_row,
            column=column[:200],
            value=(number or key)[:500],
            reason=_("This order exists and is not yours to change.")[:500],
        )
        for key, first_row, _n, number in refused
    )
    keys = [key for key, _r, _n, _m in refused]
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        cursor.execute(
            f"UPDATE imp_final SET action = 'refused' WHERE order_key IN ({marks})",  # noqa: S608
            chunk,
        )
    return sum(n for _k, _r, n, _m in refused)


def _grouping_memory(cursor: Any) -> None:
    """PostgreSQL, for this transaction: enough memory to group millions of lines in
    memory (hash tables, sorts, the temporary tables) rather than on disk."""
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    try:
        # Only before the session's first temporary table; later it keeps its size.
        with transaction.atomic():
            cursor.execute("SET LOCAL temp_buffers = '256MB'")
    except DatabaseError:
        pass


def _orders_write(run: ImportRun, actor: Any, counts: dict[str, Any]) -> dict[str, Any]:
    """Phase 2: group the staged lines into orders and write them, one transaction."""
    pg = connection.vendor == "postgresql"
    qn = connection.ops.quote_name
    stage = qn(OrderImportLine._meta.db_table)
    orders = qn(Order._meta.db_table)
    lines = qn(OrderLine._meta.db_table)
    clients = qn(Client._meta.db_table)
    now = timezone.now()
    temp = "" if pg else "temp."
    with transaction.atomic(), connection.cursor() as cur:
        batch_commit_settings()
        if pg:
            _grouping_memory(cur)
        for name in ("imp_head", "imp_final"):
            cur.execute(f"DROP TABLE IF EXISTS {temp}{name}")
        on_commit = " ON COMMIT DROP" if pg else ""
        total_sum = "sum(amount)" if pg else "round(sum(amount), 2)"
        # One row per order, in one pass over the staged lines. The header: an
        # order's lines share the client and the date (checked below), and number,
        # status and currency are taken as the smallest value among its lines.
        cur.execute(
            f"CREATE TEMP TABLE imp_head{on_commit} AS "  # noqa: S608 (model names)
            f"SELECT order_key, min({qn('row')}) AS first_row, count(*) AS n, "
            f"{total_sum} AS total, min(client_id) AS client_id, "
            f"max(client_id) AS client_last, min(ordered_on) AS ordered_on, "
            f"max(ordered_on) AS ordered_last, min(number) AS number, "
            f"min(status) AS status, min(currency) AS currency "
            f"FROM {stage} WHERE run_id = %s GROUP BY order_key "
            # In the file's order: new orders get ascending ids, and the indexes of
            # the orders table (by date, by client) are filled mostly in order.
            f"ORDER BY first_row",
            [run.pk],
        )
        cur.execute("CREATE INDEX imp_head_key ON imp_head (order_key)")
        if pg:
            cur.execute("ANALYZE imp_head")
        # Lines under the same number with another client or date than the order's
        # first line are refused. Rare: only those orders are looked at again.
        cur.execute(
            "SELECT order_key FROM imp_head "
            "WHERE client_id <> client_last OR ordered_on <> ordered_last"
        )
        split = [key for (key,) in cur.fetchall()]
        mismatched: list[tuple[Any, ...]] = []
        for start in range(0, len(split), 500):
            chunk = split[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(
                f"UPDATE imp_head SET client_id = s.client_id, ordered_on = s.ordered_on "  # noqa: S608
                f"FROM {stage} s WHERE s.run_id = %s AND s.{qn('row')} = imp_head.first_row "
                f"AND imp_head.order_key IN ({marks})",
                [run.pk, *chunk],
            )
            cur.execute(
                f"SELECT s.{qn('row')}, s.number, h.first_row, s.order_key "  # noqa: S608
                f"FROM {stage} s JOIN imp_head h ON h.order_key = s.order_key "
                f"WHERE s.run_id = %s AND h.order_key IN ({marks}) "
                f"AND (s.client_id <> h.client_id OR s.ordered_on <> h.ordered_on) "
                f"ORDER BY s.{qn('row')}",
                [run.pk, *chunk],
            )
            mismatched.extend(cur.fetchall())
        if mismatched:
            columns = _run_columns(run)
            ImportRowError.objects.bulk_create(
                problem_rows(
                    run,
                    [
                        _mismatch(row, number, first, columns)
                        for row, number, first, _k in mismatched
                    ],
                )
            )
            counts["rejected"] = counts.get("rejected", 0) + len(mismatched)
            for start in range(0, len(mismatched), 500):
                chunk = mismatched[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    f"DELETE FROM {stage} WHERE run_id = %s AND {qn('row')} IN ({marks})",  # noqa: S608
                    [run.pk, *(r[0] for r in chunk)],
                )
            keys = sorted({r[3] for r in mismatched})
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(
                    f"UPDATE imp_head SET n = a.n, total = a.total FROM "  # noqa: S608
                    f"(SELECT order_key, count(*) AS n, {total_sum} AS total FROM {stage} "
                    f"WHERE run_id = %s AND order_key IN ({marks}) GROUP BY order_key) a "
                    f"WHERE imp_head.order_key = a.order_key",
                    [run.pk, *chunk],
                )
        # Each order: new, the same as in Lavka, or changed; new ones get their ids.
        if pg:
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Order._meta.db_table])
            sequence = cur.fetchone()[0]
            new_id = "nextval(%s::regclass)"
            id_params: list[Any] = [sequence]
        else:
            cur.execute(f"SELECT max(id) FROM {orders}")  # noqa: S608
            largest = cur.fetchone()[0] or 0
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [Order._meta.db_table])
            seq = cur.fetchone()
            new_id = "%s + row_number() OVER (PARTITION BY o.id IS NULL ORDER BY h.first_row)"
            id_params = [max(largest, seq[0] if seq else 0)]
        cur.execute(
            f"CREATE TEMP TABLE imp_final{on_commit} AS "  # noqa: S608 (model names)
            f"SELECT h.*, CASE WHEN o.id IS NULL THEN {new_id} ELSE o.id END AS order_id, "
            f"CASE WHEN o.id IS NULL THEN 'new' "
            f"WHEN o.client_id = h.client_id AND o.ordered_on = h.ordered_on "
            f"AND o.status = h.status AND o.currency = h.currency AND o.number = h.number "
            f"AND o.total = h.total "
            f"AND (SELECT count(*) FROM {lines} l WHERE l.order_id = o.id) = h.n "
            f"THEN 'same' ELSE 'changed' END AS action "
            f"FROM imp_head h LEFT JOIN {orders} o ON o.source = %s "
            f"AND o.external_id = h.order_key AND NOT (o.external_id = '') "
            f"AND o.deleted_at IS NULL",
            [*id_params, SOURCE],
        )
        cur.execute("CREATE INDEX imp_final_key ON imp_final (order_key)")
        if pg:
            cur.execute("ANALYZE imp_final")
        counts["rejected"] = counts.get("rejected", 0) + _refuse_others_orders(cur, run, actor)
        cur.execute("SELECT action, count(*) FROM imp_final GROUP BY action")
        by_action = dict(cur.fetchall())
        # The foreign keys stay (dropping them and adding them back, as this import once
        # did, locks the orders, the clients, the users and the products against any
        # reader until the end). Row by row, PostgreSQL checks each key of each new row
        # at commit; a large import checks them set-based instead where it may.
        paused: list[tuple[str, str]] = []
        if pg and by_action.get("new", 0) + by_action.get("changed", 0) >= SET_CHECK_ORDERS:
            paused = _key_checks_pause(cur, [Order._meta.db_table, OrderLine._meta.db_table])
        if by_action.get("changed"):
            cur.execute(
                f"DELETE FROM {lines} WHERE order_id IN "  # noqa: S608
                f"(SELECT order_id FROM imp_final WHERE action = 'changed')"
            )
            cur.execute(
                f"UPDATE {orders} SET client_id = f.client_id, ordered_on = f.ordered_on, "  # noqa: S608
                f"number = f.number, status = f.status, currency = f.currency, total = f.total, "
                f"version = {orders}.version + 1, updated_at = %s "
                f"FROM imp_final f WHERE {orders}.id = f.order_id AND f.action = 'changed'",
                [now],
            )
        if by_action.get("new"):
            cur.execute(
                f"INSERT INTO {orders} (id, owner_id, team_id, deleted_at, deleted_by_id, "  # noqa: S608
                f"created_at, updated_at, version, client_id, number, ordered_on, status, "
                f"currency, total, source_deal_id, source, external_id) "
                f"SELECT f.order_id, c.owner_id, c.team_id, NULL, NULL, %s, %s, 1, f.client_id, "
                f"f.number, f.ordered_on, f.status, f.currency, f.total, NULL, %s, f.order_key "
                f"FROM imp_final f JOIN {clients} c ON c.id = f.client_id "
                f"WHERE f.action = 'new' ORDER BY f.order_id",
                [now, now, SOURCE],
            )
        written = 0
        if by_action.get("new") or by_action.get("changed"):
            cur.execute(
                f"INSERT INTO {lines} (order_id, product_id, product_code, product_name, "  # noqa: S608
                f"category_id, quantity, unit_price, discount_percent, amount) "
                f"SELECT f.order_id, s.product_id, s.product_code, s.product_name, "
                f"s.category_id, s.quantity, s.unit_price, 0, s.amount "
                f"FROM {stage} s JOIN imp_final f ON f.order_key = s.order_key "
                f"WHERE s.run_id = %s AND f.action IN ('new', 'changed')"
                + ("" if pg else f" ORDER BY s.{qn('row')}"),
                [run.pk],
            )
            written = cur.rowcount
        if paused:
            _key_checks_resume(cur, paused)
        cur.execute(f"SELECT count(*) FROM {stage} WHERE run_id = %s", [run.pk])  # noqa: S608
        staged = cur.fetchone()[0]
        _stage_delete(run)
        if not pg:
            cur.execute("DROP TABLE IF EXISTS temp.imp_head")
            cur.execute("DROP TABLE IF EXISTS temp.imp_final")
        counts = {
            **counts,
            "lines": staged,
            "lines_written": written,
            "orders_created": by_action.get("new", 0),
            "orders_updated": by_action.get("changed", 0),
            "orders_unchanged": by_action.get("same", 0),
        }
        ImportRun.objects.filter(pk=run.pk).update(
            counts=counts, status=ImportRun.Status.DONE, finished_at=timezone.now()
        )
        run.counts, run.status = counts, ImportRun.Status.DONE
        audit_record(
            action=Action.UPDATE,
            subject=run,
            actor=actor,
            changes={"orders_imported": counts},
            meta={"via": "import"},
        )
        outbox_publish(kind="orders.imported", payload={"run_id": run.pk, **counts})
    return counts
