"""Closed-form results for quadratics, to check runs against (L: largest, μ: smallest curvature)."""
from __future__ import annotations

import math

import numpy as np

from .rules import _check

__all__ = ["gd_best", "heavy_ball_best", "nesterov_best", "momentum_rate", "measured_rate"]


def _kappa(L, mu):
    if not (mu > 0 and L >= mu):
        raise ValueError(f"need 0 < mu <= L, got mu={mu}, L={L}")
    return L / mu


def gd_best(L: float, mu: float) -> tuple[float, float]:
    r"""Best fixed step of gradient descent and its rate: :math:`\eta^*=\frac{2}{L+\mu}`,
    :math:`\rho=\frac{\kappa-1}{\kappa+1}` (the error shrinks by ρ per step)."""
    k = _kappa(L, mu)
    return 2 / (L + mu), (k - 1) / (k + 1)


def heavy_ball_best(L: float, mu: float) -> tuple[float, float, float]:
    r"""Best heavy-ball momentum on a quadratic (Polyak): step, momentum and rate.

    :math:`\eta^*=\frac{4}{(\sqrt L+\sqrt\mu)^2}`, :math:`\beta^*=\bigl(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\bigr)^2`,
    :math:`\rho=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}`, for the classical form
    ``u ← βu + ηg, θ ← θ − u`` (= PyTorch's ``SGD(lr=η, momentum=β)``).
    """
    k = _kappa(L, mu)
    r = (math.sqrt(k) - 1) / (math.sqrt(k) + 1)
    return 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2, r * r, r


def nesterov_best(L: float, mu: float) -> tuple[float, float, float]:
    r"""Best Nesterov momentum on a quadratic (Lessard, Recht & Packard 2016): step, momentum, rate.

    :math:`\eta^*=\frac{4}{3L+\mu}`, :math:`\beta^*=\frac{\sqrt{3\kappa+1}-2}{\sqrt{3\kappa+1}+2}`,
    :math:`\rho=1-\frac{2}{\sqrt{3\kappa+1}}`, for PyTorch's ``SGD(lr=η, momentum=β, nesterov=True)``.
    (The textbook setting :math:`\eta=1/L`, :math:`\beta=\frac{\sqrt\kappa-1}{\sqrt\kappa+1}` gives
    :math:`1-1/\sqrt\kappa` on a quadratic, the rate Nesterov's method guarantees for the loss on
    every smooth strongly convex function.)
    """
    k = _kappa(L, mu)
    s = math.sqrt(3 * k + 1)
    return 4 / (3 * L + mu), (s - 2) / (s + 2), 1 - 2 / s


def momentum_rate(lr, beta, curvatures, nesterov: bool = False) -> np.ndarray:
    r"""Predicted rate of heavy-ball (or Nesterov) momentum on a quadratic with these curvatures.

    Along an eigen-direction of curvature λ the error obeys :math:`e_t = a\,e_{t-1} - c\,e_{t-2}`
    with :math:`a = 1+\beta-\eta\lambda`, :math:`c = \beta` (heavy ball, PyTorch's
    ``SGD(lr=η, momentum=β)``) or :math:`a = (1-\eta\lambda)(1+\beta)`,
    :math:`c = (1-\eta\lambda)\beta` (``nesterov=True``).  The rate is the largest modulus of a
    root of :math:`z^2 - a z + c` over all curvatures; a rate ≥ 1 means divergence.  ``lr`` and
    ``beta`` broadcast against each other; the result has their broadcast shape.  ``beta = 0``
    is gradient descent, :math:`\max_\lambda |1-\eta\lambda|`.
    """
    _check("lr", lr)
    _check("beta", beta, 0.0, 1.0)
    lam = np.asarray(curvatures, dtype=float).ravel()
    _check("curvatures", lam, 0.0, lo_open=True)
    if lam.size == 0:
        raise ValueError("curvatures must hold at least one value")
    h = np.asarray(lr, dtype=float)[..., None] * lam          # ηλ: a last axis over the curvatures
    b = np.asarray(beta, dtype=float)[..., None]
    a, c = ((1 - h) * (1 + b), (1 - h) * b) if nesterov else (1 + b - h, b)
    root = np.sqrt((a * a - 4 * c).astype(complex))
    return np.max(np.maximum(abs(a + root), abs(a - root)) / 2, axis=-1)


def measured_rate(traj, minimum=(0.0, 0.0), tail: float = 0.5) -> np.ndarray:
    """Per-step contraction of the distance to ``minimum``, fitted over the last ``tail`` of a run.

    Returns ``(‖θ_T − θ*‖ / ‖θ_s − θ*‖)^(1/(T−s))`` for every run of the batch; diverged runs
    give ``inf``.
    """
    d = np.linalg.norm(traj.xs - np.asarray(minimum, dtype=float), axis=-1)
    s = int(traj.steps * (1 - tail))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (np.maximum(d[-1], 1e-300) / np.maximum(d[s], 1e-300)) ** (1 / (traj.steps - s))
    return np.where(traj.diverged, np.inf, rate)
