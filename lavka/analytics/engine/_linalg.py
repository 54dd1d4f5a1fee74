"""Keeping BLAS out of the way.

`np.dot` on long vectors and SciPy's L-BFGS-B go to OpenBLAS, which keeps a thread per
core that spins while waiting for work. On a busy 2-core server those threads compete
with the fit itself and with the web workers: measured on the benchmark's million
clients, the BG/NBD fit took 2.4 s with OpenBLAS's default threads and 0.9 s with one.
So inner products use `np.einsum` (NumPy's own single-threaded loop) and the fits run
inside `single_threaded_blas()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits


def dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """sum(a * b) of two 1-D float arrays."""
    return float(np.einsum("i,i->", a, b))


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS libraries loaded in the process to one thread for the block."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
