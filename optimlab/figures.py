"""Static figures (matplotlib) for the book: contours, optimizer paths, loss curves, races.

Every function draws into ``ax`` when given one and returns it.  Without ``ax`` it makes a new
figure that is *not* registered with pyplot, so a notebook shows it exactly once: return it as
the last expression of a cell.  Figures and axes created here display themselves as PNG in any
IPython front end, whatever the matplotlib backend (Agg included).  Nothing is ever closed or
shown behind the caller's back.

>>> import optimlab as ol
>>> from optimlab import figures
>>> q = ol.surfaces.Quadratic(kappa=10)
>>> runs = {"SGD": ol.run(ol.SGD(lr=0.15), q, q.start, 40),
...         "Adam": ol.run(ol.Adam(lr=0.1), q, q.start, 40)}
>>> fig = figures.race(q, runs)          # contour + paths | loss curves

Conventions shared with :mod:`optimlab.explorers` (see :mod:`optimlab.style`): one colour per
optimizer, contours log-spaced in ``f − f*``, start ●, end ●, minima ★, and a diverged run cut
at its last in-bound point (or where it left the window), marked ✗, with
``"(diverged at step k)"`` in its legend label.  Axes always stay on ``surface.window``.
"""
from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from . import style

__all__ = ["BookFigure", "BookAxes", "new_figure", "contour", "paths", "loss_curves", "race",
           "CONTOUR_CMAP", "legible"]

#: Colormap of the filled contours (light, so that the paths stand out).
CONTOUR_CMAP = LinearSegmentedColormap.from_list("optimlab_contour", list(style.CONTOUR_COLORS))


#: The book's text column (CSS px) in a 1366 px wide window: a figure wider than that is shown
#: scaled down to it.  MIN_TEXT_PX: the smallest text a reader should get there.
COLUMN_PX, MIN_TEXT_PX = 757, 11


def legible(fig) -> float:
    """Raise every text of ``fig`` (titles, labels, tick labels, legends, annotations) to at least
    the size that still shows MIN_TEXT_PX high once the figure is scaled down to the text column;
    returns that size in points.  A figure no wider than the column keeps its sizes (≥ 10 pt)."""
    shown = min(1.0, COLUMN_PX / (fig.get_figwidth() * fig.dpi))  # page px per figure px
    need = MIN_TEXT_PX / shown * 72 / fig.dpi
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            size = axis.get_ticklabels()[0].get_fontsize() if axis.get_ticklabels() else need
            if size < need:
                ax.tick_params(axis="x" if axis is ax.xaxis else "y", which="both", labelsize=need)
    for t in fig.findobj(Text):
        if t.get_text() and t.get_fontsize() < need:
            t.set_fontsize(need)
    return need


class BookFigure(Figure):
    """A matplotlib Figure that displays itself as a PNG in IPython (once), with any backend, its
    text large enough to read where the book shows it (:func:`legible`)."""

    def _repr_png_(self):
        legible(self)
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.dpi, facecolor="white")
        return buf.getvalue()


class BookAxes(Axes):
    """Axes that display their whole figure when returned as the last value of a cell."""

    def _repr_png_(self):
        return self.figure._repr_png_() if isinstance(self.figure, BookFigure) else None


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize=(5.6, 4.4), **gridspec):
    """A fresh :class:`BookFigure` (Agg canvas, constrained layout, the book's style) and its
    axes: ``fig, ax`` for one panel, ``fig, [ax1, ax2, …]`` for several."""
    with style.rc():
        fig = BookFigure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(fig)
        gs = fig.add_gridspec(nrows, ncols, **gridspec)
        axes = [fig.add_subplot(gs[i, j], axes_class=BookAxes)
                for i in range(nrows) for j in range(ncols)]
    return fig, (axes[0] if len(axes) == 1 else axes)


def _batch(traj, label=None):
    """xs as (T+1, N, 2), losses as (T+1, N), diverged_at as (N,), and whether it is one run."""
    if not all(hasattr(traj, a) for a in ("xs", "losses", "diverged_at")):
        raise ValueError(f"runs[{label!r}] must be a Trajectory (from optimlab.run), "
                         f"got {type(traj).__name__}")
    xs = np.asarray(traj.xs, dtype=float)
    n = xs.shape[0]
    single = xs.ndim == 2
    return (xs.reshape(n, -1, 2), np.asarray(traj.losses, dtype=float).reshape(n, -1),
            np.asarray(traj.diverged_at).reshape(-1), single)


def _inside(p, window, tol=1e-9):
    (x0, x1), (y0, y1) = window
    sx, sy = (x1 - x0) * tol, (y1 - y0) * tol
    return x0 - sx <= p[0] <= x1 + sx and y0 - sy <= p[1] <= y1 + sy


