"""Loss surfaces: every formula is re-written here in torch, and the analytic gradients must
equal torch autograd of those formulas; the advertised minima must be minima."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optimlab import surfaces as S


# --------------------------------------------------------------------------- torch re-writes
def torch_quadratic(s):
    a = math.radians(s.angle)
    R = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
    A = R @ torch.diag(torch.tensor([s.mu, s.kappa * s.mu], dtype=torch.float64)) @ R.T
    c = torch.tensor(s.center, dtype=torch.float64)
    return lambda p: 0.5 * torch.einsum("...i,ij,...j->...", p - c, A, p - c)


def torch_rosenbrock(s):
    return lambda p: (s.a - p[..., 0]) ** 2 + s.b * (p[..., 1] - p[..., 0] ** 2) ** 2


def torch_beale(s):
    def f(p):
        x, y = p[..., 0], p[..., 1]
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2
    return f


def torch_himmelblau(s):
    return lambda p: (p[..., 0] ** 2 + p[..., 1] - 11) ** 2 + (p[..., 0] + p[..., 1] ** 2 - 7) ** 2


def torch_saddle(s):
    return lambda p: 0.5 * p[..., 0] ** 2 + 0.25 * p[..., 1] ** 4 - 0.5 * p[..., 1] ** 2


def torch_rastrigin(s):
    return lambda p: 2 * s.A + (p ** 2 - s.A * torch.cos(2 * math.pi * p)).sum(dim=-1)


TORCH_F = {S.Quadratic: torch_quadratic, S.Rosenbrock: torch_rosenbrock, S.Beale: torch_beale,
           S.Himmelblau: torch_himmelblau, S.Saddle: torch_saddle, S.Rastrigin: torch_rastrigin}

SURFACES = S.gallery() + [S.Quadratic(kappa=50, angle=30, mu=0.5), S.Quadratic(kappa=1, angle=-70),
                          S.Quadratic(kappa=20, angle=45, center=(1.0, -0.5)),
                          S.Quadratic(kappa=5, center=(6.0, -4.0)),
                          S.Rosenbrock(a=2.0, b=10.0), S.Rastrigin(A=5.0)]
IDS = [repr(s) for s in SURFACES]

# the global minimum value of each family, from its formula
F_MIN = {S.Quadratic: 0.0, S.Rosenbrock: 0.0, S.Beale: 0.0, S.Himmelblau: 0.0, S.Saddle: -0.25,
         S.Rastrigin: 0.0}


def random_points(surface, n, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.window
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


def autograd(f_torch, points):
    p = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    value = f_torch(p)
    value.sum().backward()
    return value.detach().numpy(), p.grad.numpy()


def test_gallery_has_every_named_surface():
    assert {type(s) for s in S.gallery()} == set(TORCH_F)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_f_and_grad_equal_torch_autograd(surface):
    pts = random_points(surface, 500)
    f_ref, g_ref = autograd(TORCH_F[type(surface)](surface), pts)
    f, g = surface.f(pts), surface.grad(pts)
    np.testing.assert_allclose(f, f_ref, rtol=1e-12, atol=1e-12 * np.abs(f_ref).max())
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12 * np.abs(g_ref).max())


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_shapes_and_batching(surface):
    pts = random_points(surface, 12, seed=3).reshape(3, 4, 2)
    assert surface.f(pts).shape == (3, 4) and surface.grad(pts).shape == (3, 4, 2)
    assert surface.f(pts[0, 0]).shape == () and surface.grad(pts[0, 0]).shape == (2,)
    assert surface.f(pts[0]).shape == (4,) and surface.grad(pts[0]).shape == (4, 2)
    for i in range(3):
        for j in range(4):
            np.testing.assert_allclose(surface.f(pts[i, j]), surface.f(pts)[i, j], rtol=1e-14)
            np.testing.assert_allclose(surface.grad(pts[i, j]), surface.grad(pts)[i, j], rtol=1e-14)
    assert surface.f([0.5, 0.25]).shape == ()  # lists and tuples are accepted
    X, Y, Z = surface.grid(17)
    assert X.shape == Y.shape == Z.shape == (17, 17)
    (x0, x1), (y0, y1) = surface.window
    assert (X.min(), X.max(), Y.min(), Y.max()) == (x0, x1, y0, y1)
    np.testing.assert_allclose(Z, surface.f(np.stack([X, Y], -1)))


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_minima_are_minima(surface):
    minima = np.asarray(surface.minima, dtype=float)
    assert minima.ndim == 2 and minima.shape[1] == 2 and len(minima) >= 1
    f_min = F_MIN[type(surface)]
    tol = 1e-9 if isinstance(surface, S.Himmelblau) else 1e-12  # minima given to 6 decimals
    np.testing.assert_allclose(surface.f(minima), f_min, atol=tol)
    assert abs(surface.f_min - f_min) <= tol
    scale = np.abs(surface.grad(random_points(surface, 100))).max()
    gtol = 1e-4 if isinstance(surface, S.Himmelblau) else 1e-12
    assert np.abs(surface.grad(minima)).max() <= gtol * max(scale, 1.0)
    # nothing in the window is lower, and each minimum is a strict local minimum (H > 0)
    assert surface.f(random_points(surface, 20000, seed=7)).min() >= f_min - 1e-12
    f_torch = TORCH_F[type(surface)](surface)
    for m in minima:
        H = torch.autograd.functional.hessian(f_torch, torch.tensor(m, dtype=torch.float64))
        assert torch.linalg.eigvalsh(H).min() > 0


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_window_contains_minima_and_start(surface):
    (x0, x1), (y0, y1) = surface.window
    for m in list(surface.minima) + [surface.start]:
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1, (m, surface.window)


def test_himmelblau_minima_are_accurate():
    """Newton's method from each listed minimum moves it by less than 1e-5."""
    s = S.Himmelblau()
    f = torch_himmelblau(s)
    for m in s.minima:
        p = torch.tensor(m, dtype=torch.float64)
        for _ in range(20):
            g = torch.autograd.functional.jacobian(f, p)
            p = p - torch.linalg.solve(torch.autograd.functional.hessian(f, p), g)
        assert np.abs(p.numpy() - m).max() < 1e-5
        assert f(p) < 1e-20


