"""Running optimizers on surfaces: many trajectories at once, divergence recorded, never raised."""
from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any

import numpy as np

__all__ = ["Trajectory", "run", "settled_at"]


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """The result of :func:`run`.  ``B`` below is the batch shape (``()`` for a single run).

    Attributes
    ----------
    xs : numpy.ndarray
        The points, shape ``(steps + 1, *B, 2)``; ``xs[0]`` is the start.  After a run diverges
        its last in-bound point repeats.
    losses : numpy.ndarray
        ``f`` at each point, shape ``(steps + 1, *B)`` (frozen likewise after a divergence).
    diverged_at : numpy.ndarray
        Integers, shape ``B``: the step at which a run blew up (left the ``bound`` or produced
        a non-finite value), or -1 for runs that did not.
    states : NamedTuple or None
        With ``record_states=True``: the optimizer state after every step, each array field
        stacked along a new first axis (``states.m[k]`` is Adam's m after step k; index 0 is
        the initial state).
    """

    xs: np.ndarray
    losses: np.ndarray
    diverged_at: np.ndarray
    states: Any = None

    @property
    def diverged(self) -> np.ndarray:
        """Boolean array of the batch shape: whether each run diverged."""
        return self.diverged_at >= 0

    @property
    def steps(self) -> int:
        return self.xs.shape[0] - 1

    @property
    def final(self) -> np.ndarray:
        """Last point of each run, shape ``(*B, 2)``."""
        return self.xs[-1]

    def head(self, steps: int) -> "Trajectory":
        """The first ``steps`` steps of every run (points ``0 … steps``), as a Trajectory.

        A run that diverged later than ``steps`` counts as not diverged in the head; recorded
        states are cut the same way.
        """
        if isinstance(steps, bool) or not (isinstance(steps, (int, np.integer)) and 0 <= steps <= self.steps):
            raise ValueError(f"steps must be an integer in [0, {self.steps}], got {steps!r}")
        cut = slice(0, steps + 1)
        states = None
        if self.states is not None:
            states = type(self.states)(*(None if f is None else f[cut] for f in self.states))
        diverged_at = np.where(self.diverged_at <= steps, self.diverged_at, -1)
        return Trajectory(self.xs[cut], self.losses[cut], diverged_at, states)

    def __getitem__(self, index) -> "Trajectory":
        """Select runs from the batch: ``traj[3]``, ``traj[:, 0]``…  (time axis kept)."""
        index = index if isinstance(index, tuple) else (index,)
        states = None
        if self.states is not None:
            states = type(self.states)(*(
                f[(slice(None),) + index] if np.ndim(f) > 1 else f for f in self.states))
        return Trajectory(self.xs[(slice(None),) + index], self.losses[(slice(None),) + index],
                          self.diverged_at[index], states)


def settled_at(ok) -> np.ndarray:
    """The step from which ``ok`` holds for good, for every run; ``inf`` where it fails at the end.

    ``ok`` is a boolean array of shape ``(steps + 1, *B)``, one row per point of a run (for
    example "within tolerance of the minimum").  The answer is the smallest ``t`` with
    ``ok[t:]`` all true — the number of steps after which the run stays where ``ok`` wants it —
    as floats of shape ``B`` (``inf`` is a float).
    """
    ok = np.asarray(ok)
    if ok.dtype != bool or ok.ndim == 0:
        raise ValueError(f"ok must be a boolean array of shape (steps + 1, ...), got dtype {ok.dtype}, shape {ok.shape}")
    failed = ~ok
    last_failure = np.where(failed.any(axis=0), ok.shape[0] - 1 - np.argmax(failed[::-1], axis=0), -1)
    return np.where(ok[-1], last_failure + 1.0, np.inf)


def _select(keep, new, old):
    """Field-wise ``where(keep, new, old)`` for optimizer states (scalars and None pass through)."""
    fields = []
    for n, o in zip(new, old):
        if n is None or np.ndim(n) == 0:
            fields.append(n)
        else:
            mask = keep.reshape(keep.shape + (1,) * (np.ndim(n) - keep.ndim)) if np.ndim(n) > keep.ndim else keep
            fields.append(np.where(mask, n, o))
    return type(new)(*fields)


