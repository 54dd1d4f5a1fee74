"""The BG/NBD model of repeat purchasing (Fader, Hardie and Lee 2005, "Counting your
customers the easy way: an alternative to the Pareto/NBD model", Marketing Science
24(2)).

While alive a client buys as a Poisson process with rate lambda ~ Gamma(r, alpha);
after each repeat purchase they leave for good with probability p ~ Beta(a, b). A
client is summarised by x (repeat purchases), t_x (time of the last purchase) and T
(time since the first purchase), all measured from their first purchase in one
`TimeUnit`; alpha is in that unit.

The fit maximises the log-likelihood (FHL 2005, eq. 6; A1..A4 are the logarithms of
the four terms in Fader, Hardie and Lee's note "Implementing the BG/NBD model for
customer base analysis in Excel"):

    LL_i = A1 + A2 + log(exp(A3) + [x > 0] exp(A4))
    A1 = lnG(r + x) - lnG(r) + r ln(alpha)
    A2 = lnG(a + b) + lnG(b + x) - lnG(b) - lnG(a + b + x)
    A3 = -(r + x) ln(alpha + T)
    A4 = ln(a) - ln(b + x - 1) - (r + x) ln(alpha + t_x)

over log-parameters with the analytic gradient (L-BFGS-B), log(exp(A3) + exp(A4))
taken as a stable log-sum-exp. Identical (x, t_x, T) rows are grouped with weights;
terms of x alone are computed once per distinct x and logarithms of alpha + T and
alpha + t_x once per distinct T and t_x, so one evaluation costs a few vector
operations per distinct row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from lavka.analytics.engine._linalg import dot, single_threaded_blas
from lavka.analytics.engine.sufficiency import (
    BGNBD_MIN_CLIENTS,
    BGNBD_MIN_REPEAT_CLIENTS,
    NotEnoughData,
    Reason,
)
from lavka.analytics.engine.units import DAYS_PER_MONTH, HORIZONS_DAYS, TimeUnit

FloatArray = NDArray[np.float64]

# Log-parameters are kept within exp(+-25): beyond that the model is degenerate
# (e.g. p fixed at one value) and the optimiser would only wander.
_LOG_BOUND = 25.0


@dataclass(frozen=True, slots=True)
class BgNbdFit:
    """Maximum-likelihood BG/NBD parameters. `n` is the number of clients (sum of the
    weights), `log_likelihood` the total at the optimum, `unit` the unit of alpha."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int
    converged: bool
    iterations: int
    unit: TimeUnit = TimeUnit.DAYS


@dataclass(frozen=True, slots=True)
class _Data:
    """The fit's input arranged for cheap evaluations: terms of x alone are computed
    per distinct x, logarithms of alpha + T and alpha + t_x per distinct T and t_x
    (a daily summary has at most a few thousand of each) and gathered per row."""

    ux: FloatArray  # distinct x over all rows
    w_by_x: FloatArray  # weight per distinct x
    zero_T: FloatArray  # distinct T among rows with x = 0
    zero_w: FloatArray  # their weights
    x: FloatArray  # rows with x > 0: x, weight, and indexes into the tables
    w: FloatArray
    x_index: NDArray[np.intp]  # -> ux
    uT: FloatArray
    T_index: NDArray[np.intp]
    utx: FloatArray
    tx_index: NDArray[np.intp]
    w_by_T: FloatArray  # per uT: sum of w, and of w * x, over rows with x > 0
    wx_by_T: FloatArray
    n: float


