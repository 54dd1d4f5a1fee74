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
outbox event. A resumed run starts after the last committed batch. When the run ends,
each owner the file gave new leads to (other than the importer) is notified once, with
their number and a link to their leads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.imports.cleaning import RowProblem
from lavka.imports.engine import error_report_write, problem_rows, run_table
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.targets import ImportTarget
from lavka.leads.import_fields import lead_auto_map, lead_field_choices
from lavka.leads.permissions import can_create_lead
from lavka.leads.services.importing.plan import COUNT_KEYS, BatchPlan, LeadImporter
from lavka.leads.services.importing.rows import REFUSED
from lavka.leads.services.values import Errors, lead_fields_clean
from lavka.notifications.services import notify

__all__ = [
    "COUNT_KEYS",
    "LEADS_IMPORT",
    "leads_import_execute",
    "leads_import_message",
    "leads_import_preview",
]


def _batch_commit(run: ImportRun, actor: Any, plan: BatchPlan) -> dict[str, int]:
    """The rest of a written batch's transaction: its row errors, the run's checkpoint
    and counts, one audit event and one outbox event. The counts with the batch's."""
    ImportRowError.objects.bulk_create(problem_rows(run, plan.problems))
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


def _tell_owners(run: ImportRun, actor: Any, new_per_owner: Counter[int]) -> None:
    """Each owner other than the importer hears once how many new leads the file gave
    them, in their own language, with a link to their open leads."""
    owners = get_user_model().objects.filter(
        pk__in=[pk for pk in new_per_owner if pk != getattr(actor, "pk", None)]
    )
    for owner in owners:
        count = new_per_owner[owner.pk]
        with translation.override(getattr(owner, "language", "") or settings.LANGUAGE_CODE):
            notify(
                recipient=owner,
                title=ngettext(
                    "%(count)d new lead for you from the file “%(file)s”",
                    "%(count)d new leads for you from the file “%(file)s”",
                    count,
                )
                % {"count": count, "file": run.original_name},
                url=f"/sales/leads/?owner={owner.pk}",
            )


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
    new_per_owner: Counter[int] = Counter()
    try:
        if start_after:
            importer.remember_until(start_after)
            importer.close()
            importer.table = run_table(run)
        for batch in importer.batches(start_after):
            if dry_run:
                plan = importer.plan(batch)
                ImportRowError.objects.bulk_create(problem_rows(run, plan.problems))
                for key in COUNT_KEYS:
                    counts[key] += plan.counts[key]
            else:
                with transaction.atomic():
                    _require_importer(actor)
                    plan = importer.plan(batch)
                    importer.write(plan)
                    counts = _batch_commit(run, actor, plan)
                run.committed_row, run.counts = plan.last_row, counts
                new_per_owner.update(lead.owner_id for lead in plan.to_create)
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
    if new_per_owner:
        _tell_owners(run, actor, new_per_owner)
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
