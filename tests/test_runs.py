"""``optimlab.run``: batched runs, divergence handling, recorded states, noise and mini-batches."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import optimlab as ol
from optimlab import surfaces as S


class Flat:
    """f = 0 everywhere: with noise, every step is pure noise."""

    def f(self, xy):
        return np.zeros(np.shape(xy)[:-1])

    def grad(self, xy):
        return np.zeros(np.shape(xy))


# --------------------------------------------------------------------------- batched == one by one
BATCH_CASES = [
    (ol.SGD, dict(momentum=0.9), [1e-4, 1e-3, 3e-3]),
    (ol.Momentum, dict(beta=0.8), [1e-4, 1e-3, 2e-2]),
    (ol.RMSprop, dict(centered=True, momentum=0.3), [1e-3, 1e-2, 0.1]),
    (ol.Adagrad, dict(lr_decay=0.01), [0.01, 0.1, 1.0]),
    (ol.Adam, dict(amsgrad=True), [1e-3, 1e-2, 0.3]),
    (ol.NAdam, dict(weight_decay=0.01), [1e-3, 1e-2, 0.3]),
]


@pytest.mark.parametrize("cls, fixed, lrs", BATCH_CASES, ids=[c.__name__ for c, *_ in BATCH_CASES])
def test_batched_runs_equal_separate_runs(cls, fixed, lrs):
    """A (3 learning rates) x (4 starts) batch on Rosenbrock == the 12 runs one at a time."""
    surface = S.Rosenbrock()
    starts = np.array([[-1.5, 2.5], [0.0, 0.0], [1.8, -0.5], [-0.5, 1.0]])
    lr = np.asarray(lrs)[:, None, None]
    traj = ol.run(cls(lr=lr, **fixed), surface, starts, 150, record_states=True)
    assert traj.xs.shape == (151, 3, 4, 2) and traj.losses.shape == (151, 3, 4)
    assert traj.diverged_at.shape == (3, 4)
    for i, lr_i in enumerate(lrs):
        for j, x0 in enumerate(starts):
            solo = ol.run(cls(lr=lr_i, **fixed), surface, x0, 150, record_states=True)
            sel = traj[i, j]
            np.testing.assert_allclose(sel.xs, solo.xs, rtol=1e-13, atol=1e-300)
            np.testing.assert_allclose(sel.losses, solo.losses, rtol=1e-13, atol=1e-300)
            assert sel.diverged_at == solo.diverged_at
            for a, b in zip(sel.states, solo.states):
                if b is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300)


def test_batched_runs_include_diverging_ones():
    """The SGD batch above is chosen so that some runs diverge and others do not."""
    traj = ol.run(ol.SGD(lr=np.array([1e-4, 1e-3, 3e-3])[:, None, None], momentum=0.9),
                  S.Rosenbrock(), np.array([[-1.5, 2.5], [0.0, 0.0], [1.8, -0.5], [-0.5, 1.0]]), 150)
    assert traj.diverged.any() and not traj.diverged.all()


# --------------------------------------------------------------------------- divergence
def first_exit(factor, x0, bound):
    """First t with |x0 · factor^t| > bound (the closed form of GD along one eigen-axis)."""
    t, x = 0, x0
    while abs(x) <= bound:
        t, x = t + 1, x * factor
    return t


@pytest.mark.parametrize("bound", [1e6, 10.0])
def test_sgd_above_two_over_L_diverges_and_freezes(bound):
    q = S.Quadratic(kappa=10)                           # A = diag(1, 10): L = 10, 2/L = 0.2
    lrs = np.array([0.25, 0.1, 0.19])[:, None]          # one above 2/L, two below
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = ol.run(ol.SGD(lr=lrs), q, (1.0, 1.0), 60, bound=bound)
    t = first_exit(1 - 0.25 * 10, 1.0, bound)           # y_t = (-1.5)^t
    assert traj.diverged_at.tolist() == [t, -1, -1]
    assert traj.diverged.tolist() == [True, False, False]
    steps = np.arange(t)
    np.testing.assert_allclose(traj.xs[:t, 0], np.stack([0.75 ** steps, (-1.5) ** steps], -1),
                               rtol=1e-12)
    assert np.all(np.isfinite(traj.xs)) and np.all(np.isfinite(traj.losses))
    assert np.all(np.abs(traj.xs[:, 0]) <= bound)
    assert np.all(traj.xs[t:, 0] == traj.xs[t - 1, 0])          # frozen at the last point in bound
    assert np.all(traj.losses[t:, 0] == traj.losses[t - 1, 0])
    np.testing.assert_allclose(traj.losses[t - 1, 0], q.f(traj.xs[t - 1, 0]))
    for i, lr in [(1, 0.1), (2, 0.19)]:                 # the others are untouched
        solo = ol.run(ol.SGD(lr=lr), q, (1.0, 1.0), 60, bound=bound)
        np.testing.assert_array_equal(traj.xs[:, i], solo.xs)
        np.testing.assert_array_equal(traj.losses[:, i], solo.losses)
        np.testing.assert_allclose(traj.xs[:, i, 0], (1 - lr) ** np.arange(61), rtol=1e-12)


def test_overflow_to_inf_is_divergence_without_warnings():
    """With bound=inf only overflow stops a run: still no warning, and xs stays finite."""
    old = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = ol.run(ol.SGD(lr=np.array([3.0, 0.01])[:, None]), S.Quadratic(kappa=10),
                      (1.0, 1.0), 2000, bound=np.inf, record_states=True)
    assert np.geterr() == old
    t = traj.diverged_at[0]
    assert 0 < t < 2000 and traj.diverged_at[1] == -1
    assert np.all(np.isfinite(traj.xs)) and np.all(np.isfinite(traj.losses))
    assert np.all(traj.xs[t:, 0] == traj.xs[t - 1, 0])
    # overflow means f (which squares the point) left the floats at step t
    with np.errstate(over="ignore"):
        assert np.isfinite(S.Quadratic(kappa=10).f(traj.xs[t - 1, 0]))
        assert not np.isfinite(S.Quadratic(kappa=10).f(traj.xs[t - 1, 0] * (1 - 3.0 * 10)))


def test_diverged_run_state_is_frozen_too():
    traj = ol.run(ol.Adam(lr=np.array([10.0, 0.01])[:, None]), S.Rosenbrock(), (-1.5, 2.5), 30,
                  bound=3.0, record_states=True)
    t = traj.diverged_at[0]
    assert 0 < t <= 30 and traj.diverged_at[1] == -1
    assert np.all(traj.states.m[t:, 0] == traj.states.m[t - 1, 0])
    assert np.all(traj.states.v[t:, 0] == traj.states.v[t - 1, 0])


# --------------------------------------------------------------------------- record_states
def test_record_states_shapes_and_values():
    x0 = np.array([[-1.0, 1.0], [0.5, 0.5], [1.0, -1.5]])
    surface = S.Beale()
    opt = ol.Adam(lr=0.01)
    traj = ol.run(opt, surface, x0, 5, record_states=True)
    st = traj.states
    assert type(st).__name__ == "AdamState" and st.v_max is None
    assert st.m.shape == st.v.shape == (6, 3, 2)
    np.testing.assert_array_equal(st.step, np.arange(6))
    np.testing.assert_array_equal(st.m[0], 0)
    x, s = x0, opt.init(x0)
    for k in range(1, 6):
        x, s = opt.step(x, surface.grad(x), s)
        np.testing.assert_allclose(st.m[k], s.m, rtol=1e-14)
        np.testing.assert_allclose(st.v[k], s.v, rtol=1e-14)
        np.testing.assert_allclose(traj.xs[k], x, rtol=1e-14)
    assert ol.run(opt, surface, x0, 5).states is None


def test_record_states_with_array_hyperparameters_and_scalar_fields():
    lrs = np.array([1e-3, 1e-2, 1e-1, 1.0])
    traj = ol.run(ol.NAdam(lr=lrs[:, None], momentum_decay=0.1), S.Quadratic(), (1.0, 1.0), 7,
                  record_states=True)
    st = traj.states
    assert st.m.shape == (8, 4, 2) and st.step.shape == (8,)
    mu = 0.9 * (1 - 0.5 * 0.96 ** (np.arange(1, 8) * 0.1))     # NAdam's μ_t
    assert np.shape(st.mu_product) == (8,)                      # scalar per step
    np.testing.assert_allclose(st.mu_product, np.r_[1.0, np.cumprod(mu)], rtol=1e-14)
    rms = ol.run(ol.RMSprop(), S.Quadratic(), (1.0, 1.0), 3, record_states=True).states
    assert rms.grad_avg is None and rms.momentum_buffer is None and rms.square_avg.shape == (4, 2)
    sel = traj[2]
    assert sel.states.m.shape == (8, 2)
    np.testing.assert_array_equal(sel.states.m, st.m[:, 2])


# --------------------------------------------------------------------------- noise and mini-batches
def test_noise_is_reproducible_and_changes_the_path():
    q, opt = S.Quadratic(kappa=10, angle=20), ol.Momentum(lr=0.05)
    clean = ol.run(opt, q, q.start, 50)
    a = ol.run(opt, q, q.start, 50, noise=0.3, seed=1)
    b = ol.run(opt, q, q.start, 50, noise=0.3, seed=1)
    c = ol.run(opt, q, q.start, 50, noise=0.3, seed=2)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert not np.allclose(a.xs, c.xs) and not np.allclose(a.xs, clean.xs)
    np.testing.assert_array_equal(ol.run(opt, q, q.start, 50, noise=0.0, seed=5).xs, clean.xs)


def test_noise_has_the_requested_standard_deviation():
    """On a flat surface SGD(lr=1) moves by exactly −noise·ξ: check mean, std, independence."""
    traj = ol.run(ol.SGD(lr=1.0), Flat(), np.zeros((4000, 2)), 3, noise=0.5, seed=0)
    steps = np.diff(traj.xs, axis=0).reshape(-1, 2)
    assert abs(steps.mean()) < 0.02
    assert abs(steps.std() - 0.5) < 0.01
    assert abs(np.corrcoef(steps[:, 0], steps[:, 1])[0, 1]) < 0.03


@pytest.fixture
def regression():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 64)
    return S.LinearRegression(x, 2.0 * x + 0.5 + rng.normal(0, 0.3, 64))


def test_batch_size_runs_sgd_on_linear_regression(regression):
    opt, x0 = ol.SGD(lr=0.1), regression.start
    full = ol.run(opt, regression, x0, 300)
    a = ol.run(opt, regression, x0, 300, batch_size=4, seed=3)
    b = ol.run(opt, regression, x0, 300, batch_size=4, seed=3)
    c = ol.run(opt, regression, x0, 300, batch_size=4, seed=4)
    np.testing.assert_array_equal(a.xs, b.xs)
    assert not np.allclose(a.xs, c.xs) and not np.allclose(a.xs, full.xs)
    np.testing.assert_allclose(full.final, regression.solution, atol=1e-3)
    # mini-batch SGD ends near, not at, the solution
    assert 0 < np.linalg.norm(a.final - regression.solution) < 0.5
    assert a.losses[-1] < 0.05 * a.losses[0]
    # the gradient is the mini-batch one: every step of a run is -lr * (gradient of k samples)
    g = -np.diff(a.xs, axis=0) / 0.1
    assert not np.allclose(g, regression.grad(a.xs[:-1]))


def test_batch_size_draws_independently_for_each_run(regression):
    traj = ol.run(ol.SGD(lr=0.1), regression, np.zeros((5, 2)), 10, batch_size=2, seed=0)
    assert len({tuple(row) for row in traj.final.round(12)}) == 5


def test_batch_size_one_uses_single_samples(regression):
    x0 = np.zeros(2)
    traj = ol.run(ol.SGD(lr=1.0), regression, x0, 1, batch_size=1, seed=0)
    g = x0 - traj.xs[1]
    r = -regression.y                                   # residuals at w = b = 0
    per_sample = np.stack([2 * r * regression.x, 2 * r], -1)
    assert np.abs(per_sample - g).max(axis=1).min() < 1e-12


# --------------------------------------------------------------------------- learning-rate schedules
def test_constant_schedule_of_one_is_the_plain_run():
    q = S.Rosenbrock()
    plain = ol.run(ol.Adam(lr=0.05), q, q.start, 60)
    same = ol.run(ol.Adam(lr=0.05), q, q.start, 60, lr_schedule=lambda t: 1.0)
    np.testing.assert_array_equal(plain.xs, same.xs)


def test_schedule_scales_every_learning_rate_of_a_batch_at_each_step():
    """SGD's step is lr·g, so a schedule of t ↦ 1/t must give steps lr·g/t, for every lr."""
    q = S.Quadratic(kappa=10)
    lrs = np.array([0.01, 0.05])[:, None]
    traj = ol.run(ol.SGD(lr=lrs), q, q.start, 8, lr_schedule=lambda t: 1 / t)
    for t in range(1, 9):
        expected = traj.xs[t - 1] - lrs / t * q.grad(traj.xs[t - 1])
        np.testing.assert_allclose(traj.xs[t], expected, rtol=1e-14)