def test_saddle_point_at_origin():
    s = S.Saddle()
    np.testing.assert_array_equal(s.grad(np.zeros(2)), np.zeros(2))
    H = torch.autograd.functional.hessian(torch_saddle(s), torch.zeros(2, dtype=torch.float64))
    eig = torch.linalg.eigvalsh(H)
    assert eig.min() < 0 < eig.max()
    np.testing.assert_allclose(np.sort(s.minima[:, 1]), [-1.0, 1.0])
    np.testing.assert_array_equal(s.minima[:, 0], [0.0, 0.0])


@pytest.mark.parametrize("kappa, angle, mu", [(10, 0, 1), (100, 25, 0.1), (4, -60, 2.0)])
def test_quadratic_attributes(kappa, angle, mu):
    q = S.Quadratic(kappa=kappa, angle=angle, mu=mu)
    assert q.kappa == kappa and q.mu == mu and q.L == pytest.approx(kappa * mu)
    eigvals, eigvecs = np.linalg.eigh(q.A)
    np.testing.assert_allclose(eigvals, [mu, kappa * mu], rtol=1e-12)
    flat = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    np.testing.assert_allclose(q.A @ flat, mu * flat, atol=1e-12)  # the flat axis is rotated
    np.testing.assert_allclose(q.A, q.A.T)


@pytest.mark.parametrize("angle", [30.0, -70.0, 90.0])
def test_rotated_quadratic_poses_the_same_problem(angle):
    """Rotating the quadratic rotates its start too: same loss, same GD path up to the rotation."""
    base, turned = S.Quadratic(kappa=20), S.Quadratic(kappa=20, angle=angle)
    a = math.radians(angle)
    R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    np.testing.assert_allclose(turned.start, R @ np.asarray(base.start), atol=1e-12)
    np.testing.assert_allclose(turned.f(np.asarray(turned.start)), base.f(np.asarray(base.start)))
    x, y = np.asarray(base.start), np.asarray(turned.start)
    for _ in range(20):
        x, y = x - 0.05 * base.grad(x), y - 0.05 * turned.grad(y)
    np.testing.assert_allclose(y, R @ x, atol=1e-12)


def test_quadratic_center_moves_the_minimum():
    c = np.array([6.0, -4.0])
    moved, base = S.Quadratic(kappa=5, angle=20, center=c), S.Quadratic(kappa=5, angle=20)
    pts = random_points(moved, 50)
    np.testing.assert_allclose(moved.f(pts), base.f(pts - c), rtol=1e-12)
    np.testing.assert_allclose(moved.grad(pts), base.grad(pts - c), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(moved.minima, [c])
    assert moved.f_min == 0.0


@pytest.mark.parametrize("kwargs", [dict(kappa=0.5), dict(kappa=math.nan), dict(mu=0.0),
                                    dict(mu=-1.0), dict(kappa=math.inf),
                                    dict(center=(1.0, math.nan)), dict(center=(1.0, 2.0, 3.0))])
def test_quadratic_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        S.Quadratic(**kwargs)


@pytest.mark.parametrize("surface", SURFACES, ids=IDS)
def test_descriptive_attributes(surface):
    assert isinstance(surface.name, str) and surface.name
    assert isinstance(surface.latex, str) and surface.latex
    assert isinstance(surface.log_levels, bool)
    (x0, x1), (y0, y1) = surface.window
    assert x0 < x1 and y0 < y1
    assert np.all(surface.f(np.asarray(surface.start)) > surface.f_min)


@pytest.mark.parametrize("surface", S.gallery() + [S.LinearRegression([0, 1, 2], [1, 2, 2])],
                         ids=repr)
def test_points_must_have_two_coordinates(surface):
    for bad in (np.ones(3), np.ones((4, 3)), np.ones(1)):
        with pytest.raises(ValueError):
            surface.f(bad)
        with pytest.raises(ValueError):
            surface.grad(bad)


# --------------------------------------------------------------------------- linear regression
@pytest.fixture
def data():
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 3, 40)
    return x, 1.7 * x - 0.6 + rng.normal(0, 0.8, 40)


