"""RFM: recency, frequency and monetary scores 1-5 and named segments.

Inputs per client: recency (days since the last purchase; fewer is better), frequency
(purchases) and monetary value (revenue or margin); higher is better for both.

**Scores.** Each dimension is scored by a rule (configurable per dimension):

- `QuantileScore(cuts=(0.2, 0.4, 0.6, 0.8))`, the default: a client's percentile is
  the share of clients doing worse plus half the share doing equally well (the
  mid-rank, "kind='mean'" percentile). The score is 1 plus the number of cuts at or
  below it, so each fifth of a base of distinct values gets one score. Equal values
  always get equal scores; a single client, or a base where everybody is equal, sits
  at the 50th percentile: score 3.
- `ThresholdScore(thresholds=(t1, t2, t3, t4))`: fixed values, ascending. For
  frequency and monetary the score is 1 plus the number of thresholds the value
  reaches (value >= t); for recency 1 plus the number of thresholds the value does not
  exceed (days <= t), e.g. (30, 90, 180, 365): bought within 30 days = 5, more than a
  year ago = 1.

**Segments.** F and M are combined into FM = (F + M) / 2 rounded half up, and the
segment is read from a 5x5 grid by R (rows) and FM (columns). The default grid:

    FM:    1            2            3                4           5
    R=5    promising    promising    loyal            champions   champions
    R=4    promising    promising    loyal            champions   champions
    R=3    needs att.   needs att.   needs att.       loyal       loyal
    R=2    hibernating  hibernating  at risk          at risk     can't lose
    R=1    lost         lost         at risk          can't lose  can't lose

It condenses the widely used R x FM segment map (recent and valuable = champions,
valuable but long gone = can't lose, neither = lost) into the eight segments named
in the issue; `RfmConfig(segment_grid=...)` replaces it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from django.utils.translation import gettext_lazy as _
from numpy.typing import ArrayLike, NDArray


class Segment(StrEnum):
    CHAMPIONS = "champions"
    LOYAL = "loyal"
    PROMISING = "promising"
    NEEDS_ATTENTION = "needs_attention"
    AT_RISK = "at_risk"
    CANT_LOSE = "cant_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"


# The order of the segment codes in `RfmScores.segment`.
SEGMENTS: tuple[Segment, ...] = tuple(Segment)

SEGMENT_LABELS = {
    Segment.CHAMPIONS: _("Champions"),
    Segment.LOYAL: _("Loyal"),
    Segment.PROMISING: _("Promising"),
    Segment.NEEDS_ATTENTION: _("Needs attention"),
    Segment.AT_RISK: _("At risk"),
    Segment.CANT_LOSE: _("Can't lose"),
    Segment.HIBERNATING: _("Hibernating"),
    Segment.LOST: _("Lost"),
}

_C, _L, _P, _N = Segment.CHAMPIONS, Segment.LOYAL, Segment.PROMISING, Segment.NEEDS_ATTENTION
_A, _K, _H, _X = Segment.AT_RISK, Segment.CANT_LOSE, Segment.HIBERNATING, Segment.LOST

# DEFAULT_SEGMENT_GRID[R - 1][FM - 1]
DEFAULT_SEGMENT_GRID: tuple[tuple[Segment, ...], ...] = (
    (_X, _X, _A, _K, _K),  # R = 1
    (_H, _H, _A, _A, _K),  # R = 2
    (_N, _N, _N, _L, _L),  # R = 3
    (_P, _P, _L, _C, _C),  # R = 4
    (_P, _P, _L, _C, _C),  # R = 5
)


def _check_four_ascending(values: Sequence[float], name: str) -> None:
    if len(values) != 4 or any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"{name} must be four strictly ascending numbers")


@dataclass(frozen=True, slots=True)
class QuantileScore:
    """Score by mid-rank percentile against the four `cuts` (shares in (0, 1))."""

    cuts: tuple[float, float, float, float] = (0.2, 0.4, 0.6, 0.8)

    def __post_init__(self) -> None:
        _check_four_ascending(self.cuts, "cuts")
        if not (self.cuts[0] > 0 and self.cuts[-1] < 1):
            raise ValueError("cuts must lie strictly between 0 and 1")


@dataclass(frozen=True, slots=True)
class ThresholdScore:
    """Score by four fixed, ascending value thresholds (days for recency)."""

    thresholds: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        _check_four_ascending(self.thresholds, "thresholds")


ScoreRule = QuantileScore | ThresholdScore


@dataclass(frozen=True, slots=True)
class RfmConfig:
    recency: ScoreRule = field(default_factory=QuantileScore)
    frequency: ScoreRule = field(default_factory=QuantileScore)
    monetary: ScoreRule = field(default_factory=QuantileScore)
    segment_grid: tuple[tuple[Segment, ...], ...] = DEFAULT_SEGMENT_GRID

    def __post_init__(self) -> None:
        if len(self.segment_grid) != 5 or any(len(row) != 5 for row in self.segment_grid):
            raise ValueError("segment_grid must be 5 x 5 (R rows by FM columns)")


@dataclass(frozen=True, slots=True)
class RfmScores:
    """Per client: scores 1-5 (int8) and `segment`, an index into `SEGMENTS`."""

    r: NDArray[np.int8]
    f: NDArray[np.int8]
    m: NDArray[np.int8]
    fm: NDArray[np.int8]
    segment: NDArray[np.int8]

    def segments(self) -> list[Segment]:
        return [SEGMENTS[i] for i in self.segment.tolist()]

    def counts(self) -> dict[Segment, int]:
        """Clients per segment, every segment present (0 when empty)."""
        counts = np.bincount(self.segment, minlength=len(SEGMENTS))
        return {segment: int(counts[i]) for i, segment in enumerate(SEGMENTS)}


def _values(values: ArrayLike, name: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array


def mid_rank_percentile(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """(number below + half the number equal) / n, for each value."""
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    at_or_below = np.searchsorted(ordered, values, side="right")
    return (below + at_or_below) / (2.0 * max(values.size, 1))


def _score(
    values: NDArray[np.float64], rule: ScoreRule, *, lower_is_better: bool
) -> NDArray[np.int8]:
    if isinstance(rule, QuantileScore):
        goodness = -values if lower_is_better else values
        percentile = mid_rank_percentile(goodness)
        reached = np.searchsorted(np.asarray(rule.cuts), percentile, side="right")
    elif lower_is_better:
        thresholds = np.asarray(rule.thresholds)
        reached = 4 - np.searchsorted(thresholds, values, side="left")
    else:
        reached = np.searchsorted(np.asarray(rule.thresholds), values, side="right")
    return (1 + reached).astype(np.int8)


def score(
    recency_days: ArrayLike,
    frequency: ArrayLike,
    monetary: ArrayLike,
    config: RfmConfig | None = None,
) -> RfmScores:
    """Score every client and name their segment (see the module docstring)."""
    config = config or RfmConfig()
    recency = _values(recency_days, "recency_days")
    freq = _values(frequency, "frequency")
    money = _values(monetary, "monetary")
    if not recency.shape == freq.shape == money.shape:
        raise ValueError("recency_days, frequency and monetary must have one length")
    r = _score(recency, config.recency, lower_is_better=True)
    f = _score(freq, config.frequency, lower_is_better=False)
    m = _score(money, config.monetary, lower_is_better=False)
    fm = ((f.astype(np.int16) + m + 1) // 2).astype(np.int8)
    index = {segment: i for i, segment in enumerate(SEGMENTS)}
    grid = np.array([[index[s] for s in row] for row in config.segment_grid], dtype=np.int8)
    return RfmScores(r=r, f=f, m=m, fm=fm, segment=grid[r - 1, fm - 1])