def test_schedule_matches_torch_lambdalr():
    """A linear warmup in ``run`` is torch's LambdaLR with the step count shifted by one."""
    import torch

    warmup = lambda t: min(1.0, t / 7)
    q = S.Rosenbrock()
    ours = ol.run(ol.Adam(lr=0.05), q, q.start, 20, lr_schedule=warmup).xs
    p = torch.tensor(q.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: warmup(k + 1))
    path = [p.detach().numpy().copy()]
    for _ in range(20):
        p.grad = torch.from_numpy(q.grad(p.detach().numpy()))
        opt.step()
        sched.step()
        path.append(p.detach().numpy().copy())
    np.testing.assert_allclose(ours, np.array(path), rtol=1e-12, atol=1e-14)


def test_zero_factor_holds_the_point_but_fills_the_state():
    q = S.Quadratic(kappa=10)
    traj = ol.run(ol.Adam(lr=0.1), q, q.start, 6, lr_schedule=lambda t: 0.0 if t <= 3 else 1.0,
                  record_states=True)
    np.testing.assert_array_equal(traj.xs[:4], np.broadcast_to(q.start, (4, 2)))
    assert not np.allclose(traj.xs[4], q.start)
    assert list(traj.states.step) == [0, 1, 2, 3, 4, 5, 6] and np.all(traj.states.v[3] > 0)


