"""Revenue forecast by month: exponential smoothing (ETS) with prediction intervals.

Input is revenue per whole calendar month, oldest first, with no gaps (a month without
sales is a zero). The model is chosen by the length of the history:

- at least `SEASONAL_MIN_MONTHS` (24, two full years): Holt-Winters in its state-space
  form, ETS with a damped additive trend and a yearly season, additive (A,Ad,A) and,
  when every month has positive revenue, multiplicative (M,Ad,M); the one with the
  lower AICc is kept (Hyndman et al., "Forecasting with Exponential Smoothing", 2008);
- `TREND_MIN_MONTHS` (6) to 23: a damped additive trend without a season, ETS(A,Ad,N):
  one year of history cannot tell a season from noise;
- fewer months, or no revenue at all: no forecast, and a `Reason` saying why.

A model that cannot be fitted, or that gives a non-finite number, is replaced by the
next simpler one (seasonal -> trend -> level, ETS(A,N,N)); if none works the reason is
`FIT_FAILED`.

Intervals: 80% and 95% prediction intervals from statsmodels' `ETSResults.get_prediction`
(closed form for additive models; for multiplicative ones from 1,000 simulated paths
drawn with a fixed seed, so the same input always gives the same output).

Revenue cannot be negative: a point forecast or a lower bound below zero is shown as
zero and `clipped` says so.

Accuracy: the last `HOLDOUT_MONTHS` (6, or 3 when the history is too short to leave 6
out) are left out, the same kind of model is fitted on the rest and its forecast for
them is compared with what happened: MAPE, the mean of |actual - forecast| / actual
over the months with positive revenue (months with none have no percentage error).

statsmodels (and pandas, which it needs) is imported inside the functions that fit:
importing it takes most of a second, and only the forecast needs it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

import numpy as np
from django.utils.translation import gettext_lazy as _
from numpy.typing import ArrayLike, NDArray

SEASONAL_MIN_MONTHS = 24
TREND_MIN_MONTHS = 6
SEASON = 12
HORIZON = 12
HOLDOUT_MONTHS = (6, 3)
MAX_HISTORY_MONTHS = 120  # ten years are plenty for a monthly ETS; older months add only time
SIMULATIONS = 1000
SEED = 20261124


class Reason(IntEnum):
    """Why there is no forecast; 0 means there is one."""

    OK = 0
    TOO_SHORT = 1
    NO_REVENUE = 2
    FIT_FAILED = 3


REASON_LABELS = {
    Reason.OK: _("OK"),
    Reason.TOO_SHORT: _("Not enough history: a forecast needs at least 6 complete months of sales"),
    Reason.NO_REVENUE: _("Not enough history: no revenue in the months so far"),
    Reason.FIT_FAILED: _("The forecast model could not be fitted to this history"),
}


class Model(StrEnum):
    SEASONAL_ADDITIVE = "seasonal_additive"
    SEASONAL_MULTIPLICATIVE = "seasonal_multiplicative"
    TREND = "trend"
    LEVEL = "level"


MODEL_LABELS = {
    Model.SEASONAL_ADDITIVE: _("Holt-Winters: damped trend and a yearly season added to it"),
    Model.SEASONAL_MULTIPLICATIVE: _(
        "Holt-Winters: damped trend and a yearly season in proportion to it"
    ),
    Model.TREND: _("Damped trend without a season (less than two years of history)"),
    Model.LEVEL: _("Level only: exponential smoothing without trend or season"),
}

_SPECS: dict[Model, dict[str, Any]] = {
    Model.SEASONAL_ADDITIVE: {
        "error": "add",
        "trend": "add",
        "damped_trend": True,
        "seasonal": "add",
        "seasonal_periods": SEASON,
    },
    Model.SEASONAL_MULTIPLICATIVE: {
        "error": "mul",
        "trend": "add",
        "damped_trend": True,
        "seasonal": "mul",
        "seasonal_periods": SEASON,
    },
    Model.TREND: {"error": "add", "trend": "add", "damped_trend": True},
    Model.LEVEL: {"error": "add"},
}
_FALLBACK = {
    Model.SEASONAL_ADDITIVE: Model.TREND,
    Model.SEASONAL_MULTIPLICATIVE: Model.TREND,
    Model.TREND: Model.LEVEL,
}


@dataclass(frozen=True, slots=True)
class Accuracy:
    mape: float  # 0.08 = 8%
    months: int  # months left out
    compared: int  # of which with positive revenue (the MAPE's denominator)


@dataclass(frozen=True, slots=True)
class RevenueForecast:
    """`value`, `lo80`, `hi80`, `lo95`, `hi95`: one per month after the history, empty
    when `reason` is not OK. `params`: the fitted smoothing parameters and initial
    states by statsmodels' names; `candidates`: each model tried with its AICc (None
    when it failed)."""

    reason: Reason
    months: int  # length of the history used
    model: Model | None = None
    value: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    lo80: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    hi80: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    lo95: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    hi95: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    params: dict[str, float] = field(default_factory=dict)
    aicc: float | None = None
    candidates: dict[str, float | None] = field(default_factory=dict)
    accuracy: Accuracy | None = None
    clipped: bool = False

    @property
    def has_forecast(self) -> bool:
        return self.reason == Reason.OK


# --- months ------------------------------------------------------------------------------


def month_of_days(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Months since 1970-01 (0 = January 1970) of days since 1970-01-01, through a table
    over the days' range: one gather, however many rows."""
    if days.size == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(days.min()), int(days.max())
    table = (
        np.arange(low, high + 1, dtype=np.int64)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )
    return table[days - low]


