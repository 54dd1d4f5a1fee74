"""The client import engine: read an ImportRun's file, validate each row exactly as the
UI does, and upsert clients in batches.

Each batch is one transaction: its clients, its row errors, one audit event, one
outbox event and the run's `committed_row` checkpoint commit together, so a crash
leaves no partial batch and a resumed run starts right after the last whole one.
Existing clients are found with one query per key per batch (external id, email,
INN), never per row.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.clients import identifiers
from lavka.clients.exports import neutralise
from lavka.clients.models import (
    Address,
    Client,
    ContactPoint,
    Contract,
    Employment,
    ImportantDate,
    Person,
    Tag,
    Tier,
    TierChange,
)
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors.blocks import people_visible_to
from lavka.clients.selectors.core import clients_visible_to
from lavka.clients.services.core import search_text_for
from lavka.imports.cleaning import (
    DIRECT_FIELDS,
    EXTRA_FIELDS,
    IMPORTED_FIELDS,
    KIND_WORDS,
    MATCH_KEYS,
    SEARCH_FIELDS,
    RowCleaner,
    RowProblem,
)
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.pipeline import OrderedWriter
from lavka.imports.readers import Table, open_table
from lavka.imports.writing import (
    FastInsert,
    PlannerStatistics,
    batch_commit_settings,
    clients_with,
    import_connection_setup,
    import_session,
    sqlite_checkpoint,
)

__all__ = [
    "BATCH_SIZE",
    "DIRECT_FIELDS",
    "EXTRA_FIELDS",
    "IMPORTED_FIELDS",
    "KIND_WORDS",
    "RowCleaner",
    "RowProblem",
    "column_fields",
    "error_report_path",
    "import_execute",
    "items_process",
    "run_table",
]

BATCH_SIZE = 2000
logger = logging.getLogger(__name__)


class StageTimes:
    """Seconds spent per stage of an import, summed over batches (and over the writer
    threads, so the stages can add up to more than the wall time). Logged at the end:
    `bench/import_clients` reads them to say where the time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self.started = time.perf_counter()

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now

    def timed(self, stream: Iterable[Any], stage: str) -> Iterator[Any]:
        """`stream`'s items, counting the time spent waiting for each as `stage`."""
        iterator = iter(stream)
        while True:
            since = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            self.add(stage, since)
            yield item

    def summary(self) -> dict[str, float]:
        wall = time.perf_counter() - self.started
        return {"wall": round(wall, 2), **{k: round(v, 2) for k, v in self.seconds.items()}}


COUNT_KEYS = ("created", "updated", "unchanged", "duplicates", "rejected")


CleanedCells = tuple[int, dict[str, str], dict[str, Any], list[RowProblem]]

# Set in the parent just before the cleaning processes fork; they inherit it.
_WORKER_CLEANER: RowCleaner | None = None


def _clean_batch(batch: list[tuple[int, list[str]]]) -> list[CleanedCells]:
    assert _WORKER_CLEANER is not None
    return [(n, *_WORKER_CLEANER.clean_cells(n, cells)) for n, cells in batch]


def _cleaned_in_parallel(
    importer: Importer, batches: Iterator[list[tuple[int, list[str]]]], workers: int
) -> Iterator[tuple[list[tuple[int, list[str]]], list[CleanedCells] | None]]:
    """Batches with their `clean_cells` results, computed by `workers` forked
    processes a few batches ahead (at most 2 per worker in flight, so memory stays
    bounded). The processes never touch the database."""
    import multiprocessing
    from collections import deque

    global _WORKER_CLEANER
    _WORKER_CLEANER = importer.cleaner
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        pending: deque[tuple[list[tuple[int, list[str]]], Any]] = deque()
        for batch in batches:
            pending.append((batch, pool.apply_async(_clean_batch, (batch,))))
            if len(pending) >= workers * 2:
                done, handle = pending.popleft()
                yield done, handle.get()
        while pending:
            done, handle = pending.popleft()
            yield done, handle.get()
    finally:
        pool.terminate()
        _WORKER_CLEANER = None


@dataclass
class BatchResult:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    problems: list[RowProblem] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    # row -> (status, client id or None): what became of each row of the batch.
    outcomes: dict[int, tuple[str, int | None]] = field(default_factory=dict)


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


def run_path(run: ImportRun) -> Path:
    return Path(settings.DATA_DIR) / run.file_path


def run_table(run: ImportRun) -> Table:
    return open_table(
        run_path(run),
        filename=run.original_name,
        encoding=run.encoding or None,
        delimiter=run.delimiter or None,
    )


def column_fields(run: ImportRun) -> dict[int, str]:
    """Column index -> field, keeping only fields the engine imports."""
    return {
        int(index): name for index, name in (run.mapping or {}).items() if name in IMPORTED_FIELDS
    }


