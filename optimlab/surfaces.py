"""Loss surfaces in two dimensions, with analytic gradients.

Every surface takes points of shape ``(..., 2)``: ``f(xy)`` returns shape ``(...)`` and
``grad(xy)`` returns shape ``(..., 2)``.  Each knows its minima, a sensible plot window, a
suggested start point and its formula in LaTeX.  Any object with ``f`` and ``grad`` works with
:func:`optimlab.run`; these attributes only help the figures.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["Surface", "Quadratic", "Rosenbrock", "Beale", "Himmelblau", "Saddle", "Rastrigin",
           "LinearRegression", "gallery"]


def _points(xy) -> np.ndarray:
    xy = np.asarray(xy, dtype=float)
    if xy.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2), got {xy.shape}")
    return xy


def _xy(xy):
    xy = _points(xy)
    return xy[..., 0], xy[..., 1]


class Surface:
    """Base class.  Subclasses define ``f``, ``grad``, and the attributes below."""

    name: str = "surface"
    latex: str = ""
    window: tuple[tuple[float, float], tuple[float, float]] = ((-2.0, 2.0), (-2.0, 2.0))
    minima: np.ndarray = np.zeros((0, 2))
    start: tuple[float, float] = (0.0, 0.0)
    log_levels: bool = True  # contour levels on a log scale of f - f_min

    @property
    def f_min(self) -> float:
        """Lowest value of ``f`` at the known minima (``-inf`` when the surface has none)."""
        return float(np.min(self.f(self.minima))) if len(self.minima) else -math.inf

    def f(self, xy):
        raise NotImplementedError

    def grad(self, xy):
        raise NotImplementedError

    def grid(self, n: int = 200):
        """``(X, Y, Z)`` over the plot window, for contour plots."""
        (x0, x1), (y0, y1) = self.window
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.f(np.stack([X, Y], axis=-1))

    def __repr__(self):
        return f"{type(self).__name__}()"


class Quadratic(Surface):
    r"""Ill-conditioned quadratic :math:`f(\theta) = \tfrac12 (\theta-c)^\top A (\theta-c)`.

    ``A`` has eigenvalues μ and L = κμ; its eigenvectors are the axes rotated by ``angle``
    (degrees).  The long, flat direction is the first (rotated) axis.  The suggested start is
    rotated with it, so every angle poses the same problem in turned coordinates.  ``center``
    (default the origin) moves the minimum; the plot window follows it only if it would
    otherwise fall outside.
    """

    def __init__(self, kappa: float = 10.0, angle: float = 0.0, mu: float = 1.0, center=(0.0, 0.0)):
        if not (np.isfinite(kappa) and kappa >= 1):
            raise ValueError(f"kappa must be in [1, inf), got {kappa}")
        if not (np.isfinite(mu) and mu > 0):
            raise ValueError(f"mu must be in (0, inf), got {mu}")
        self.kappa, self.angle, self.mu = float(kappa), float(angle), float(mu)
        self.center = np.asarray(center, dtype=float)
        if self.center.shape != (2,) or not np.all(np.isfinite(self.center)):
            raise ValueError(f"center must be two finite numbers, got {center!r}")
        self.L = self.kappa * self.mu
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        R = np.array([[c, -s], [s, c]])
        self.A = R @ np.diag([self.mu, self.L]) @ R.T
        self.name = f"quadratic (κ={self.kappa:g})"
        self.latex = (r"f(\theta)=\tfrac12\,\theta^\top A\,\theta,\ "
                      rf"\operatorname{{eig}}(A)=\{{{self.mu:g},\ {self.L:g}\}}")
        # The window is wide enough for the (rotated) start; it follows the center only if needed.
        hx, hy = (2.0, 1.5) if self.angle % 180 == 0 else (2.2, 2.2)
        (cx, cy), inside = self.center, bool(abs(self.center[0]) < hx and abs(self.center[1]) < hy)
        self.window = ((-hx, hx), (-hy, hy)) if inside else ((cx - hx, cx + hx), (cy - hy, cy + hy))
        self.minima = self.center[None, :]
        self.start = tuple(float(v) for v in R @ np.array([-1.8, 0.9]) + (0 if inside else self.center))

    def f(self, xy):
        d = _points(xy) - self.center
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.A, d)

    def grad(self, xy):
        return (_points(xy) - self.center) @ self.A  # A is symmetric

    def __repr__(self):
        c = "" if not self.center.any() else f", center=({self.center[0]:g}, {self.center[1]:g})"
        return f"Quadratic(kappa={self.kappa:g}, angle={self.angle:g}, mu={self.mu:g}{c})"


class Rosenbrock(Surface):
    r""":math:`f(x, y) = (a-x)^2 + b\,(y-x^2)^2`: a curved, flat-bottomed valley; minimum (a, a²)."""

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a, self.b = float(a), float(b)
        self.name = "Rosenbrock"
        self.latex = rf"f(x,y)=({self.a:g}-x)^2+{self.b:g}\,(y-x^2)^2"
        a = self.a
        self.window = ((min(-2.0, a - 1), max(2.0, a + 1)), (min(-1.0, a * a - 2), max(3.0, a * a + 1)))
        self.minima = np.array([[a, a * a]])
        self.start = (-1.5, 2.5)

    def f(self, xy):
        x, y = _xy(xy)
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def grad(self, xy):
        x, y = _xy(xy)
        r = y - x * x
        return np.stack([-2 * (self.a - x) - 4 * self.b * x * r, 2 * self.b * r], axis=-1)

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Beale(Surface):
    r"""Beale's function: flat plateaus and sharp ridges; minimum (3, 0.5)."""

    name = "Beale"
    latex = r"f(x,y)=(1.5-x+xy)^2+(2.25-x+xy^2)^2+(2.625-x+xy^3)^2"
    window = ((-4.5, 4.5), (-4.5, 4.5))
    minima = np.array([[3.0, 0.5]])
    start = (-1.0, 2.0)
    _c = (1.5, 2.25, 2.625)

    def f(self, xy):
        x, y = _xy(xy)
        return sum((c - x + x * y ** k) ** 2 for k, c in enumerate(self._c, start=1))

    def grad(self, xy):
        x, y = _xy(xy)
        gx = gy = 0.0
        for k, c in enumerate(self._c, start=1):
            r = c - x + x * y ** k
            gx = gx + 2 * r * (y ** k - 1)
            gy = gy + 2 * r * k * x * y ** (k - 1)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)