def month_first_day(month: int) -> int:
    return int(np.datetime64(month, "M").astype("datetime64[D]").astype(np.int64))


@dataclass(frozen=True, slots=True)
class MonthlySeries:
    """Revenue of the whole months from the first month with a sale through the last
    month that ended on or before `as_of`; the month of `as_of`, when it has not ended,
    is kept apart (`current_month`, its revenue so far)."""

    first_month: int  # months since 1970-01; meaningless when `revenue` is empty
    revenue: NDArray[np.float64]
    current_month: int
    current_revenue: float  # so far; 0 when `as_of` is a month's last day

    @property
    def next_month(self) -> int:
        """The first month to forecast."""
        return self.first_month + int(self.revenue.size)


def monthly_series(
    days: NDArray[np.int64], amounts: NDArray[np.float64], *, as_of_day: int
) -> MonthlySeries:
    """Sum `amounts` by calendar month up to `as_of_day` (days since 1970-01-01)."""
    as_of_month = int(month_of_days(np.array([as_of_day], dtype=np.int64))[0])
    month_ends = month_first_day(as_of_month + 1) - 1 == as_of_day
    last_complete = as_of_month if month_ends else as_of_month - 1
    low = int(days.min()) if days.size else as_of_day + 1
    if low > as_of_day:
        return MonthlySeries(last_complete + 1, np.zeros(0), as_of_month, 0.0)
    # One pass over the rows (revenue per day; orders after `as_of` fall past the
    # slice), then a few thousand days summed into months.
    span = as_of_day - low + 1
    daily = np.bincount(days - low, weights=amounts, minlength=span)[:span]
    day_months = month_of_days(np.arange(low, as_of_day + 1, dtype=np.int64))
    first = int(day_months[0])
    totals = np.bincount(day_months - first, weights=daily, minlength=as_of_month - first + 1)
    complete = max(last_complete - first + 1, 0)
    revenue = totals[:complete].astype(np.float64)
    current = 0.0 if month_ends else float(totals[as_of_month - first])
    if complete == 0:
        return MonthlySeries(last_complete + 1, np.zeros(0), as_of_month, current)
    return MonthlySeries(first, revenue, as_of_month, current)


# --- the forecast ------------------------------------------------------------------------


@dataclass(slots=True)
class _Fit:
    model: Model
    mean: NDArray[np.float64]
    lo80: NDArray[np.float64]
    hi80: NDArray[np.float64]
    lo95: NDArray[np.float64]
    hi95: NDArray[np.float64]
    params: dict[str, float]
    aicc: float


def _fit(model: Model, y: NDArray[np.float64], horizon: int, *, intervals: bool) -> _Fit | None:
    """Fit one ETS model and forecast `horizon` months; None when it fails or gives
    a non-finite number."""
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    # A scale near 1 keeps the optimiser's steps sensible whatever the currency.
    scale = float(np.abs(y).max()) or 1.0
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitted = ETSModel(pd.Series(y / scale), **_SPECS[model]).fit(disp=False, maxiter=500)
            start, end = y.size, y.size + horizon - 1
            if intervals:
                prediction = fitted.get_prediction(
                    start=start,
                    end=end,
                    simulate_repetitions=SIMULATIONS,
                    rng=np.random.default_rng(SEED),
                )
                f80 = prediction.summary_frame(alpha=0.20)
                f95 = prediction.summary_frame(alpha=0.05)
                mean = f80["mean"].to_numpy(dtype=np.float64)
                bounds = [
                    f80["pi_lower"].to_numpy(dtype=np.float64),
                    f80["pi_upper"].to_numpy(dtype=np.float64),
                    f95["pi_lower"].to_numpy(dtype=np.float64),
                    f95["pi_upper"].to_numpy(dtype=np.float64),
                ]
            else:
                mean = np.asarray(fitted.forecast(horizon), dtype=np.float64)
                bounds = [mean, mean, mean, mean]
    except (ValueError, ArithmeticError, IndexError, RuntimeError, np.linalg.LinAlgError):
        return None  # the caller falls back to a simpler model
    arrays = [mean, *bounds]
    if not all(np.isfinite(a).all() and a.size == horizon for a in arrays):
        return None
    aicc = float(fitted.aicc) if math.isfinite(float(fitted.aicc)) else math.inf
    params = {
        str(name): float(value) * (scale if _in_money(str(name), model) else 1.0)
        for name, value in zip(fitted.param_names, np.asarray(fitted.params), strict=True)
    }
    lo80, hi80, lo95, hi95 = (b * scale for b in bounds)
    return _Fit(model, mean * scale, lo80, hi80, lo95, hi95, params, aicc)