def test_linear_regression_solution_equals_polyfit(data):
    x, y = data
    lr = S.LinearRegression(x, y)
    np.testing.assert_allclose(lr.solution, np.polyfit(x, y, 1), rtol=1e-12)
    np.testing.assert_allclose(lr.minima, [np.polyfit(x, y, 1)], rtol=1e-12)
    assert np.abs(lr.grad(lr.solution)).max() < 1e-12
    assert lr.f_min == pytest.approx(np.mean((np.polyval(np.polyfit(x, y, 1), x) - y) ** 2))
    w, b = lr.solution
    (x0, x1), (y0, y1) = lr.window
    assert x0 < w < x1 and y0 < b < y1


def test_linear_regression_is_mse_loss(data):
    x, y = data
    lr = S.LinearRegression(x, y)
    pts = random_points(lr, 50, seed=5)
    p = torch.tensor(pts, requires_grad=True)
    xt, yt = torch.tensor(x), torch.tensor(y)
    loss = torch.stack([torch.nn.MSELoss()(w * xt + b, yt) for w, b in p])
    loss.sum().backward()
    np.testing.assert_allclose(lr.f(pts), loss.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(lr.grad(pts), p.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert lr.f(pts.reshape(5, 10, 2)).shape == (5, 10)
    assert lr.grad(pts.reshape(5, 10, 2)).shape == (5, 10, 2)


def _per_sample_grads(lr, wb):
    w, b = wb
    r = w * lr.x + b - lr.y
    return np.stack([2 * r * lr.x, 2 * r], axis=-1)  # (n, 2), the gradient of each (x_i, y_i)


def test_minibatch_gradient_is_unbiased(data):
    lr = S.LinearRegression(*data)
    wb = np.array([0.3, 1.2])
    draws = lr.grad(np.broadcast_to(wb, (20000, 2)), rng=np.random.default_rng(0), batch_size=5)
    full = lr.grad(wb)
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - full) < 4 * se)
    assert np.all(draws.std(axis=0) > 0)  # really random


@pytest.mark.parametrize("k", [1, 4, 16])
def test_minibatch_uses_batch_size_samples(data, k):
    """Each draw averages k samples drawn with replacement: its variance is σ²/k."""
    lr = S.LinearRegression(*data)
    wb = np.array([-0.5, 2.0])
    per_sample = _per_sample_grads(lr, wb)
    draws = lr.grad(np.broadcast_to(wb, (40000, 2)), rng=np.random.default_rng(k), batch_size=k)
    np.testing.assert_allclose(draws.var(axis=0), per_sample.var(axis=0) / k, rtol=0.06)
    if k == 1:  # every single-sample gradient is one of the per-sample gradients
        d = np.abs(draws[:200, None, :] - per_sample[None]).max(axis=-1).min(axis=1)
        assert d.max() < 1e-12


def test_minibatch_is_reproducible_with_a_seeded_rng(data):
    lr = S.LinearRegression(*data)
    wb = np.zeros((3, 2))
    a = lr.grad(wb, rng=np.random.default_rng(9), batch_size=4)
    b = lr.grad(wb, rng=np.random.default_rng(9), batch_size=4)
    c = lr.grad(wb, rng=np.random.default_rng(10), batch_size=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])  # independent draws for each run of a batch


def test_gradient_on_chosen_indices_is_the_gradient_of_those_samples(data):
    x, y = data
    lr = S.LinearRegression(x, y)
    wb = np.array([[0.3, 1.2], [-0.5, 2.0]])               # two runs
    idx = np.array([[0, 5, 5, 9], [39, 1, 2, 3]])          # one mini-batch per run
    got = lr.grad(wb, indices=idx)
    for run in range(2):
        np.testing.assert_allclose(got[run], S.LinearRegression(x[idx[run]], y[idx[run]]).grad(wb[run]),
                                   rtol=1e-12)
    np.testing.assert_allclose(lr.grad(wb[0], indices=np.arange(40)), lr.grad(wb[0]), rtol=1e-12)
    shared = lr.grad(np.zeros((3, 2)), indices=[1, 2])     # one mini-batch for every run
    np.testing.assert_array_equal(shared, np.broadcast_to(shared[0], (3, 2)))


@pytest.mark.parametrize("bad", [[], [0, 40], [-1], [0.5, 1.0], 3])
def test_gradient_on_indices_rejects_bad_indices(data, bad):
    lr = S.LinearRegression(*data)
    with pytest.raises(ValueError, match="indices"):
        lr.grad(np.zeros(2), indices=bad)
    with pytest.raises(ValueError, match="not both"):
        lr.grad(np.zeros(2), batch_size=2, indices=[0, 1])


@pytest.mark.parametrize("x, y", [(np.ones(3), np.ones(4)), (np.ones(1), np.ones(1))])
def test_linear_regression_rejects_bad_data(x, y):
    with pytest.raises(ValueError):
        S.LinearRegression(x, y)
