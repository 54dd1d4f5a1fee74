"""Lead import: the "leads" target of the import engine (lavka.imports), registered
in `LeadsConfig.ready()`, so that upload, column mapping, saved mappings, preview,
dry run, the background job with its progress, resume and the row-error report work
as for clients and orders.

Each row is checked by the leads' own rules (`values.lead_fields_clean`: lengths,
email syntax, phone to E.164, INN checksum; `lead_identity_check`: a company or a
contact name, and an email or a phone), with messages in the importer's language.
A too-long utm tag is cut, as on the public form. An owner column names a user by
username or email (default: the importer).

A row is matched to a live lead by external ID, then email, then phone; a match on a
later key counts only when the earlier keys, where both sides have them, agree (two
people behind one office phone stay two leads). The same rule finds rows repeating
an earlier row of the file (`duplicate`, skipped). A matched lead is updated with the
row's non-empty cells; one the importer may not change is refused; a converted lead
is left as it is. So importing the same file again changes nothing.

A new lead's source is the file's when it names a known one (a code, or a label in
English or Russian), else "import" (an unknown word is noted in the report); its
campaign is the file's, else the import's own (`options["campaign"]`), else the utm
campaign. An existing lead keeps its source and campaign unless the file has them.

A new lead whose INN, email or phone is that of a client the importer can see is
imported and reported (`client_match`) with that client, as the conversion's
duplicate check would match it (names are compared only there, lead by lead).

Batches of BATCH_SIZE rows, each one transaction: the sales write permission checked,
the new leads (one multi-row INSERT), the changed ones (one UPDATE), the row errors,
the run's checkpoint and counts, one audit event on the run and one `leads.imported`
outbox event. A resumed run starts after the last committed batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.clients.models import Client, ContactPoint
from lavka.clients.selectors import clients_visible_to
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.identity.models import User
from lavka.imports.cleaning import RowProblem
from lavka.imports.engine import error_report_write, run_table
from lavka.imports.mapping import normalise
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.readers import Table
from lavka.imports.targets import ImportTarget
from lavka.leads.import_fields import (
    LEAD_IMPORTED_FIELDS,
    NAME_PARTS,
    lead_auto_map,
    lead_field_choices,
    source_words,
)
from lavka.leads.models import Lead
from lavka.leads.permissions import can_assign_lead, can_create_lead, can_edit_lead
from lavka.leads.services.values import Errors, lead_fields_clean, lead_identity_check

BATCH_SIZE = 2000
COUNT_KEYS = ("created", "updated", "unchanged", "duplicates", "client_matches", "rejected")
MATCH_KEYS = ("external_id", "email", "phone")
TEXT_FIELDS = [
    "company",
    "contact_name",
    "email",
    "phone",
    "inn",
    "message",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
]
CUT_FIELDS = ("utm_source", "utm_medium", "utm_campaign")  # cut, never a reason to refuse
# What a row may change on an existing lead.
UPDATED = ["external_id", *TEXT_FIELDS, "source"]
WRITTEN = [*UPDATED, "owner", "team", "search_text", "version", "updated_at"]
EXTERNAL_ID_LIMIT = 100
REFUSED = ("rejected", "duplicate")  # kinds of problem after which the row is not written


def _contact_name(raw: dict[str, str]) -> str:
    """The contact name as typed, or made of the name parts the way conversion splits
    it again: "First Last", or "Last First Middle" with a middle name."""
    if raw.get("contact_name"):
        return raw["contact_name"]
    last, first, middle = (" ".join(raw.get(n, "").split()) for n in NAME_PARTS)
    parts = [last, first, middle] if middle else [first, last]
    return " ".join(p for p in parts if p)


def _conflicts(key: str, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two records sharing `key` differ in a key ranked before it."""
    for earlier in MATCH_KEYS[: MATCH_KEYS.index(key)]:
        if a.get(earlier) and b.get(earlier) and a[earlier] != b[earlier]:
            return True
    return False