@pytest.mark.parametrize("schedule", [0.5, "warmup"])
def test_run_rejects_a_schedule_that_is_not_callable(schedule):
    with pytest.raises(ValueError, match="lr_schedule must be a callable"):
        ol.run(ol.SGD(lr=0.1), S.Quadratic(), (1.0, 1.0), 3, lr_schedule=schedule)


@pytest.mark.parametrize("factor", [-0.5, math.nan, math.inf, np.ones(2), True, None])
def test_run_rejects_a_schedule_returning_a_bad_factor(factor):
    with pytest.raises(ValueError, match="lr_schedule must return a number"):
        ol.run(ol.SGD(lr=0.1), S.Quadratic(), (1.0, 1.0), 3, lr_schedule=lambda t: factor)


# --------------------------------------------------------------------------- validation & Trajectory
@pytest.mark.parametrize("kwargs, name", [
    (dict(steps=-1), "steps"), (dict(steps=2.5), "steps"), (dict(steps="3"), "steps"),
    (dict(steps=None), "steps"),
    (dict(bound=0.0), "bound"), (dict(bound=-1.0), "bound"), (dict(bound=math.nan), "bound"),
    (dict(noise=-0.1), "noise"), (dict(noise=math.nan), "noise"),
    (dict(batch_size=0), "batch_size"), (dict(batch_size=-2), "batch_size"),
    (dict(batch_size=1.5), "batch_size"),
    (dict(x0=np.ones(3)), "x0"), (dict(x0=1.0), "x0"), (dict(x0=np.ones((2, 3))), "x0"),
    (dict(x0=np.ones((4, 1))), "x0"),
])
def test_run_rejects_bad_arguments(kwargs, name, regression):
    args = dict(x0=(0.5, 0.5), steps=10) | kwargs
    x0, steps = args.pop("x0"), args.pop("steps")
    with pytest.raises(ValueError, match=name):
        ol.run(ol.SGD(lr=0.1), regression, x0, steps, **args)


