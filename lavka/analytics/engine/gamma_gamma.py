"""The Gamma-Gamma model of spend per purchase, and customer lifetime value.

Fader, Hardie and Lee (2005), "RFM and CLV: using iso-value curves for customer base
analysis", Journal of Marketing Research 42(4); the likelihood as in Hardie's note
"The Gamma-Gamma model of monetary value" (2013). A client's purchases have values
z ~ Gamma(p, nu) around their own mean p / nu, with nu ~ Gamma(q, gamma) across
clients. Observed for a client: x >= 1 repeat purchases and their average value m.

    LL_i = lnG(p x + q) - lnG(p x) - lnG(q) + q ln(gamma) + (p x - 1) ln(m)
           + p x ln(x) - (p x + q) ln(gamma + x m)

Fitted on clients with x >= 1 and m > 0 by L-BFGS-B over log-parameters with the
analytic gradient. The model assumes spend is independent of the purchase process;
the CLV below multiplies the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from lavka.analytics.engine import bgnbd
from lavka.analytics.engine._linalg import dot, single_threaded_blas
from lavka.analytics.engine.sufficiency import (
    GAMMA_GAMMA_MIN_CLIENTS,
    Estimates,
    NotEnoughData,
    Reason,
)

FloatArray = NDArray[np.float64]

_LOG_BOUND = 25.0


@dataclass(frozen=True, slots=True)
class GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma parameters; `n` clients were used."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n: int
    converged: bool
    iterations: int

    @property
    def population_mean(self) -> float:
        """Mean spend per purchase across clients, p gamma / (q - 1); inf if q <= 1."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1.0 else float("inf")


