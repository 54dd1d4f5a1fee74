"""Exporting the clients a user can see (any filtered list) to CSV or XLSX, as a
background job or from the command line.

Cells a spreadsheet would run as formulas (starting with = + - @, tab or CR) get a
leading apostrophe. A round-trip export writes values raw, for re-import into Lavka
only, and says so in its first line.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lavka.clients.models import Address, Client
from lavka.clients.selectors import client_list
from lavka.core.errors import NotPermitted
from lavka.jobs.models import Job
from lavka.jobs.queue import enqueue_on_commit
from lavka.jobs.runner import Progress
from lavka.jobs.services import job_create

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Column names are the import's field names, so an export maps itself on re-import;
# "lavka_id" is deliberately not an import synonym.
COLUMNS = [
    "lavka_id",
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
    "region",
    "postcode",
    "country",
    "street",
    "preferred_channel",
    "preferred_time",
    "payment_terms_days",
    "price_list",
    "discount_percent",
    "credit_limit",
    "bank_name",
    "bank_bic",
    "bank_account",
    "bank_correspondent_account",
    "owner",
    "team",
    "tier",
    "tags",
    "notes",
    "last_contact_at",
    "next_step_at",
    "next_step_title",
    "created_at",
]
FORMATS = ("csv", "xlsx")
ROUND_TRIP_NOTE = "# Lavka round-trip export: values are raw, for re-import only."


def neutralise(value: Any) -> str:
    """A cell value that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_path(job_id: int, fmt: str = "csv") -> Path:
    return Path(settings.DATA_DIR) / "exports" / f"clients-{job_id}.{fmt}"


def clients_filtered(*, viewer: Any, filters: dict[str, Any]) -> QuerySet[Client]:
    """The viewer's clients narrowed by the list page's filters (q, kind, tier, tag,
    owner)."""
    owner = str(filters.get("owner") or "")
    clients = client_list(
        viewer=viewer,
        query=str(filters.get("q") or "").strip(),
        kind=str(filters.get("kind") or ""),
        owner_id=int(owner) if owner.isdigit() else None,
    )
    tier = str(filters.get("tier") or "")
    if tier:
        clients = (
            clients.filter(tier__code=tier)
            if not tier.isdigit()
            else clients.filter(tier_id=int(tier))
        )
    tag = str(filters.get("tag") or "")
    if tag:
        clients = clients.filter(tags__name__iexact=tag)
    return clients


def _rows(clients: QuerySet[Client]) -> Iterator[list[Any]]:
    chunk: list[Client] = []
    base = clients.select_related(None).select_related("owner", "team", "tier")
    for client in base.iterator(chunk_size=2000):
        chunk.append(client)
        if len(chunk) >= 2000:
            yield from _chunk_rows(chunk)
            chunk = []
    if chunk:
        yield from _chunk_rows(chunk)


def _chunk_rows(chunk: list[Client]) -> Iterator[list[Any]]:
    tags: dict[int, list[str]] = {}
    for client_id, name in Client.tags.through.objects.filter(
        client_id__in=[c.pk for c in chunk]
    ).values_list("client_id", "tag__name"):
        tags.setdefault(client_id, []).append(name)
    # The primary address of each client (the one the card shows first).
    addresses: dict[int, Address] = {}
    for found in Address.objects.filter(client_id__in=[c.pk for c in chunk]).order_by(
        "client_id", "-is_primary", "id"
    ):
        addresses.setdefault(found.client_id, found)
    for c in chunk:
        address = addresses.get(c.pk)
        yield [
            c.pk,
            c.external_id,
            c.kind,
            c.name,
            c.legal_name,
            c.first_name,
            c.middle_name,
            c.last_name,
            c.email,
            c.phone,
            c.website,
            c.industry,
            c.size,
            "" if c.annual_revenue is None else c.annual_revenue,
            c.currency,
            c.inn,
            c.kpp,
            c.ogrn,
            c.vat,
            c.city,
            address.region if address else "",
            address.postcode if address else "",
            address.country if address else "",
            address.street if address else "",
            c.preferred_channel,
            c.preferred_time,
            "" if c.payment_terms_days is None else c.payment_terms_days,
            c.price_list,
            "" if c.discount_percent is None else c.discount_percent,
            "" if c.credit_limit is None else c.credit_limit,
            c.bank_name,
            c.bank_bic,
            c.bank_account,
            c.bank_correspondent_account,
            c.owner.get_username(),
            c.team.name if c.team else "",
            c.tier.code if c.tier else "",
            ", ".join(sorted(tags.get(c.pk, []))),
            c.notes,
            c.last_contact_at.isoformat() if c.last_contact_at else "",
            c.next_step_at.isoformat() if c.next_step_at else "",
            c.next_step_title,
            c.created_at.isoformat(),
        ]


def clients_write(
    *,
    viewer: Any,
    path: Path,
    fmt: str = "csv",
    filters: dict[str, Any] | None = None,
    round_trip: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the viewer's (filtered) clients to `path` as CSV or XLSX; the number
    written. The file appears whole or not at all (written aside, then renamed)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    clients = clients_filtered(viewer=viewer, filters=filters or {})
    total = clients.count()
    if progress is not None:
        progress(0, total)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    cell: Callable[[Any], Any] = (
        (lambda v: "" if v is None else str(v)) if round_trip else (neutralise)
    )
    written = 0
    if fmt == "csv":
        with tmp.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            if round_trip:
                fh.write(ROUND_TRIP_NOTE + "\r\n")
            writer.writerow(COLUMNS)
            for row in _rows(clients):
                writer.writerow([cell(v) for v in row])
                written += 1
                if progress is not None:
                    progress(written, total)
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Clients"))
        if round_trip:
            workbook.create_sheet("README").append([ROUND_TRIP_NOTE])
        sheet.append(COLUMNS)
        for row in _rows(clients):
            sheet.append([cell(v) for v in row])
            written += 1
            if progress is not None:
                progress(written, total)
        workbook.save(tmp)
    tmp.replace(path)
    return written


@transaction.atomic
def client_export_start(
    *, actor: Any, query: str = "", fmt: str = "csv", filters: dict[str, Any] | None = None
) -> Job:
    """Export the actor's (filtered) client list in the background."""
    if not getattr(actor, "is_authenticated", False):
        raise NotPermitted(action="export", resource="client")
    if fmt not in FORMATS:
        fmt = "csv"
    from lavka.clients.tasks import client_export_task

    params = {
        "query": query,
        "format": fmt,
        "filters": {**(filters or {}), "q": query or (filters or {}).get("q", "")},
    }
    job = job_create(
        actor=actor,
        kind="clients.export",
        title=_("Export clients to CSV") if fmt == "csv" else _("Export clients to Excel"),
        params=params,
    )
    enqueue_on_commit(client_export_task, job.pk)
    return job


def export_clients_for_job(job: Job, progress: Progress) -> dict[str, Any]:
    """Write the clients the job's starter can see (as they are now) to a file."""
    fmt = job.params.get("format", "csv")
    filters = job.params.get("filters") or {"q": job.params.get("query", "")}
    path = export_path(job.pk, fmt)
    written = clients_write(
        viewer=job.started_by,
        path=path,
        fmt=fmt,
        filters=filters,
        progress=lambda done, total: progress(done, total, force=done == 0),
    )
    return {
        "rows": written,
        "file": path.name,
        "format": fmt,
        "message": ngettext("%(count)d client exported.", "%(count)d clients exported.", written)
        % {"count": written},
    }