class RowCleaner:
    """A file row as a lead's cleaned values, or its problems. Caches owners."""

    def __init__(self, *, actor: Any, header: list[str], fields: dict[int, str]) -> None:
        self.actor = actor
        self.field_items = sorted(fields.items())
        self.columns = {
            name: header[i] if i < len(header) else str(i + 1) for i, name in fields.items()
        }
        self.sources = source_words()
        self.owners: dict[str, User | None] = {}

    def column(self, name: str) -> str:
        """The header of the column a message about `name` belongs under ("" for the
        row as a whole)."""
        if name in self.columns:
            return self.columns[name]
        alternatives = {
            "contact_name": [*NAME_PARTS[::-1], "company"],
            "email": ["phone"],
        }
        return next((self.columns[n] for n in alternatives.get(name, []) if n in self.columns), "")

    def owner(self, value: str) -> User | None:
        key = value.strip().casefold()
        if key not in self.owners:
            users = User.objects.filter(is_active=True)
            self.owners[key] = (
                users.filter(username__iexact=key).first()
                or users.filter(email__iexact=key).first()
            )
        return self.owners[key]

    def clean(
        self, number: int, cells: list[str]
    ) -> tuple[dict[str, str], dict[str, Any], list[RowProblem]]:
        """(the cells as typed by field, the cleaned values, the problems). Empty
        cells give no value: they change nothing on an existing lead."""
        width = len(cells)
        raw = {name: cells[i].strip() if i < width else "" for i, name in self.field_items}
        problems: list[RowProblem] = []
        text = {n: raw[n] for n in TEXT_FIELDS if raw.get(n)}
        name = _contact_name(raw)
        if name:
            text["contact_name"] = name
        for tag in CUT_FIELDS:
            if tag in text:
                text[tag] = " ".join(text[tag].split())[:100]
        errors: Errors = {}
        values: dict[str, Any] = lead_fields_clean(text, errors)
        for field_name, messages in errors.items():
            for message in messages:
                problems.append(self.problem(number, field_name, raw, message))
        external_id = " ".join(raw.get("external_id", "").split())
        if len(external_id) > EXTERNAL_ID_LIMIT:
            problems.append(
                self.problem(
                    number,
                    "external_id",
                    raw,
                    _("At most %(max)s characters.") % {"max": EXTERNAL_ID_LIMIT},
                )
            )
        elif external_id:
            values["external_id"] = external_id
        if raw.get("source"):
            source = self.sources.get(normalise(raw["source"]))
            if source is None:
                problems.append(
                    RowProblem(
                        number,
                        self.column("source"),
                        raw["source"][:500],
                        _("Not a source Lavka knows: the lead's source is “%(source)s”.")
                        % {"source": Lead.Source.IMPORT.label},
                        kind="note",
                    )
                )
            else:
                values["source"] = source
        if raw.get("owner"):
            owner = self.owner(raw["owner"])
            if owner is None:
                problems.append(
                    self.problem(
                        number, "owner", raw, _("There is no user with this name or email.")
                    )
                )
            else:
                values["owner"] = owner
        return raw, values, problems

    def problem(
        self, number: int, name: str, raw: dict[str, str], reason: str, kind: str = "rejected"
    ) -> RowProblem:
        value = raw.get(name) or (_contact_name(raw) if name == "contact_name" else "")
        return RowProblem(number, self.column(name), value[:500], str(reason), kind=kind)


@dataclass
class BatchPlan:
    first_row: int
    last_row: int
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    problems: list[RowProblem] = field(default_factory=list)
    to_create: list[Lead] = field(default_factory=list)
    to_update: list[Lead] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)


def _duplicate_message(key: str, row: int) -> str:
    return {
        "external_id": _("Same external ID as row %(row)d."),
        "email": _("Same email as row %(row)d."),
        "phone": _("Same phone as row %(row)d."),
    }[key] % {"row": row}


def _not_yours_message(key: str) -> str:
    return {
        "external_id": _("A lead with this external ID exists and is not yours to change."),
        "email": _("A lead with this email exists and is not yours to change."),
        "phone": _("A lead with this phone exists and is not yours to change."),
    }[key]


def _client_match_message(key: str, client_id: int, name: str) -> str:
    return {
        "inn": _(
            "Imported; the client “%(name)s” (#%(id)d) has the same INN: "
            "attach the lead to it when converting."
        ),
        "email": _(
            "Imported; the client “%(name)s” (#%(id)d) has the same email: "
            "attach the lead to it when converting."
        ),
        "phone": _(
            "Imported; the client “%(name)s” (#%(id)d) has the same phone: "
            "attach the lead to it when converting."
        ),
    }[key] % {"name": name, "id": client_id}