def spend_reasons(x: ArrayLike, monetary: ArrayLike) -> NDArray[np.uint8]:
    """Per client: `Reason.OK` if the client can enter the spend model (x >= 1 and a
    positive average repeat spend), else why not (see `sufficiency`)."""
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(monetary, dtype=np.float64)
    reasons = np.zeros(xs.shape, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        reasons[~(ms > 0)] = Reason.NON_POSITIVE_SPEND
    reasons[xs < 1] = Reason.NO_REPEAT_PURCHASE
    return reasons


@dataclass(frozen=True, slots=True)
class _Data:
    ux: FloatArray  # distinct x and the weight of each
    w_by_x: FloatArray
    xm: FloatArray  # per client: x * m, w, w * x
    w: FloatArray
    wx: FloatArray
    wx_log_m: float  # sum of w x ln(m)
    w_log_m: float  # sum of w ln(m)
    n: float


def _prepare(xs: FloatArray, ms: FloatArray, w: FloatArray) -> _Data:
    ux = np.unique(xs)
    log_m = np.log(ms)
    wx = w * xs
    return _Data(
        ux=ux,
        w_by_x=np.asarray(
            np.bincount(np.searchsorted(ux, xs), weights=w, minlength=ux.size), dtype=np.float64
        ),
        xm=xs * ms,
        w=w,
        wx=wx,
        wx_log_m=dot(wx, log_m),
        w_log_m=dot(w, log_m),
        n=float(w.sum()),
    )


# Rows in cache-sized slices (see bgnbd).
_CHUNK = 1 << 15


def _negative_ll_and_gradient(log_params: FloatArray, d: _Data) -> tuple[float, FloatArray]:
    """-LL / n and its gradient in log-parameters. With L = ln(gamma + x m), the only
    per-client work is sum w x L, sum w L, sum w x / (gamma + x m), sum w / (gamma + x m)."""
    p, q, gamma = np.exp(log_params)
    ux = d.ux
    px = p * ux
    # Terms of x alone, once per distinct x.
    per_x = special.gammaln(px + q) - special.gammaln(px) + px * np.log(ux)
    psi_pxq = special.digamma(px + q)
    psi_px = special.digamma(px)
    wx_L = w_L = wx_inv = w_inv = 0.0
    for start in range(0, d.w.size, _CHUNK):
        rows = slice(start, start + _CHUNK)
        g_xm = d.xm[rows] + gamma
        wx, w = d.wx[rows], d.w[rows]
        log_g_xm = np.log(g_xm)
        wx_L += dot(wx, log_g_xm)
        w_L += dot(w, log_g_xm)
        np.reciprocal(g_xm, out=g_xm)
        wx_inv += dot(wx, g_xm)
        w_inv += dot(w, g_xm)
    ll = (
        dot(d.w_by_x, per_x)
        + d.n * (q * np.log(gamma) - special.gammaln(q))
        + p * d.wx_log_m
        - d.w_log_m
        - p * wx_L
        - q * w_L
    )
    g_p = dot(d.w_by_x, ux * (psi_pxq - psi_px + np.log(ux))) + d.wx_log_m - wx_L
    g_q = dot(d.w_by_x, psi_pxq) + d.n * (np.log(gamma) - special.digamma(q)) - w_L
    g_gamma = d.n * q / gamma - p * wx_inv - q * w_inv
    grad = np.array([g_p * p, g_q * q, g_gamma * gamma])
    return -ll / d.n, -grad / d.n


def _inputs(
    x: ArrayLike, monetary: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(monetary, dtype=np.float64)
    w = np.ones_like(xs) if weights is None else np.asarray(weights, dtype=np.float64)
    if not (xs.ndim == ms.ndim == w.ndim == 1 and xs.shape == ms.shape == w.shape):
        raise ValueError("x, monetary and weights must be 1-D and of one length")
    if not np.isfinite(xs).all() or (xs < 0).any() or (xs != np.floor(xs)).any():
        raise ValueError("x must be a whole number >= 0")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    return xs, ms, w


def log_likelihood(
    params: GammaGammaFit | tuple[float, float, float],
    x: ArrayLike,
    monetary: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total log-likelihood of (p, q, gamma) over clients with x >= 1 and m > 0."""
    xs, ms, w = _inputs(x, monetary, weights)
    if (spend_reasons(xs, ms) != Reason.OK).any():
        raise ValueError("every client must have x >= 1 and a positive average spend")
    value, _ = _negative_ll_and_gradient(np.log(_params(params)), _prepare(xs, ms, w))
    return -value * float(w.sum())


def log_likelihood_gradient(
    params: GammaGammaFit | tuple[float, float, float],
    x: ArrayLike,
    monetary: ArrayLike,
    weights: ArrayLike | None = None,
) -> FloatArray:
    """Gradient of the total log-likelihood with respect to (p, q, gamma)."""
    xs, ms, w = _inputs(x, monetary, weights)
    if (spend_reasons(xs, ms) != Reason.OK).any():
        raise ValueError("every client must have x >= 1 and a positive average spend")
    theta = np.array(_params(params))
    _, grad = _negative_ll_and_gradient(np.log(theta), _prepare(xs, ms, w))
    return np.asarray(-grad * float(w.sum()) / theta)


def fit(
    x: ArrayLike,
    monetary: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    min_clients: int = GAMMA_GAMMA_MIN_CLIENTS,
) -> GammaGammaFit | NotEnoughData:
    """Fit Gamma-Gamma on the clients that qualify (x >= 1 and positive `monetary`,
    the average repeat spend); the others are left out, see `spend_reasons` for why.
    Returns `NotEnoughData` when fewer than `min_clients` qualify or the optimiser
    fails."""
    xs, ms, w = _inputs(x, monetary, weights)
    usable = spend_reasons(xs, ms) == Reason.OK
    xs, ms, w = xs[usable], ms[usable], w[usable]
    clients = round(float(w.sum()))
    if clients < min_clients:
        return NotEnoughData(
            reason=Reason.TOO_FEW_CLIENTS,
            detail=(
                f"Gamma-Gamma needs at least {min_clients} clients with a repeat purchase "
                f"and a positive average spend; there are {clients}"
            ),
            required=min_clients,
            available=clients,
        )
    data = _prepare(xs, ms, w)
    # Start at p = q = 2 and gamma matching the mean spend: p gamma / (q - 1) = mean(m).
    mean_m = dot(w, ms) / float(w.sum())
    start = np.log([2.0, 2.0, max(mean_m / 2.0, 1e-9)])
    with single_threaded_blas():
        result = optimize.minimize(
            _negative_ll_and_gradient,
            start,
            args=(data,),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
            options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10},
        )
    p, q, gamma = (float(v) for v in np.exp(result.x))
    ll = -float(result.fun) * float(w.sum())
    if not (np.isfinite(ll) and (result.success or np.max(np.abs(result.jac)) < 1e-5)):
        return NotEnoughData(
            reason=Reason.FIT_FAILED,
            detail=f"Gamma-Gamma fit did not converge: {result.message}",
        )
    return GammaGammaFit(
        p=p,
        q=q,
        gamma=gamma,
        log_likelihood=ll,
        n=clients,
        converged=True,
        iterations=int(result.nit),
    )


def _params(params: GammaGammaFit | tuple[float, float, float]) -> tuple[float, float, float]:
    if isinstance(params, GammaGammaFit):
        return params.p, params.q, params.gamma
    p, q, gamma = (float(v) for v in params)
    return p, q, gamma


def conditional_expected_average_spend(
    params: GammaGammaFit | NotEnoughData, x: ArrayLike, monetary: ArrayLike
) -> Estimates:
    """E[Z | p, q, gamma, x, m] = p (gamma + x m) / (p x + q - 1): the expected value of
    the client's next purchase, a weighted mean of the population mean and their own
    average. Markers (not numbers) for clients the rule in `sufficiency` refuses."""
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(monetary, dtype=np.float64)
    if isinstance(params, NotEnoughData):
        return Estimates.missing(xs.size, params.reason)
    p, q, gamma = _params(params)
    reasons = spend_reasons(xs, ms)
    ok = reasons == Reason.OK
    denominator = p * xs + q - 1.0
    reasons[ok & ~(denominator > 0)] = Reason.UNDEFINED
    ok = reasons == Reason.OK
    value = np.full(xs.shape, np.nan)
    value[ok] = p * (gamma + xs[ok] * ms[ok]) / denominator[ok]
    return Estimates(value=value, reason=reasons)


def customer_lifetime_value(
    purchases: bgnbd.BgNbdFit | NotEnoughData,
    spend: GammaGammaFit | NotEnoughData,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    discounted_purchases: ArrayLike | None = None,
) -> Estimates:
    """CLV over `months` as a discounted cash flow (the approach of Fader, Hardie and
    Lee 2005 and of the `lifetimes` library):

        CLV = E[Z] * sum_{k=1..months} (E[X(k m)] - E[X((k-1) m)]) / (1 + d)^k

    with E[Z] the expected spend per purchase, E[X(t)] the expected purchases within t
    (BG/NBD, given the client's history), m one month and d the monthly discount rate.
    `discounted_purchases` may pass the sum already computed (e.g. once per distinct
    history with `bgnbd.discounted_expected_purchases`)."""
    xs = np.asarray(x, dtype=np.float64)
    if isinstance(purchases, NotEnoughData):
        return Estimates.missing(xs.size, purchases.reason)
    average = conditional_expected_average_spend(spend, xs, monetary)
    if discounted_purchases is None:
        discounted = bgnbd.discounted_expected_purchases(
            purchases,
            xs,
            t_x,
            T,
            months=months,
            monthly_discount_rate=monthly_discount_rate,
        )
    else:
        discounted = np.asarray(discounted_purchases, dtype=np.float64)
    return Estimates(value=average.value * discounted, reason=average.reason)
