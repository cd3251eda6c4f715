"""One look for every figure in the book: colours, matplotlib settings, and how runs are drawn.

* :func:`color` gives every optimizer the same colour on every page (Okabe–Ito, colour-blind
  safe); :func:`colors` does it for a whole legend at once, without repeats.
* :data:`RC` / :func:`rc` are the matplotlib settings used by :mod:`optimlab.figures` and
  :mod:`optimlab.widgets` (readable fonts, no top/right spines).
* The helpers at the bottom (:func:`contour_data`, :func:`display_path`, :func:`loss_limits`)
  decide what static figures, explorers and live panels draw, so that the three agree: log-spaced
  contour levels, diverged runs cut where they leave the plot window and marked ✗, losses drawn
  on a log axis above a floor of :data:`LOSS_FLOOR`.

Importing this module needs only numpy; matplotlib is imported when :func:`rc` is called.
"""
from __future__ import annotations

import contextlib
import re
import zlib

import numpy as np

from . import registry

__all__ = ["OKABE_ITO", "PALETTE", "color", "colors", "RC", "rc", "axis_names", "slider_label",
           "CONTOUR_COLORS", "CONTOUR_LINE", "CONTOUR_LEVELS", "MINIMUM_COLOR", "LOSS_FLOOR",
           "contour_data",
           "display_path", "loss_limits"]

#: The Okabe–Ito palette (Okabe & Ito 2008), by name.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}

# The optimizers' fixed colours and the words that name them come from the registry (one entry
# per optimizer of the book; see optimlab/registry.py for the palette and its checks).
_FIXED = {e.label.lower(): e.color for e in registry.ENTRIES}
_ALIASES = {word: e.label.lower() for e in registry.ENTRIES for word in (e.label.lower(), *e.aliases)}

#: Colours for labels that are not optimizer names, in the order :func:`colors` hands them out
#: (Okabe–Ito without black and yellow, then Paul Tol's muted scheme).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
           "#332288", "#882255", "#117733", "#999933", "#AA4499", "#44AA99", "#DDCC77")


def _key(label) -> str | None:
    words = re.findall(r"[a-z0-9]+", str(label).lower().replace("heavy ball", "heavyball"))
    return _ALIASES.get(words[0]) if words else None


def color(label) -> str:
    """The colour (hex string) of ``label``, the same everywhere in the book.

    The first word of the label decides, case-insensitively: ``"Adam"``, ``"adam (β₁=0.9)"``
    and ``"ADAM, lr 0.1"`` are all Adam's vermillion; ``"GD"`` and ``"SGD"`` are black;
    ``"heavy ball"`` is Momentum's blue.  Other labels get a deterministic colour from
    :data:`PALETTE` (a hash of the label), so the same label keeps its colour across pages.
    """
    key = _key(label)
    if key is not None:
        return _FIXED[key]
    return PALETTE[zlib.crc32(str(label).encode()) % len(PALETTE)]


def colors(labels) -> dict:
    """Colours for a whole legend, as a dict label → hex.

    The first label of each optimizer gets that optimizer's fixed colour (:func:`color`); other
    labels (including a second ``"SGD, η=0.3"`` after ``"SGD, η=0.1"``) get :data:`PALETTE`
    colours in order, skipping colours already taken, so no two lines share a colour while the
    palette lasts.
    """
    labels = list(dict.fromkeys(labels))
    out, seen = {}, set()
    for lab in labels:  # the first label of each optimizer family gets its fixed colour
        key = _key(lab)
        if key is not None and key not in seen:
            out[lab] = _FIXED[key]
            seen.add(key)
    free = [c for c in PALETTE if c not in out.values()]
    for lab in labels:
        if lab not in out:
            out[lab] = free.pop(0) if free else color(lab)
    return {lab: out[lab] for lab in labels}


# --------------------------------------------------------------------------- matplotlib
#: matplotlib rcParams used for every figure of the book.
RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlepad": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.8,
    "lines.markersize": 4,
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "image.cmap": "viridis",
    "mathtext.fontset": "dejavusans",
}


@contextlib.contextmanager
def rc(**overrides):
    """Context manager applying :data:`RC` (plus ``overrides``) to matplotlib, e.g.
    ``with style.rc(): fig = matplotlib.figure.Figure()``."""
    import matplotlib as mpl

    with mpl.rc_context({**RC, **overrides}):
        yield


# --------------------------------------------------------------------------- labels
def axis_names(surface) -> tuple[str, str]:
    """Names of the two coordinates of a surface, in plain Unicode: ``θ₁, θ₂`` for quadratics,
    ``w, b`` for linear regression, ``x, y`` otherwise (a surface may set ``axis_labels``)."""
    names = getattr(surface, "axis_labels", None)
    if names:
        return tuple(names)
    kind = type(surface).__name__
    if kind == "Quadratic":
        return ("θ₁", "θ₂")
    if kind == "LinearRegression":
        return ("w", "b")
    return ("x", "y")


_SLIDER_LABELS = {
    "lr": "learning rate η", "eta": "η", "beta": "β", "beta1": "β₁", "beta2": "β₂",
    "momentum": "momentum μ", "mu": "μ", "alpha": "α", "eps": "ε", "kappa": "κ",
    "gamma": "γ", "rho": "ρ", "weight_decay": "weight decay λ", "lam": "λ", "noise": "noise σ",
    "batch_size": "batch size", "steps": "steps", "t": "t", "lr_decay": "lr decay",
}


