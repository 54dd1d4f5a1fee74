"""Transactions drawn from the BG/NBD and Gamma-Gamma processes themselves: a base
whose true parameters are known, for benchmarks, tests and demo data.

Per client: lambda ~ Gamma(r, scale 1/alpha) purchases per day while alive,
p ~ Beta(a, b) the chance of leaving after each repeat purchase, nu ~ Gamma(q, scale
1/gamma) and each purchase's value z ~ Gamma(p_spend, scale 1/nu). The first purchase
is on a day drawn uniformly from [first_day, first_day + acquisition_days); repeat
purchases follow in continuous time and are dated by the day they fall in, so two may
share a day (the summary then merges them, as it does in real data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class SimulatedTransactions:
    """Columns, one row per transaction, ordered by client then time."""

    client_id: NDArray[np.int64]
    day: NDArray[np.int64]  # days since 1970-01-01
    amount: NDArray[np.float64]


def simulate_transactions(
    *,
    n_clients: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float,
    q: float,
    gamma: float,
    first_day: int,
    acquisition_days: int,
    observation_end: int,
    seed: int = 0,
) -> SimulatedTransactions:
    """Simulate every client's purchases up to `observation_end` (a day number; the
    last day counted in full). alpha is in days. Vectorised: memory is a few arrays of
    the number of transactions."""
    if acquisition_days < 1 or first_day + acquisition_days - 1 > observation_end:
        raise ValueError("every first purchase must fall on or before observation_end")
    rng = np.random.default_rng(seed)
    first = first_day + rng.integers(0, acquisition_days, n_clients)
    T = (observation_end + 1 - first).astype(np.float64)  # to the end of the last day
    rate = rng.gamma(r, 1.0 / alpha, n_clients)
    leave = rng.beta(a, b, n_clients)
    # The client leaves right after repeat purchase number K (K >= 1).
    K = rng.geometric(np.clip(leave, 1e-12, 1.0))
    N = rng.poisson(rate * T)  # purchases in (0, T] had they stayed
    x = np.minimum(N, K)
    # The first x of N ordered uniforms on (0, T): U_(j) = S_j / S_(N+1) with S the
    # partial sums of N + 1 unit exponentials, S_(N+1) = S_x + Gamma(N + 1 - x).
    owner = np.repeat(np.arange(n_clients), x)
    steps = rng.exponential(size=owner.size)
    partial = np.cumsum(steps)
    ends = np.cumsum(x)
    before = np.concatenate(([0.0], partial))[ends - x]  # sum before each client's run
    partial -= np.repeat(before, x)
    last_partial = np.zeros(n_clients)
    has = x > 0
    last_partial[has] = partial[ends[has] - 1]
    rest = rng.gamma((N - x + 1).astype(np.float64), 1.0)
    times = partial * np.repeat(T / (last_partial + rest), x)
    repeat_day = first[owner] + np.floor(times).astype(np.int64)
    repeat_day = np.minimum(repeat_day, observation_end)

    # Rows: each client's first purchase, then their repeats.
    counts = x + 1
    client = np.repeat(np.arange(n_clients, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    day = np.empty(client.size, dtype=np.int64)
    day[starts] = first
    is_repeat = np.ones(client.size, dtype=bool)
    is_repeat[starts] = False
    day[is_repeat] = repeat_day
    nu = rng.gamma(q, 1.0 / gamma, n_clients)
    amount = rng.gamma(p, 1.0, client.size) / nu[client]
    return SimulatedTransactions(client_id=client + 1, day=day, amount=amount)