def _divergence_note(div, single):
    nd = int(np.sum(div >= 0))
    if not nd:
        return ""
    if single:
        return f" (diverged at step {int(div[0])})"
    return f" ({nd} of {div.size} diverged)"


def contour(surface, ax=None, *, n: int = 150, levels: int = 22, lines: bool = True,
            minima: bool = True, title=None):
    """Filled contours of ``surface.f`` over ``surface.window``, minima marked ★.

    Levels are log-spaced in ``f − f*`` when ``surface.log_levels`` is true, linear otherwise
    (:func:`optimlab.style.contour_data`).  The axes get equal aspect, the window as limits and
    the coordinate names as labels.  Returns the axes.
    """
    if ax is None:
        _, ax = new_figure()
    with style.rc():
        X, Y, Z, lv, _ = style.contour_data(surface, n, levels)
        ax.contourf(X, Y, Z, levels=lv, cmap=CONTOUR_CMAP, extend="both", zorder=0)
        if lines:
            ax.contour(X, Y, Z, levels=lv, colors=style.CONTOUR_LINE, linewidths=0.5,
                       linestyles="solid", alpha=0.6, zorder=1)
        if minima and len(getattr(surface, "minima", ())):
            m = np.asarray(surface.minima)
            ax.plot(m[:, 0], m[:, 1], ls="none", marker="*", ms=15, mfc=style.MINIMUM_COLOR,
                    mec="black", mew=0.9, zorder=8, label="minimum")
        (x0, x1), (y0, y1) = surface.window
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box")
        xn, yn = style.axis_names(surface)
        ax.set_xlabel(xn)
        ax.set_ylabel(yn, rotation=0 if len(yn) <= 2 else 90, labelpad=10)
        if title is not None:
            ax.set_title(title)
    return ax


def paths(surface, runs, ax=None, title=None, *, background: bool = True,
          legend: bool = True, markers=None):
    """Contour of ``surface`` with the path of every run in ``runs`` (dict label → Trajectory).

    A Trajectory may hold one run (drawn with a dot at every step when ``markers`` is true, the
    default for ≤ 120 steps) or a batch (each run drawn thin).  Start points are white ●, end
    points ● in the run's colour; a diverged run ends in ✗ at its last in-bound point, or where
    it left the window, and its legend label says ``"(diverged at step k)"`` (``"(m of n
    diverged)"`` for a batch).  The limits stay on ``surface.window``.  Returns the axes.
    """
    if ax is None:
        _, ax = new_figure()
    window = surface.window
    with style.rc():
        if background:
            contour(surface, ax)
        cols = style.colors(runs)
        handles = []
        starts = []
        for label, traj in runs.items():
            xs, _, div, single = _batch(traj, label)
            c = cols[label]
            steps = xs.shape[0] - 1
            dots = (steps <= 120) if markers is None else markers
            lw, alpha = (2.0, 1.0) if single else (max(0.6, 1.6 / math.sqrt(xs.shape[1])), 0.65)
            for i in range(xs.shape[1]):
                pts, end = style.display_path(xs[:, i], div[i], window)
                ax.plot(pts[:end + 1, 0], pts[:end + 1, 1], color=c, lw=lw, alpha=alpha,
                        marker="o" if (dots and single) else None, ms=2.8, zorder=4)
                p = pts[end]
                if div[i] >= 0:
                    ax.plot([p[0]], [p[1]], marker="x", ms=11, mew=2.8, color=c, ls="none",
                            zorder=9, clip_on=not _inside(p, window))
                else:
                    ax.plot([p[0]], [p[1]], marker="o", ms=7 if single else 4, mfc=c,
                            mec="white", mew=1.0, ls="none", zorder=7)
                starts.append(pts[0])
            handles.append(Line2D([], [], color=c, lw=2.0,
                                  label=label + _divergence_note(div, single)))
        if starts:
            s = np.unique(np.round(np.array(starts), 12), axis=0)
            ax.plot(s[:, 0], s[:, 1], ls="none", marker="o", ms=8, mfc="white", mec="black",
                    mew=1.3, zorder=10)
        (x0, x1), (y0, y1) = window
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        if legend and handles:
            ax.legend(handles=handles, loc="best", frameon=True, framealpha=0.9,
                      edgecolor="none")
        if title is not None:
            ax.set_title(title)
    return ax


