"""The "not enough data" rule: when the models give a number and when a marker.

A model is fitted on the whole population, so a client with a short history still
borrows strength from everyone else. The rule, in full:

1. **Fitting BG/NBD** needs at least `BGNBD_MIN_CLIENTS` clients (default 100) of whom
   at least `BGNBD_MIN_REPEAT_CLIENTS` (default 20) made a repeat purchase. Otherwise
   `bgnbd.fit` returns `NotEnoughData(TOO_FEW_CLIENTS)` and nobody gets P(alive) or
   expected purchases.
2. **Fitting Gamma-Gamma** needs at least `GAMMA_GAMMA_MIN_CLIENTS` clients (default 30)
   with a repeat purchase and a positive average repeat spend. Otherwise
   `gamma_gamma.fit` returns `NotEnoughData(TOO_FEW_CLIENTS)` and nobody gets an
   expected order value or CLV.
3. An optimiser that does not converge returns `NotEnoughData(FIT_FAILED)` instead of
   parameters.
4. **Per client, purchases**: once BG/NBD is fitted, every client with at least one
   purchase gets P(alive) and expected purchases, one-time buyers included (the model
   is defined for x = 0: such a client is alive with probability 1 until the first
   repeat purchase is "overdue", and the expectation is driven by the population).
5. **Per client, spend**: the expected average order value and the CLV need
   - at least one repeat purchase (`NO_REPEAT_PURCHASE` otherwise): the Gamma-Gamma
     model is conditioned on the average of the *repeat* purchases;
   - a positive average repeat spend (`NON_POSITIVE_SPEND` otherwise): free items and
     returns are kept as orders (they count as purchases for BG/NBD), but a client
     whose repeat orders add up to zero or less says nothing about spend;
   - a finite model mean (`UNDEFINED` otherwise): when p*x + q <= 1 the conditional
     mean does not exist.

Per-client results are `Estimates`: a float array with NaN wherever `reason` is not
`Reason.OK`, so a caller never shows a number the rule refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from django.utils.translation import gettext_lazy as _
from numpy.typing import NDArray

BGNBD_MIN_CLIENTS = 100
BGNBD_MIN_REPEAT_CLIENTS = 20
GAMMA_GAMMA_MIN_CLIENTS = 30


class Reason(IntEnum):
    """Why a number is missing. Stored per client as uint8; 0 means "a number"."""

    OK = 0
    NO_REPEAT_PURCHASE = 1
    NON_POSITIVE_SPEND = 2
    TOO_FEW_CLIENTS = 3
    FIT_FAILED = 4
    UNDEFINED = 5


REASON_LABELS = {
    Reason.OK: _("OK"),
    Reason.NO_REPEAT_PURCHASE: _("Not enough data: no repeat purchase yet"),
    Reason.NON_POSITIVE_SPEND: _("Not enough data: repeat orders add up to zero or less"),
    Reason.TOO_FEW_CLIENTS: _("Not enough data: too few clients with repeat purchases"),
    Reason.FIT_FAILED: _("Not enough data: the model could not be fitted"),
    Reason.UNDEFINED: _("Not enough data: the model gives no finite value"),
}


@dataclass(frozen=True, slots=True)
class NotEnoughData:
    """Returned by a fit instead of parameters. `required`/`available` count clients
    (both 0 for `FIT_FAILED`); `detail` is an English sentence for logs and the CLI."""

    reason: Reason
    detail: str
    required: int = 0
    available: int = 0


@dataclass(frozen=True, slots=True)
class Estimates:
    """A per-client quantity with its markers: `value[i]` is NaN exactly where
    `reason[i] != Reason.OK`."""

    value: NDArray[np.float64]
    reason: NDArray[np.uint8]

    @property
    def ok(self) -> NDArray[np.bool_]:
        return self.reason == Reason.OK

    @classmethod
    def missing(cls, n: int, reason: Reason) -> Estimates:
        return cls(value=np.full(n, np.nan), reason=np.full(n, np.uint8(reason), dtype=np.uint8))
