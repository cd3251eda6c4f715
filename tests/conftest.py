"""Shared fixtures for the optimlab core tests.

``problem(seed, shape)`` builds a smooth, non-quadratic test loss with bounded gradients (so even
``maximize=True`` runs stay finite for 100+ steps):

    f(θ) = Σ_i log(1 + (θ_i − c_i)²) + Σ_j log cosh((W vec θ)_j)

``torch_reference(cls, kwargs, problem, steps)`` runs a ``torch.optim`` optimizer on it in float64
and returns the parameters after every step together with the gradients it was fed (computed
by torch autograd), so other implementations can be fed the very same gradients and compared
step by step.  torch is imported lazily: collecting the numpy-only tests does not need it.

The reference runs with torch's *default dtype* set to float64: torch.optim keeps its scalar
state (``step``, NAdam's ``mu_product``) in the default dtype, so under the usual float32
default NAdam's running product of μ_t is rounded to float32 and even a float64 model agrees
with an exact float64 implementation only to ~1e-9.

Hypothesis runs under the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names another:
``derandomize=True`` (the examples are a fixed function of each test, so a run reproduces
exactly, here and in CI) and no per-example deadline (a busy machine is slow, not wrong).
``HYPOTHESIS_PROFILE=explore`` draws fresh random examples on each run, for hunting bugs locally.
"""
from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclasses.dataclass
class Problem:
    theta0: np.ndarray
    c: np.ndarray
    W: np.ndarray

    def loss(self, theta):
        """The loss of a float64 torch tensor of the parameter shape (differentiable)."""
        import torch
        c, W = torch.from_numpy(self.c), torch.from_numpy(self.W)
        z = W @ theta.reshape(-1)
        log_cosh = torch.nn.functional.softplus(2 * z) - z - math.log(2)  # stable for large |z|
        return torch.log1p((theta - c) ** 2).sum() + log_cosh.sum()

    def grad(self, x):
        """Gradient at a numpy point, by torch autograd, as a numpy array."""
        import torch
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        self.loss(t).backward()
        return t.grad.numpy().copy()


def make_problem(seed: int, shape=(3,)) -> Problem:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return Problem(theta0=rng.normal(size=shape), c=rng.normal(size=shape),
                   W=rng.normal(size=(n + 1, n)) / np.sqrt(n))


@pytest.fixture(scope="session")
def problem():
    return make_problem


def _torch_reference(cls, kwargs, problem: Problem, steps: int = 100):
    """Run ``cls([θ], **kwargs)`` (a torch optimizer class) for ``steps`` steps.

    Returns ``(thetas, grads, optimizer, param)``: ``thetas[k]`` is θ after k steps (index 0 is
    the start) and ``grads[k]`` the gradient used by step k+1, all float64 numpy arrays.
    """
    import torch
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(problem.theta0, dtype=torch.float64))
        opt = cls([p], **kwargs)
        thetas, grads = [problem.theta0.copy()], []
        for _ in range(steps):
            opt.zero_grad()
            problem.loss(p).backward()
            grads.append(p.grad.detach().numpy().copy())
            opt.step()
            thetas.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(default)
    return thetas, grads, opt, p


@pytest.fixture(scope="session")
def torch_reference():
    return _torch_reference


@pytest.fixture
def float64_default():
    """torch's default dtype float64 for one test (see above: torch.optim's scalar state follows it)."""
    import torch
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(default)
