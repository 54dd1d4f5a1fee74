"""The client import engine: read an ImportRun's file, validate each row exactly as the
UI does, and upsert clients in batches.

Each batch is one transaction: its clients, its row errors, one audit event, one
outbox event and the run's `committed_row` checkpoint commit together, so a crash
leaves no partial batch and a resumed run starts right after the last whole one.
Existing clients are found with one query per key per batch (external id, email,
INN), never per row.
"""

from __future__ import annotations

import csv
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
from lavka.clients.models import Client, ContactPoint, Tag, Tier, TierChange
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors.core import clients_visible_to
from lavka.clients.services.core import client_fields_clean, search_text_for
from lavka.core.errors import ValidationFailed
from lavka.identity.access import Action as AccessAction
from lavka.identity.access import Area, can_access
from lavka.identity.models import User
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.readers import Table, open_table

BATCH_SIZE = 2000
COUNT_KEYS = ("created", "updated", "unchanged", "duplicates", "rejected")

# Fields that land on the client itself; the other importable ones are handled below.
DIRECT_FIELDS = [
    "external_id",
    "kind",
    "name",
    "legal_name",
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "phone",
    "website",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "inn",
    "kpp",
    "ogrn",
    "vat",
    "city",
    "notes",
]
EXTRA_FIELDS = ["mobile", "owner", "tier", "tags"]
IMPORTED_FIELDS = [*DIRECT_FIELDS, *EXTRA_FIELDS]
MATCH_KEYS = ("external_id", "email", "inn")
SEARCH_FIELDS = (
    "name",
    "legal_name",
    "email",
    "phone",
    "inn",
    "ogrn",
    "vat",
    "city",
    "external_id",
)

KIND_WORDS = {
    "organisation": Client.Kind.ORGANISATION,
    "organization": Client.Kind.ORGANISATION,
    "company": Client.Kind.ORGANISATION,
    "org": Client.Kind.ORGANISATION,
    "организация": Client.Kind.ORGANISATION,
    "компания": Client.Kind.ORGANISATION,
    "юрлицо": Client.Kind.ORGANISATION,
    "юр лицо": Client.Kind.ORGANISATION,
    "юридическое лицо": Client.Kind.ORGANISATION,
    "person": Client.Kind.PERSON,
    "private person": Client.Kind.PERSON,
    "individual": Client.Kind.PERSON,
    "contact": Client.Kind.PERSON,
    "физлицо": Client.Kind.PERSON,
    "физ лицо": Client.Kind.PERSON,
    "физическое лицо": Client.Kind.PERSON,
    "частное лицо": Client.Kind.PERSON,
}


@dataclass
class RowProblem:
    row: int
    column: str
    value: str
    reason: str
    kind: str = "rejected"


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


