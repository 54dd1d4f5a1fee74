"""Reads for imports: the runs a user started, their row errors, saved mappings."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lavka.core.errors import NotFound
from lavka.identity.access import Capability, has_capability
from lavka.imports.models import ImportRowError, ImportRun, SavedMapping
from lavka.imports.targets import import_target


def import_runs_visible_to(viewer: Any) -> QuerySet[ImportRun]:
    """Runs the viewer started (all of them for whoever manages settings)."""
    if not getattr(viewer, "is_authenticated", False):
        return ImportRun.objects.none()
    runs = ImportRun.objects.select_related("job", "created_by")
    return (
        runs
        if has_capability(viewer, Capability.MANAGE_SETTINGS)
        else runs.filter(created_by=viewer)
    )


def import_run_get(*, viewer: Any, run_id: int) -> ImportRun:
    try:
        return import_runs_visible_to(viewer).get(pk=run_id)
    except (ImportRun.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="import", id=run_id) from None


def import_row_errors(*, viewer: Any, run: ImportRun) -> QuerySet[ImportRowError]:
    import_run_get(viewer=viewer, run_id=run.pk)
    return ImportRowError.objects.filter(run=run).order_by("row", "id")


def saved_mappings(*, viewer: Any, target: str = "clients") -> QuerySet[SavedMapping]:
    if not getattr(viewer, "is_authenticated", False):
        return SavedMapping.objects.none()
    return SavedMapping.objects.filter(target=target)


def saved_mapping_find(*, viewer: Any, name: str, target: str = "clients") -> SavedMapping | None:
    return saved_mappings(viewer=viewer, target=target).filter(name__iexact=name.strip()).first()


def import_preview(*, viewer: Any, run: ImportRun, limit: int = 20) -> dict[str, Any]:
    """The first rows of the file as the current mapping reads them, each cell with the
    problem an import would report for it (None when fine)."""
    from itertools import islice

    from lavka.imports.engine import RowCleaner, column_fields, run_table

    import_run_get(viewer=viewer, run_id=run.pk)
    registered = import_target(run.target)
    if registered is not None:
        return registered.preview(viewer=viewer, run=run, limit=limit)
    if run.target == "orders":
        return _orders_preview(run, limit)
    table = run_table(run)
    fields = column_fields(run)
    cleaner = RowCleaner(actor=viewer, header=table.header, fields=fields)
    columns = {name: index for index, name in fields.items()}
    rows = []
    try:
        for number, cells in islice(table.rows, limit):
            _values, problems = cleaner.clean(number, cells)
            errors: dict[int, str] = {}
            row_errors: list[str] = []
            for problem in problems:
                index = next(
                    (i for i, h in enumerate(table.header) if h == problem.column and i in fields),
                    None,
                )
                if index is None:
                    row_errors.append(problem.reason)
                else:
                    errors[index] = problem.reason
            rows.append(
                {
                    "row": number,
                    "cells": [
                        {"value": cells[i] if i < len(cells) else "", "error": errors.get(i)}
                        for i in range(len(table.header))
                    ],
                    "errors": row_errors,
                }
            )
    finally:
        close = getattr(table.rows, "close", None)
        if close:
            close()
    return {
        "header": table.header,
        "fields": {str(i): f for i, f in fields.items()},
        "rows": rows,
        "columns": columns,
    }


def _orders_preview(run: ImportRun, limit: int) -> dict[str, Any]:
    """`import_preview` of an order import: each cell with the problem the row check
    finds in it (clients and products are looked up only by the import itself)."""
    from itertools import islice

    from lavka.imports.engine import run_table
    from lavka.imports.orders import RowReader, order_column_fields
    from lavka.sales.selectors.catalogue import reporting_currency

    table = run_table(run)
    fields = order_column_fields(run)
    reader = RowReader(table.header, fields, reporting_currency())
    by_column = {header: index for index, header in reversed(list(enumerate(table.header)))}
    rows = []
    try:
        for number, cells in islice(table.rows, limit):
            outcome = reader.read(number, cells)
            errors: dict[int, str] = {}
            row_errors: list[str] = []
            for problem in outcome if isinstance(outcome, list) else []:
                index = by_column.get(problem.column)
                if index is None or index not in fields:
                    row_errors.append(problem.reason)
                else:
                    errors[index] = problem.reason
            rows.append(
                {
                    "row": number,
                    "cells": [
                        {"value": cells[i] if i < len(cells) else "", "error": errors.get(i)}
                        for i in range(len(table.header))
                    ],
                    "errors": row_errors,
                }
            )
    finally:
        close = getattr(table.rows, "close", None)
        if close:
            close()
    return {
        "header": table.header,
        "fields": {str(i): f for i, f in fields.items()},
        "rows": rows,
        "columns": {name: index for index, name in fields.items()},
    }
