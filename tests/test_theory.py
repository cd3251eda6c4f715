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


@pytest.mark.parametrize("kappa", [10, 100])
def test_nesterov_best_matches_lessard_recht_packard_and_a_run(kappa):
    q = Quadratic(kappa=kappa, angle=25, mu=0.5)
    lr, momentum, rate = theory.nesterov_best(q.L, q.mu)
    s = math.sqrt(3 * kappa + 1)
    assert math.isclose(lr, 4 / (3 * q.L + q.mu))
    assert math.isclose(momentum, (s - 2) / (s + 2)) and math.isclose(rate, 1 - 2 / s)
    # a double root: its square-root-sized rounding error is ~1e-8
    assert math.isclose(theory.momentum_rate(lr, momentum, [q.mu, q.L], nesterov=True), rate,
                        rel_tol=1e-6)
    measured = theory.measured_rate(ol.run(ol.SGD(lr=lr, momentum=momentum, nesterov=True),
                                           q, q.start, STEPS[kappa]))
    assert 0.99 * rate < measured < 1.03 * rate, (measured, rate)
    # slower than the tuned heavy ball, faster than Nesterov's textbook setting 1 − 1/√κ
    assert theory.heavy_ball_best(q.L, q.mu)[2] < rate < 1 - 1 / math.sqrt(kappa)


def test_nesterov_best_is_the_best_point_of_a_grid():
    q = Quadratic(kappa=25)
    lr, momentum, rate = theory.nesterov_best(q.L, q.mu)
    lrs, betas = np.linspace(0.01, 2.0, 400) / q.L, np.linspace(0.0, 0.99, 400)
    grid = theory.momentum_rate(lrs[:, None], betas[None, :], [q.mu, q.L], nesterov=True)
    assert grid.min() >= rate - 1e-12
    i, j = np.unravel_index(np.argmin(grid), grid.shape)
    assert abs(lrs[i] - lr) < 2 * (lrs[1] - lrs[0]) and abs(betas[j] - momentum) < 0.01


def test_momentum_rate_without_momentum_is_gradient_descent():
    lrs = np.linspace(0.0, 0.25, 11)
    expected = np.maximum(abs(1 - lrs * 1.0), abs(1 - lrs * 10.0))
    np.testing.assert_allclose(theory.momentum_rate(lrs, 0.0, [1.0, 10.0]), expected, atol=1e-12)
    np.testing.assert_allclose(theory.momentum_rate(lrs, 0.0, [1.0, 10.0], nesterov=True), expected,
                               atol=1e-12)


def test_momentum_rate_at_polyaks_optimum_and_in_the_spiral_regime():
    q = Quadratic(kappa=25)
    lr, beta, rate = theory.heavy_ball_best(q.L, q.mu)
    assert math.isclose(theory.momentum_rate(lr, beta, [q.mu, q.L]), rate, rel_tol=1e-6)
    # complex roots for both curvatures: the rate is √β whatever the learning rate
    betas = np.array([0.7, 0.8, 0.9])            # (1 − √β)² < ηλ < (1 + √β)² for λ = 1 and 25
    lrs = np.array([0.04, 0.06])[:, None]
    np.testing.assert_allclose(theory.momentum_rate(lrs, betas, [q.mu, q.L]),
                               np.broadcast_to(np.sqrt(betas), (2, 3)), rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_rate_predicts_runs_and_the_stability_edge(nesterov):
    q = Quadratic(kappa=10)
    lrs = np.linspace(0.03, 3.7, 40) / q.L          # no ηL exactly on an edge
    betas = np.array([0.0, 0.3, 0.6, 0.8]) if not nesterov else np.array([0.3, 0.6, 0.8])
    predicted = theory.momentum_rate(lrs[:, None], betas[None, :], [q.mu, q.L], nesterov=nesterov)
    assert predicted.shape == (40, len(betas))
    traj = ol.run(ol.SGD(lr=lrs[:, None, None], momentum=betas[None, :, None], nesterov=nesterov),
                  q, q.start, 400, bound=1e3)
    measured = theory.measured_rate(traj)
    clear = np.abs(predicted - 1) > 0.02          # away from the edge, 400 steps decide it
    assert np.array_equal((measured < 1)[clear], (predicted < 1)[clear])
    fast = predicted < 0.95
    assert np.median(np.abs(measured - predicted)[fast]) < 0.01
    edge = 2 * (1 + betas) / (1 + 2 * betas) if nesterov else 2 * (1 + betas)
    assert np.array_equal(predicted < 1, lrs[:, None] * q.L < edge[None, :] - 1e-12)


@pytest.mark.parametrize("kwargs, word", [
    (dict(lr=-0.1, beta=0.5, curvatures=[1.0]), "lr"),
    (dict(lr=0.1, beta=1.5, curvatures=[1.0]), "beta"),
    (dict(lr=0.1, beta=-0.1, curvatures=[1.0]), "beta"),
    (dict(lr=0.1, beta=0.5, curvatures=[0.0, 1.0]), "curvatures"),
    (dict(lr=0.1, beta=0.5, curvatures=[]), "curvatures"),
    (dict(lr=np.nan, beta=0.5, curvatures=[1.0]), "lr"),
])
def test_momentum_rate_rejects_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        theory.momentum_rate(**kwargs)


@pytest.mark.parametrize("L, mu", [(1.0, 0.0), (1.0, 2.0)])
def test_nesterov_best_rejects_bad_curvatures(L, mu):
    with pytest.raises(ValueError):
        theory.nesterov_best(L, mu)