class RowCleaner:
    """Turns a file row into cleaned client values, or the list of its problems.

    Caches the lookups (tiers, owners) so a million rows cost a handful of queries."""

    def __init__(self, *, actor: Any, header: list[str], fields: dict[int, str]) -> None:
        self.actor = actor
        self.header = header
        self.fields = fields
        self.columns = {
            name: header[i] if i < len(header) else str(i + 1) for i, name in fields.items()
        }
        self.tiers: dict[str, Tier] = {}
        for tier in Tier.objects.all():
            self.tiers[tier.code.casefold()] = tier
            self.tiers[tier.name.casefold()] = tier
            self.tiers[str(tier.display_name).casefold()] = tier
        self.owners: dict[str, User | None] = {}

    def owner(self, value: str) -> User | None:
        key = value.strip().casefold()
        if key not in self.owners:
            self.owners[key] = (
                User.objects.filter(username__iexact=key).first()
                or User.objects.filter(email__iexact=key).first()
            )
        return self.owners[key]

    def clean(self, number: int, cells: list[str]) -> tuple[dict[str, Any], list[RowProblem]]:
        raw, cleaned, problems = self.clean_cells(number, cells)
        return self.resolve(number, raw, cleaned, problems)

    def clean_cells(
        self, number: int, cells: list[str]
    ) -> tuple[dict[str, str], dict[str, Any], list[RowProblem]]:
        """The part of cleaning that needs no database (so it can run in another
        process): the client's own fields, tags, and the search text of a new client."""
        raw: dict[str, str] = {}
        for index, name in self.fields.items():
            raw[name] = cells[index].strip() if index < len(cells) else ""
        problems: list[RowProblem] = []
        values: dict[str, Any] = {n: raw[n] for n in DIRECT_FIELDS if n in raw}
        values.setdefault("name", "")
        if "kind" in values:
            word = identifiers.folded(values["kind"]).strip() if values["kind"] else ""
            values["kind"] = KIND_WORDS.get(word.replace("-", " "), word) or (
                Client.Kind.ORGANISATION
            )
        if raw.get("mobile") and not values.get("phone"):
            values["phone"] = raw["mobile"]
        try:
            cleaned = client_fields_clean(values)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                column_field = name
                if name == "phone" and "phone" not in raw and "mobile" in raw:
                    column_field = "mobile"
                for message in messages:
                    problems.append(
                        RowProblem(
                            number,
                            self.columns.get(column_field, ""),
                            str(raw.get(column_field, ""))[:500],
                            str(message),
                        )
                    )
            cleaned = {}
        # An empty cell changes nothing: a new client gets the field's default, an
        # existing one keeps its value.
        cleaned = {k: v for k, v in cleaned.items() if v not in ("", None) or k == "name"}
        if raw.get("tags"):
            parts = raw["tags"].replace(";", ",").split(",")
            cleaned["tags"] = sorted({p.strip()[:60] for p in parts if p.strip()}, key=str.casefold)
        if not problems:
            probe = SimpleNamespace(**{n: cleaned.get(n, "") for n in SEARCH_FIELDS})
            cleaned["_search"] = search_text_for(probe)  # type: ignore[arg-type]
        return raw, cleaned, problems

    def resolve(
        self, number: int, raw: dict[str, str], cleaned: dict[str, Any], problems: list[RowProblem]
    ) -> tuple[dict[str, Any], list[RowProblem]]:
        """Owner and tier, which need the database (cached)."""
        if raw.get("owner"):
            owner = self.owner(raw["owner"])
            if owner is None:
                problems.append(
                    RowProblem(
                        number,
                        self.columns["owner"],
                        raw["owner"][:500],
                        _("There is no user with this name or email."),
                    )
                )
            elif not can_access(
                self.actor,
                area=Area.CLIENTS,
                action=AccessAction.WRITE,
                owner_id=owner.pk,
                team_id=owner.team_id,
            ):
                problems.append(
                    RowProblem(
                        number,
                        self.columns["owner"],
                        raw["owner"][:500],
                        _("You cannot give clients to this user."),
                    )
                )
            else:
                cleaned["owner"] = owner
        if raw.get("tier"):
            tier = self.tiers.get(raw["tier"].casefold())
            if tier is None:
                problems.append(
                    RowProblem(
                        number, self.columns["tier"], raw["tier"][:500], _("There is no such tier.")
                    )
                )
            else:
                cleaned["tier"] = tier
        return cleaned, problems


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
    client. Two queries per batch."""
    wanted = {values["phone"] for _n, values in rows if values.get("phone")}
    found: dict[str, tuple[int | None, str]] = {}
    if not wanted:
        return found
    for pk, phone, name in (
        Client.objects.exclude(phone="")
        .filter(phone__in=wanted)
        .order_by("-id")
        .values_list("id", "phone", "name")
    ):
        found[phone] = (pk, name)
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
    """key -> {value: client id} for the batch's keys, one query per key."""
    found: dict[str, dict[str, int]] = {}
    for key in MATCH_KEYS:
        wanted = {values[key] for _n, values in rows if values.get(key)}
        ids: dict[str, int] = {}
        if wanted:
            manager: Any = Client.objects if key == "external_id" else Client.all_objects
            for pk, value, deleted_at in (
                # Shaped so that both databases use the key's partial index (external
                # id: WHERE <> '' AND deleted_at IS NULL; email, INN: WHERE <> '') rather
                # than scanning every live client through the deleted_at index; trashed
                # clients are skipped here.
                manager.exclude(**{key: ""})
                .filter(**{f"{key}__in": wanted})
                .order_by("-id")
                .values_list("id", key, "deleted_at")
            ):
                if deleted_at is not None:
                    continue
                ids[value] = pk  # ordered by -id: the oldest client wins
        found[key] = ids
    return found


