"""Closed-form results for quadratics, to check runs against (L: largest, μ: smallest curvature)."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["gd_best", "heavy_ball_best", "measured_rate"]


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