def _as_float(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    return array


def validate(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, ...]:
    """Check the (x, t_x, T) summary: x a whole number >= 0, 0 <= t_x <= T, t_x = 0
    when x = 0, all finite. Raises ValueError; returns the three float arrays."""
    xs, txs, Ts = _as_float(x, "x"), _as_float(t_x, "t_x"), _as_float(T, "T")
    if not xs.shape == txs.shape == Ts.shape:
        raise ValueError("x, t_x and T must have the same length")
    if not (np.isfinite(xs).all() and np.isfinite(txs).all() and np.isfinite(Ts).all()):
        raise ValueError("x, t_x and T must be finite")
    if (xs < 0).any() or (xs != np.floor(xs)).any():
        raise ValueError("x must be a whole number >= 0")
    if (txs < 0).any() or (txs > Ts).any():
        raise ValueError("0 <= t_x <= T must hold")
    if (txs[xs == 0] != 0).any():
        raise ValueError("t_x must be 0 when x is 0")
    return xs, txs, Ts


def compress(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Group identical (x, t_x, T) rows: returns the distinct rows and their counts.

    `summary.ClientSummary.groups()` does the same faster from whole days."""
    xs, txs, Ts = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    if xs.size == 0:
        return xs, txs, Ts, np.zeros(0)
    order = np.lexsort((Ts, txs, xs))
    xs, txs, Ts = xs[order], txs[order], Ts[order]
    new = np.empty(xs.size, dtype=bool)
    new[0] = True
    new[1:] = (xs[1:] != xs[:-1]) | (txs[1:] != txs[:-1]) | (Ts[1:] != Ts[:-1])
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, xs.size)).astype(np.float64)
    return xs[starts], txs[starts], Ts[starts], counts


def _prepare(x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> _Data:
    ux = np.unique(x)
    x_all_index = np.searchsorted(ux, x)
    zero = x == 0
    zero_T = np.unique(T[zero])
    zero_w = _sum_by(np.searchsorted(zero_T, T[zero]), w[zero], zero_T.size)
    repeat = ~zero
    x_r, w_r, T_r, tx_r = x[repeat], w[repeat], T[repeat], t_x[repeat]
    uT, utx = np.unique(T_r), np.unique(tx_r)
    T_index = np.searchsorted(uT, T_r)
    return _Data(
        ux=ux,
        w_by_x=_sum_by(x_all_index, w, ux.size),
        zero_T=zero_T,
        zero_w=zero_w,
        x=x_r,
        w=w_r,
        x_index=np.searchsorted(ux, x_r),
        uT=uT,
        T_index=T_index,
        utx=utx,
        tx_index=np.searchsorted(utx, tx_r),
        w_by_T=_sum_by(T_index, w_r, uT.size),
        wx_by_T=_sum_by(T_index, w_r * x_r, uT.size),
        n=float(w.sum()),
    )


def _sum_by(index: NDArray[np.intp], weights: FloatArray, size: int) -> FloatArray:
    return np.asarray(np.bincount(index, weights=weights, minlength=size), dtype=np.float64)


# Above this many distinct (x, t_x, T) rows, `fit` starts from a fit of a sample of
# about `_PRESTART_SAMPLE` of them.
_PRESTART_ROWS = 200_000
_PRESTART_SAMPLE = 50_000

# Rows are processed in slices that keep the temporaries in the CPU cache: at a
# million rows that halves the time of an evaluation.
_CHUNK = 1 << 15


def _negative_ll_and_gradient(log_params: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """-LL / n and its gradient in log-parameters (divided by n to keep the optimiser's
    tolerances independent of the sample size)."""
    r, alpha, a, b = np.exp(log_params)
    ux = d.ux
    # A1 + A2: terms of x alone, once per distinct x.
    a1a2 = (
        special.gammaln(r + ux)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.gammaln(a + b)
        + special.gammaln(b + ux)
        - special.gammaln(b)
        - special.gammaln(a + b + ux)
    )
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + ux)
    ll = dot(d.w_by_x, a1a2)
    g_r = dot(d.w_by_x, special.digamma(r + ux)) + d.n * (np.log(alpha) - special.digamma(r))
    g_alpha = d.n * r / alpha
    g_a = dot(d.w_by_x, psi_ab - psi_abx)
    g_b = dot(d.w_by_x, psi_ab + special.digamma(b + ux) - special.digamma(b) - psi_abx)

    # x = 0: LL_i = A1 + A2 + A3 with A3 = -r ln(alpha + T).
    log_zero_T = np.log(alpha + d.zero_T)
    ll -= r * dot(d.zero_w, log_zero_T)
    g_r -= dot(d.zero_w, log_zero_T)
    g_alpha -= r * dot(d.zero_w, 1.0 / (alpha + d.zero_T))

    if d.x.size:
        # x > 0: log(exp(A3) + exp(A4)) = A3 + log(1 + exp(D)) with
        #   A3 = -(r + x) ln(alpha + T),  D = A4 - A3 = ln(a / (b + x - 1)) - (r + x) delta,
        #   delta = ln(alpha + t_x) - ln(alpha + T).
        # The A3 parts are summed per distinct T; only the D parts need every row. The
        # gradient splits the same way with w4 = exp(A4 - lse), the weight of the
        # "left after the last purchase" branch.
        log_T = np.log(alpha + d.uT)
        log_tx = np.log(alpha + d.utx)
        inv_T = 1.0 / (alpha + d.uT)
        inv_tx = 1.0 / (alpha + d.utx)
        log_odds = np.log(a) - np.log(np.maximum(b + ux - 1.0, 1e-300))
        r_w_x = r * d.w_by_T + d.wx_by_T  # sum of w (r + x) per T
        ll -= dot(r_w_x, log_T)
        g_r -= dot(d.w_by_T, log_T)
        g_alpha -= dot(r_w_x, inv_T)
        sum_w4 = 0.0
        w4_by_x = np.zeros(ux.size)
        for start in range(0, d.x.size, _CHUNK):
            rows = slice(start, start + _CHUNK)
            T_index, tx_index, w = d.T_index[rows], d.tx_index[rows], d.w[rows]
            r_x = r + d.x[rows]
            delta = log_tx[tx_index]
            delta -= log_T[T_index]
            D = log_odds[d.x_index[rows]] - r_x * delta
            e = np.abs(D)
            np.negative(e, out=e)
            np.exp(e, out=e)  # exp(-|D|), no overflow
            softplus = np.maximum(D, 0.0)
            softplus += np.log1p(e)  # log(1 + exp(D))
            ll += dot(w, softplus)
            w4 = np.where(D > 0, 1.0, e)
            e += 1.0
            w4 /= e
            w4 *= w
            g_r -= dot(w4, delta)
            inv_delta = inv_tx[tx_index]
            inv_delta -= inv_T[T_index]
            r_x *= w4
            g_alpha -= dot(r_x, inv_delta)
            sum_w4 += float(w4.sum())
            w4_by_x += np.bincount(d.x_index[rows], weights=w4, minlength=ux.size)
        g_a += sum_w4 / a
        b_x1 = np.where(ux > 0, b + ux - 1.0, 1.0)
        g_b -= dot(w4_by_x, np.where(ux > 0, 1.0 / b_x1, 0.0))

    # Chain rule for log-parameters: d/d(log theta) = theta * d/d(theta).
    grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
    return -ll / d.n, -grad / d.n


def log_likelihood(
    params: BgNbdFit | Sequence[float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total log-likelihood of (r, alpha, a, b) on the rows (each counted `weights`
    times)."""
    xs, txs, Ts = validate(x, t_x, T)
    w = np.ones_like(xs) if weights is None else _as_float(weights, "weights")
    r, alpha, a, b = _params(params)
    value, _ = _negative_ll_and_gradient(np.log([r, alpha, a, b]), _prepare(xs, txs, Ts, w))
    return -value * float(w.sum())


def log_likelihood_gradient(
    params: Sequence[float],
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> FloatArray:
    """Gradient of the total log-likelihood with respect to (r, alpha, a, b)."""
    xs, txs, Ts = validate(x, t_x, T)
    w = np.ones_like(xs) if weights is None else _as_float(weights, "weights")
    theta = np.asarray(params, dtype=np.float64)
    _, grad = _negative_ll_and_gradient(np.log(theta), _prepare(xs, txs, Ts, w))
    return np.asarray(-grad * float(w.sum()) / theta)


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    unit: TimeUnit = TimeUnit.DAYS,
    min_clients: int = BGNBD_MIN_CLIENTS,
    min_repeat_clients: int = BGNBD_MIN_REPEAT_CLIENTS,
) -> BgNbdFit | NotEnoughData:
    """Fit BG/NBD by maximum likelihood.

    `weights` counts how many clients each row stands for (as given by
    `summary.ClientSummary.groups()`); without it identical rows are grouped here.
    Returns `NotEnoughData` under the rule in `sufficiency` (too few clients or repeat
    buyers, or no convergence). Raises ValueError on an impossible summary."""
    xs, txs, Ts = validate(x, t_x, T)
    if weights is None:
        xs, txs, Ts, w = compress(xs, txs, Ts)
    else:
        w = _as_float(weights, "weights")
        if w.shape != xs.shape or (w < 0).any() or not np.isfinite(w).all():
            raise ValueError("weights must be finite, >= 0 and as long as x")
    clients = round(float(w.sum()))
    repeat_clients = round(float(w[xs > 0].sum()))
    if clients < min_clients or repeat_clients < min_repeat_clients:
        return NotEnoughData(
            reason=Reason.TOO_FEW_CLIENTS,
            detail=(
                f"BG/NBD needs at least {min_clients} clients of whom {min_repeat_clients} "
                f"with a repeat purchase; there are {clients} and {repeat_clients}"
            ),
            required=min_clients if clients < min_clients else min_repeat_clients,
            available=clients if clients < min_clients else repeat_clients,
        )
    data = _prepare(xs, txs, Ts, w)
    # Start from r = 1 and the population's mean purchase rate, a = b = 1.
    rate = max(dot(w, xs) / max(dot(w, Ts), 1e-12), 1e-6)
    start = np.array([0.0, np.log(1.0 / rate), 0.0, 0.0])
    with single_threaded_blas():
        if xs.size > _PRESTART_ROWS:
            # Many distinct histories: first fit every k-th of them (sorted by x, t_x
            # and T, so all kinds are there), loosely, and start the full fit from
            # there; it then needs about half the evaluations over all the rows.
            step = xs.size // _PRESTART_SAMPLE
            sample = _prepare(xs[::step], txs[::step], Ts[::step], w[::step])
            rough = _minimize(sample, start, ftol=1e-10, gtol=1e-6)
            if np.isfinite(rough.fun) and np.isfinite(rough.x).all():
                start = rough.x
        result = _minimize(data, start, ftol=1e-15, gtol=1e-10)
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    ll = -float(result.fun) * data.n
    converged = bool(np.isfinite(ll)) and _optimum_reached(result)
    if not converged:
        return NotEnoughData(
            reason=Reason.FIT_FAILED, detail=f"BG/NBD fit did not converge: {result.message}"
        )
    return BgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=ll,
        n=clients,
        converged=converged,
        iterations=int(result.nit),
        unit=unit,
    )


def _minimize(
    data: _Data, start: FloatArray, *, ftol: float, gtol: float
) -> optimize.OptimizeResult:
    """L-BFGS-B over the log-parameters, with the analytic gradient."""
    return optimize.minimize(
        _negative_ll_and_gradient,
        start,
        args=(data,),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
        options={"maxiter": 1000, "ftol": ftol, "gtol": gtol},
    )


def _optimum_reached(result: optimize.OptimizeResult) -> bool:
    # L-BFGS-B may stop with "ABNORMAL" when the last line search cannot improve a
    # value already at machine precision; accept that when the gradient is tiny.
    if result.success:
        return True
    return bool(np.max(np.abs(result.jac)) < 1e-5)


def _params(params: BgNbdFit | Sequence[float]) -> tuple[float, float, float, float]:
    if isinstance(params, BgNbdFit):
        return params.r, params.alpha, params.a, params.b
    r, alpha, a, b = (float(v) for v in params)
    return r, alpha, a, b


def _a_minus_one(a: float) -> float:
    # The expectations divide by a - 1 and are continuous there; step off a = 1.
    return a - 1.0 if abs(a - 1.0) > 1e-9 else 1e-9


def _log_odds_left(params: BgNbdFit, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """log of [x > 0] a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x): the odds
    that the client left right after their last purchase (-inf when x = 0)."""
    r, alpha, a, b = _params(params)
    repeat = x > 0
    b_x1 = np.where(repeat, b + x - 1.0, 1.0)
    log_odds = np.log(a) - np.log(b_x1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, log_odds, -np.inf)


def probability_alive(params: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive | x, t_x, T) (FHL 2005, eq. 11); 1 for x = 0. Stable for any history
    (computed from log-odds)."""
    xs, txs, Ts = validate(x, t_x, T)
    return _p_alive(params, xs, txs, Ts)


def conditional_expected_purchases(
    params: BgNbdFit, t: float | ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[X(t) | x, t_x, T]: expected purchases in the next `t` units (FHL 2005, eq. 10),
    = P(alive | x, t_x, T) * (a+b+x-1)/(a-1) * [1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
    with z = t / (alpha + T + t).

    The hypergeometric term is evaluated after Euler's transformation,
        (1 - z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1 - z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z),
    whose parameters stay small for any x, so heavy buyers neither overflow nor lose
    precision."""
    xs, txs, Ts = validate(x, t_x, T)
    return _head(params, t, xs, Ts) * _p_alive(params, xs, txs, Ts)


def _p_alive(params: BgNbdFit, xs: FloatArray, txs: FloatArray, Ts: FloatArray) -> FloatArray:
    return np.asarray(special.expit(-_log_odds_left(params, xs, txs, Ts)))


def _head(params: BgNbdFit, t: float | ArrayLike, xs: FloatArray, Ts: FloatArray) -> FloatArray:
    """E[X(t) | x, t_x, T] / P(alive): depends on x and T only."""
    r, alpha, a, b = _params(params)
    ts = np.asarray(t, dtype=np.float64)
    z = ts / (alpha + Ts + ts)
    hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + xs - 1.0, z)
    return np.asarray(
        (a + b + xs - 1.0) / _a_minus_one(a) * (1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp)
    )


def expected_purchases_new_client(params: BgNbdFit, t: float | ArrayLike) -> FloatArray:
    """E[X(t)]: expected purchases of a new client in `t` units after their first
    purchase (FHL 2005, eq. 9; same Euler transformation as above)."""
    r, alpha, a, b = _params(params)
    ts = np.asarray(t, dtype=np.float64)
    z = ts / (alpha + ts)
    hyp = special.hyp2f1(a + b - 1.0 - r, a - 1.0, a + b - 1.0, z)
    return np.asarray(
        (a + b - 1.0) / _a_minus_one(a) * (1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp)
    )


@dataclass(frozen=True, slots=True)
class BgNbdScores:
    """Per client: P(alive), expected purchases per horizon (days -> array) and the
    discounted expected purchases over `months` (see `discounted_expected_purchases`)."""

    p_alive: FloatArray
    expected: dict[int, FloatArray]
    discounted_purchases: FloatArray
    months: int
    monthly_discount_rate: float


def score(
    params: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizons_days: Sequence[int] = HORIZONS_DAYS,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
) -> BgNbdScores:
    """Everything the CRM shows from BG/NBD, for every client at once.

    The expensive hypergeometric term depends on (x, T) only, so it is evaluated once
    per distinct (x, T) pair (tens of thousands for a million clients with daily
    dates) and multiplied by each client's P(alive)."""
    _check_discounting(months, monthly_discount_rate)
    xs, txs, Ts = validate(x, t_x, T)
    p_alive = _p_alive(params, xs, txs, Ts)
    pair_x, pair_T, inverse = _distinct_pairs(xs, Ts)
    unit_days = float(params.unit)
    expected = {
        days: _head(params, days / unit_days, pair_x, pair_T)[inverse] * p_alive
        for days in horizons_days
    }
    discounted = _discounted_head(params, pair_x, pair_T, months, monthly_discount_rate)
    return BgNbdScores(
        p_alive=p_alive,
        expected=expected,
        discounted_purchases=discounted[inverse] * p_alive,
        months=months,
        monthly_discount_rate=monthly_discount_rate,
    )


def _distinct_pairs(
    xs: FloatArray, Ts: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    ux, x_index = np.unique(xs, return_inverse=True)
    uT, T_index = np.unique(Ts, return_inverse=True)
    key = x_index.astype(np.int64) * uT.size + T_index
    pairs, inverse = np.unique(key, return_inverse=True)
    return ux[pairs // uT.size], uT[pairs % uT.size], inverse


def _check_discounting(months: int, monthly_discount_rate: float) -> None:
    if months < 0:
        raise ValueError("months must be >= 0")
    if monthly_discount_rate <= -1:
        raise ValueError("the discount rate must be > -1")


def _discounted_head(
    params: BgNbdFit, xs: FloatArray, Ts: FloatArray, months: int, rate: float
) -> FloatArray:
    month = DAYS_PER_MONTH / float(params.unit)
    total = np.zeros_like(xs)
    previous = np.zeros_like(xs)
    for k in range(1, months + 1):
        current = _head(params, k * month, xs, Ts)
        total += (current - previous) / (1.0 + rate) ** k
        previous = current
    return total


def expected_purchases_for_horizons(
    params: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizons_days: Sequence[int] = HORIZONS_DAYS,
) -> dict[int, FloatArray]:
    """Expected purchases in the next 30/90/365 days (or `horizons_days`), converting
    days to the fit's time unit."""
    return score(params, x, t_x, T, horizons_days=horizons_days, months=0).expected


def discounted_expected_purchases(
    params: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    months: int,
    monthly_discount_rate: float,
) -> FloatArray:
    """sum over months k = 1..months of (E[X(k m)] - E[X((k-1) m)]) / (1 + d)^k, with m
    one month (365.25/12 days) in the fit's unit: the expected purchases of each month
    discounted to today, the purchase part of the discounted-cash-flow CLV."""
    return score(
        params,
        x,
        t_x,
        T,
        horizons_days=(),
        months=months,
        monthly_discount_rate=monthly_discount_rate,
    ).discounted_purchases