def _compare_fields(values: dict[str, Any]) -> list[str]:
    return [n for n in values if n in DIRECT_FIELDS]


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
        result = BatchResult()
        good: list[tuple[int, dict[str, Any]]] = []
        if precleaned is None:
            precleaned = [(n, *self.cleaner.clean_cells(n, cells)) for n, cells in batch]
        for number, raw, cleaned, cell_problems in precleaned:
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
                        str(values[key])[:500],
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
        to_create: list[tuple[dict[str, Any], dict[str, Any]]] = []
        created_rows: list[int] = []
        to_update: list[tuple[Client, dict[str, Any], set[str]]] = []
        # A new client whose phone an existing client already has is reported, not
        # created twice (fuzzy names are left to the background duplicates scan).
        phones = _existing_phones([(n, v) for n, v in good if n not in matched], self.actor)
        for number, values in good:
            pk = matched.get(number)
            if pk is None:
                same_phone = phones.get(values.get("phone") or "")
                if same_phone is not None:
                    result.problems.append(
                        RowProblem(
                            number,
                            self.cleaner.columns.get(
                                "phone", self.cleaner.columns.get("mobile", "")
                            ),
                            str(values["phone"])[:500],
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
                            self.cleaner.columns.get(
                                "phone", self.cleaner.columns.get("mobile", "")
                            ),
                            str(values["phone"])[:500],
                            _("Same phone as row %(row)d.") % {"row": phone_row},
                            kind="duplicate",
                        )
                    )
                    result.counts["duplicates"] += 1
                    result.outcomes[number] = ("duplicate", None)
                    continue
                if values.get("phone"):
                    self.new_phones[values["phone"]] = number
                to_create.append((self._new_client(values), values))
                created_rows.append(number)
                continue
            if pk in self.matcher.touched:
                key = next(k for k in MATCH_KEYS if existing[k].get(values.get(k) or "") == pk)
                result.problems.append(
                    RowProblem(
                        number,
                        self.cleaner.columns.get(key, ""),
                        str(values[key])[:500],
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
                        str(values[key])[:500],
                        _not_yours_message(key),
                    )
                )
                result.counts["rejected"] += 1
                result.outcomes[number] = ("rejected", None)
                continue
            changed = self._apply(client, values, sorted(tags_now.get(pk, []), key=str.casefold))
            if changed:
                to_update.append((client, values, changed))
                result.counts["updated"] += 1
                result.outcomes[number] = ("updated", pk)
            else:
                result.counts["unchanged"] += 1
                result.outcomes[number] = ("unchanged", pk)
        result.counts["created"] += len(to_create)
        if not self.dry_run:
            self._write(result, to_create, to_update)
        for i, number in enumerate(created_rows):
            new_id = result.created_ids[i] if result.created_ids else None
            result.outcomes[number] = ("created", new_id)
        return result

    def _new_client(self, values: dict[str, Any]) -> dict[str, Any]:
        """The new client's column values ({attname: value}) for FastInsert."""
        owner = values.get("owner") or self.actor
        row = {n: v for n, v in values.items() if n in DIRECT_FIELDS}
        row.setdefault("kind", Client.Kind.ORGANISATION)
        tier = values.get("tier") or self.default_tier
        row.update(owner_id=owner.pk, team_id=owner.team_id, tier_id=tier.pk if tier else None)
        search = values.get("_search")
        if search is None:
            probe = SimpleNamespace(**{n: row.get(n, "") for n in SEARCH_FIELDS})
            search = search_text_for(probe)  # type: ignore[arg-type]
        row["search_text"] = search
        return row

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

    def _write(
        self,
        result: BatchResult,
        to_create: list[tuple[dict[str, Any], dict[str, Any]]],
        to_update: list[tuple[Client, dict[str, Any], set[str]]],
    ) -> None:
        actor_user = self.actor if getattr(self.actor, "is_authenticated", False) else None
        if to_create:
            ids = FastInsert(Client).insert([row for row, _v in to_create])
            result.created_ids = ids
            points: list[dict[str, Any]] = []
            tier_changes: list[dict[str, Any]] = []
            for pk, (row, _values) in zip(ids, to_create, strict=True):
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
            if points:
                FastInsert(ContactPoint).insert(points)
            if tier_changes:
                FastInsert(TierChange).insert(tier_changes)
            self._set_tags(
                [(pk, v) for pk, (_row, v) in zip(ids, to_create, strict=True) if v.get("tags")]
            )
        if to_update:
            now = timezone.now()
            fields: set[str] = set()
            for client, _values, changed in to_update:
                client.version += 1
                client.updated_at = now
                client.search_text = search_text_for(client)
                fields.update(changed - {"tags"})
            Client.objects.bulk_update(
                [c for c, _v, _ch in to_update],
                sorted(fields | {"version", "updated_at", "search_text"}),
                batch_size=500,
            )
            result.updated_ids = [c.pk for c, _v, _ch in to_update]
            from lavka.clients.services.core import _sync_primary_contacts

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
            through = Client.tags.through
            through.objects.filter(client_id__in=[pk for pk, _v in tagged]).delete()
            self._set_tags(tagged)

    def _set_tags(self, items: list[tuple[int, dict[str, Any]]]) -> None:
        if not items:
            return
        tags = self._tag_objects({n for _c, v in items for n in v.get("tags", [])})
        pairs = {(pk, tags[n.casefold()].pk) for pk, v in items for n in v.get("tags", [])}
        FastInsert(Client.tags.through).insert(
            [{"client_id": pk, "tag_id": tag_id} for pk, tag_id in sorted(pairs)]
        )


