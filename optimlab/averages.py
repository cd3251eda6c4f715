"""Exponentially weighted moving averages (EWMA), the building block of momentum and Adam."""
from __future__ import annotations

import numpy as np

__all__ = ["ewma", "ewma_weights"]


def ewma(values, beta, bias_correction: bool = False) -> np.ndarray:
    r"""EWMA along the first axis, starting from :math:`y_0 = 0`.

    .. math::
        y_t = \beta\, y_{t-1} + (1-\beta)\, x_t,\qquad
        \hat y_t = \frac{y_t}{1-\beta^t}\ \text{(with bias\_correction)}

    ``values`` has shape ``(T, ...)``; ``beta`` is a number in [0, 1) or an array that
    broadcasts against ``values[0]`` (so one call smooths with many βs).  Returns
    ``y_1 … y_T`` with the broadcast shape.
    """
    x = np.asarray(values, dtype=float)
    b = np.asarray(beta, dtype=float)
    if x.ndim == 0:
        raise ValueError("values must have at least one axis (time)")
    if np.any(np.isnan(b) | (b < 0) | (b >= 1)):
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    out = np.empty((x.shape[0],) + np.broadcast_shapes(x.shape[1:], b.shape))
    y = np.zeros(out.shape[1:])
    for t in range(x.shape[0]):
        y = b * y + (1 - b) * x[t]
        out[t] = y
    if bias_correction:
        t = np.arange(1, x.shape[0] + 1).reshape((-1,) + (1,) * (out.ndim - 1))
        out = out / (1 - b ** t)
    return out


def ewma_weights(beta: float, t: int) -> np.ndarray:
    r"""The weight :math:`(1-\beta)\beta^{t-k}` that :math:`y_t` gives to :math:`x_k`, k = 1…t.

    They sum to :math:`1-\beta^t`, not 1: the missing mass is the weight of :math:`y_0 = 0`,
    which is exactly what bias correction divides out.
    """
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    k = np.arange(1, t + 1)
    return (1 - beta) * beta ** (t - k)