class Matcher:
    """Finds what a row refers to: a client seen earlier in the file (a duplicate) or
    an existing client (by external id, then email, then INN)."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, int]] = {k: {} for k in MATCH_KEYS}
        self.touched: dict[int, int] = {}  # client id -> first row that touched it

    def duplicate_of(self, values: dict[str, Any]) -> tuple[str, int] | None:
        for key in MATCH_KEYS:
            value = values.get(key)
            if value and value.casefold() in self.seen[key]:
                return key, self.seen[key][value.casefold()]
        return None

    def remember(self, number: int, values: dict[str, Any]) -> None:
        for key in MATCH_KEYS:
            value = values.get(key)
            if value:
                self.seen[key].setdefault(value.casefold(), number)


def _typed(raw: dict[str, str], key: str, values: dict[str, Any]) -> str:
    """A matching value as the file has it: the report shows what the user typed."""
    found = raw.get(key) or (raw.get("mobile") if key == "phone" else "")
    return str(found or values[key])


def _duplicate_message(key: str, row: int) -> str:
    messages = {
        "external_id": _("Same external ID as row %(row)d."),
        "email": _("Same email as row %(row)d."),
        "inn": _("Same INN as row %(row)d."),
    }
    return messages[key] % {"row": row}


def _same_phone_message(pk: int | None, name: str) -> str:
    if pk is None:  # a client the importer may not see: say only that it exists
        return _("A client with this phone already exists.")
    return _("May be the same client as #%(id)d %(name)s (same phone).") % {"id": pk, "name": name}


def _existing_phones(
    rows: list[tuple[int, dict[str, Any]]], actor: Any
) -> dict[str, tuple[int | None, str]]:
    """phone (E.164) -> (id, name) of the oldest live client with it, for the phones of
    the rows that would create a client; (None, "") when `actor` may not see that
    client. One query per batch, two when a phone is found."""
    wanted = {values["phone"] for _n, values in rows if values.get("phone")}
    found: dict[str, tuple[int | None, str]] = {}
    for pk, phone, deleted_at, name in clients_with("phone", wanted, extra=", name"):
        if deleted_at is None:
            found[phone] = (pk, name)  # newest first: the oldest client wins
    if not found:
        return found
    ids = {pk for pk, _name in found.values()}
    visible = set(clients_visible_to(actor).filter(pk__in=ids).values_list("id", flat=True))
    return {p: (pk, name) if pk in visible else (None, "") for p, (pk, name) in found.items()}


def _not_yours_message(key: str) -> str:
    return {
        "external_id": _("A client with this external ID exists and is not yours to change."),
        "email": _("A client with this email exists and is not yours to change."),
        "inn": _("A client with this INN exists and is not yours to change."),
    }[key]


def _existing(rows: list[tuple[int, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    """key -> {value: client id} of the live clients with the batch's keys, one query
    per key."""
    found: dict[str, dict[str, int]] = {}
    for key in MATCH_KEYS:
        wanted = {values[key] for _n, values in rows if values.get(key)}
        ids: dict[str, int] = {}
        for pk, value, deleted_at in clients_with(key, wanted, live_only=key == "external_id"):
            if deleted_at is None:
                ids[value] = pk  # newest first: the oldest client wins
        found[key] = ids
    return found


def _compare_fields(values: dict[str, Any]) -> list[str]:
    return [n for n in values if n in DIRECT_SET]


@dataclass
class BatchPlan:
    """What a batch will do, decided before anything is written: the rows' outcomes
    and problems, the clients to create and to update."""

    first_row: int
    last_row: int
    result: BatchResult
    to_create: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    created_rows: list[int] = field(default_factory=list)
    to_update: list[tuple[Client, dict[str, Any], set[str]]] = field(default_factory=list)
    tag_ids: dict[str, int] = field(default_factory=dict)  # folded name -> tag id
    # The other blocks. A client is referred to by its id, or by ("new", i): the i-th
    # client of to_create; a person likewise by id or ("new", i) in people_new.
    addresses_new: list[tuple[Ref, dict[str, Any]]] = field(default_factory=list)
    addresses_changed: list[Address] = field(default_factory=list)
    people_new: list[dict[str, Any]] = field(default_factory=list)
    people_by_email: dict[str, Ref] = field(default_factory=dict)
    people_changed: list[tuple[Person, set[str]]] = field(default_factory=list)
    employments_new: list[tuple[Ref, Ref, str, bool]] = field(default_factory=list)
    employments_changed: list[Employment] = field(default_factory=list)
    dates_new: list[tuple[str, Ref, tuple[int, int, int | None]]] = field(default_factory=list)
    dates_changed: list[ImportantDate] = field(default_factory=list)

    @property
    def moves_keys(self) -> bool:
        """Whether an update changes what later rows are matched on: then the next
        batch is matched only after this one has committed."""
        return any(changed & KEY_FIELDS for _c, _v, changed in self.to_update)


KEY_FIELDS = {*MATCH_KEYS, "phone"}
DIRECT_SET = frozenset(DIRECT_FIELDS)
ORGANISATION = str(Client.Kind.ORGANISATION)
# What `_apply` and `_plan_blocks` report changed besides the client's own columns.
BLOCK_CHANGES = {"tags", "addresses", "people", "birthday"}
Ref = int | tuple[str, int]


@dataclass
class BlocksNow:
    """The other blocks of a batch's existing clients, as they are before it."""

    addresses: dict[int, list[Address]] = field(default_factory=dict)
    employments: dict[int, list[Employment]] = field(default_factory=dict)
    people_by_email: dict[str, Person] = field(default_factory=dict)
    birthdays: dict[tuple[str, int], ImportantDate] = field(default_factory=dict)


def _blocks_now(
    actor: Any, clients: dict[int, Client], rows: list[tuple[int, dict[str, Any]]]
) -> BlocksNow:
    """One query per block for the whole batch, and only for the blocks its rows fill."""
    now = BlocksNow()
    ids = list(clients)
    if ids and any("_address" in v for _n, v in rows):
        for address in Address.objects.filter(client_id__in=ids).order_by(
            "client_id", "-is_primary", "id"
        ):
            now.addresses.setdefault(address.client_id, []).append(address)
    contacts = [v["_contact"] for _n, v in rows if "_contact" in v]
    if contacts:
        if ids:
            for employment in (
                Employment.objects.filter(organisation_id__in=ids, person__deleted_at__isnull=True)
                .select_related("person")
                .order_by("organisation_id", "-is_primary", "id")
            ):
                now.employments.setdefault(employment.organisation_id, []).append(employment)
        emails = {c["email"] for c in contacts if c.get("email")}
        if emails:
            for person in people_visible_to(actor).filter(email__in=emails).order_by("id"):
                now.people_by_email.setdefault(person.email, person)
    if any("_birthday" in v for _n, v in rows):
        people = {e.person_id for found in now.employments.values() for e in found}
        people.update(p.pk for p in now.people_by_email.values())
        dates = ImportantDate.objects.filter(kind=ImportantDate.Kind.BIRTHDAY)
        for date in dates.filter(client_id__in=ids).order_by("id"):
            now.birthdays.setdefault(("client", date.client_id or 0), date)
        for date in dates.filter(person_id__in=people).order_by("id"):
            now.birthdays.setdefault(("person", date.person_id or 0), date)
    return now


