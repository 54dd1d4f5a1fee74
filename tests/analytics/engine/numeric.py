from collections.abc import Callable

import numpy as np


def central_differences(
    f: Callable[[np.ndarray], float], theta: np.ndarray, relative_step: float = 1e-5
) -> np.ndarray:
    """Numerical gradient of f at theta, (f(theta + h) - f(theta - h)) / 2h per axis."""
    gradient = np.empty_like(theta)
    for i in range(theta.size):
        h = relative_step * abs(theta[i])
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        gradient[i] = (f(up) - f(down)) / (2 * h)
    return gradient
