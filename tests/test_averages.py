"""Exponentially weighted moving averages: ``ewma`` and ``ewma_weights``."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimlab as ol

betas = st.floats(0.0, 0.999)
constants = st.floats(-1e3, 1e3, allow_subnormal=False)


def loop_ewma(values, beta):
    """The textbook loop, y_0 = 0, y_t = β y_{t-1} + (1-β) x_t."""
    y, out = 0.0, []
    for x in values:
        y = beta * y + (1 - beta) * x
        out.append(y)
    return np.array(out)


@settings(deadline=None, max_examples=60)
@given(beta=betas, c=constants, T=st.integers(1, 300))
def test_bias_corrected_ewma_of_a_constant_is_the_constant(beta, c, T):
    out = ol.ewma(np.full(T, c), beta, bias_correction=True)
    np.testing.assert_allclose(out, c, rtol=1e-9, atol=1e-12)


@settings(deadline=None, max_examples=60)
@given(beta=betas, c=constants, T=st.integers(1, 300))
def test_uncorrected_ewma_of_a_constant_is_biased_towards_zero(beta, c, T):
    t = np.arange(1, T + 1)
    out = ol.ewma(np.full(T, c), beta)
    np.testing.assert_allclose(out, c * (1 - beta ** t), rtol=1e-9, atol=1e-12)


@settings(deadline=None, max_examples=40)
@given(beta=betas, seed=st.integers(0, 2 ** 16), T=st.integers(1, 200))
def test_ewma_matches_a_plain_loop(beta, seed, T):
    values = np.random.default_rng(seed).normal(size=T)
    np.testing.assert_allclose(ol.ewma(values, beta), loop_ewma(values, beta), rtol=1e-12, atol=1e-12)
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(ol.ewma(values, beta, bias_correction=True),
                               loop_ewma(values, beta) / (1 - beta ** t), rtol=1e-10, atol=1e-12)


def test_beta_zero_is_the_identity_and_values_keep_their_trailing_shape():
    values = np.random.default_rng(0).normal(size=(20, 3))
    np.testing.assert_array_equal(ol.ewma(values, 0.0), values)
    assert ol.ewma(values, 0.9).shape == (20, 3)
    for j in range(3):
        np.testing.assert_allclose(ol.ewma(values, 0.9)[:, j], loop_ewma(values[:, j], 0.9))


def test_array_beta_broadcasts_against_values():
    values = np.random.default_rng(1).normal(size=(50, 3))
    beta = np.array([0.0, 0.5, 0.9, 0.99])[:, None]            # (4, 1) against (3,)
    for bc in (False, True):
        out = ol.ewma(values, beta, bias_correction=bc)
        assert out.shape == (50, 4, 3)
        for i, b in enumerate(beta[:, 0]):
            np.testing.assert_allclose(out[:, i], ol.ewma(values, b, bias_correction=bc), rtol=1e-14)
    out = ol.ewma(np.arange(10.0), np.array([0.5, 0.9]))       # one series, two βs
    assert out.shape == (10, 2)
    np.testing.assert_allclose(out[:, 1], loop_ewma(np.arange(10.0), 0.9))


@settings(deadline=None, max_examples=40)
@given(beta=betas, t=st.integers(1, 300))
def test_weights_sum_to_one_minus_beta_to_the_t(beta, t):
    w = ol.ewma_weights(beta, t)
    assert w.shape == (t,)
    assert np.all(w >= 0) and np.all(np.diff(w) >= 0)           # recent values weigh more
    np.testing.assert_allclose(w.sum(), 1 - beta ** t, rtol=1e-10, atol=1e-14)


@settings(deadline=None, max_examples=40)
@given(beta=betas, seed=st.integers(0, 2 ** 16), T=st.integers(1, 100))
def test_weights_reproduce_ewma_as_a_dot_product(beta, seed, T):
    values = np.random.default_rng(seed).normal(size=T)
    y = ol.ewma(values, beta)
    for t in {1, (T + 1) // 2, T}:
        assert math.isclose(ol.ewma_weights(beta, t) @ values[:t], y[t - 1], rel_tol=1e-10, abs_tol=1e-12)


@pytest.mark.parametrize("beta", [-0.1, 1.0, 1.5, math.nan, math.inf, np.array([0.5, 1.0])])
def test_invalid_beta_raises(beta):
    with pytest.raises(ValueError, match="beta"):
        ol.ewma(np.ones(5), beta)
    if np.ndim(beta) == 0:
        with pytest.raises(ValueError, match="beta"):
            ol.ewma_weights(beta, 5)


def test_values_need_a_time_axis():
    with pytest.raises(ValueError):
        ol.ewma(3.0, 0.9)