class LeadImporter:
    """One pass over a run's rows after a given row."""

    def __init__(self, *, run: ImportRun, actor: Any, dry_run: bool) -> None:
        self.run = run
        self.actor = actor
        self.dry_run = dry_run
        self.table: Table = run_table(run)
        fields = {
            int(i): name for i, name in (run.mapping or {}).items() if name in LEAD_IMPORTED_FIELDS
        }
        self.cleaner = RowCleaner(actor=actor, header=self.table.header, fields=fields)
        self.campaign = str((run.options or {}).get("campaign", ""))
        # key -> value -> (the first row with it, that row's keys): in-file duplicates.
        self.seen: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {k: {} for k in MATCH_KEYS}
        self.touched: dict[int, int] = {}  # existing lead id -> the row that matched it

    def close(self) -> None:
        close = getattr(self.table.rows, "close", None)
        if close:
            close()

    def batches(
        self, start_after: int, size: int | None = None
    ) -> Iterator[list[tuple[int, list[str]]]]:
        size = size or BATCH_SIZE
        batch: list[tuple[int, list[str]]] = []
        for number, cells in self.table.rows:
            if number <= start_after:
                continue
            batch.append((number, cells))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def remember_until(self, last_row: int) -> None:
        """Remember the keys of the rows up to `last_row` that were written, so a resumed
        run reports the same in-file duplicates as an uninterrupted one."""
        refused = set(
            ImportRowError.objects.filter(
                run=self.run, row__lte=last_row, kind__in=REFUSED
            ).values_list("row", flat=True)
        )
        for number, cells in self.table.rows:
            if number > last_row:
                break
            if number in refused:
                continue
            _raw, values, _problems = self.cleaner.clean(number, cells)
            self._remember(number, values)

    def _earlier_row(self, values: dict[str, Any]) -> tuple[str, int] | None:
        for key in MATCH_KEYS:
            value = values.get(key)
            found = self.seen[key].get(value) if value else None
            if found is not None and not _conflicts(key, values, found[1]):
                return key, found[0]
        return None

    def _remember(self, number: int, values: dict[str, Any]) -> None:
        keys = {k: values.get(k, "") for k in MATCH_KEYS}
        for key in MATCH_KEYS:
            if keys[key]:
                self.seen[key].setdefault(keys[key], (number, keys))

    def _existing(self, rows: list[tuple[int, dict[str, Any]]]) -> dict[str, dict[str, list[Lead]]]:
        """key -> value -> the live leads with it, oldest first: one query per key for
        the batch and one for the leads (locked when the batch writes)."""
        ids: set[int] = set()
        by_key: dict[str, dict[str, list[int]]] = {}
        for key in MATCH_KEYS:
            wanted = {values[key] for _n, values in rows if values.get(key)}
            found: dict[str, list[int]] = {}
            if wanted:
                pairs = (
                    Lead.objects.filter(**{f"{key}__in": wanted})
                    .exclude(**{key: ""})
                    .order_by("id")
                    .values_list("id", key)
                )
                for pk, value in pairs:
                    found.setdefault(value, []).append(pk)
                    ids.add(pk)
            by_key[key] = found
        if not ids:
            return {key: {} for key in MATCH_KEYS}
        leads = Lead.objects.filter(pk__in=ids)
        if not self.dry_run:
            leads = leads.select_for_update(of=("self",))
        loaded = {lead.pk: lead for lead in leads}
        return {
            key: {v: [loaded[pk] for pk in pks if pk in loaded] for v, pks in found.items()}
            for key, found in by_key.items()
        }

    def plan(self, batch: list[tuple[int, list[str]]]) -> BatchPlan:
        """Check and match one batch; decide what to create and update. Writes nothing.
        Rows are decided in file order, and only a row that is written is remembered
        for the in-file duplicates of later rows."""
        plan = BatchPlan(first_row=batch[0][0], last_row=batch[-1][0])
        counts = plan.counts
        cleaned: list[tuple[int, dict[str, str], dict[str, Any], list[RowProblem]]] = []
        for number, cells in batch:
            raw, values, problems = self.cleaner.clean(number, cells)
            if any(p.kind == "rejected" for p in problems):
                plan.problems.extend(p for p in problems if p.kind == "rejected")
                counts["rejected"] += 1
            else:
                cleaned.append((number, raw, values, problems))
        existing = self._existing([(n, v) for n, _r, v, _p in cleaned])
        created: list[tuple[int, dict[str, str], Lead]] = []
        now = timezone.now()
        for number, raw, values, notes in cleaned:
            earlier = self._earlier_row(values)
            if earlier is not None:
                key, row = earlier
                plan.problems.append(
                    self.cleaner.problem(
                        number, key, raw, _duplicate_message(key, row), kind="duplicate"
                    )
                )
                counts["duplicates"] += 1
                continue
            match = self._match(values, existing)
            if match is None:
                lead = self._new_lead(number, raw, values, plan)
                if lead is None:
                    counts["rejected"] += 1
                    continue
                plan.to_create.append(lead)
                created.append((number, raw, lead))
                outcome = "created"
            else:
                key, lead = match
                if lead.pk in self.touched:
                    plan.problems.append(
                        self.cleaner.problem(
                            number,
                            key,
                            raw,
                            _("Same lead as row %(row)d.") % {"row": self.touched[lead.pk]},
                            kind="duplicate",
                        )
                    )
                    counts["duplicates"] += 1
                    continue
                outcome = self._update(number, raw, values, key, lead, plan, now)
                counts[outcome] += 1
                if outcome not in ("updated", "unchanged"):
                    continue
                self.touched[lead.pk] = number
            self._remember(number, values)
            plan.problems.extend(notes)
        counts["created"] += len(plan.to_create)
        self._flag_client_matches(created, plan)
        return plan

    def _match(
        self, values: dict[str, Any], existing: dict[str, dict[str, list[Lead]]]
    ) -> tuple[str, Lead] | None:
        for key in MATCH_KEYS:
            value = values.get(key)
            for lead in existing[key].get(value, []) if value else []:
                if not _conflicts(key, values, {k: getattr(lead, k) for k in MATCH_KEYS}):
                    return key, lead
        return None

    def _new_lead(
        self, number: int, raw: dict[str, str], values: dict[str, Any], plan: BatchPlan
    ) -> Lead | None:
        """The new lead of a row that matches none, or None when the row is refused."""
        errors: Errors = {}
        lead_identity_check(values, errors)
        owner = values.get("owner") or self.actor
        if errors:
            for name, messages in errors.items():
                plan.problems.extend(self.cleaner.problem(number, name, raw, m) for m in messages)
        elif not can_edit_lead(self.actor, Lead(owner_id=owner.pk, team_id=owner.team_id)):
            plan.problems.append(
                self.cleaner.problem(number, "owner", raw, _("You cannot give leads to this user."))
            )
        else:
            fields = {n: v for n, v in values.items() if n in UPDATED}
            fields.setdefault("source", Lead.Source.IMPORT)
            if not fields.get("campaign"):
                fields["campaign"] = self.campaign or fields.get("utm_campaign", "")
            lead = Lead(**fields, owner_id=owner.pk, team_id=owner.team_id)
            lead.search_text = lead.search_text_of()
            return lead
        return None

    def _update(
        self,
        number: int,
        raw: dict[str, str],
        values: dict[str, Any],
        key: str,
        lead: Lead,
        plan: BatchPlan,
        now: Any,
    ) -> str:
        """Plan the row's changes to its lead; the outcome to count."""
        if not can_edit_lead(self.actor, lead):
            plan.problems.append(self.cleaner.problem(number, key, raw, _not_yours_message(key)))
            return "rejected"
        changed = {n: v for n, v in values.items() if n in UPDATED and getattr(lead, n) != v}
        owner = values.get("owner")
        if owner is not None and owner.pk != lead.owner_id:
            if not can_assign_lead(self.actor, lead, owner=owner):
                plan.problems.append(
                    self.cleaner.problem(
                        number, "owner", raw, _("You cannot give leads to this user.")
                    )
                )
                return "rejected"
            changed["owner"] = owner
        if not changed:
            return "unchanged"
        if lead.status == Lead.Status.CONVERTED:
            plan.problems.append(
                self.cleaner.problem(
                    number,
                    key,
                    raw,
                    _("Same as lead #%(id)d, which has been converted: left as it is.")
                    % {"id": lead.pk},
                    kind="duplicate",
                )
            )
            return "duplicates"
        for name, value in changed.items():
            setattr(lead, name, value)
        if "owner" in changed:
            lead.team_id = changed["owner"].team_id
        lead.version += 1
        lead.updated_at = now
        lead.search_text = lead.search_text_of()
        plan.to_update.append(lead)
        return "updated"

    def _flag_client_matches(
        self, created: list[tuple[int, dict[str, str], Lead]], plan: BatchPlan
    ) -> None:
        """Report each new lead whose INN, email or phone (in that order, as the
        duplicate check ranks them) is that of a client the importer can see."""
        wanted = {
            k: {getattr(lead, k) for _n, _r, lead in created} - {""}
            for k in ("inn", "email", "phone")
        }
        if not any(wanted.values()):
            return
        visible = clients_visible_to(self.actor)
        condition = Q(pk__in=[])
        for key, values in wanted.items():
            if values:
                condition |= Q(**{f"{key}__in": values})
        clients: dict[tuple[str, str], tuple[int, str]] = {}
        for pk, name, *keys in (
            visible.filter(condition)
            .order_by("id")
            .values_list("id", "name", "inn", "email", "phone")
        ):
            for key, value in zip(("inn", "email", "phone"), keys, strict=True):
                if value in wanted[key]:
                    clients.setdefault((key, value), (pk, name))
        points = [
            (client_id, kind, value)
            for client_id, kind, value in ContactPoint.objects.filter(
                Q(kind=ContactPoint.Kind.EMAIL, value__in=wanted["email"])
                | Q(kind=ContactPoint.Kind.PHONE, value__in=wanted["phone"]),
                client_id__in=visible.values("pk"),
            )
            .order_by("client_id")
            .values_list("client_id", "kind", "value")
            if (kind, value) not in clients
        ]
        if points:
            names = dict(
                Client.objects.filter(pk__in={p[0] for p in points}).values_list("id", "name")
            )
            for client_id, kind, value in points:
                clients.setdefault((kind, value), (client_id, names.get(client_id, "")))
        for number, raw, lead in created:
            for key in ("inn", "email", "phone"):
                found = clients.get((key, getattr(lead, key))) if getattr(lead, key) else None
                if found is not None:
                    plan.problems.append(
                        self.cleaner.problem(
                            number,
                            key,
                            raw,
                            _client_match_message(key, *found),
                            kind="client_match",
                        )
                    )
                    plan.counts["client_matches"] += 1
                    break

    def write(self, plan: BatchPlan) -> None:
        """Write a planned batch (the caller holds the transaction)."""
        created = Lead.objects.bulk_create(plan.to_create)
        plan.created_ids = [lead.pk for lead in created]
        if plan.to_update:
            Lead.objects.bulk_update(plan.to_update, WRITTEN)


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