PERSON_COLUMNS = ["first_name", "middle_name", "last_name", "email", "phone"]


def _person_search_text(person: dict[str, Any] | Person) -> str:
    """As `clients.services.blocks.person_create` makes it."""
    values = person if isinstance(person, dict) else {n: getattr(person, n) for n in PERSON_COLUMNS}
    return identifiers.folded(
        values["first_name"],
        values["last_name"],
        values["middle_name"],
        values["email"],
        values["phone"].lstrip("+"),
    )


def _full_name(first: str, middle: str, last: str) -> str:
    return identifiers.folded(first, middle, last)


def _same_person(employments: list[Employment], contact: dict[str, Any]) -> Employment | None:
    """The place of work of the row's contact among a client's: by email, phone, name."""
    email, phone = contact.get("email"), contact.get("phone")
    if email:
        for employment in employments:
            if employment.person.email == email:
                return employment
    if phone:
        for employment in employments:
            if employment.person.phone == phone:
                return employment
    name = _full_name(contact["first_name"], contact["middle_name"], contact["last_name"])
    for employment in employments:
        person = employment.person
        if _full_name(person.first_name, person.middle_name, person.last_name) == name:
            return employment
    return None


def _block_problem(
    cleaner: RowCleaner, number: int, raw: dict[str, str], values: dict[str, Any], kind: str
) -> RowProblem | None:
    """What the row's other blocks cannot be for a client of this kind."""
    if "_contact" in values and kind == Client.Kind.PERSON:
        return cleaner._problem(
            number, "contact_name", raw, _("Contact persons belong to organisations.")
        )
    if "_birthday" in values and kind == Client.Kind.ORGANISATION and "_contact" not in values:
        return cleaner._problem(
            number,
            "birthday",
            raw,
            _("An organisation has no birthday: give the contact person whose birthday it is."),
        )
    return None