class Himmelblau(Surface):
    r"""Himmelblau's function: four minima of equal height (f = 0)."""

    name = "Himmelblau"
    latex = r"f(x,y)=(x^2+y-11)^2+(x+y^2-7)^2"
    window = ((-5.0, 5.0), (-5.0, 5.0))
    minima = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186],
                       [3.584428, -1.848126]])
    start = (-0.5, -0.5)

    def f(self, xy):
        x, y = _xy(xy)
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def grad(self, xy):
        x, y = _xy(xy)
        a, b = x * x + y - 11, x + y * y - 7
        return np.stack([4 * x * a + 2 * b, 2 * a + 4 * y * b], axis=-1)


class Saddle(Surface):
    r"""A saddle at the origin between two minima at (0, ±1).

    :math:`f(x,y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2`.  Started on the ridge y = 0
    plain gradient descent never leaves it; any asymmetry (noise, a start slightly off the
    ridge) escapes only slowly, because the gradient near the saddle is tiny.
    """

    name = "saddle"
    latex = r"f(x,y)=\tfrac12 x^2+\tfrac14 y^4-\tfrac12 y^2"
    window = ((-1.5, 1.5), (-1.5, 1.5))
    minima = np.array([[0.0, 1.0], [0.0, -1.0]])
    start = (-1.4, 0.001)
    log_levels = False

    def f(self, xy):
        x, y = _xy(xy)
        return 0.5 * x * x + 0.25 * y ** 4 - 0.5 * y * y

    def grad(self, xy):
        x, y = _xy(xy)
        return np.stack([x, y ** 3 - y], axis=-1)


