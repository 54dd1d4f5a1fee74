"""Lifecycle stage of every client: new, active, loyal, at risk, lapsed, lost.

Derived from the purchase model where there is one, not only from days since the last
purchase: a client who buys every two years is not "lost" after a year, and a client who
bought weekly and stopped a month ago already is. The rule, first match wins:

1. new: the first purchase is at most `NEW_DAYS` days before the date and the client
   is not yet judged lost or lapsed by the model;
2. with P(alive) from the BG/NBD model: lost below `LOST_P`, lapsed below `LAPSED_P`,
   at risk below `AT_RISK_P`;
3. without it (not enough data to fit): by days since the last purchase, lost beyond
   `LOST_DAYS`, lapsed beyond `LAPSED_DAYS`, at risk beyond `AT_RISK_DAYS`;
4. loyal: at least `LOYAL_PURCHASE_DAYS` purchase days and a client for at least
   `LOYAL_DAYS` days;
5. active: everyone else.

Lifecycle length: days from the first purchase to the date, or to the last purchase for
lapsed and lost clients (their life as a client has ended there, as far as we know).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext_lazy as _
from numpy.typing import NDArray

STAGES = ("new", "active", "loyal", "at_risk", "lapsed", "lost")
STAGE_LABELS = {
    "new": _("new"),
    "active": _("active"),
    "loyal": _("loyal"),
    "at_risk": _("at risk"),
    "lapsed": _("lapsed"),
    "lost": _("lost"),
}
NEW, ACTIVE, LOYAL, AT_RISK, LAPSED, LOST = range(6)

NEW_DAYS = 90
LOST_P, LAPSED_P, AT_RISK_P = 0.15, 0.35, 0.60
AT_RISK_DAYS, LAPSED_DAYS, LOST_DAYS = 120, 240, 365
LOYAL_PURCHASE_DAYS, LOYAL_DAYS = 4, 180


@dataclass(frozen=True, slots=True)
class Lifecycle:
    stage: NDArray[np.int8]
    days: NDArray[np.int64]


def stages(
    *,
    first_on: NDArray[np.int64],
    last_on: NDArray[np.int64],
    frequency: NDArray[np.int64],
    p_alive: NDArray[np.float64],
    as_of_day: int,
) -> Lifecycle:
    """Stage and lifecycle length per client; days are counted since 1970-01-01 and
    `p_alive` is NaN where the model gives no number."""
    n = first_on.size
    tenure = as_of_day - first_on
    recency = as_of_day - last_on
    stage = np.full(n, ACTIVE, dtype=np.int8)
    modelled = ~np.isnan(p_alive)
    p = np.where(modelled, p_alive, 1.0)
    lost = np.where(modelled, p < LOST_P, recency > LOST_DAYS)
    lapsed = ~lost & np.where(modelled, p < LAPSED_P, recency > LAPSED_DAYS)
    at_risk = ~lost & ~lapsed & np.where(modelled, p < AT_RISK_P, recency > AT_RISK_DAYS)
    loyal = (frequency >= LOYAL_PURCHASE_DAYS) & (tenure >= LOYAL_DAYS)
    stage[loyal] = LOYAL
    stage[at_risk] = AT_RISK
    stage[lapsed] = LAPSED
    stage[lost] = LOST
    stage[(tenure <= NEW_DAYS) & ~lost & ~lapsed] = NEW
    ended = lost | lapsed
    days = np.where(ended, last_on - first_on, tenure).astype(np.int64)
    return Lifecycle(stage=stage, days=days)


def stage_counts(stage: NDArray[np.int8]) -> dict[str, int]:
    counts = np.bincount(stage.astype(np.int64), minlength=len(STAGES))
    return {code: int(counts[i]) for i, code in enumerate(STAGES)}
