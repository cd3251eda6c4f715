"""``optimlab.theory``: the closed-form rates must be what runs on quadratics actually show."""
from __future__ import annotations

import math

import numpy as np
import pytest

import optimlab as ol
from optimlab import theory
from optimlab.surfaces import Quadratic

STEPS = {10: 200, 100: 600}


@pytest.mark.parametrize("kappa", [10, 100])
def test_gd_best_matches_the_textbook_formula_and_a_run(kappa):
    q = Quadratic(kappa=kappa, angle=30, mu=0.5)
    lr, rate = theory.gd_best(q.L, q.mu)
    assert math.isclose(lr, 2 / (q.L + q.mu)) and math.isclose(rate, (kappa - 1) / (kappa + 1))
    traj = ol.run(ol.SGD(lr=lr), q, q.start, STEPS[kappa])
    measured = theory.measured_rate(traj)
    assert abs(measured / rate - 1) < 0.02, (measured, rate)
    # the error of GD with the best step shrinks by exactly ρ in both eigen-directions
    d = np.linalg.norm(traj.xs, axis=-1)
    np.testing.assert_allclose(d[1:] / d[:-1], rate, rtol=1e-6)


@pytest.mark.parametrize("kappa", [10, 100])
def test_gd_best_step_is_best(kappa):
    q = Quadratic(kappa=kappa)
    lr, rate = theory.gd_best(q.L, q.mu)
    lrs = lr * np.array([0.8, 0.95, 1.0, 1.05])[:, None]
    measured = theory.measured_rate(ol.run(ol.SGD(lr=lrs), q, (1.0, 1.0), STEPS[kappa]))
    assert np.argmin(measured) == 2
    assert abs(measured[2] / rate - 1) < 0.02


@pytest.mark.parametrize("kappa", [10, 100])
def test_heavy_ball_best_matches_the_textbook_formula_and_a_run(kappa):
    q = Quadratic(kappa=kappa, angle=-40, mu=2.0)
    lr, momentum, rate = theory.heavy_ball_best(q.L, q.mu)
    sk = math.sqrt(kappa)
    assert math.isclose(lr, 4 / (math.sqrt(q.L) + math.sqrt(q.mu)) ** 2)
    assert math.isclose(momentum, ((sk - 1) / (sk + 1)) ** 2)
    assert math.isclose(rate, (sk - 1) / (sk + 1))
    traj = ol.run(ol.SGD(lr=lr, momentum=momentum), q, q.start, STEPS[kappa])
    measured = theory.measured_rate(traj)
    # a double root: the error behaves like t·ρ^t, so a finite run measures slightly above ρ
    assert 0.99 * rate < measured < 1.03 * rate, (measured, rate)
    gd_rate = theory.gd_best(q.L, q.mu)[1]
    assert measured < gd_rate  # momentum is faster than the best plain GD


def test_heavy_ball_rate_in_the_classical_form():
    """The same parameters in the classical form u ← βu + ηg, θ ← θ − u (a loop here)."""
    q = Quadratic(kappa=100)
    lr, beta, rate = theory.heavy_ball_best(q.L, q.mu)
    theta, u = np.array(q.start), np.zeros(2)
    d = [np.linalg.norm(theta)]
    for _ in range(600):
        u = beta * u + lr * q.grad(theta)
        theta = theta - u
        d.append(np.linalg.norm(theta))
    measured = (d[-1] / d[300]) ** (1 / 300)
    assert 0.99 * rate < measured < 1.03 * rate


def test_measured_rate_details():
    q = Quadratic(kappa=10)
    traj = ol.run(ol.SGD(lr=np.array([0.1, 0.25])[:, None]), q, (1.0, 1.0), 100)
    rates = theory.measured_rate(traj)
    assert rates.shape == (2,) and rates[1] == np.inf        # the diverged run
    assert math.isclose(rates[0], 0.9, rel_tol=1e-9)         # slow axis: x_t = 0.9^t
    q_shift = type("Shifted", (), {"f": lambda s, xy: q.f(np.asarray(xy) - (2.0, 1.0)),
                                   "grad": lambda s, xy: q.grad(np.asarray(xy) - (2.0, 1.0))})()
    shifted = ol.run(ol.SGD(lr=0.1), q_shift, (3.0, 2.0), 100)
    assert math.isclose(theory.measured_rate(shifted, minimum=(2.0, 1.0)), 0.9, rel_tol=1e-9)


@pytest.mark.parametrize("L, mu", [(1.0, 0.0), (1.0, -1.0), (1.0, 2.0)])
def test_invalid_curvatures_raise(L, mu):
    with pytest.raises(ValueError):
        theory.gd_best(L, mu)
    with pytest.raises(ValueError):
        theory.heavy_ball_best(L, mu)