def slider_label(name: str) -> str:
    """Display label for a slider called ``name`` (``"lr"`` → ``"learning rate η"``,
    ``"beta1"`` → ``"β₁"``); unknown names are shown as they are."""
    return _SLIDER_LABELS.get(name, name)


# --------------------------------------------------------------------------- drawing rules
#: Filled-contour colours, lowest level first: light, so that coloured paths stand out.
CONTOUR_COLORS = ("#fbfcfd", "#e3e8ef", "#c3ccd9")
#: Colour of contour lines.
CONTOUR_LINE = "#8f9bb0"
#: Number of contour levels.
CONTOUR_LEVELS = 22
#: Fill colour of the ★ marking minima.
MINIMUM_COLOR = "#F0E442"
#: Losses (f − f*) are clipped at this floor before a log axis.
LOSS_FLOOR = 1e-16


def contour_data(surface, n: int = 150, levels: int = CONTOUR_LEVELS):
    """What to contour for ``surface``: ``(X, Y, Z, lv, is_log)``.

    With ``surface.log_levels`` (and a known minimum), ``Z`` is ``log10(f − f*)`` (clipped
    below the 1st percentile), and ``lv`` are evenly spaced in it, so the contours are
    log-spaced in ``f − f*``.  Otherwise ``Z`` is ``f`` with linear levels.
    """
    X, Y, F = surface.grid(n)
    F = np.asarray(F, dtype=float)
    finite = F[np.isfinite(F)]
    f_min = getattr(surface, "f_min", -np.inf)
    if getattr(surface, "log_levels", False):
        base = f_min if np.isfinite(f_min) else float(finite.min())
        G = F - base
        pos = G[(G > 0) & np.isfinite(G)]
        hi = float(pos.max()) if pos.size else 1.0
        lo = max(float(np.percentile(pos, 1)) if pos.size else 1e-3, hi * 1e-12)
        Z = np.log10(np.clip(G, lo, None))
        lv = np.linspace(np.log10(lo), np.log10(hi), levels)
        return X, Y, Z, lv, True
    lv = np.linspace(float(finite.min()), float(finite.max()), levels)
    return X, Y, F, lv, False


def _exit_point(p, q, window):
    """Where the segment p → q (p inside the window, q outside) crosses the window border."""
    (x0, x1), (y0, y1) = window
    d = q - p
    t = 1.0
    for k, (lo, hi) in enumerate(((x0, x1), (y0, y1))):
        if d[k] > 0 and q[k] > hi:
            t = min(t, (hi - p[k]) / d[k])
        elif d[k] < 0 and q[k] < lo:
            t = min(t, (lo - p[k]) / d[k])
    return p + max(t, 0.0) * d


def display_path(xs, diverged_at, window):
    """The part of one run to draw: ``(points, end)``.

    ``xs`` has shape ``(steps+1, 2)``.  For a run that did not diverge, ``points`` is ``xs``
    and ``end`` is ``steps``.  A diverged run (``diverged_at = d ≥ 0``) is cut at its last
    in-bound point ``xs[d-1]``; if it had by then left ``window`` for good, it is cut where it
    crossed the border (that point replaces the first point outside), so the ✗ drawn at
    ``points[end]`` is visible and the axes never have to grow.  ``points`` keeps the full
    length: entries after ``end`` repeat ``points[end]``.
    """
    xs = np.array(xs, dtype=float)
    n = xs.shape[0] - 1
    d = int(diverged_at)
    if d < 0:
        return xs, n
    end = max(d - 1, 0)
    (x0, x1), (y0, y1) = window
    inside = ((xs[:, 0] >= x0) & (xs[:, 0] <= x1) & (xs[:, 1] >= y0) & (xs[:, 1] <= y1))
    if not inside[end]:
        ins = np.flatnonzero(inside[:end + 1])
        if ins.size:  # left the window for good after step ins[-1]
            e = int(ins[-1]) + 1
            xs[e] = _exit_point(xs[e - 1], xs[e], window)
            end = e
    xs[end + 1:] = xs[end]
    return xs, end


def loss_limits(gaps, diverged_at=None, floor: float = LOSS_FLOOR):
    """Log-axis limits ``(lo, hi)`` for losses ``gaps`` (f − f*, shape (steps+1, runs)).

    ``lo`` is the smallest value (not below ``floor``), with a little room; ``hi`` covers the
    runs that did not diverge and every start value, but ignores the blow-up of diverged runs
    (it is at most 10⁴ × the largest start value), so a divergence never flattens the others.
    """
    g = np.asarray(gaps, dtype=float)
    g = g.reshape(g.shape[0], -1)
    div = np.full(g.shape[1], -1) if diverged_at is None else np.asarray(diverged_at).ravel()
    g = np.where(np.isfinite(g), np.clip(g, floor, None), np.nan)
    start = float(np.nanmax(g[0])) if np.isfinite(g[0]).any() else 1.0
    ok = g[:, div < 0]
    hi = start
    if ok.size and np.isfinite(ok).any():
        hi = max(hi, float(np.nanmax(ok)))
    hi = min(hi, start * 1e4) if start > floor else hi
    lo = float(np.nanmin(g)) if np.isfinite(g).any() else floor
    lo = max(min(lo, hi / 10), floor)
    return lo / 3, hi * 3
