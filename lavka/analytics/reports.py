"""The reports computed after every recompute, once the scores are stored and current:
the dashboard's pre-aggregated figures, cohorts, touchpoint effectiveness, the revenue
forecast, lifecycle economics and who buys what and when.

Each report is a function `report(context) -> dict | None` in its own module, listed in
`REPORTS`; what it returns is stored under its name in `ComputeRun.reports` (JSON), and
a report may also write its own tables keyed by the run. A report that fails is recorded
as `{"error": ...}` under its name and the others still run: the scores it would have
accompanied are already stored. Times go to `ComputeRun.report_times`.

The orders and order lines the recompute has read are handed over in memory (already
converted to the reporting currency), so a report reads the database only for what the
recompute did not load (client attributes, touchpoints, deals, costs).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lavka.analytics.compute import ClientResults, Config, Steps
from lavka.analytics.loading import ClientAttributes, Columns, load_client_attributes
from lavka.analytics.models import AnalyticsSettings, ComputeRun

log = logging.getLogger(__name__)

# (name, "module:function"), in the order they run; later reports may read what earlier
# ones stored in `context.reports`.
REPORTS: tuple[tuple[str, str], ...] = (
    ("moves", "lavka.analytics.storage:moves_report"),
    ("kpi", "lavka.analytics.kpi:report"),
    ("cohorts", "lavka.analytics.cohorts:report"),
    ("touchpoints", "lavka.analytics.touchpoints:report"),
    ("forecast", "lavka.analytics.forecast:report"),
    ("economics", "lavka.analytics.economics:report"),
    ("buying", "lavka.analytics.buying:report"),
)


@dataclass
class ReportContext:
    run: ComputeRun
    as_of: dt.date
    config: Config
    settings: AnalyticsSettings
    orders: Columns  # key = client id, amount in the run's currency
    lines: Columns  # key = product id, amount in the run's currency
    clients: ClientResults
    reports: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def client_attributes(self) -> ClientAttributes:
        return load_client_attributes()


def _resolve(target: str) -> Callable[[ReportContext], dict[str, Any] | None]:
    module, name = target.split(":")
    function: Callable[[ReportContext], dict[str, Any] | None] = getattr(
        importlib.import_module(module), name
    )
    return function


def reports_compute(
    context: ReportContext, *, on_step: Callable[[str], None] | None = None
) -> None:
    """Run every report and store what they return on the run (one UPDATE at the end)."""
    steps = Steps(on_step)
    for name, target in REPORTS:
        with steps.step(name):
            try:
                result = _resolve(target)(context)
            except Exception as exc:  # one report's failure must not lose the others
                log.exception("analytics report %s failed for run %s", name, context.run.pk)
                result = {"error": str(exc)[:500] or exc.__class__.__name__}
        if result is not None:
            context.reports[name] = result
    context.run.reports = context.reports
    context.run.report_times = steps.times
    ComputeRun.objects.filter(pk=context.run.pk).update(
        reports=context.reports, report_times=steps.times
    )