def run(opt, surface, x0, steps: int, *, bound: float = 1e6, noise: float = 0.0,
        batch_size: int | None = None, seed: int | None = 0,
        record_states: bool = False, lr_schedule=None) -> Trajectory:
    """Run ``opt`` on ``surface`` from ``x0`` for ``steps`` steps, for a whole batch at once.

    Parameters
    ----------
    opt : optimlab.Optimizer
        Any rule from :mod:`optimlab.rules`.  Array hyperparameters broadcast against the
        points, so ``Adam(lr=lrs[:, None])`` with ``x0`` of shape ``(2,)`` runs ``len(lrs)``
        trajectories.
    surface : object
        Anything with ``f(xy)`` and ``grad(xy)`` over arrays of shape ``(..., 2)``.
    x0 : array_like
        One start, shape ``(2,)``, or a batch of starts, shape ``(..., 2)``.
    steps : int
        Number of updates.
    bound : float
        A run whose coordinates exceed this in absolute value (or become non-finite) has
        diverged: it stops updating, keeps its last in-bound point, and the step is recorded in
        ``diverged_at``.  No exception and no numpy warning is raised.
    noise : float
        Standard deviation of Gaussian noise added to every gradient (a stand-in for
        stochastic gradients); ``seed`` seeds it.
    batch_size : int, optional
        For surfaces built from data (:class:`~optimlab.surfaces.LinearRegression`): use the
        gradient of a random mini-batch of this many samples at every step.
    seed : int, optional
        Seed of the random generator used for ``noise`` and ``batch_size``.
    record_states : bool
        Keep the optimizer state after every step in ``Trajectory.states``.
    lr_schedule : callable, optional
        ``t -> factor``: update ``t`` (``t = 1`` for the first) uses the learning rate
        ``opt.lr * lr_schedule(t)``, like ``torch.optim.lr_scheduler.LambdaLR`` with
        ``lambda k: lr_schedule(k + 1)``.  The factor is a number in ``[0, inf)``; a linear
        warmup over ``w`` steps is ``lambda t: min(1, t / w)``.

    Returns
    -------
    Trajectory
    """
    if isinstance(steps, bool) or not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise ValueError(f"steps must be an integer in [0, inf), got {steps!r}")
    if not bound > 0:
        raise ValueError(f"bound must be in (0, inf), got {bound}")
    if not noise >= 0:
        raise ValueError(f"noise must be in [0, inf), got {noise}")
    if lr_schedule is not None and not callable(lr_schedule):
        raise ValueError(f"lr_schedule must be a callable t -> factor, got {lr_schedule!r}")
    if batch_size is not None:
        if isinstance(batch_size, bool) or not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
            raise ValueError(f"batch_size must be an integer in [1, inf), got {batch_size!r}")
        if "batch_size" not in inspect.signature(surface.grad).parameters:
            raise ValueError(f"batch_size needs a surface built from data; {surface!r} has no mini-batches")
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim == 0 or x0.shape[-1] != 2:
        raise ValueError(f"x0 must have shape (..., 2), got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be finite")
    try:
        shape = np.broadcast_shapes(x0.shape, opt.shape)
    except ValueError:
        raise ValueError(f"hyperparameter shape {opt.shape} does not broadcast against x0 of "
                         f"shape {x0.shape} (give arrays a trailing axis of length 1)") from None
    if getattr(opt, "whole_tensor", False) and shape != (2,):
        raise ValueError(f"{type(opt).__name__} computes statistics over a whole parameter, so run "
                         f"does not batch it: give one start of shape (2,) and single-number "
                         f"hyperparameters (got a batch of shape {shape[:-1]})")
    x = np.array(np.broadcast_to(x0, shape))
    rng = np.random.default_rng(seed)

    def scheduled(t):
        if lr_schedule is None:
            return opt
        factor = lr_schedule(t)
        if not (isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool)
                and 0 <= factor < math.inf):
            raise ValueError(f"lr_schedule must return a number in [0, inf), got {factor!r} at step {t}")
        return dataclasses.replace(opt, lr=opt.lr * float(factor))

    def gradient(x):
        g = surface.grad(x, rng=rng, batch_size=batch_size) if batch_size else surface.grad(x)
        if noise:
            g = g + noise * rng.standard_normal(g.shape)
        return g

    state = opt.init(x)
    xs = np.empty((steps + 1,) + shape)
    losses = np.empty((steps + 1,) + shape[:-1])
    diverged_at = np.full(shape[:-1], -1)
    alive = np.ones(shape[:-1], dtype=bool)
    history = [state] if record_states else None
    with np.errstate(all="ignore"):
        xs[0], losses[0] = x, surface.f(x)
        for t in range(1, steps + 1):
            x_new, state_new = scheduled(t).step(x, gradient(x), state)
            f_new = surface.f(x_new)
            ok = np.isfinite(f_new) & np.all(np.isfinite(x_new) & (np.abs(x_new) <= bound), axis=-1)
            if ok.all() and alive.all():
                x, state = x_new, state_new
                losses[t] = f_new
            else:
                diverged_at[alive & ~ok] = t
                alive &= ok
                x = np.where(alive[..., None], x_new, x)
                state = _select(alive, state_new, state)
                losses[t] = np.where(alive, f_new, losses[t - 1])
            xs[t] = x
            if record_states:
                history.append(state)
    states = None
    if record_states:
        states = type(state)(*(
            None if fields[0] is None else np.stack([np.broadcast_to(f, np.shape(fields[-1])) for f in fields])
            for fields in zip(*history)))
    return Trajectory(xs, losses, diverged_at, states)



def run_torch(make_optimizer, surface, x0, steps: int, *, bound: float = 1e6) -> Trajectory:
    """Run a PyTorch optimizer on ``surface`` from ``x0``: one trajectory, like :func:`run`.

    ``make_optimizer(params)`` builds the optimizer for a list holding one float64 tensor (the
    point); its gradient comes from ``surface.grad``, so any ``torch.optim.Optimizer`` — the
    book's own classes included — can be drawn beside optimlab's rules.  Divergence is recorded
    as in :func:`run`.
    """
    import torch

    if isinstance(steps, bool) or not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise ValueError(f"steps must be an integer in [0, inf), got {steps!r}")
    x = np.asarray(x0, dtype=float)
    if x.shape != (2,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be one finite point of shape (2,), got {x0!r}")
    theta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([theta])
    xs = np.empty((steps + 1, 2))
    losses = np.empty(steps + 1)
    xs[0], losses[0], diverged_at = x, surface.f(x), -1
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            if diverged_at < 0:
                theta.grad = torch.as_tensor(surface.grad(theta.detach().numpy()), dtype=torch.float64)
                opt.step()
                new = theta.detach().numpy().copy()
                f = surface.f(new)
                if np.isfinite(f) and np.all(np.isfinite(new) & (np.abs(new) <= bound)):
                    x = new
                else:
                    diverged_at = t
            xs[t], losses[t] = x, surface.f(x)
    return Trajectory(xs, losses, np.array(diverged_at))
