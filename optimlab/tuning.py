"""Tuning a learning rate before comparing optimizers: one protocol for the whole book.

"A beats B" means something only when each method runs at its own best learning rate.  The book
tunes every method the same way: a log grid of learning rates, several seeds per rate, a fixed
budget, and the rate with the best **median** score over the seeds.  :func:`tune` does that for
any scoring function; the score is computed for a whole grid at once, so a batched
:func:`optimlab.run` (or :func:`optimlab.nets.train`) makes one call per seed::

    lrs = np.logspace(-4, 0, 17)
    def final_loss(lrs, seed):                     # lrs: shape (L,) -> scores: shape (L,)
        traj = ol.run(ol.Adam(lr=lrs[:, None]), surface, surface.start, steps=200)
        return traj.losses[-1] - surface.f_min
    tuned = ol.tuning.tune(final_loss, lrs)        # deterministic: one seed is enough
    tuned.best_lr, tuned.median[tuned.best]

A score of NaN or ±inf (a run that diverged) counts as the worst possible.  Lower is better
unless ``maximize=True`` (e.g. test accuracy).
"""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Tuning", "tune", "log_grid", "window"]


def log_grid(lo: float, hi: float, per_decade: int = 4) -> np.ndarray:
    """Learning rates from ``lo`` to ``hi`` (both included), ``per_decade`` points per decade."""
    for name, value in (("lo", lo), ("hi", hi)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number in (0, inf), got {value!r}")
    if not hi > lo:
        raise ValueError(f"hi must be larger than lo, got lo={lo!r}, hi={hi!r}")
    if isinstance(per_decade, bool) or not (isinstance(per_decade, (int, np.integer)) and per_decade >= 1):
        raise ValueError(f"per_decade must be an integer in [1, inf), got {per_decade!r}")
    n = int(round(np.log10(hi / lo) * per_decade)) + 1
    return np.logspace(np.log10(lo), np.log10(hi), max(n, 2))


def window(lrs, ok) -> tuple[float, float]:
    """The widest run of *consecutive* grid learning rates for which ``ok`` holds: ``(lo, hi)``.

    "How sensitive is a method to its learning rate" is answered by an interval, not by a count
    of grid points (a count adds up isolated points that work between ones that do not).  The
    interval's width in decades is ``log10(hi / lo)``: 0 for a single working point.  Returns
    ``(nan, nan)`` when no rate works.  ``lrs`` is an increasing grid, ``ok`` booleans of its shape.
    """
    lrs, ok = np.asarray(lrs, dtype=float), np.asarray(ok)
    if lrs.ndim != 1 or ok.shape != lrs.shape or ok.dtype != bool:
        raise ValueError(f"ok must be booleans of the grid's shape {lrs.shape}, got {ok.dtype} {ok.shape}")
    if not np.all(np.diff(lrs) > 0):
        raise ValueError("lrs must be strictly increasing")
    runs, start = [], None                       # (first, last) index of each run of True
    for i, good in enumerate(np.append(ok, False)):
        if good and start is None:
            start = i
        elif not good and start is not None:
            runs.append((start, i - 1))
            start = None
    if not runs:
        return (float("nan"), float("nan"))
    first, last = max(runs, key=lambda r: r[1] - r[0])   # the widest (the first of equals)
    return (float(lrs[first]), float(lrs[last]))


@dataclasses.dataclass(frozen=True, eq=False)
class Tuning:
    """The outcome of :func:`tune`.

    Attributes
    ----------
    lrs : the grid, shape ``(L,)``.
    seeds : the seeds, in the order of the rows of ``scores``.
    scores : shape ``(S, L)``, one row per seed (as returned by the score, NaN kept).
    maximize : whether higher scores are better.
    """

    lrs: np.ndarray
    seeds: tuple
    scores: np.ndarray
    maximize: bool = False

    def _ranked(self) -> np.ndarray:
        """Scores with diverged runs (NaN, ±inf) set to the worst value, lower = better."""
        s = -self.scores if self.maximize else self.scores
        return np.where(np.isfinite(s), s, np.inf)

    @property
    def median(self) -> np.ndarray:
        """Median score over the seeds, per learning rate (a diverged seed counts as worst)."""
        m = np.median(self._ranked(), axis=0)
        return -m if self.maximize else m

    def quantiles(self, lo: float = 0.25, hi: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
        """The spread over the seeds per learning rate: the ``lo`` and ``hi`` quantiles, each an
        observed score (no interpolation between seeds; a diverged seed is the worst score)."""
        r = self._ranked()
        a = np.quantile(r, lo, axis=0, method="inverted_cdf")
        b = np.quantile(r, hi, axis=0, method="inverted_cdf")
        return (-b, -a) if self.maximize else (a, b)

    @property
    def diverged(self) -> np.ndarray:
        """How many seeds diverged (non-finite score), per learning rate."""
        return (~np.isfinite(self.scores)).sum(axis=0)

    @property
    def best(self) -> int:
        """Index of the best learning rate (best median; ties go to the smaller rate)."""
        return int(np.argmin(np.median(self._ranked(), axis=0)))

    @property
    def best_lr(self) -> float:
        return float(self.lrs[self.best])

    @property
    def at_edge(self) -> bool:
        """True when the best rate is the grid's first or last: widen the grid."""
        return self.best in (0, len(self.lrs) - 1)

    def at_best(self) -> np.ndarray:
        """The scores of every seed at the best learning rate, shape ``(S,)``."""
        return self.scores[:, self.best]


def tune(score, lrs, *, seeds=(0,), maximize: bool = False) -> Tuning:
    """Evaluate ``score(lrs, seed)`` for every seed and pick the learning rate with the best median.

    Parameters
    ----------
    score : callable ``(lrs, seed) -> scores``: ``lrs`` has shape ``(L,)``, the result shape
        ``(L,)`` (one number per learning rate; NaN or inf for a run that diverged).
    lrs : the learning-rate grid, positive and finite, increasing (e.g. :func:`log_grid`).
    seeds : the seeds (at least one); a deterministic problem needs only one.
    maximize : whether a higher score is better (accuracy) instead of lower (loss).
    """
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim != 1 or lrs.size < 2:
        raise ValueError(f"lrs must be a 1-D grid of at least 2 learning rates, got shape {lrs.shape}")
    if not (np.all(np.isfinite(lrs)) and np.all(lrs > 0)):
        raise ValueError(f"lrs must lie in (0, inf), got {lrs[~(np.isfinite(lrs) & (lrs > 0))][0]!r}")
    if not np.all(np.diff(lrs) > 0):
        raise ValueError("lrs must be strictly increasing")
    seeds = tuple(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty sequence of integers, got {seeds!r}")
    rows = []
    for seed in seeds:
        row = np.asarray(score(lrs.copy(), int(seed)), dtype=float)
        if row.shape != lrs.shape:
            raise ValueError(f"score must return one number per learning rate, shape {lrs.shape}; "
                             f"got shape {row.shape} for seed {seed}")
        rows.append(row)
    return Tuning(lrs, seeds, np.stack(rows), bool(maximize))
