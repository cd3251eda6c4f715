"""The tuning protocol: grid, seeds, median choice, diverged runs counted worst."""
import numpy as np
import pytest

import optimlab as ol
from optimlab import tuning


def test_log_grid_spans_the_decades_with_both_ends():
    g = tuning.log_grid(1e-4, 1.0, per_decade=4)
    assert g.size == 17 and g[0] == pytest.approx(1e-4) and g[-1] == pytest.approx(1.0)
    assert np.allclose(np.diff(np.log10(g)), 0.25)


@pytest.mark.parametrize("kwargs, word", [
    (dict(lo=0, hi=1), "lo"), (dict(lo=1e-3, hi=np.inf), "hi"), (dict(lo=1, hi=0.1), "hi"),
    (dict(lo=1e-3, hi=1, per_decade=0), "per_decade")])
def test_log_grid_refuses_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        tuning.log_grid(**kwargs)


def test_best_is_the_best_median_not_the_best_single_seed():
    lrs = np.array([0.01, 0.1, 1.0])
    # seed 0 makes lr=1 look best; the median over three seeds prefers 0.1
    table = {0: [3.0, 2.0, 0.5], 1: [3.0, 1.0, 5.0], 2: [3.0, 1.5, 6.0]}
    t = tuning.tune(lambda lrs, seed: np.array(table[seed]), lrs, seeds=(0, 1, 2))
    assert t.best_lr == 0.1 and t.scores.shape == (3, 3)
    assert list(t.median) == [3.0, 1.5, 5.0]
    assert list(t.at_best()) == [2.0, 1.0, 1.5]


def test_diverged_runs_count_as_worst_and_are_counted():
    lrs = np.array([0.1, 1.0, 10.0])
    t = tuning.tune(lambda lrs, seed: np.array([1.0, 0.1 if seed else np.nan, np.inf]), lrs, seeds=(0, 1, 2))
    assert list(t.diverged) == [0, 1, 3]
    assert t.best_lr == 1.0  # two of three seeds at 0.1: the median is 0.1
    t2 = tuning.tune(lambda lrs, seed: np.array([1.0, 0.1 if seed == 2 else np.nan, 2.0]), lrs, seeds=(0, 1, 2))
    assert t2.best_lr == 0.1  # two of three diverged: the median is the worst value


def test_maximize_prefers_high_scores_and_flags_the_edge():
    lrs = np.array([0.1, 1.0, 10.0])
    t = tuning.tune(lambda lrs, seed: -np.abs(np.log10(lrs) - 1), lrs, maximize=True)
    assert t.best_lr == 10.0 and t.at_edge
    lo, hi = t.quantiles()
    assert np.all(lo <= hi)


def test_tuned_gradient_descent_on_a_quadratic_finds_the_textbook_rate():
    q = ol.surfaces.Quadratic(kappa=10)
    L, mu = 10.0, 1.0  # Quadratic(kappa=10) has mu = 1 and L = kappa * mu
    lrs = tuning.log_grid(1e-3, 1.0, per_decade=40)

    def score(lrs, seed):
        return ol.run(ol.SGD(lr=lrs[:, None]), q, q.start, steps=100).losses[-1]

    t = tuning.tune(score, lrs)
    assert t.best_lr == pytest.approx(2 / (L + mu), rel=0.07)  # the best constant step 2/(L+μ)


@pytest.mark.parametrize("kwargs, word", [
    (dict(lrs=[0.1]), "at least 2"), (dict(lrs=[0.1, -1.0]), r"\(0, inf\)"),
    (dict(lrs=[1.0, 0.1]), "increasing"), (dict(lrs=[0.1, 1.0], seeds=()), "seeds"),
    (dict(lrs=[0.1, 1.0], seeds=(0.5,)), "seeds")])
def test_tune_refuses_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        tuning.tune(lambda lrs, seed: lrs, **kwargs)


def test_a_score_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="one number per learning rate"):
        tuning.tune(lambda lrs, seed: lrs[:1], [0.1, 1.0])


def test_window_is_the_widest_run_of_consecutive_working_rates():
    lrs = np.array([1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0])
    lo, hi = ol.tuning.window(lrs, np.array([True, False, True, True, True, False]))
    assert (lo, hi) == (1e-1, 10.0)                       # not the count of working points (4)
    assert ol.tuning.window(lrs, np.array([False, True, False, False, False, False])) == (1e-2, 1e-2)
    assert all(np.isnan(ol.tuning.window(lrs, np.zeros(6, bool))))


def test_window_refuses_a_mask_of_another_shape():
    with pytest.raises(ValueError, match="ok must be booleans"):
        ol.tuning.window(np.array([1.0, 2.0]), np.array([True]))
