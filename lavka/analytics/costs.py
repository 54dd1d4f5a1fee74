"""Costs of acquiring and keeping clients (`CostEntry`) and the economics settings:
reads, and writes that check permission and record an audit event.

Costs are company-wide: everyone who reads analytics reads all of them; entering,
changing and deleting them needs `can_recompute` (analysts, administrators), the same
as changing the analytics settings. The economics settings (gross margin, the cost of a
touch and of an hour of contact time, the retention rise to simulate) live on
`AnalyticsSettings` and are changed here with `economics_settings_update`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from lavka.analytics.models import AnalyticsSettings, CostEntry
from lavka.analytics.permissions import (
    can_change_analytics_settings,
    can_read_analytics,
    can_recompute,
)
from lavka.audit.services import Action, audit_record, diff, snapshot
from lavka.audit.trash import soft_delete
from lavka.clients.models import Touchpoint
from lavka.core.errors import NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.sales.selectors.catalogue import reporting_currency
from lavka.sales.services.values import Errors, currency_clean, decimal_clean, text_clean

AUDITED = ["month", "kind", "channel", "campaign", "amount", "currency", "note"]
ECONOMICS_FIELDS = (
    "gross_margin_percent",
    "touch_costs",
    "contact_hour_cost",
    "retention_uplift_points",
)
TOUCH_KINDS = tuple(str(k) for k in Touchpoint.Kind.values)
CSV_IMPORT_MAX_ROWS = 5000


def can_enter_costs(actor: Any) -> bool:
    return can_recompute(actor) or can_change_analytics_settings(actor)


# --- reads -------------------------------------------------------------------------------


def costs_visible_to(viewer: Any) -> QuerySet[CostEntry]:
    """Every cost, for anyone who reads analytics (costs are company-wide)."""
    costs = CostEntry.objects.select_related("created_by")
    return costs if can_read_analytics(viewer) else costs.none()


def cost_list(*, viewer: Any, limit: int = 500) -> list[CostEntry]:
    return list(costs_visible_to(viewer)[:limit])


def cost_get(*, viewer: Any, cost_id: int) -> CostEntry:
    try:
        return costs_visible_to(viewer).get(pk=cost_id)
    except (CostEntry.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="cost", id=cost_id) from None


# --- cleaning ----------------------------------------------------------------------------


def month_clean(value: Any, name: str, errors: Errors) -> dt.date | None:
    """A month as a date (any day of it), "YYYY-MM" or "YYYY-MM-DD"; the first day."""
    if value is None or value == "":
        errors.setdefault(name, []).append(_("Enter a month such as 2026-05."))
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = str(value).strip()
        try:
            value = dt.date.fromisoformat(text if len(text) > 7 else f"{text}-01")
        except ValueError:
            errors.setdefault(name, []).append(_("Enter a month such as 2026-05."))
            return None
    if not 2000 <= value.year <= 2100:
        errors.setdefault(name, []).append(_("Enter a month between 2000 and 2100."))
        return None
    return value.replace(day=1)


def _kind_clean(value: Any, errors: Errors) -> str:
    kind = "" if value is None else str(value).strip()
    if kind not in CostEntry.Kind.values:
        errors.setdefault("kind", []).append(_("Choose acquisition or retention."))
    return kind


def _clean(values: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """Clean the fields present in `values` (a create passes all of them)."""
    cleaned: dict[str, Any] = {}
    if "month" in values:
        cleaned["month"] = month_clean(values["month"], "month", errors)
    if "kind" in values:
        cleaned["kind"] = _kind_clean(values["kind"], errors)
    if "channel" in values:
        cleaned["channel"] = text_clean(values["channel"], "channel", 100, errors)
    if "campaign" in values:
        cleaned["campaign"] = text_clean(values["campaign"], "campaign", 200, errors)
    if "amount" in values:
        cleaned["amount"] = decimal_clean(
            values["amount"], "amount", errors, required=True, allow_zero=False
        )
    if "currency" in values:
        currency = values["currency"]
        cleaned["currency"] = (
            reporting_currency()
            if currency in (None, "")
            else currency_clean(currency, "currency", errors)
        )
    if "note" in values:
        cleaned["note"] = text_clean(values["note"], "note", 2000, errors)
    return cleaned


# --- writes ------------------------------------------------------------------------------


@transaction.atomic
def cost_create(
    *,
    actor: Any,
    month: Any,
    kind: Any,
    amount: Any,
    channel: Any = "",
    campaign: Any = "",
    currency: Any = "",
    note: Any = "",
) -> CostEntry:
    """Enter a cost for a month. `channel` is an acquisition channel as written on the
    clients (`Client.source`); empty means the whole company. `currency` defaults to
    the reporting currency."""
    if not can_enter_costs(actor):
        raise NotPermitted(action="create", resource="cost")
    errors: Errors = {}
    cleaned = _clean(
        {
            "month": month,
            "kind": kind,
            "channel": channel,
            "campaign": campaign,
            "amount": amount,
            "currency": currency,
            "note": note,
        },
        errors,
    )
    if errors:
        raise ValidationFailed(fields=errors)
    cost = CostEntry.objects.create(**cleaned, created_by=actor)
    audit_record(
        action=Action.CREATE, subject=cost, actor=actor, changes=diff({}, snapshot(cost, AUDITED))
    )
    return cost


@transaction.atomic
def cost_update(
    *, actor: Any, cost: CostEntry, expected_version: int | None = None, **changes: Any
) -> CostEntry:
    """Change any of a cost's fields (`AUDITED`); unchanged values bump nothing."""
    unknown = set(changes) - set(AUDITED)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = CostEntry.objects.select_for_update().filter(pk=cost.pk).first()
    if locked is None or not can_read_analytics(actor):
        raise NotFound(resource="cost", id=cost.pk)
    if not can_enter_costs(actor):
        raise NotPermitted(action="update", resource="cost")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    errors: Errors = {}
    cleaned = _clean(changes, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(locked, AUDITED)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, AUDITED))
    if changed:
        locked.version += 1
        locked.save(update_fields=[*cleaned, "version", "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


@transaction.atomic
def cost_delete(*, actor: Any, cost: CostEntry, expected_version: int | None = None) -> None:
    """Move a cost to the trash (an administrator can restore it from there); the
    economics report leaves it out from the next computation on."""
    locked = CostEntry.objects.select_for_update().filter(pk=cost.pk).first()
    if locked is None or not can_read_analytics(actor):
        raise NotFound(resource="cost", id=cost.pk)
    if not can_enter_costs(actor):
        raise NotPermitted(action="delete", resource="cost")
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion()
    soft_delete(actor=actor, obj=locked)


@transaction.atomic
def costs_import_csv(*, actor: Any, data: bytes | str) -> list[CostEntry]:
    """Enter many costs at once from CSV with a header row: month, kind, amount and
    optionally channel, campaign, currency, note (comma or semicolon separated, UTF-8).
    All rows or none: the first bad rows are reported as fields "row N: name"."""
    if not can_enter_costs(actor):
        raise NotPermitted(action="create", resource="cost")
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = [name for name in ("month", "kind", "amount") if name not in header]
    if missing:
        raise ValidationFailed(
            fields={
                "file": [
                    _("The file needs the columns %(columns)s.") % {"columns": ", ".join(missing)}
                ]
            }
        )
    errors: Errors = {}
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(reader, start=2):
        if number - 1 > CSV_IMPORT_MAX_ROWS:
            errors["file"] = [_("At most %(max)s rows at a time.") % {"max": CSV_IMPORT_MAX_ROWS}]
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        row_errors: Errors = {}
        cleaned = _clean(
            {name: row.get(name, "") for name in AUDITED},
            row_errors,
        )
        for name, messages in row_errors.items():
            errors[f"row {number}: {name}"] = messages
        rows.append(cleaned)
        if len(errors) >= 20:
            break
    if errors:
        raise ValidationFailed(fields=errors)
    created = CostEntry.objects.bulk_create([CostEntry(**r, created_by=actor) for r in rows])
    for cost in created:
        audit_record(
            action=Action.CREATE,
            subject=cost,
            actor=actor,
            changes=diff({}, snapshot(cost, AUDITED)),
            meta={"via": "csv"},
        )
    return created


# --- economics settings ------------------------------------------------------------------


def _touch_costs_clean(value: Any, errors: Errors) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        errors.setdefault("touch_costs", []).append(
            _("Give the cost of one touch for each kind, e.g. call 150.")
        )
        return {}
    costs: dict[str, str] = {}
    for kind, amount in value.items():
        if kind not in TOUCH_KINDS:
            errors.setdefault("touch_costs", []).append(
                _("Unknown kind of touch: %(kind)s.") % {"kind": kind}
            )
            continue
        number = decimal_clean(amount, f"touch_costs.{kind}", errors)
        if number is not None and number > 0:
            costs[kind] = str(number)
    return costs


@transaction.atomic
def economics_settings_update(*, actor: Any, **changes: Any) -> AnalyticsSettings:
    """Change the economics settings: `gross_margin_percent` (0-100),
    `touch_costs` ({touch kind: amount per touch}, reporting currency),
    `contact_hour_cost` (per hour of contact time) and `retention_uplift_points`
    (the rise in retention to simulate, percentage points, 0.1-50). The next recompute
    uses them."""
    if not can_change_analytics_settings(actor):
        raise NotPermitted(action="change", resource="analytics settings")
    unknown = set(changes) - set(ECONOMICS_FIELDS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    AnalyticsSettings.objects.get_or_create(pk=1)
    stored = AnalyticsSettings.objects.select_for_update().get(pk=1)
    before = snapshot(stored, ECONOMICS_FIELDS)
    errors: Errors = {}
    if "gross_margin_percent" in changes:
        margin = _float(changes["gross_margin_percent"])
        if margin is None or not 0 <= margin <= 100:
            errors["gross_margin_percent"] = [_("Enter a percentage from 0 to 100.")]
        else:
            stored.gross_margin_percent = margin
    if "retention_uplift_points" in changes:
        uplift = _float(changes["retention_uplift_points"])
        if uplift is None or not 0.1 <= uplift <= 50:
            errors["retention_uplift_points"] = [
                _("Enter percentage points from 0.1 to 50, e.g. 5.")
            ]
        else:
            stored.retention_uplift_points = uplift
    if "touch_costs" in changes:
        stored.touch_costs = _touch_costs_clean(changes["touch_costs"], errors)
    if "contact_hour_cost" in changes:
        hourly = decimal_clean(changes["contact_hour_cost"], "contact_hour_cost", errors)
        stored.contact_hour_cost = hourly if hourly is not None else Decimal(0)
    if errors:
        raise ValidationFailed(fields=errors)
    stored.save()
    changed = diff(before, snapshot(stored, ECONOMICS_FIELDS))
    if changed:
        audit_record(action=Action.UPDATE, subject=stored, actor=actor, changes=changed)
    return stored


def _float(value: Any) -> float | None:
    try:
        number = float(str(value).replace(",", ".").strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
