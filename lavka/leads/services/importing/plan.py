"""A lead import's batches: each checked, matched against the file so far and the live
leads, planned (what to create, update, report), then written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.clients.models import Client, ContactPoint
from lavka.clients.selectors import clients_visible_to
from lavka.imports.cleaning import RowProblem
from lavka.imports.engine import run_table
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.readers import Table
from lavka.leads.import_fields import LEAD_IMPORTED_FIELDS
from lavka.leads.models import Lead
from lavka.leads.permissions import can_assign_lead, can_edit_lead
from lavka.leads.services.importing.rows import (
    MATCH_KEYS,
    REFUSED,
    UPDATED,
    WRITTEN,
    RowCleaner,
    conflicts,
)
from lavka.leads.services.values import Errors, lead_identity_check

BATCH_SIZE = 2000
COUNT_KEYS = ("created", "updated", "unchanged", "duplicates", "client_matches", "rejected")


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
            if found is not None and not conflicts(key, values, found[1]):
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
                if not conflicts(key, values, {k: getattr(lead, k) for k in MATCH_KEYS}):
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
