"""The touchpoints report (see `reports.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext


def report(context: ReportContext) -> dict[str, Any] | None:
    return None
