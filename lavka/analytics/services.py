"""Writes of the analytics: the recompute (load, compute, write back), starting it as a
background job, and the settings."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lavka.analytics.compute import Config, Steps, compute_clients, compute_products
from lavka.analytics.engine.rfm import QuantileScore, RfmConfig, ThresholdScore
from lavka.analytics.errors import RecomputeRunning
from lavka.analytics.loading import convert_to_reporting, load_lines_started, load_orders
from lavka.analytics.models import AnalyticsSettings, ClientScore, ComputeRun, ProductScore
from lavka.analytics.permissions import can_change_analytics_settings, can_recompute
from lavka.analytics.reports import REPORTS, ReportContext, reports_compute
from lavka.analytics.storage import (
    ScoresWriting,
    client_scores_write_started,
    product_scores_write,
)
from lavka.audit.services import Action, audit_record, outbox_publish
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.jobs.models import Job
from lavka.jobs.queue import enqueue_on_commit
from lavka.jobs.services import job_create
from lavka.sales.selectors.catalogue import reporting_currency

logger = logging.getLogger(__name__)

# The steps of a recompute, in order: the job's progress is the number done.
STEPS = (
    "load",
    "convert",
    "summary",
    "rfm",
    "abc_xyz",
    "bgnbd_fit",
    "gamma_gamma_fit",
    "scoring",
    "products",
    "write",
)
# Then the reports (`reports.REPORTS`), after the scores are stored and current.
# A run still "running" after this long is taken for dead (its worker was killed).
STALE_RUN = dt.timedelta(hours=2)

Progress = Callable[[int, int], None]


# --- settings ----------------------------------------------------------------------------


def analytics_settings() -> AnalyticsSettings:
    found = AnalyticsSettings.objects.filter(pk=1).first()
    return found if found is not None else AnalyticsSettings(pk=1)


def _rule(values: list[float]) -> QuantileScore | ThresholdScore:
    return ThresholdScore(tuple(float(v) for v in values)) if values else QuantileScore()  # type: ignore[arg-type]


def config_from(stored: AnalyticsSettings) -> Config:
    a, b, c = (float(v) for v in stored.abc_shares)
    x, y = (float(v) for v in stored.xyz_thresholds)
    return Config(
        abc_shares=(a, b, c),
        xyz_thresholds=(x, y),
        window_months=int(stored.window_months),
        rfm=RfmConfig(
            recency=_rule(stored.rfm_recency_days),
            frequency=_rule(stored.rfm_frequency),
            monetary=_rule(stored.rfm_monetary),
        ),
        clv_months=int(stored.clv_months),
        monthly_discount_rate=float(stored.monthly_discount_rate),
    )


def _four_ascending(values: Any, field: str, errors: dict[str, list[str]]) -> list[float]:
    if values in (None, "", []):
        return []
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) != 4 or any(b <= a for a, b in itertools.pairwise(numbers)):
        errors.setdefault(field, []).append(
            _("Give four ascending numbers, or leave it empty to score by quintiles.")
        )
    return numbers


SETTINGS_FIELDS = (
    "abc_shares",
    "xyz_thresholds",
    "window_months",
    "rfm_recency_days",
    "rfm_frequency",
    "rfm_monetary",
    "clv_months",
    "monthly_discount_rate",
    "keep_daily_runs",
)


@transaction.atomic
def analytics_settings_update(*, actor: Any, **changes: Any) -> AnalyticsSettings:
    """Change the analytics settings (the next recompute uses them). Percentages of the
    ABC split are given as shares (0.8, 0.15, 0.05) adding up to 1."""
    if not can_change_analytics_settings(actor):
        raise NotPermitted(action="change", resource="analytics settings")
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    stored = analytics_settings()
    before = {name: getattr(stored, name) for name in SETTINGS_FIELDS}
    errors: dict[str, list[str]] = {}
    if "abc_shares" in changes:
        try:
            shares = [float(v) for v in changes["abc_shares"]]
        except (TypeError, ValueError):
            shares = []
        if len(shares) != 3 or min(shares, default=-1) < 0 or abs(sum(shares) - 1) > 1e-6:
            errors["abc_shares"] = [
                _("Give three shares for A, B and C that add up to 100%, e.g. 80, 15, 5.")
            ]
        stored.abc_shares = shares
    if "xyz_thresholds" in changes:
        try:
            bounds = [float(v) for v in changes["xyz_thresholds"]]
        except (TypeError, ValueError):
            bounds = []
        if len(bounds) != 2 or not 0 <= bounds[0] < bounds[1]:
            errors["xyz_thresholds"] = [
                _("Give two ascending coefficients of variation for X and Y, e.g. 0.10, 0.25.")
            ]
        stored.xyz_thresholds = bounds
    for name in ("rfm_recency_days", "rfm_frequency", "rfm_monetary"):
        if name in changes:
            setattr(stored, name, _four_ascending(changes[name], name, errors))
    for name, low, high in (
        ("window_months", 2, 60),
        ("clv_months", 1, 120),
        ("keep_daily_runs", 1, 365),
    ):
        if name in changes:
            try:
                value = int(changes[name])
            except (TypeError, ValueError):
                value = -1
            if not low <= value <= high:
                errors[name] = [
                    _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
                ]
            setattr(stored, name, value)
    if "monthly_discount_rate" in changes:
        try:
            rate = float(changes["monthly_discount_rate"])
        except (TypeError, ValueError):
            rate = -1.0
        if not 0 <= rate < 1:
            errors["monthly_discount_rate"] = [
                _("Enter a monthly discount rate from 0 to 1, e.g. 0.01 for 1% a month.")
            ]
        stored.monthly_discount_rate = rate
    if errors:
        raise ValidationFailed(fields=errors)
    stored.save()
    after = {name: getattr(stored, name) for name in SETTINGS_FIELDS}
    audit_record(
        action=Action.UPDATE,
        subject=stored,
        actor=actor,
        changes={k: [before[k], after[k]] for k in SETTINGS_FIELDS if before[k] != after[k]},
    )
    return stored


# --- the recompute -----------------------------------------------------------------------


def _run_open(*, actor: Any, as_of: dt.date) -> ComputeRun:
    with transaction.atomic():
        # One recompute at a time: the settings row is the lock.
        AnalyticsSettings.objects.get_or_create(pk=1)
        AnalyticsSettings.objects.select_for_update().get(pk=1)
        now = timezone.now()
        ComputeRun.objects.filter(
            status=ComputeRun.Status.RUNNING, started_at__lt=now - STALE_RUN
        ).update(status=ComputeRun.Status.FAILED, finished_at=now, message="abandoned")
        if ComputeRun.objects.filter(status=ComputeRun.Status.RUNNING).exists():
            raise RecomputeRunning()
        return ComputeRun.objects.create(
            as_of=as_of,
            started_at=now,
            started_by=actor if getattr(actor, "is_authenticated", False) else None,
            currency=reporting_currency(),
        )


def analytics_recompute(
    *,
    actor: Any | None,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
) -> ComputeRun:
    """Recompute every client's and product's scores as if today were `as_of` (orders
    after it are ignored) and make the new run the current one. `actor` None is the
    scheduler (the nightly job); a person needs `can_recompute`. `progress(done,
    total)` is called before each step (see `STEPS`). Old runs are kept (see
    `runs_prune`). Raises RecomputeRunning while another run is under way."""
    if actor is not None and not can_recompute(actor):
        raise NotPermitted(action="recompute", resource="analytics")
    today = timezone.localdate()
    as_of = as_of or today
    if as_of > today:
        raise ValidationFailed(
            fields={"as_of": [_("The date cannot be in the future: give today or an earlier day.")]}
        )
    run = _run_open(actor=actor, as_of=as_of)
    stored = analytics_settings()
    config = config_from(stored)
    done = 0

    total = len(STEPS) + len(REPORTS)

    def on_step(_name: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, total)
        done += 1

    steps = Steps(on_step)
    writing: ScoresWriting | None = None
    try:
        with steps.step("load"):
            orders = load_orders(as_of, run.currency)
            # The lines are read while the clients' scores are computed; "products"
            # waits for what is left of their reading.
            lines_read = load_lines_started(orders)
            orders_method = orders.method
        with steps.step("convert"):
            currency = run.currency
            converted = convert_to_reporting(orders, currency)
        clients = compute_clients(converted.columns, as_of, config, steps)
        # The database writes the clients' scores while the products are computed;
        # "write" waits for what is left of it.
        writing = client_scores_write_started(run, clients)
        with steps.step("products"):
            lines = lines_read()
            lines_method = lines.method
            converted_lines = convert_to_reporting(lines, currency)
            del orders, lines, lines_read
            products = compute_products(converted_lines.columns, as_of, config)
        with transaction.atomic():
            with steps.step("write"):
                writing.wait()
                product_scores_write(run, products)
            # The run movement between segments is counted from; the flows themselves
            # are the "moves" report's (after this commit).
            previous = ComputeRun.objects.filter(is_current=True).first()
            moves = None
            if previous is not None:
                moves = {"from_run": previous.pk, "from_as_of": previous.as_of.isoformat()}
            ComputeRun.objects.filter(is_current=True).update(is_current=False)
            run.status = ComputeRun.Status.SUCCEEDED
            run.is_current = True
            run.finished_at = timezone.now()
            run.clients = len(clients)
            run.orders = len(converted.columns)
            run.orders_skipped = sum(converted.skipped.values())
            run.parameters = {
                **clients.parameters,
                "settings": {name: getattr(stored, name) for name in SETTINGS_FIELDS},
                "skipped_by_currency": converted.skipped,
                "read_by": {"orders": orders_method, "lines": lines_method},
                "moves": moves,
                "stage_counts": clients.stage_counts,
            }
            bgnbd_fit = clients.parameters["bgnbd"]
            spend_fit = clients.parameters["gamma_gamma"]
            run.bgnbd_log_likelihood = bgnbd_fit.get("log_likelihood")
            run.gamma_gamma_log_likelihood = spend_fit.get("log_likelihood")
            run.segment_counts = clients.segment_counts
            run.abc_xyz = clients.abc_xyz
            run.product_abc_xyz = products.abc_xyz
            run.save()
            audit_record(
                action=Action.CREATE,
                subject=run,
                actor=actor,
                changes={"as_of": [None, as_of], "clients": [None, run.clients]},
                meta=None if actor is not None else {"via": "scheduler"},
            )
            outbox_publish(
                kind="analytics.recomputed",
                payload={"run_id": run.pk, "as_of": as_of, "clients": run.clients},
            )
    except Exception as exc:
        if writing is not None:
            writing.undo()
        ComputeRun.objects.filter(pk=run.pk).update(
            status=ComputeRun.Status.FAILED,
            finished_at=timezone.now(),
            message=str(exc)[:2000] or exc.__class__.__name__,
            step_times=steps.times,
        )
        raise
    run.step_times = steps.times
    ComputeRun.objects.filter(pk=run.pk).update(step_times=steps.times)
    reports_compute(
        ReportContext(
            run=run,
            as_of=as_of,
            config=config,
            settings=stored,
            orders=converted.columns,
            lines=converted_lines.columns,
            clients=clients,
        ),
        on_step=on_step,
    )
    if progress is not None:
        progress(total, total)
    runs_prune(keep_daily=int(stored.keep_daily_runs))
    return run


def runs_prune(*, keep_daily: int) -> int:
    """Delete old runs and their scores, keeping the current run, the last
    `keep_daily` successful runs and the last successful run of every month (the
    history that segment movement is shown from). Returns the runs deleted."""
    runs = list(
        ComputeRun.objects.order_by("-as_of", "-started_at").values_list(
            "pk", "as_of", "status", "is_current"
        )
    )
    keep: set[int] = set()
    months: set[tuple[int, int]] = set()
    recent = 0
    for pk, as_of, status, is_current in runs:
        if is_current or status == ComputeRun.Status.RUNNING:
            keep.add(pk)
        if status != ComputeRun.Status.SUCCEEDED:
            continue
        if recent < keep_daily:
            keep.add(pk)
            recent += 1
        if (as_of.year, as_of.month) not in months:
            months.add((as_of.year, as_of.month))
            keep.add(pk)
    doomed = [pk for pk, *_ in runs if pk not in keep]
    if not doomed:
        return 0
    with transaction.atomic():
        ClientScore.objects.filter(run_id__in=doomed).delete()
        ProductScore.objects.filter(run_id__in=doomed).delete()
        ComputeRun.objects.filter(pk__in=doomed).delete()
    return len(doomed)


# --- as a background job -----------------------------------------------------------------


@transaction.atomic
def analytics_recompute_start(*, actor: Any, as_of: dt.date | None = None) -> Job:
    """Start a recompute in the background; the job's page shows its progress."""
    if not can_recompute(actor):
        raise NotPermitted(action="recompute", resource="analytics")
    if as_of is not None and as_of > timezone.localdate():
        raise ValidationFailed(
            fields={"as_of": [_("The date cannot be in the future: give today or an earlier day.")]}
        )
    from lavka.analytics.tasks import analytics_recompute_task

    job = job_create(
        actor=actor,
        kind="analytics.recompute",
        title=_("Recompute analytics"),
        params={"as_of": as_of.isoformat() if as_of else None},
        total=len(STEPS) + len(REPORTS),
    )
    enqueue_on_commit(analytics_recompute_task, job.pk)
    return job


def recompute_for_job(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
    as_of_text = (job.params or {}).get("as_of")
    as_of = dt.date.fromisoformat(as_of_text) if as_of_text else None
    run = analytics_recompute(
        actor=job.started_by,
        as_of=as_of,
        progress=lambda done, total: progress(done, total, force=True),
    )
    return {
        "run_id": run.pk,
        "clients": run.clients,
        "message": ngettext(
            "Scores computed for %(count)s client.",
            "Scores computed for %(count)s clients.",
            run.clients,
        )
        % {"count": run.clients},
    }