class Importer:
    """One pass over a run's rows from `committed_row` on."""

    def __init__(self, *, run: ImportRun | None, actor: Any, dry_run: bool) -> None:
        """Without a run, rows come from the caller (`process`) with the columns named
        after IMPORTED_FIELDS, in that order (see `items_upsert`)."""
        self.run = run
        self.actor = actor
        self.dry_run = dry_run
        if run is not None:
            self.table: Table | None = run_table(run)
            header, fields = self.table.header, column_fields(run)
        else:
            self.table = None
            header, fields = list(IMPORTED_FIELDS), dict(enumerate(IMPORTED_FIELDS))
        self.cleaner = RowCleaner(actor=actor, header=header, fields=fields)
        self.matcher = Matcher()
        self.default_tier = Tier.objects.filter(is_default=True).order_by("order").first()
        self.tags: dict[str, Tag] = {}
        self.new_phones: dict[str, int] = {}  # phone -> row that creates a client with it
        # Emails of the contact persons earlier batches create, and how to wait until
        # those batches have committed (set when they are written in the background),
        # so that a later row with the same contact links that person.
        self.new_people: set[str] = set()
        self.settle: Callable[[], None] | None = None

    def batches(self, start_after: int) -> Iterator[list[tuple[int, list[str]]]]:
        assert self.table is not None
        batch: list[tuple[int, list[str]]] = []
        for number, cells in self.table.rows:
            if number <= start_after:
                continue
            batch.append((number, cells))
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    def process(
        self, batch: list[tuple[int, list[str]]], precleaned: list[CleanedCells] | None = None
    ) -> BatchResult:
        """Validate and match one batch; when not a dry run, write it (the caller holds
        the transaction). `precleaned`: the batch's `clean_cells` results, computed
        elsewhere (another process)."""
        plan = self.plan(batch, precleaned)
        if not self.dry_run:
            self.write(plan)
        return plan.result

    def plan(
        self, batch: list[tuple[int, list[str]]], precleaned: list[CleanedCells] | None = None
    ) -> BatchPlan:
        """Validate and match one batch against the file so far and the database;
        writes nothing but the tags the batch needs (unless a dry run)."""
        result = BatchResult()
        plan = BatchPlan(first_row=batch[0][0], last_row=batch[-1][0], result=result)
        good: list[tuple[int, dict[str, Any]]] = []
        typed: dict[int, dict[str, str]] = {}  # row -> cells as typed, for the report
        if precleaned is None:
            precleaned = [(n, *self.cleaner.clean_cells(n, cells)) for n, cells in batch]
        for number, raw, cleaned, cell_problems in precleaned:
            typed[number] = raw
            values, problems = self.cleaner.resolve(number, raw, cleaned, cell_problems)
            if problems:
                result.problems.extend(problems)
                result.counts["rejected"] += 1
                result.outcomes[number] = ("rejected", None)
                continue
            first = self.matcher.duplicate_of(values)
            if first is not None:
                key, earlier = first
                result.problems.append(
                    RowProblem(
                        number,
                        self.cleaner.columns.get(key, ""),
                        _typed(typed.get(number, {}), key, values)[:500],
                        _duplicate_message(key, earlier),
                        kind="duplicate",
                    )
                )
                result.counts["duplicates"] += 1
                result.outcomes[number] = ("duplicate", None)
                continue
            self.matcher.remember(number, values)
            good.append((number, values))
        existing = _existing(good)
        matched: dict[int, int] = {}  # row -> client id
        for number, values in good:
            for key in MATCH_KEYS:
                pk = existing[key].get(values.get(key) or "")
                if pk is not None:
                    matched[number] = pk
                    break
        clients: dict[int, Client] = {}
        if matched:
            clients = {
                c.pk: c
                for c in Client.objects.filter(pk__in=set(matched.values())).select_related("tier")
            }
        tags_now: dict[int, list[str]] = {}
        if clients and any("tags" in v for _n, v in good):
            for client_id, name in Client.tags.through.objects.filter(
                client_id__in=list(clients)
            ).values_list("client_id", "tag__name"):
                tags_now.setdefault(client_id, []).append(name)
        phone_column = self.cleaner.columns.get("phone", self.cleaner.columns.get("mobile", ""))
        # A new client whose phone an existing client already has is reported, not
        # created twice (fuzzy names are left to the background duplicates scan).
        phones = _existing_phones([(n, v) for n, v in good if n not in matched], self.actor)
        blocks_now = BlocksNow()
        if self.cleaner.blocks:
            if self.settle is not None and any(
                v["_contact"].get("email") in self.new_people for _n, v in good if "_contact" in v
            ):
                self.settle()
            blocks_now = _blocks_now(self.actor, clients, good)
        for number, values in good:
            pk = matched.get(number)
            if self.cleaner.blocks:
                kind = values.get("kind") or (
                    clients[pk].kind if pk is not None else Client.Kind.ORGANISATION
                )
                block_problem = _block_problem(
                    self.cleaner, number, typed.get(number, {}), values, kind
                )
                if block_problem is not None:
                    result.problems.append(block_problem)
                    result.counts["rejected"] += 1
                    result.outcomes[number] = ("rejected", None)
                    continue
            if pk is None:
                same_phone = phones.get(values.get("phone") or "")
                if same_phone is not None:
                    result.problems.append(
                        RowProblem(
                            number,
                            phone_column,
                            _typed(typed.get(number, {}), "phone", values)[:500],
                            _same_phone_message(*same_phone),
                            kind="duplicate",
                        )
                    )
                    result.counts["duplicates"] += 1
                    result.outcomes[number] = ("duplicate", same_phone[0])
                    continue
                phone_row = self.new_phones.get(values.get("phone") or "")
                if phone_row is not None:
                    result.problems.append(
                        RowProblem(
                            number,
                            phone_column,
                            _typed(typed.get(number, {}), "phone", values)[:500],
                            _("Same phone as row %(row)d.") % {"row": phone_row},
                            kind="duplicate",
                        )
                    )
                    result.counts["duplicates"] += 1
                    result.outcomes[number] = ("duplicate", None)
                    continue
                if values.get("phone"):
                    self.new_phones[values["phone"]] = number
                row = self._new_client(values)
                if self.cleaner.blocks:
                    self._plan_blocks(
                        plan, ("new", len(plan.to_create)), None, row, values, blocks_now
                    )
                plan.to_create.append((row, values))
                plan.created_rows.append(number)
                result.outcomes[number] = ("created", None)
                continue
            if pk in self.matcher.touched:
                key = next(k for k in MATCH_KEYS if existing[k].get(values.get(k) or "") == pk)
                result.problems.append(
                    RowProblem(
                        number,
                        self.cleaner.columns.get(key, ""),
                        _typed(typed.get(number, {}), key, values)[:500],
                        _("Same client as row %(row)d.") % {"row": self.matcher.touched[pk]},
                        kind="duplicate",
                    )
                )
                result.counts["duplicates"] += 1
                result.outcomes[number] = ("duplicate", None)
                continue
            self.matcher.touched[pk] = number
            client = clients[pk]
            if not can_edit_client(self.actor, client):
                key = next(k for k in MATCH_KEYS if existing[k].get(values.get(k) or "") == pk)
                result.problems.append(
                    RowProblem(
                        number,
                        self.cleaner.columns.get(key, ""),
                        _typed(typed.get(number, {}), key, values)[:500],
                        _not_yours_message(key),
                    )
                )
                result.counts["rejected"] += 1
                result.outcomes[number] = ("rejected", None)
                continue
            blocks_changed: set[str] = set()
            if self.cleaner.blocks:
                blocks_changed = self._plan_blocks(plan, pk, client, None, values, blocks_now)
                if "_address" in values and not values["_address"].get("primary", True):
                    # The row's city is that of one of the client's other addresses.
                    values = {k: v for k, v in values.items() if k != "city"}
            changed = self._apply(client, values, sorted(tags_now.get(pk, []), key=str.casefold))
            changed |= blocks_changed
            if changed:
                plan.to_update.append((client, values, changed))
                result.counts["updated"] += 1
                result.outcomes[number] = ("updated", pk)
            else:
                result.counts["unchanged"] += 1
                result.outcomes[number] = ("unchanged", pk)
        result.counts["created"] += len(plan.to_create)
        if not self.dry_run:
            names = {n for _r, v in plan.to_create for n in v.get("tags", [])}
            names.update(n for _c, v, ch in plan.to_update if "tags" in ch for n in v["tags"])
            if names:
                tags = self._tag_objects(names)
                plan.tag_ids = {n.casefold(): tags[n.casefold()].pk for n in names}
        return plan

    def _new_client(self, values: dict[str, Any]) -> dict[str, Any]:
        """The new client's column values ({attname: value}) for FastInsert."""
        owner = values.get("owner") or self.actor
        row = {n: v for n, v in values.items() if n in DIRECT_SET}
        if "kind" not in row:
            row["kind"] = ORGANISATION
        tier = values.get("tier") or self.default_tier
        row["owner_id"] = owner.pk
        row["team_id"] = owner.team_id
        row["tier_id"] = tier.pk if tier else None
        search = values.get("_search")
        if search is None:
            probe = SimpleNamespace(**{n: row.get(n, "") for n in SEARCH_FIELDS})
            search = search_text_for(probe)  # type: ignore[arg-type]
        row["search_text"] = search
        return row

    def _plan_blocks(
        self,
        plan: BatchPlan,
        ref: Ref,
        client: Client | None,
        row: dict[str, Any] | None,
        values: dict[str, Any],
        now: BlocksNow,
    ) -> set[str]:
        """Plan the row's address, contact person and birthday for a client (`client`,
        existing, or `row`, the new client's columns); which of them change. An
        existing client's address of the row's type (its main address when the row
        gives no type) and contact person (by email, phone, then name) are updated in
        place, so importing the same file again changes nothing."""
        changed: set[str] = set()
        kind = values.get("kind") or (client.kind if client else Client.Kind.ORGANISATION)
        address = values.get("_address")
        if address is not None:
            address["primary"] = True
            found = now.addresses.get(client.pk, []) if client else []
            wanted = address.get("kind")
            target = (
                next((a for a in found if a.kind == wanted), None)
                if wanted
                else (found[0] if found else None)
            )
            if target is None:
                fields = {
                    n: address.get(n, "") for n in ("country", "region", "postcode", "street")
                }
                fields["city"] = address["city"] or (client.city if client and not found else "")
                fields["kind"] = wanted or (
                    Address.Kind.POSTAL if kind == Client.Kind.PERSON else Address.Kind.LEGAL
                )
                fields["is_primary"] = address["primary"] = not found
                plan.addresses_new.append((ref, fields))
                changed.add("addresses")
            else:
                address["primary"] = target is found[0]
                differs = False
                for name in ("country", "region", "postcode", "street", "city"):
                    value = address.get(name)
                    if value and getattr(target, name) != value:
                        setattr(target, name, value)
                        differs = True
                if differs:
                    plan.addresses_changed.append(target)
                    changed.add("addresses")
        contact = values.get("_contact")
        person_ref: Ref | None = None
        if contact is not None:
            person_ref = self._plan_contact(plan, ref, client, row, contact, now, changed)
        birthday = values.get("_birthday")
        if birthday is not None:
            if kind == Client.Kind.PERSON:
                owner: tuple[str, Ref] | None = ("client", ref)
            else:
                owner = ("person", person_ref) if person_ref is not None else None
            if owner is not None:
                date = (
                    now.birthdays.get((owner[0], owner[1])) if isinstance(owner[1], int) else None
                )
                if date is None:
                    plan.dates_new.append((owner[0], owner[1], birthday))
                    changed.add("birthday")
                else:
                    month, day, year = birthday
                    if (date.month, date.day) != (month, day) or (year and date.year != year):
                        date.month, date.day, date.year = month, day, year or date.year
                        plan.dates_changed.append(date)
                        changed.add("birthday")
        return changed

    def _plan_contact(
        self,
        plan: BatchPlan,
        ref: Ref,
        client: Client | None,
        row: dict[str, Any] | None,
        contact: dict[str, Any],
        now: BlocksNow,
        changed: set[str],
    ) -> Ref:
        """The row's contact person at the client: found (and updated) or planned."""
        employments = now.employments.get(client.pk, []) if client else []
        email, phone = contact.get("email", ""), contact.get("phone", "")
        employment = _same_person(employments, contact) if employments else None
        title = contact.get("job_title", "")
        if employment:
            person = employment.person
            person_changed: set[str] = set()
            for field_name in ("first_name", "middle_name", "last_name", "email", "phone"):
                value = contact.get(field_name, "")
                if (value or field_name == "middle_name") and getattr(person, field_name) != value:
                    setattr(person, field_name, value)
                    person_changed.add(field_name)
            if person_changed:
                plan.people_changed.append((person, person_changed))
                changed.add("people")
            if title and employment.job_title != title:
                employment.job_title = title
                plan.employments_changed.append(employment)
                changed.add("people")
            return person.pk
        person_ref: Ref
        known = now.people_by_email.get(email) if email else None
        if known is not None:
            person_ref = known.pk
        elif email and email in plan.people_by_email:
            person_ref = plan.people_by_email[email]
        else:
            owner_id = client.owner_id if client else (row or {})["owner_id"]
            team_id = client.team_id if client else (row or {})["team_id"]
            new_person = {
                "first_name": contact["first_name"],
                "middle_name": contact["middle_name"],
                "last_name": contact["last_name"],
                "email": email,
                "phone": phone,
                "owner_id": owner_id,
                "team_id": team_id,
            }
            new_person["search_text"] = _person_search_text(new_person)
            person_ref = ("new", len(plan.people_new))
            plan.people_new.append(new_person)
            if email:
                plan.people_by_email[email] = person_ref
                self.new_people.add(email)
        plan.employments_new.append((person_ref, ref, title, not employments))
        changed.add("people")
        return person_ref

    def _apply(self, client: Client, values: dict[str, Any], tags_before: list[str]) -> set[str]:
        """Set the row's values on the client; the names of the fields that changed."""
        changed: set[str] = set()
        for name in _compare_fields(values):
            if getattr(client, name) != values[name]:
                setattr(client, name, values[name])
                changed.add(name)
        owner = values.get("owner")
        if owner is not None and owner.pk != client.owner_id:
            client.owner, client.team_id = owner, owner.team_id
            changed.update({"owner", "team"})
        tier = values.get("tier")
        if tier is not None and tier.pk != client.tier_id:
            client._import_old_tier = client.tier  # type: ignore[attr-defined]
            client.tier = tier
            changed.add("tier")
        if "tags" in values and [t.casefold() for t in values["tags"]] != [
            t.casefold() for t in tags_before
        ]:
            changed.add("tags")
        return changed

    def _tag_objects(self, names: Iterable[str]) -> dict[str, Tag]:
        wanted = {n.casefold(): n for n in names if n.casefold() not in self.tags}
        if wanted:
            for tag in Tag.objects.all():
                self.tags[tag.name.casefold()] = tag
            for folded_name, name in wanted.items():
                if folded_name not in self.tags:
                    self.tags[folded_name] = Tag.objects.create(name=name)
        return self.tags

    def write(self, plan: BatchPlan) -> None:
        """Write a planned batch (the caller holds the transaction). Touches no state
        of the importer, so it may run on another thread than `plan`."""
        result = plan.result
        actor_user = self.actor if getattr(self.actor, "is_authenticated", False) else None
        if plan.to_create:
            ids = FastInsert(Client).insert([row for row, _v in plan.to_create])
            result.created_ids = ids
            for number, pk in zip(plan.created_rows, ids, strict=True):
                result.outcomes[number] = ("created", pk)
            points: list[dict[str, Any]] = []
            tier_changes: list[dict[str, Any]] = []
            for pk, (row, _values) in zip(ids, plan.to_create, strict=True):
                for kind, key in (
                    (ContactPoint.Kind.EMAIL, "email"),
                    (ContactPoint.Kind.PHONE, "phone"),
                ):
                    if row.get(key):
                        points.append(
                            {"client_id": pk, "kind": kind, "value": row[key], "is_primary": True}
                        )
                if row.get("tier_id"):
                    tier_changes.append(
                        {
                            "client_id": pk,
                            "to_tier_id": row["tier_id"],
                            "changed_by_id": getattr(actor_user, "pk", None),
                        }
                    )
            FastInsert(ContactPoint).insert(points)
            FastInsert(TierChange).insert(tier_changes)
            _set_tags(
                [(pk, v) for pk, (_row, v) in zip(ids, plan.to_create, strict=True)],
                plan.tag_ids,
            )
        if plan.to_update:
            self._write_updates(plan, actor_user)
        _write_blocks(plan, result.created_ids)

    def _write_updates(self, plan: BatchPlan, actor_user: Any) -> None:
        from lavka.clients.services.core import _sync_primary_contacts

        to_update = plan.to_update
        now = timezone.now()
        fields: set[str] = set()
        ids = [c.pk for c, _v, _ch in to_update]
        # The search text keeps every contact point and contract number, as
        # clients.services.core.search_text_refresh makes it.
        extra: dict[int, list[str]] = {}
        for client_id, value in ContactPoint.objects.filter(client_id__in=ids).values_list(
            "client_id", "value"
        ):
            extra.setdefault(client_id, []).append(value.lstrip("+"))
        for client_id, number in Contract.objects.filter(client_id__in=ids).values_list(
            "client_id", "number"
        ):
            extra.setdefault(client_id, []).append(number)
        for client, _values, changed in to_update:
            client.version += 1
            client.updated_at = now
            client.search_text = search_text_for(client, extra.get(client.pk))
            fields.update(changed - BLOCK_CHANGES)
        Client.objects.bulk_update(
            [c for c, _v, _ch in to_update],
            sorted(fields | {"version", "updated_at", "search_text"}),
            batch_size=500,
        )
        plan.result.updated_ids = ids
        for client, _values, changed in to_update:
            if "email" in changed or "phone" in changed:
                _sync_primary_contacts(client)
        TierChange.objects.bulk_create(
            TierChange(
                client=c,
                from_tier=getattr(c, "_import_old_tier", None),
                to_tier=c.tier,
                changed_by=actor_user,
                reason=_("Import")[:300],
            )
            for c, _v, changed in to_update
            if "tier" in changed
        )
        tagged = [(c.pk, v) for c, v, changed in to_update if "tags" in changed]
        Client.tags.through.objects.filter(client_id__in=[pk for pk, _v in tagged]).delete()
        _set_tags(tagged, plan.tag_ids)