class FastInsert:
    """Multi-row INSERT ... RETURNING id built directly, for the hot path: Django's
    bulk_create spends most of an import's time compiling SQL. Columns not given take
    the field's default (evaluated once per batch)."""

    ROWS_PER_STATEMENT = 400

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        now = timezone.now()
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = now
            else:
                value = f.get_default()  # "" for text fields without a default
            self.defaults[f.attname] = (
                f.get_db_prep_save(value, connection) if value is not None else None
            )
        qn = connection.ops.quote_name
        self.head = (
            f"INSERT INTO {qn(model._meta.db_table)} "  # noqa: S608 (names from the model)
            f"({', '.join(qn(f.column) for f in self.fields)}) VALUES "
        )
        self.one = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.tail = f" RETURNING {qn(model._meta.pk.column)}"

    def insert(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert rows ({attname: python value}); their ids, in order."""
        if not rows:
            return []
        if connection.vendor == "postgresql":
            return self._copy(rows)
        ids: list[int] = []
        names = [f.attname for f in self.fields]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.ROWS_PER_STATEMENT):
                part = rows[start : start + self.ROWS_PER_STATEMENT]
                params: list[Any] = []
                for row in part:
                    merged = {**self.defaults, **row}
                    params.extend(merged[n] for n in names)
                cursor.execute(self.head + ", ".join([self.one] * len(part)) + self.tail, params)
                ids.extend(r[0] for r in cursor.fetchall())
        return ids

    def _copy(self, rows: list[dict[str, Any]]) -> list[int]:
        """PostgreSQL: take the ids from the table's sequence in one query, then COPY
        the rows in, which is several times faster than INSERT."""
        table = self.model._meta.db_table
        pk = self.model._meta.pk.column
        qn = connection.ops.quote_name
        names = [f.attname for f in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
            columns = ", ".join(qn(c) for c in [pk, *(f.column for f in self.fields)])
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {qn(table)} ({columns}) FROM STDIN") as copy:
                for pk_value, row in zip(ids, rows, strict=True):
                    merged = {**self.defaults, **row}
                    copy.write_row([pk_value, *(merged[n] for n in names)])
        return ids


def _problem_rows(run: ImportRun, problems: list[RowProblem]) -> list[ImportRowError]:
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
    `workers` > 0 validates rows in that many forked processes: only from a
    single-threaded program (the command line), never inside a threaded worker."""
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
    for batch, precleaned in stream:
        if dry_run:
            result = importer.process(batch, precleaned)
            ImportRowError.objects.bulk_create(_problem_rows(run, result.problems))
        else:
            with transaction.atomic():
                result = importer.process(batch, precleaned)
                ImportRowError.objects.bulk_create(_problem_rows(run, result.problems))
                for key in COUNT_KEYS:
                    counts[key] += result.counts[key]
                ImportRun.objects.filter(pk=run.pk).update(
                    committed_row=batch[-1][0], counts=counts
                )
                run.committed_row = batch[-1][0]
                audit_record(
                    action=Action.UPDATE,
                    subject=run,
                    actor=actor,
                    changes={
                        "batch": [batch[0][0], batch[-1][0]],
                        "counts": result.counts,
                        "created": result.created_ids,
                        "updated": result.updated_ids,
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
        if dry_run:
            for key in COUNT_KEYS:
                counts[key] += result.counts[key]
        done = batch[-1][0]
        if progress is not None:
            progress(done, run.options.get("last_row"))
    run.counts = {**counts, "dry_run": True} if dry_run else counts
    report = error_report_write(run)
    updates: dict[str, Any] = {"counts": run.counts, "error_report": report}
    if not dry_run:
        updates.update(status=ImportRun.Status.DONE, finished_at=timezone.now())
    ImportRun.objects.filter(pk=run.pk).update(**updates)
    run.error_report = report
    return {"counts": run.counts, "error_report": report, "last_row": done}


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