def _in_money(name: str, model: Model) -> bool:
    """Initial states measured in money (rescaled back); multiplicative seasonal
    factors and smoothing parameters are ratios."""
    if name in ("initial_level", "initial_trend"):
        return True
    return name.startswith("initial_seasonal") and model == Model.SEASONAL_ADDITIVE


def _candidates(y: NDArray[np.float64]) -> list[Model]:
    if y.size >= SEASONAL_MIN_MONTHS:
        seasonal = [Model.SEASONAL_ADDITIVE]
        if (y > 0).all():
            seasonal.append(Model.SEASONAL_MULTIPLICATIVE)
        return seasonal
    return [Model.TREND]


def _best(
    models: list[Model], y: NDArray[np.float64], horizon: int, *, intervals: bool
) -> tuple[_Fit | None, dict[str, float | None]]:
    tried: dict[str, float | None] = {}
    fits: list[_Fit] = []
    while models:
        for model in models:
            result = _fit(model, y, horizon, intervals=intervals)
            tried[str(model)] = None if result is None else result.aicc
            if result is not None:
                fits.append(result)
        if fits:
            return min(fits, key=lambda f: f.aicc), tried
        fallback = _FALLBACK.get(models[0])
        models = [fallback] if fallback is not None else []
    return None, tried


def _accuracy(y: NDArray[np.float64], model: Model) -> Accuracy | None:
    for holdout in HOLDOUT_MONTHS:
        train = y[:-holdout]
        seasonal = model in (Model.SEASONAL_ADDITIVE, Model.SEASONAL_MULTIPLICATIVE)
        if train.size < (SEASONAL_MIN_MONTHS if seasonal else TREND_MIN_MONTHS) or (
            model == Model.SEASONAL_MULTIPLICATIVE and not (train > 0).all()
        ):
            continue
        result = _fit(model, train, holdout, intervals=False)
        if result is None:
            continue
        actual = y[-holdout:]
        positive = actual > 0
        if not positive.any():
            return None
        predicted = np.maximum(result.mean, 0.0)
        errors = np.abs(actual[positive] - predicted[positive]) / actual[positive]
        return Accuracy(float(errors.mean()), holdout, int(positive.sum()))
    return None


def forecast_revenue(history: ArrayLike, *, horizon: int = HORIZON) -> RevenueForecast:
    """Forecast the `horizon` months after `history` (revenue per whole month, oldest
    first, no gaps). Deterministic: the same input gives the same output."""
    y = np.asarray(history, dtype=np.float64)
    y = np.where(np.isfinite(y), y, 0.0)[-MAX_HISTORY_MONTHS:]
    # Leading months without revenue are before the business started selling.
    nonzero = np.flatnonzero(y != 0)
    y = y[nonzero[0] :] if nonzero.size else y[:0]
    if nonzero.size == 0 and np.asarray(history).size >= TREND_MIN_MONTHS:
        return RevenueForecast(Reason.NO_REVENUE, 0)
    if y.size < TREND_MIN_MONTHS:
        return RevenueForecast(Reason.TOO_SHORT, int(y.size))
    best, tried = _best(_candidates(y), y, horizon, intervals=True)
    if best is None:
        return RevenueForecast(Reason.FIT_FAILED, int(y.size), candidates=tried)
    arrays = [best.mean, best.lo80, best.hi80, best.lo95, best.hi95]
    clipped = any(bool((a < 0).any()) for a in arrays)
    value, lo80, hi80, lo95, hi95 = (np.maximum(a, 0.0) for a in arrays)
    return RevenueForecast(
        reason=Reason.OK,
        months=int(y.size),
        model=best.model,
        value=value,
        lo80=lo80,
        hi80=hi80,
        lo95=lo95,
        hi95=hi95,
        params=best.params,
        aicc=None if math.isinf(best.aicc) else best.aicc,
        candidates=tried,
        accuracy=_accuracy(y, best.model),
        clipped=clipped,
    )