@pytest.mark.parametrize("x0", [(math.nan, 1.0), (math.inf, 0.0)])
def test_run_rejects_non_finite_start(x0):
    with pytest.raises(ValueError, match="x0"):
        ol.run(ol.SGD(lr=0.1), S.Quadratic(), x0, 3)


def test_run_rejects_hyperparameters_that_do_not_broadcast():
    with pytest.raises(ValueError, match="broadcast"):
        ol.run(ol.Adam(lr=np.ones(3)), S.Quadratic(), np.zeros((4, 2)), 3)


def test_trajectory_basics():
    x0 = np.array([[1.0, 1.0], [-1.0, 0.5]])
    x0_copy = x0.copy()
    traj = ol.run(ol.SGD(lr=0.1), S.Quadratic(), x0, 7)
    np.testing.assert_array_equal(x0, x0_copy)          # the start is not modified
    assert traj.steps == 7 and traj.final.shape == (2, 2)
    np.testing.assert_array_equal(traj.final, traj.xs[-1])
    np.testing.assert_array_equal(traj.xs[0], x0)
    np.testing.assert_allclose(traj.losses, S.Quadratic().f(traj.xs))
    assert traj.diverged.dtype == bool and not traj.diverged.any()
    assert traj[1].xs.shape == (8, 2) and traj[1].diverged_at.shape == ()
    zero = ol.run(ol.SGD(lr=0.1), S.Quadratic(), (1.0, 2.0), 0)
    assert zero.xs.shape == (1, 2) and zero.steps == 0
    assert ol.run(ol.SGD(lr=0.1), S.Quadratic(), [1, 2], np.int64(2)).xs.dtype == np.float64