def _batch_commit(run: ImportRun, actor: Any, plan: BatchPlan) -> dict[str, int]:
    """The rest of a written batch's transaction: its row errors, the run's checkpoint
    and counts, one audit event and one outbox event. The counts with the batch's."""
    ImportRowError.objects.bulk_create(_problem_rows(run, plan.problems))
    counts = {key: (run.counts or {}).get(key, 0) + plan.counts[key] for key in COUNT_KEYS}
    ImportRun.objects.filter(pk=run.pk).update(committed_row=plan.last_row, counts=counts)
    updated_ids = [lead.pk for lead in plan.to_update]
    audit_record(
        action=Action.UPDATE,
        subject=run,
        actor=actor,
        changes={
            "batch": [plan.first_row, plan.last_row],
            "counts": plan.counts,
            "created": plan.created_ids,
            "updated": updated_ids,
        },
        meta={"via": "import", "target": "leads"},
    )
    if plan.created_ids or updated_ids:
        outbox_publish(
            kind="leads.imported",
            payload={"run_id": run.pk, "created": plan.created_ids, "updated": updated_ids},
        )
    return counts


def _require_importer(actor: Any) -> None:
    if not can_create_lead(actor):
        raise NotPermitted(action="import", resource="lead")


def leads_import_execute(
    *,
    run: ImportRun,
    actor: Any,
    dry_run: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Import (or, with `dry_run`, only check) the run's rows after its committed_row.

    Not a dry run: every batch commits on its own with the run's checkpoint and
    counts, after checking again that the actor may create leads (NotPermitted stops
    the run; it can be resumed). Dry run: nothing is written but the run's counts and
    row errors, replaced whole. `workers` is accepted for the engine's signature:
    leads are few enough to be read here."""
    del workers
    _require_importer(actor)
    if dry_run:
        start_after = 0
        counts = dict.fromkeys(COUNT_KEYS, 0)
        ImportRowError.objects.filter(run=run).delete()
    else:
        start_after = run.committed_row
        counts = {**dict.fromkeys(COUNT_KEYS, 0), **(run.counts or {})}
        counts.pop("dry_run", None)
        if start_after == 0:
            counts = dict.fromkeys(COUNT_KEYS, 0)
            ImportRowError.objects.filter(run=run).delete()
        ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
        run.counts = counts
    importer = LeadImporter(run=run, actor=actor, dry_run=dry_run)
    done = start_after
    total = (run.options or {}).get("last_row")
    try:
        if start_after:
            importer.remember_until(start_after)
            importer.close()
            importer.table = run_table(run)
        for batch in importer.batches(start_after):
            if dry_run:
                plan = importer.plan(batch)
                ImportRowError.objects.bulk_create(_problem_rows(run, plan.problems))
                for key in COUNT_KEYS:
                    counts[key] += plan.counts[key]
            else:
                with transaction.atomic():
                    _require_importer(actor)
                    plan = importer.plan(batch)
                    importer.write(plan)
                    counts = _batch_commit(run, actor, plan)
                run.committed_row, run.counts = plan.last_row, counts
            done = plan.last_row
            if progress is not None:
                progress(done, total)
    finally:
        importer.close()
    run.counts = {**counts, "dry_run": True} if dry_run else dict(counts)
    report = error_report_write(run)
    updates: dict[str, Any] = {"counts": run.counts, "error_report": report}
    if not dry_run:
        updates.update(status=ImportRun.Status.DONE, finished_at=timezone.now())
    ImportRun.objects.filter(pk=run.pk).update(**updates)
    run.error_report = report
    return {"counts": run.counts, "error_report": report, "last_row": done}


def leads_import_preview(*, viewer: Any, run: ImportRun, limit: int = 20) -> dict[str, Any]:
    """The first rows as the import would take them (matched against the leads too),
    each cell with the problem that would refuse its row (None when fine)."""
    importer = LeadImporter(run=run, actor=viewer, dry_run=True)
    header = importer.table.header
    fields = {i: name for i, name in importer.cleaner.field_items}
    by_column = {h: i for i, h in reversed(list(enumerate(header))) if i in fields}
    rows = []
    try:
        batch = next(importer.batches(0, size=limit), [])
        plan = importer.plan(batch) if batch else None
        refused: dict[int, list[RowProblem]] = {}
        for problem in plan.problems if plan else []:
            if problem.kind in REFUSED:
                refused.setdefault(problem.row, []).append(problem)
        for number, cells in batch:
            errors: dict[int, str] = {}
            row_errors: list[str] = []
            for problem in refused.get(number, []):
                index = by_column.get(problem.column)
                if index is None or index in errors:
                    row_errors.append(problem.reason)
                else:
                    errors[index] = problem.reason
            rows.append(
                {
                    "row": number,
                    "cells": [
                        {"value": cells[i] if i < len(cells) else "", "error": errors.get(i)}
                        for i in range(len(header))
                    ],
                    "errors": row_errors,
                }
            )
    finally:
        importer.close()
    return {
        "header": header,
        "fields": {str(i): f for i, f in fields.items()},
        "rows": rows,
        "columns": {name: index for index, name in fields.items()},
    }


def leads_mapping_problems(fields: set[str]) -> list[str]:
    """What a lead import's mapping lacks: a way to reach a new lead or find an existing
    one. (A file without names can still update leads; its new ones are refused row by
    row, as a lead needs a name.)"""
    if not fields & {"email", "phone", "external_id"}:
        return [_("Map a column to the email or the phone.")]
    return []


def leads_import_options_clean(options: dict[str, Any]) -> dict[str, Any]:
    """A lead import's own choices: the campaign of every new lead without one."""
    errors: Errors = {}
    cleaned = lead_fields_clean({"campaign": options.get("campaign", "")}, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def leads_import_message(counts: dict[str, Any]) -> str:
    """The outcome of a lead import (or its dry run) in one sentence."""
    values = {k: counts.get(k, 0) for k in COUNT_KEYS}
    if counts.get("dry_run"):
        return (
            _(
                "Checked: %(created)d leads would be created, %(updated)d updated, "
                "%(unchanged)d unchanged; duplicates %(duplicates)d, like existing clients "
                "%(client_matches)d, rejected %(rejected)d."
            )
            % values
        )
    return (
        _(
            "Leads: created %(created)d, updated %(updated)d, unchanged %(unchanged)d, "
            "duplicates %(duplicates)d, like existing clients %(client_matches)d, "
            "rejected %(rejected)d."
        )
        % values
    )


LEADS_IMPORT = ImportTarget(
    name="leads",
    resource="lead",
    job_kind="leads.import",
    can_import=can_create_lead,
    field_choices=lead_field_choices,
    auto_map=lead_auto_map,
    mapping_problems=leads_mapping_problems,
    execute=leads_import_execute,
    preview=leads_import_preview,
    message=leads_import_message,
    options_clean=leads_import_options_clean,
)
