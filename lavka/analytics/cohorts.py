"""The cohorts report (see `reports.py` and `engine/cohorts.py`): retention and revenue
by monthly acquisition cohort (the month of a client's first purchase) for the whole
base, by acquisition channel (`Client.source`) and by tier.

Stored as `ComputeRun.reports["cohorts"]`:

    {"months": ["2025-01", ...],              # cohorts, oldest first (at most 36)
     "as_of_month": "2026-06", "offsets": 37, # months 0..36 since the first purchase
     "all": {"clients": [n per cohort],
             "retention": [[share of the cohort who bought, per offset]],
             "revenue": [[revenue per offset]]},
     "by_channel": {"<channel>": {same keys}},  # "" = no channel; the largest 12
     "by_tier": {"<tier id>": {same keys}},     # "none" = no tier
     "channels_left_out": n, "currency": "RUB"}

A cohort's row runs from its own month (offset 0) to the as-of month or offset 36,
whichever comes first, so rows get shorter towards recent cohorts (the as-of month
itself is counted as far as it has gone). Retention of a cohort without clients (in a
channel or tier) is null. Clients who bought = retention x clients. Tier names are
resolved when read (a tier renamed since still shows its current name). Clients in the
trash are in "all" only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lavka.analytics.engine.cohorts import Breakdown, cohort_table, month_label
from lavka.analytics.models import ComputeRun
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import sees_whole_base
from lavka.clients.models import Tier
from lavka.core.errors import NotFound, NotPermitted

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext

MAX_CHANNELS = 12
NO_TIER = "none"


def _rows(values: Any, observed: Any, digits: int) -> list[list[float | None]]:
    """Each cohort's row up to the as-of month (rows get shorter towards recent
    cohorts); NaN (no clients) as null."""
    out: list[list[float | None]] = []
    for row, seen in zip(values.tolist(), observed.sum(axis=1).tolist(), strict=True):
        out.append([None if v != v else round(v, digits) for v in row[:seen]])
    return out


def _block(part: Breakdown, g: int, observed: Any) -> dict[str, Any]:
    return {
        "clients": part.clients[g].tolist(),
        "retention": _rows(part.retention()[g], observed, 4),
        "revenue": _rows(part.revenue[g], observed, 2),
    }


def report(context: ReportContext) -> dict[str, Any] | None:
    clients = context.clients
    as_of_day = int(np.datetime64(context.as_of, "D").astype(np.int64))
    attributes = context.client_attributes
    at = attributes.rows_of(clients.client_id)
    found = at >= 0
    safe = np.maximum(at, 0)

    # Channels: the largest MAX_CHANNELS by clients who bought; the rest left out.
    source = np.where(found, attributes.source[safe], -1).astype(np.int64)
    sizes = np.bincount(source[found], minlength=len(attributes.sources))
    kept = [int(i) for i in np.argsort(-sizes, kind="stable") if sizes[i] > 0][:MAX_CHANNELS]
    channel_group = np.full(len(attributes.sources), -1, dtype=np.int64)
    channel_group[kept] = np.arange(len(kept))
    channel = np.where(found, channel_group[np.maximum(source, 0)], -1)

    tier_raw = np.where(found, attributes.tier_id[safe], -2)
    tier_ids, tier_group = np.unique(tier_raw, return_inverse=True)
    tier_group = np.where(tier_raw == -2, -1, tier_group).astype(np.int64)
    tier_keys = [NO_TIER if t == -1 else str(int(t)) for t in tier_ids.tolist()]

    table = cohort_table(
        context.orders.key,
        context.orders.day,
        context.orders.amount,
        client_ids=clients.client_id,
        client_first_day=clients.first_on,
        as_of_day=as_of_day,
        groups={"channel": (channel, len(kept)), "tier": (tier_group, len(tier_keys))},
    )
    observed = table.observed()
    by_channel = table.breakdowns["channel"]
    by_tier = table.breakdowns["tier"]
    return {
        "months": table.labels(),
        "as_of_month": month_label(table.as_of_month),
        "offsets": table.max_offset + 1,
        "currency": context.run.currency,
        "all": _block(table.breakdowns["all"], 0, observed),
        "by_channel": {
            attributes.sources[source_index]: _block(by_channel, g, observed)
            for g, source_index in enumerate(kept)
        },
        "by_tier": {
            key: _block(by_tier, g, observed)
            for g, key in enumerate(tier_keys)
            if key != "-2" and by_tier.clients[g].sum() > 0
        },
        "channels_left_out": int(max(0, int((sizes > 0).sum()) - len(kept))),
    }


# --- reading -----------------------------------------------------------------------------


class WholeBaseOnly(NotPermitted):
    """The cohort and touchpoint reports cover the whole base; a viewer who sees only
    part of it gets this instead of figures that would include clients hidden from
    them."""

    code = "analytics_whole_base_only"
    message = gettext_lazy(
        "This report covers the whole client base, so it is shown only to roles that see "
        "every client's analytics (analysts, marketers, administrators)."
    )


BREAKDOWNS = ("all", "channel", "tier")


@dataclass(frozen=True, slots=True)
class CohortGroup:
    key: str  # "" (all), a channel, or a tier id / "none"
    label: str
    clients: list[int]
    retention: list[list[float | None]]
    revenue: list[list[float | None]]


@dataclass(frozen=True, slots=True)
class Cohorts:
    as_of: dt.date
    currency: str
    months: list[str]
    by: str
    groups: list[CohortGroup]
    channels_left_out: int


def report_readable(*, viewer: Any, run: ComputeRun) -> dict[str, Any]:
    """`run`'s stored reports for a viewer who may read them. Raises NotFound without
    analytics access and WholeBaseOnly for a viewer who sees only part of the base."""
    if not can_read_analytics(viewer):
        raise NotFound(resource="analytics run", id=run.pk)
    if not sees_whole_base(viewer):
        raise WholeBaseOnly(action="read", resource="analytics report")
    return run.reports or {}


def cohorts_read(*, viewer: Any, run: ComputeRun, by: str = "all") -> Cohorts | None:
    """The cohort report of `run` broken down `by` "all", "channel" or "tier" (groups
    by clients, largest first; tier names as they are now). None when the run has no
    cohort report."""
    stored = report_readable(viewer=viewer, run=run).get("cohorts")
    if not isinstance(stored, dict) or "months" not in stored:
        return None
    if by not in BREAKDOWNS:
        by = "all"
    blocks = {"": stored["all"]} if by == "all" else dict(stored.get(f"by_{by}") or {})
    labels: dict[str, str] = {}
    if by == "tier":
        ids = [int(k) for k in blocks if k.isdigit()]
        labels = {str(t.pk): t.display_name for t in Tier.objects.filter(pk__in=ids)}
        labels[NO_TIER] = str(_("No tier"))
    elif by == "channel":
        labels = {k: k or str(_("No channel")) for k in blocks}
    else:
        labels = {"": str(_("All clients"))}
    groups = [
        CohortGroup(
            key=key,
            label=labels.get(key, key),
            clients=list(block.get("clients") or []),
            retention=list(block.get("retention") or []),
            revenue=list(block.get("revenue") or []),
        )
        for key, block in blocks.items()
    ]
    groups.sort(key=lambda g: (-sum(g.clients), g.label))
    return Cohorts(
        as_of=run.as_of,
        currency=str(stored.get("currency") or run.currency),
        months=list(stored["months"]),
        by=by,
        groups=groups,
        channels_left_out=int(stored.get("channels_left_out") or 0),
    )