def loss_curves(runs, ax=None, f_min=None, log: bool = True, *, title=None,
                legend: bool = True):
    """``loss − f_min`` against the step for every run in ``runs`` (dict label → Trajectory).

    With ``log`` the y axis is logarithmic and values are clipped at
    :data:`optimlab.style.LOSS_FLOOR`.  A diverged run is drawn up to its last in-bound step and
    marked ✗ there (at the top edge if its loss is off the chart); the y limits follow the runs
    that did not diverge (:func:`optimlab.style.loss_limits`).  Returns the axes.
    """
    if ax is None:
        _, ax = new_figure(figsize=(5.6, 3.8))
    shift = 0.0 if f_min is None or not np.isfinite(f_min) else float(f_min)
    with style.rc():
        cols = style.colors(runs)
        all_gaps, all_div, marks = [], [], []
        steps = 0
        for label, traj in runs.items():
            _, losses, div, single = _batch(traj, label)
            gaps = losses - shift
            if log:
                gaps = np.clip(gaps, style.LOSS_FLOOR, None)
            c = cols[label]
            lw, alpha = (2.0, 1.0) if single else (max(0.6, 1.6 / math.sqrt(gaps.shape[1])), 0.65)
            steps = max(steps, gaps.shape[0] - 1)
            for i in range(gaps.shape[1]):
                end = int(div[i]) - 1 if div[i] >= 0 else gaps.shape[0] - 1
                end = max(end, 0)
                ax.plot(np.arange(end + 1), gaps[:end + 1, i], color=c, lw=lw, alpha=alpha,
                        label=(label + _divergence_note(div, single)) if i == 0 else "_")
                if div[i] >= 0:
                    marks.append((end, gaps[end, i], c))
            all_gaps.append(gaps)
            all_div.append(div)
        if all_gaps:
            T = max(g.shape[0] for g in all_gaps)
            padded = np.concatenate(
                [np.pad(g, ((0, T - g.shape[0]), (0, 0)), mode="edge") for g in all_gaps], axis=1)
            div = np.concatenate(all_div)
            if log:
                ax.set_yscale("log")
                lo, hi = style.loss_limits(padded, div)
            else:
                ok = padded[:, div < 0]
                ref = np.concatenate([padded[0], ok.ravel()])
                ref = ref[np.isfinite(ref)]
                lo, hi = float(ref.min()), float(ref.max())
                pad = 0.05 * (hi - lo or 1.0)
                lo, hi = lo - pad, hi + pad
            ax.set_ylim(lo, hi)
            for end, g, c in marks:
                y = min(max(g, lo), hi) if np.isfinite(g) else hi
                ax.plot([end], [y], marker="x", ms=10, mew=2.6, color=c, ls="none", zorder=9,
                        clip_on=False)
        ax.set_xlim(0, max(steps, 1))
        ax.set_xlabel("step")
        ax.set_ylabel("loss" if f_min is None else "f − f*")
        if legend and runs:
            ax.legend(loc="best")
        if title is not None:
            ax.set_title(title)
    return ax


def race(surface, runs, title=None, *, figsize=(10.5, 4.3), log: bool = True):
    """Two panels side by side: the paths on the contour of ``surface`` and the loss curves.

    ``runs`` is a dict label → Trajectory.  The legend (with divergence notes) sits in the loss
    panel.  Returns the :class:`BookFigure`; as the last expression of a cell it shows once.
    """
    fig, (ax1, ax2) = new_figure(1, 2, figsize=figsize, width_ratios=[1.0, 1.05])
    paths(surface, runs, ax=ax1, legend=False)
    f_min = surface.f_min if np.isfinite(getattr(surface, "f_min", -np.inf)) else None
    loss_curves(runs, ax=ax2, f_min=f_min, log=log)
    with style.rc():
        ax1.set_title(surface.name)
        ax2.set_title("loss")
        if title is not None:
            fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def tuning_curves(tunings, ax=None, *, ylabel="score", log_y: bool = False, title=None):
    """The tuning protocol's picture: for every method (dict label → :class:`optimlab.tuning.Tuning`),
    the median score over the seeds against the learning rate (log axis), the spread between
    the quartiles as a band, and the chosen rate marked ●.  A rate at which every seed diverged
    is left out of the line.  Returns the axes.
    """
    if ax is None:
        _, ax = new_figure(figsize=(6.4, 4.0))
    with style.rc():
        cols = style.colors(tunings)
        for label, tu in tunings.items():
            if not all(hasattr(tu, a) for a in ("lrs", "median", "quantiles", "best")):
                raise ValueError(f"tunings[{label!r}] must be an optimlab.tuning.Tuning, "
                                 f"got {type(tu).__name__}")
            med = np.asarray(tu.median, dtype=float)
            lo, hi = tu.quantiles()
            ok = np.isfinite(med) & (tu.diverged < len(tu.seeds))
            c = cols[label]
            ax.plot(tu.lrs[ok], med[ok], color=c, lw=1.8, label=f"{label} (best η = {tu.best_lr:.3g})")
            band = ok & np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(tu.lrs[band], lo[band], hi[band], color=c, alpha=0.18, lw=0)
            ax.plot([tu.best_lr], [med[tu.best]], "o", color=c, ms=6, zorder=5)
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("learning rate η")
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize=9)
        if title is not None:
            ax.set_title(title)
    return ax