class Rastrigin(Surface):
    r"""Rastrigin's function: a bowl covered in local minima; global minimum at the origin."""

    def __init__(self, A: float = 10.0):
        self.A = float(A)
        self.name = "Rastrigin"
        self.latex = rf"f(x,y)={2 * self.A:g}+\sum_{{u\in\{{x,y\}}}}\left(u^2-{self.A:g}\cos 2\pi u\right)"
        self.window = ((-5.12, 5.12), (-5.12, 5.12))
        self.minima = np.zeros((1, 2))
        self.start = (-4.2, 3.9)
        self.log_levels = False

    def f(self, xy):
        xy = _points(xy)
        return 2 * self.A + np.sum(xy * xy - self.A * np.cos(2 * np.pi * xy), axis=-1)

    def grad(self, xy):
        xy = _points(xy)
        return 2 * xy + 2 * np.pi * self.A * np.sin(2 * np.pi * xy)

    def __repr__(self):
        return f"Rastrigin(A={self.A:g})"


class LinearRegression(Surface):
    r"""Mean squared error of the line :math:`\hat y = w x + b` over data, as a surface in (w, b).

    :math:`f(w, b) = \frac1n \sum_i (w x_i + b - y_i)^2` — the same loss as ``torch.nn.MSELoss``.
    ``grad(wb, rng=..., batch_size=k)`` returns the gradient on a random mini-batch of k
    samples (drawn independently for every point of a batch of runs); ``grad(wb, indices=idx)``
    the gradient on the samples ``idx`` chosen by the caller (e.g. an epoch's shuffled batches).
    """

    def __init__(self, x, y, margin: float = 3.0):
        self.x, self.y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        if self.x.shape != self.y.shape or self.x.size < 2:
            raise ValueError("x and y must hold the same number (at least 2) of samples")
        X = np.stack([self.x, np.ones_like(self.x)], axis=1)
        self.solution = np.linalg.lstsq(X, self.y, rcond=None)[0]
        self.hessian = 2 * X.T @ X / self.x.size
        self.name = "linear regression"
        self.latex = r"f(w,b)=\frac1n\sum_{i=1}^n (w x_i+b-y_i)^2"
        w, b = self.solution
        self.window = ((w - margin, w + margin), (b - margin, b + margin))
        self.minima = self.solution[None, :]
        self.start = (w - 0.8 * margin, b + 0.8 * margin)

    def _residual(self, xy, idx=None):
        w, b = _xy(xy)
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        return w[..., None] * x + b[..., None] - y, x

    def f(self, xy):
        r, _ = self._residual(xy)
        return np.mean(r * r, axis=-1)

    def grad(self, xy, rng=None, batch_size=None, indices=None):
        """The gradient of the mean squared error over all samples, over a random mini-batch of
        ``batch_size`` samples, or over the samples ``indices``: integers in ``[0, n)`` of shape
        ``(..., k)``, broadcast against the batch shape of ``xy`` (one mini-batch per point)."""
        idx = None
        if indices is not None:
            if batch_size is not None:
                raise ValueError("give batch_size or indices, not both")
            idx = np.asarray(indices)
            if idx.ndim == 0 or idx.shape[-1] == 0 or not np.issubdtype(idx.dtype, np.integer) \
                    or idx.min() < 0 or idx.max() >= self.x.size:
                raise ValueError(f"indices must be a non-empty integer array with values in "
                                 f"[0, {self.x.size}), got {indices!r}")
        elif batch_size is not None:
            rng = np.random.default_rng() if rng is None else rng
            shape = np.shape(xy)[:-1] + (batch_size,)
            idx = rng.integers(0, self.x.size, size=shape)
        r, x = self._residual(xy, idx)
        return np.stack([2 * np.mean(r * x, axis=-1), 2 * np.mean(r, axis=-1)], axis=-1)


def gallery():
    """One default instance of every named surface, for galleries and tests."""
    return [Quadratic(), Rosenbrock(), Beale(), Himmelblau(), Saddle(), Rastrigin()]