def _write_blocks(plan: BatchPlan, created_ids: list[int]) -> None:
    """Write the batch's addresses, contact persons (with their contact points and
    places of work) and birthdays: inserts in one statement per table."""

    def client_id(ref: Ref) -> int:
        return created_ids[ref[1]] if isinstance(ref, tuple) else ref

    FastInsert(Address).insert(
        [{**fields, "client_id": client_id(ref)} for ref, fields in plan.addresses_new]
    )
    if plan.addresses_changed:
        Address.objects.bulk_update(
            plan.addresses_changed, ["country", "region", "postcode", "street", "city"]
        )
    person_ids = FastInsert(Person).insert(plan.people_new)

    def person_id(ref: Ref) -> int:
        return person_ids[ref[1]] if isinstance(ref, tuple) else ref

    kinds = ((str(ContactPoint.Kind.EMAIL), "email"), (str(ContactPoint.Kind.PHONE), "phone"))
    points = [
        {"person_id": pk, "kind": kind, "value": person[key], "is_primary": True}
        for pk, person in zip(person_ids, plan.people_new, strict=True)
        for kind, key in kinds
        if person[key]
    ]
    if plan.people_changed:
        now = timezone.now()
        for person, _changed in plan.people_changed:
            person.version += 1
            person.updated_at = now
            person.search_text = _person_search_text(person)
        Person.objects.bulk_update(
            [p for p, _c in plan.people_changed],
            [*PERSON_COLUMNS, "search_text", "version", "updated_at"],
        )
        for kind, key in kinds:
            moved = [p for p, changed in plan.people_changed if key in changed]
            if not moved:
                continue
            ContactPoint.objects.filter(
                person_id__in=[p.pk for p in moved], kind=kind, is_primary=True
            ).delete()
            points.extend(
                {"person_id": p.pk, "kind": kind, "value": getattr(p, key), "is_primary": True}
                for p in moved
                if getattr(p, key)
            )
    FastInsert(ContactPoint).insert(points)
    FastInsert(Employment).insert(
        [
            {
                "person_id": person_id(person),
                "organisation_id": client_id(client),
                "job_title": title,
                "is_primary": primary,
            }
            for person, client, title, primary in plan.employments_new
        ]
    )
    if plan.employments_changed:
        Employment.objects.bulk_update(plan.employments_changed, ["job_title"])
    birthday = str(ImportantDate.Kind.BIRTHDAY)  # once: a choice's lookup is slow
    FastInsert(ImportantDate).insert(
        [
            {
                "client_id": client_id(ref) if owner == "client" else None,
                "person_id": person_id(ref) if owner == "person" else None,
                "kind": birthday,
                "month": month,
                "day": day,
                "year": year,
            }
            for owner, ref, (month, day, year) in plan.dates_new
        ]
    )
    if plan.dates_changed:
        ImportantDate.objects.bulk_update(plan.dates_changed, ["month", "day", "year"])


