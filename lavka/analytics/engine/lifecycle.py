"""Lifecycle stage of every client: new, active, loyal, at risk, lapsed, lost.

The seeds (003, 004) follow a client through acquisition, retention and loyalty, and
ask for the probability of leaving. The stage is derived from the purchase model where
the model says something, not only from days since the last purchase: a client who buys
every two years is not "lost" after a year, and one who bought weekly and stopped a
month ago already may be. The rule, first match wins:

1. **new**: the first purchase is at most `NEW_DAYS` days before the date and the client
   is not judged lost or lapsed by steps 2-3;
2. **repeat buyers with a fitted BG/NBD model** (P(alive) given): lost below `LOST_P`,
   lapsed below `LAPSED_P`, at risk below `AT_RISK_P`;
3. **everyone else** -- one-time buyers, and everybody when the model could not be
   fitted -- by days since the last purchase against the base's own rhythm. BG/NBD
   gives a one-time buyer P(alive) = 1 by construction (a client can only leave right
   after a repeat purchase), so for them the number says nothing. The rhythm `g` is the
   median gap between purchases of the repeat buyers, (last - first) / (purchase days -
   1). A client buying at that rate (a Poisson process) goes `k g` days without a
   purchase with probability exp(-k), so the stages are at risk beyond `2 g` days (a
   regular buyer would have bought again with 86% probability), lapsed beyond `3 g`
   (95%), lost beyond `4 g` (98%), each bound kept within `RHYTHM_BOUNDS`. With fewer
   than `RHYTHM_MIN_CLIENTS` repeat buyers there is no rhythm to speak of, and the fixed
   `AT_RISK_DAYS`, `LAPSED_DAYS`, `LOST_DAYS` apply;
4. **loyal**: at least `LOYAL_PURCHASE_DAYS` purchase days and a client for at least
   `LOYAL_DAYS` days;
5. **active**: everyone else.

Lifecycle length: days from the first purchase to the date, or to the last purchase for
lapsed and lost clients (their life as a client ended there, as far as we know).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.utils.translation import pgettext_lazy
from numpy.typing import NDArray

STAGES = ("new", "active", "loyal", "at_risk", "lapsed", "lost")
# In a context of their own: "active" and "lost" name other things elsewhere (a deal is
# lost, a record is active), which other languages word differently.
STAGE_LABELS = {
    "new": pgettext_lazy("lifecycle stage", "new"),
    "active": pgettext_lazy("lifecycle stage", "active"),
    "loyal": pgettext_lazy("lifecycle stage", "loyal"),
    "at_risk": pgettext_lazy("lifecycle stage", "at risk"),
    "lapsed": pgettext_lazy("lifecycle stage", "lapsed"),
    "lost": pgettext_lazy("lifecycle stage", "lost"),
}
NEW, ACTIVE, LOYAL, AT_RISK, LAPSED, LOST = range(6)

NEW_DAYS = 90
LOST_P, LAPSED_P, AT_RISK_P = 0.15, 0.35, 0.60
AT_RISK_DAYS, LAPSED_DAYS, LOST_DAYS = 120, 240, 365
RHYTHM_MULTIPLES = (2.0, 3.0, 4.0)  # at risk, lapsed, lost: multiples of the rhythm
RHYTHM_BOUNDS = ((30, 730), (45, 1095), (60, 1460))  # days, per bound
RHYTHM_MIN_CLIENTS = 20
LOYAL_PURCHASE_DAYS, LOYAL_DAYS = 4, 180


@dataclass(frozen=True, slots=True)
class Lifecycle:
    stage: NDArray[np.int8]
    days: NDArray[np.int64]


def day_bounds(
    first_on: NDArray[np.int64], last_on: NDArray[np.int64], frequency: NDArray[np.int64]
) -> tuple[int, int, int]:
    """Days without a purchase beyond which a client judged by days is at risk, lapsed
    and lost (step 3 of the rule in the module docstring)."""
    repeat = frequency >= 2
    if int(repeat.sum()) < RHYTHM_MIN_CLIENTS:
        return AT_RISK_DAYS, LAPSED_DAYS, LOST_DAYS
    gaps = (last_on[repeat] - first_on[repeat]) / (frequency[repeat] - 1)
    rhythm = float(np.median(gaps))
    at_risk, lapsed, lost = (
        int(np.clip(round(k * rhythm), low, high))
        for k, (low, high) in zip(RHYTHM_MULTIPLES, RHYTHM_BOUNDS, strict=True)
    )
    return at_risk, lapsed, lost


def stages(
    *,
    first_on: NDArray[np.int64],
    last_on: NDArray[np.int64],
    frequency: NDArray[np.int64],
    p_alive: NDArray[np.float64],
    as_of_day: int,
) -> Lifecycle:
    """Stage and lifecycle length per client; days are counted since 1970-01-01,
    `frequency` is purchase days and `p_alive` is NaN where the model gives no number."""
    n = first_on.size
    tenure = as_of_day - first_on
    recency = as_of_day - last_on
    stage = np.full(n, ACTIVE, dtype=np.int8)
    modelled = ~np.isnan(p_alive) & (frequency >= 2)
    p = np.where(modelled, p_alive, 1.0)
    at_risk_days, lapsed_days, lost_days = day_bounds(first_on, last_on, frequency)
    lost = np.where(modelled, p < LOST_P, recency > lost_days)
    lapsed = ~lost & np.where(modelled, p < LAPSED_P, recency > lapsed_days)
    at_risk = ~lost & ~lapsed & np.where(modelled, p < AT_RISK_P, recency > at_risk_days)
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
