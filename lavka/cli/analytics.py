"""`lavka analytics recompute`: recompute every client's scores now, in this process."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from lavka.cli.base import (
    EPILOG,
    EXIT_FAILED,
    EXIT_USAGE,
    Counter,
    Failure,
    acting_user,
    cli,
    database_required,
    django_setup,
    migrations_required,
)


@cli.group(epilog=EPILOG, short_help="Recompute and inspect the analytics.")
def analytics() -> None:
    """The analytics: RFM and ABC/XYZ segments, P(alive), expected purchases, CLV."""


def _as_of(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Failure(
            f"--as-of {value!r} is not a date", "give it as YYYY-MM-DD", EXIT_USAGE
        ) from None


def run_summary(run: Any) -> dict[str, Any]:
    """What the command prints, as JSON-ready data."""
    return {
        "run_id": run.pk,
        "as_of": run.as_of.isoformat(),
        "currency": run.currency,
        "clients": run.clients,
        "orders": run.orders,
        "orders_skipped": run.orders_skipped,
        "skipped_by_currency": run.parameters.get("skipped_by_currency", {}),
        "read_by": run.parameters.get("read_by", {}),
        "bgnbd": run.parameters.get("bgnbd", {}),
        "gamma_gamma": run.parameters.get("gamma_gamma", {}),
        "segments": run.segment_counts,
        "abc_xyz": run.abc_xyz,
        "products_abc_xyz": run.product_abc_xyz,
        "steps": {name: seconds for name, seconds in run.step_times},
        "total_seconds": round(sum(seconds for _, seconds in run.step_times), 3),
        "stages": run.parameters.get("stage_counts", {}),
        "reports": {name: seconds for name, seconds in run.report_times},
        "reports_seconds": round(sum(seconds for _, seconds in run.report_times), 3),
        "reports_failed": {
            name: data["error"]
            for name, data in (run.reports or {}).items()
            if isinstance(data, dict) and "error" in data
        },
    }


def _fit_lines(name: str, fit: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    if "not_enough_data" in fit:
        return [f"{name}: not enough data ({fit.get('detail', '')})"]
    params = ", ".join(f"{k} = {fit[k]:.6g}" for k in keys)
    return [
        f"{name}: {params}",
        f"  log-likelihood {fit['log_likelihood']:.4f}, {fit['n']} clients, "
        f"{fit['iterations']} iterations",
    ]


def _text(summary: dict[str, Any]) -> str:
    lines = [
        f"Analytics as of {summary['as_of']} (run {summary['run_id']}): "
        f"{summary['clients']} clients, {summary['orders']} orders in {summary['currency']}",
    ]
    if summary["orders_skipped"]:
        skipped = ", ".join(f"{c} {n}" for c, n in summary["skipped_by_currency"].items())
        lines.append(f"Left out for want of an exchange rate: {skipped}")
    lines += _fit_lines("BG/NBD", summary["bgnbd"], ("r", "alpha", "a", "b"))
    lines += _fit_lines("Gamma-Gamma", summary["gamma_gamma"], ("p", "q", "gamma"))
    lines.append("RFM segments:")
    lines += [f"  {name:<16} {count:>10}" for name, count in summary["segments"].items()]
    counts = summary["abc_xyz"].get("counts", [])
    lines.append("ABC-XYZ (clients):      X          Y          Z")
    lines += [
        f"  {abc}        " + " ".join(f"{n:>10}" for n in row)
        for abc, row in zip("ABC", counts, strict=False)
    ]
    lines.append("Time per step (s):")
    lines += [f"  {name:<16} {seconds:>8.3f}" for name, seconds in summary["steps"].items()]
    lines.append(f"  {'total':<16} {summary['total_seconds']:>8.3f}")
    if summary["stages"]:
        lines.append("Lifecycle stages:")
        lines += [f"  {name:<16} {count:>10}" for name, count in summary["stages"].items()]
    if summary["reports"]:
        lines.append("Reports, time (s):")
        lines += [f"  {name:<16} {seconds:>8.3f}" for name, seconds in summary["reports"].items()]
        lines.append(f"  {'total':<16} {summary['reports_seconds']:>8.3f}")
    lines += [f"Report {name} failed: {error}" for name, error in summary["reports_failed"].items()]
    return "\n".join(lines)


@analytics.command(epilog=EPILOG)
@click.option(
    "--as-of", "as_of", metavar="DATE", help="Compute as if today were DATE (YYYY-MM-DD)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--as",
    "username",
    metavar="USERNAME",
    help="Act as this user [default: the only administrator].",
)
def recompute(as_of: str | None, as_json: bool, username: str | None) -> None:
    """Recompute every client's RFM, ABC/XYZ, P(alive), expected purchases and CLV,
    and print the fitted parameters, the counts per segment and the time of each step."""
    django_setup()
    database_required()
    migrations_required()
    day = _as_of(as_of)
    from lavka.analytics.services import analytics_recompute
    from lavka.audit.context import audit_context
    from lavka.core.errors import DomainError, NotPermitted

    user = acting_user(username)
    counter = None if as_json else Counter("Steps")
    try:
        with audit_context(via="cli", command="analytics recompute"):
            run = analytics_recompute(actor=user, as_of=day, progress=counter)
    except NotPermitted as exc:
        raise Failure(
            str(exc.message), "act as an analyst or an administrator with --as", EXIT_USAGE
        ) from None
    except DomainError as exc:
        raise Failure(str(exc.message), "", EXIT_FAILED) from None
    if counter is not None:
        counter.finish(" done")
    summary = run_summary(run)
    click.echo(json.dumps(summary, indent=2) if as_json else _text(summary))