def _set_tags(items: list[tuple[int, dict[str, Any]]], tag_ids: dict[str, int]) -> None:
    pairs = {(pk, tag_ids[n.casefold()]) for pk, v in items for n in v.get("tags", [])}
    FastInsert(Client.tags.through).insert(
        [{"client_id": pk, "tag_id": tag_id} for pk, tag_id in sorted(pairs)]
    )


def problem_rows(run: ImportRun, problems: list[RowProblem]) -> list[ImportRowError]:
    """The run's row errors for `problems`, cut to their columns' lengths (every
    target's batches write theirs with one bulk insert)."""
    return [
        ImportRowError(
            run=run,
            row=p.row,
            column=p.column[:200],
            value=p.value[:500],
            reason=p.reason[:500],
            kind=p.kind,
        )
        for p in problems
    ]


def import_execute(
    *,
    run: ImportRun,
    actor: Any,
    dry_run: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Import (or, with `dry_run`, only check) the run's rows after its committed_row.

    Not a dry run: every batch commits on its own with the run's checkpoint and counts.
    Dry run: nothing is written but the run's counts and row errors, replaced whole.
    `workers` > 0 validates rows in that many forked processes and, outside a
    transaction, writes batches on background threads while the next ones are
    matched: only from a single-threaded program (the command line), never inside a
    threaded worker."""
    if dry_run:
        start_after = 0
        counts = empty_counts()
        ImportRowError.objects.filter(run=run).delete()
    else:
        start_after = run.committed_row
        counts = {
            **empty_counts(),
            **{k: v for k, v in (run.counts or {}).items() if k in COUNT_KEYS},
        }
        if start_after == 0:
            counts = empty_counts()
            ImportRowError.objects.filter(run=run).delete()
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
        run.counts = counts
    importer = Importer(run=run, actor=actor, dry_run=dry_run)
    if start_after and not dry_run:
        importer.matcher = _matcher_before(run, importer)
    done = start_after
    batches = importer.batches(start_after)
    stream: Iterator[tuple[list[tuple[int, list[str]]], list[CleanedCells] | None]] = (
        _cleaned_in_parallel(importer, batches, workers)
        if workers > 0
        else ((b, None) for b in batches)
    )
    statistics = PlannerStatistics()
    stages = StageTimes()
    # "read": reading the file, and validating when not in worker processes; with
    # them, waiting for their results.
    stream = stages.timed(stream, "read" if workers == 0 else "read+validate wait")
    with import_session(), _fewer_collections(workers > 0):
        if dry_run:
            for batch, precleaned in stream:
                result = importer.process(batch, precleaned)
                ImportRowError.objects.bulk_create(problem_rows(run, result.problems))
                for key in COUNT_KEYS:
                    counts[key] += result.counts[key]
                done = batch[-1][0]
                if progress is not None:
                    progress(done, run.options.get("last_row"))
        elif workers > 0 and not connection.in_atomic_block:
            # Other threads' connections could not see a caller's open transaction
            # (nor commit batches apart from it), so only outside one.
            done = (
                _import_pipelined(run, actor, importer, stream, statistics, progress, stages)
                or done
            )
            counts = dict(run.counts)
        else:
            for batch, precleaned in stream:
                since = time.perf_counter()
                with transaction.atomic():
                    batch_commit_settings()
                    plan = importer.plan(batch, precleaned)
                    since = stages.add("validate+match", since)
                    importer.write(plan)
                    since = stages.add("write", since)
                    counts = _batch_commit(run, actor, plan)
                stages.add("commit", since)
                run.committed_row, run.counts = plan.last_row, counts
                statistics.rows_added(len(plan.result.created_ids))
                done = plan.last_row
                if progress is not None:
                    progress(done, run.options.get("last_row"))
            counts = dict(run.counts)
    run.counts = {**counts, "dry_run": True} if dry_run else counts
    since = time.perf_counter()
    report = error_report_write(run)
    stages.add("error report", since)
    logger.info("import run %s stages (s): %s", run.pk, stages.summary())
    updates: dict[str, Any] = {"counts": run.counts, "error_report": report}
    if not dry_run:
        updates.update(status=ImportRun.Status.DONE, finished_at=timezone.now())
    ImportRun.objects.filter(pk=run.pk).update(**updates)
    run.error_report = report
    return {"counts": run.counts, "error_report": report, "last_row": done}


@contextlib.contextmanager
def _fewer_collections(enabled: bool) -> Iterator[None]:
    """Python's cycle collector, left as it is, spends a tenth of an import walking
    the program's long-lived objects again and again as each batch allocates and
    frees its rows. Set those aside (gc.freeze) and collect the young generation
    less often. Process-wide, so only in a single-threaded program (`workers` > 0)."""
    if not enabled:
        yield
        return
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _batch_commit(run: ImportRun, actor: Any, plan: BatchPlan) -> dict[str, int]:
    """The rest of a written batch's transaction: its row errors, the run's checkpoint
    and counts, one audit event and one outbox event. The run's counts with the
    batch's: the caller sets them on `run` once the transaction has committed, so a
    batch that rolls back is not counted."""
    result = plan.result
    ImportRowError.objects.bulk_create(problem_rows(run, result.problems))
    counts = {key: run.counts.get(key, 0) + result.counts[key] for key in COUNT_KEYS}
    ImportRun.objects.filter(pk=run.pk).update(committed_row=plan.last_row, counts=counts)
    audit_record(
        action=Action.UPDATE,
        subject=run,
        actor=actor,
        changes={
            "batch": [plan.first_row, plan.last_row],
            "counts": result.counts,
            "created": result.created_ids,
            "updated": result.updated_ids,
            **_block_counts(plan),
        },
        meta={"via": "import"},
    )
    if result.created_ids or result.updated_ids:
        outbox_publish(
            kind="clients.imported",
            payload={
                "run_id": run.pk,
                "created": result.created_ids,
                "updated": result.updated_ids,
            },
        )
    return counts


def _block_counts(plan: BatchPlan) -> dict[str, int]:
    """How many addresses, contact persons and birthdays the batch added or changed."""
    counts = {
        "addresses": len(plan.addresses_new) + len(plan.addresses_changed),
        "people": len(plan.people_new) + len(plan.people_changed) + len(plan.employments_new),
        "birthdays": len(plan.dates_new) + len(plan.dates_changed),
    }
    return {k: v for k, v in counts.items() if v}


WRITER_THREADS = {"postgresql": 2, "sqlite": 1}


def _import_pipelined(
    run: ImportRun,
    actor: Any,
    importer: Importer,
    stream: Iterable[tuple[list[tuple[int, list[str]]], list[CleanedCells] | None]],
    statistics: PlannerStatistics,
    progress: Callable[[int, int | None], None] | None,
    stages: StageTimes,
) -> int:
    """The batches planned here and written on background threads (`OrderedWriter`):
    on PostgreSQL two transactions at a time, so that both cores do the database's
    share (index upkeep, constraint checks); on SQLite, which has one writer, the
    database works while the next batch is matched. The last committed row."""

    def write(plan: BatchPlan, turn: Callable[[], None]) -> None:
        since = time.perf_counter()
        with transaction.atomic():
            batch_commit_settings()
            importer.write(plan)
            since = stages.add("write (writer threads)", since)
            turn()  # the batches before this one have committed
            since = stages.add("wait for turn (writer threads)", since)
            counts = _batch_commit(run, actor, plan)
        stages.add("commit (writer threads)", since)
        run.committed_row, run.counts = plan.last_row, counts

    writer = OrderedWriter(
        write=write,
        threads=WRITER_THREADS.get(connection.vendor, 1),
        # The writer's commits do not copy the write-ahead log into the database file
        # (a tenth of its work on SQLite): this thread does, between batches.
        setup=functools.partial(import_connection_setup, checkpoints=False),
    )
    importer.settle = writer.drain
    last_rows: list[int] = []
    created: list[int] = []
    reported = 0

    def committed_so_far() -> int:
        nonlocal reported
        count = writer.committed
        statistics.rows_added(sum(created[reported:count]))
        reported = count
        return last_rows[count - 1] if count else 0

    try:
        for batch, precleaned in stream:
            since = time.perf_counter()
            plan = importer.plan(batch, precleaned)
            since = stages.add("match", since)
            writer.submit(plan)
            stages.add("wait for writers", since)
            sqlite_checkpoint()
            last_rows.append(plan.last_row)
            created.append(len(plan.to_create))
            if plan.moves_keys:
                writer.drain()
            if progress is not None:
                progress(committed_so_far() or run.committed_row, run.options.get("last_row"))
    except BaseException:
        # Let the batches already handed over commit (or fail) before giving up.
        with contextlib.suppress(BaseException):
            writer.close()
        raise
    writer.close()
    sqlite_checkpoint()
    committed_so_far()
    return last_rows[-1] if last_rows else 0


def _matcher_before(run: ImportRun, importer: Importer) -> Matcher:
    """Rebuild the in-file duplicate memory from the rows already committed, so a
    resumed run reports the same duplicates as an uninterrupted one."""
    matcher = Matcher()
    rejected = set(
        ImportRowError.objects.filter(run=run, row__lte=run.committed_row).values_list(
            "row", flat=True
        )
    )
    table = run_table(run)
    cleaner = RowCleaner(actor=importer.actor, header=table.header, fields=column_fields(run))
    keys = [i for i, n in cleaner.fields.items() if n in MATCH_KEYS]
    for number, cells in table.rows:
        if number > run.committed_row:
            break
        if number in rejected or not keys:
            continue
        values, problems = cleaner.clean(number, cells)
        if not problems:
            matcher.remember(number, values)
    return matcher


def error_report_path(run: ImportRun) -> Path:
    return Path(settings.DATA_DIR) / "imports" / f"run-{run.pk}-errors.csv"


def error_report_write(run: ImportRun) -> str:
    """Write the run's row errors to a CSV file; its path relative to the data dir."""
    path = error_report_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([_("Row"), _("Column"), _("Value"), _("Problem"), _("Kind")])
        for error in ImportRowError.objects.filter(run=run).order_by("row", "id").iterator():
            writer.writerow(
                [
                    error.row,
                    neutralise(error.column),
                    neutralise(error.value),
                    neutralise(error.reason),
                    error.kind,
                ]
            )
    return str(path.relative_to(Path(settings.DATA_DIR)))


def item_cells(item: dict[str, Any]) -> list[str]:
    """A bulk item ({field: value}) as a row whose columns are IMPORTED_FIELDS."""
    cells: list[str] = []
    for name in IMPORTED_FIELDS:
        value = item.get(name)
        if value is None:
            cells.append("")
        elif isinstance(value, list | tuple):
            cells.append(",".join(str(v) for v in value))
        else:
            cells.append(str(value))
    return cells


def items_process(
    *, actor: Any, items: list[tuple[int, dict[str, Any]]], dry_run: bool
) -> BatchResult:
    """Validate, match and (unless `dry_run`) write one batch of (row number,
    {field: value}) pairs exactly as a file import's batch; the caller holds the
    transaction and records the audit event."""
    importer = Importer(run=None, actor=actor, dry_run=dry_run)
    return importer.process([(number, item_cells(item)) for number, item in items])