def test_run_rejects_bool_steps_and_batch_size_without_data():
    q = ol.surfaces.Quadratic()
    with pytest.raises(ValueError, match="steps must be an integer"):
        ol.run(ol.SGD(lr=0.1), q, q.start, True)
    with pytest.raises(ValueError, match="batch_size needs a surface built from data"):
        ol.run(ol.SGD(lr=0.1), q, q.start, 5, batch_size=2)


# --------------------------------------------------------------------------- head, settled_at
def test_head_is_the_same_run_stopped_early():
    """traj.head(k) equals a run of k steps: points, losses, states and divergence."""
    lrs = np.array([0.05, 0.19, 0.35])[:, None]          # 0.35 > 2(1 + μ)/L = 0.3 diverges
    q = S.Quadratic(kappa=10)
    full = ol.run(ol.SGD(lr=lrs, momentum=0.5), q, (1.0, 1.0), 60, bound=10.0, record_states=True)
    t_div = int(full.diverged_at[2])
    assert 0 < t_div < 60
    for k in (0, 5, t_div - 1, t_div, 60):
        short = ol.run(ol.SGD(lr=lrs, momentum=0.5), q, (1.0, 1.0), k, bound=10.0, record_states=True)
        head = full.head(k)
        assert head.steps == k
        np.testing.assert_array_equal(head.xs, short.xs)
        np.testing.assert_array_equal(head.losses, short.losses)
        np.testing.assert_array_equal(head.diverged_at, short.diverged_at)
        np.testing.assert_array_equal(head.states.momentum_buffer, short.states.momentum_buffer)
    assert full.head(t_div - 1).diverged_at[2] == -1 and full.head(t_div).diverged_at[2] == t_div


def test_head_without_states_and_bad_lengths():
    traj = ol.run(ol.Adam(lr=0.1), S.Quadratic(), (1.0, 2.0), 10)
    assert traj.head(3).states is None and traj.head(3).final.tolist() == traj.xs[3].tolist()
    for bad in (-1, 11, 2.0, True):
        with pytest.raises(ValueError, match=r"steps must be an integer in \[0, 10\]"):
            traj.head(bad)


def test_settled_at_counts_the_steps_after_which_a_condition_holds_for_good():
    ok = np.array([[False, True, False, True],
                   [True, True, False, False],
                   [False, True, True, True],
                   [True, True, True, True]])
    np.testing.assert_array_equal(ol.settled_at(ok), [3.0, 0.0, 2.0, 2.0])
    np.testing.assert_array_equal(ol.settled_at(ok[:2]), [1.0, 0.0, np.inf, np.inf])
    assert ol.settled_at(np.array([False, False, True])) == 2.0          # a single run
    assert ol.settled_at(np.array([True, False])) == np.inf


def test_settled_at_on_a_run_matches_a_loop():
    """On real runs: the first step from which |θ − θ*| stays below a tolerance, checked by a loop."""
    lrs = np.geomspace(0.01, 0.3, 7)[:, None]
    traj = ol.run(ol.Adam(lr=lrs), S.Quadratic(kappa=10), S.Quadratic(kappa=10).start, 300)
    ok = np.linalg.norm(traj.xs, axis=-1) < 1e-2
    expected = []
    for j in range(len(lrs)):
        t = next((t for t in range(301) if ok[t:, j].all()), np.inf)
        expected.append(t)
    np.testing.assert_array_equal(ol.settled_at(ok), expected)
    assert np.isfinite(expected).any() and not np.isfinite(expected).all()


def test_settled_at_rejects_non_boolean_input():
    with pytest.raises(ValueError, match="ok must be a boolean array"):
        ol.settled_at(np.array([0.1, 0.2]))


def test_whole_tensor_rules_run_one_start_and_refuse_a_batch():
    q = ol.surfaces.Quadratic(kappa=10)
    one = ol.run(ol.Adafactor(lr=0.1), q, q.start, 50)
    assert one.xs.shape == (51, 2) and one.losses[-1] < one.losses[0]
    with pytest.raises(ValueError, match="Adafactor computes statistics over a whole parameter"):
        ol.run(ol.Adafactor(lr=0.1), q, np.stack([q.start, q.start]), 5)
    with pytest.raises(ValueError, match="2-D weight matrices"):
        ol.run(ol.Muon(), q, q.start, 5)
