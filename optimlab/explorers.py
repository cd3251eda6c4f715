"""Interactive explorers that keep working in the static HTML book, with no Python kernel.

Python computes everything up front — every combination of the slider values, every step — and
writes it once into the page; a small hand-written controller (``optimlab/assets/explorer.js``)
turns the controls into ``Plotly.restyle`` calls on a plotly.js figure.  Plotly is only the
renderer: there are no plotly frames, and the page holds each number once.

* :func:`race` — optimizers racing on a 2-D surface: contour with one path per optimizer (left)
  and ``f − f*`` against the step on a log axis (right).  Play animates the steps; parameter
  sliders switch between precomputed runs; clicking a legend entry hides an optimizer.
* :func:`lines` — the same controller for any family of curves ``y(x)`` indexed by sliders.

Both return an :class:`Explorer`, which displays itself in a notebook::

    from optimlab import explorers
    import optimlab as ol
    q = ol.surfaces.Quadratic(kappa=10)
    explorers.race(q, {"SGD": lambda lr, **_: ol.SGD(lr=lr),
                       "Momentum": lambda lr, beta: ol.Momentum(lr=lr, beta=beta)},
                   sliders={"lr": [0.02, 0.05, 0.1, 0.15, 0.2], "beta": [0, 0.5, 0.8, 0.9]})

Data
----
The factories are called once, with every slider value as a numpy array of shape ``(C, 1)``
(``C`` = number of combinations, the cartesian product with the first slider slowest), and each
optimizer is run once, batched, by :func:`optimlab.run`.  Arrays are stored as 16-bit integers
in base64 (positions: the plot window spans ±8000 steps of 1/16000 of its width, so about four
significant digits; losses: log10, adaptive step ≤ 0.001 decade for typical ranges);
combinations that give the very same run (a factory ignoring a slider) share one stored row.
Each stored row stops where it stops changing (a diverged run at its cut).  :func:`decode`
reads arrays back and :meth:`Explorer.series_data` a whole series.  A typical race
(3 optimizers, 36 combinations, 60 steps) is about 80 KB of HTML; keep a page's explorer under
~150 KB (:attr:`Explorer.size`) by trimming slider values or steps.

Output modes (:meth:`Explorer.to_html`, used by ``_repr_mimebundle_``)
-----------------------------------------------------------------------
* **Book** (environment variable ``OPTIMLAB_BOOK=1``, set for the static build): only the
  markup — ``<div class="optimlab-explorer" id=…>`` with the controls, an empty plot div and
  ``<script type="application/json" class="optimlab-explorer-data">``.  No plotly.js, no
  controller, no URL.  The book's Sphinx extension must add ``plotly.min.js`` (from the plotly
  package: :func:`plotly_js_path`) and ``explorer.js`` (:data:`CONTROLLER_PATH`) once, on pages
  containing ``optimlab-explorer``; the controller mounts every explorer on DOMContentLoaded
  (or at once if the page is already loaded) and waits for ``window.Plotly`` if needed.
* **Live** (Jupyter, variable unset): the same markup plus the controller inline (it mounts
  its own container, waiting until the output is attached to the page), and the
  whole plotly.min.js inline the first time in a kernel session (every time under Colab,
  whose outputs are separate frames).  Works offline.  :func:`reset_session` makes the next
  explorer include plotly.js again (e.g. after reloading the browser page).
* **Standalone**: :meth:`Explorer.save` writes a self-contained HTML file.

Test hooks (stable; browser tests rely on them)
-----------------------------------------------
* the container ``.optimlab-explorer`` gets ``data-ready="1"`` once mounted, and
  ``data-step`` (current step index) and ``data-combo`` (index of the current slider
  combination) attributes, updated on every change;
* controls: Play/Pause ``button.ol-play``; step slider ``input.ol-step``; parameter sliders
  ``input.ol-param`` with ``data-name="<slider name>"`` (their value is the *index* into the
  slider's list of values; dispatch an ``input`` event after setting it); the value shown next to
  each slider is in ``output.ol-value``; per-optimizer status lines are ``.ol-status > span``
  with ``data-label``;
* the plot div ``.ol-plot`` is plotly's ``.js-plotly-plot`` after mounting, so
  ``gd.data[i].x.length`` can be read; a race's traces are, in order: shaded background
  (heatmap), contour lines, minima, start, then per optimizer: path, head, ✗, and (with the loss panel) loss,
  loss head, loss ✗ (``spec["series"][j]["t"]`` maps these names to trace indices).  At step
  k a path trace holds k + 1 points (fewer once a diverged run has been cut).
"""
from __future__ import annotations

import base64
import hashlib
import html
import inspect
import itertools
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from . import style
from .runs import Trajectory
from .runs import run as _run

__all__ = ["Explorer", "race", "lines", "decode", "encode", "book_mode", "reset_session",
           "plotly_js_path", "CONTROLLER_PATH", "FPS"]

#: The controller script; the book serves it as a static file (name: ``explorer.js``).
CONTROLLER_PATH = Path(__file__).resolve().parent / "assets" / "explorer.js"
#: Frames per second of Play.
FPS = 15

_session = {"plotly_sent": False}
_FONT = ("-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
         "sans-serif")


def book_mode() -> bool:
    """True when building the static book (environment variable ``OPTIMLAB_BOOK=1``)."""
    return os.environ.get("OPTIMLAB_BOOK", "").strip().lower() in {"1", "true", "yes", "on"}


def reset_session() -> None:
    """Make the next explorer shown in live mode include plotly.js again."""
    _session["plotly_sent"] = False


def plotly_js_path() -> Path:
    """Path of ``plotly.min.js`` shipped inside the installed plotly package."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the plotly package is needed for explorers (pip install plotly)")
    return Path(list(spec.submodule_search_locations)[0]) / "package_data" / "plotly.min.js"


# --------------------------------------------------------------------------- encoding
_QMAX = 32767
_NAN = -32768


def encode(values, *, log: bool = False, offset=None, scale=None) -> dict:
    """Quantize ``values`` to 16-bit integers: ``{"q": base64, "o": offset, "s": scale, "l": 0|1}``.

    ``value ≈ o + q·s`` (``10**(o + q·s)`` with ``log``).  Without ``offset``/``scale`` the
    finite range of the data is spread over ±32000 steps.  Values outside the representable
    range are clamped; non-finite values (and non-positive ones with ``log``) become gaps
    (``NaN`` when decoded).
    """
    v = np.asarray(values, dtype=float).ravel()
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
    finite = v[np.isfinite(v)]
    if offset is None or scale is None:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        offset = 0.5 * (lo + hi)
        scale = (hi - lo) / 64000 if hi > lo else max(abs(offset), 1.0) * 1e-6
        if log:
            scale = max(scale, 1e-5)  # finer than needed, never coarser than 0.001 decade here
    offset, scale = float(offset), float(scale)
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.clip(np.round((v - offset) / scale), -_QMAX, _QMAX)
    q = np.where(np.isfinite(v), q, _NAN).astype("<i2")
    return {"q": base64.b64encode(q.tobytes()).decode("ascii"), "o": offset, "s": scale,
            "l": int(bool(log))}


def decode(channel: dict) -> np.ndarray:
    """Inverse of :func:`encode` (what the browser reconstructs), as a float array."""
    q = np.frombuffer(base64.b64decode(channel["q"]), dtype="<i2").astype(float)
    v = channel["o"] + q * channel["s"]
    v[q == _NAN] = np.nan
    return 10.0 ** v if channel.get("l") else v


# --------------------------------------------------------------------------- sliders
def _fmt(v) -> str:
    v = float(v)
    return f"{v:.4g}" if v != int(v) or abs(v) >= 1e5 else str(int(v))


def _slider_specs(sliders, initial, labels):
    sliders = dict(sliders or {})
    initial = dict(initial or {})
    labels = dict(labels or {})
    unknown = set(initial) - set(sliders)
    if unknown:
        raise ValueError(f"initial names sliders that do not exist: {sorted(unknown)}")
    specs, grids = [], []
    for name, values in sliders.items():
        vals = np.asarray(values, dtype=float).ravel()
        if vals.size == 0 or not np.all(np.isfinite(vals)):
            raise ValueError(f"slider {name!r} needs a non-empty list of finite numbers")
        init = len(vals) // 2
        if name in initial:
            init = int(np.argmin(np.abs(vals - float(initial[name]))))
        specs.append({"name": str(name), "label": labels.get(name, style.slider_label(name)),
                      "values": [float(v) for v in vals], "text": [_fmt(v) for v in vals],
                      "init": init})
        grids.append(vals)
    if grids:
        combos = np.array(list(itertools.product(*grids)), dtype=float)  # first slider slowest
    else:
        combos = np.zeros((1, 0))
    return specs, combos


def _call(label, factory, kwargs):
    """Call ``factory`` with the slider arrays it accepts (all of them if it takes ``**kw``)."""
    if not callable(factory):
        return factory
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return factory(**kwargs)
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    missing = [p.name for p in named if p.default is p.empty and p.name not in kwargs]
    if missing:
        raise ValueError(f"the factory of {label!r} needs {missing}, which are not sliders "
                         f"(sliders: {sorted(kwargs)}); give it defaults or add the sliders")
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return factory(**kwargs)
    names = {p.name for p in named}
    return factory(**{k: v for k, v in kwargs.items() if k in names})


# --------------------------------------------------------------------------- the Explorer
class Explorer:
    """A precomputed interactive figure; displays itself in Jupyter and in the book.

    Attributes
    ----------
    spec : dict
        Everything the controller needs (JSON-serialisable; arrays encoded by :func:`encode`).
    combos : list of dict
        The slider values of every combination, in the order of the data.
    runs : dict label → Trajectory (races only)
        The runs shown, each with batch shape ``(C,)``.
    """

    def __init__(self, spec: dict, *, combos=None, runs=None, title: str = ""):
        self.spec = spec
        self.combos = combos or [{}]
        self.runs = runs or {}
        self.title = title
        self._json = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
        self.id = "ol-" + hashlib.sha1(self._json.encode()).hexdigest()[:12]
        self._cache: dict = {}

    # -- markup ---------------------------------------------------------------------------
    def _markup(self, extra: str = "") -> str:
        s = self.spec
        esc = html.escape
        parts = [f'<div class="optimlab-explorer" id="{self.id}" data-kind="{s["kind"]}">',
                 f'<div class="ol-plot" style="width:100%;height:{s["height"]}px">'
                 '<div class="ol-fallback">Interactive figure: loading… (it needs JavaScript; '
                 'in Jupyter, trust the notebook and run the cell)</div></div>',
                 '<div class="ol-controls">']
        if s["animate"]:
            parts.append(
                '<div class="ol-row ol-time">'
                '<button type="button" class="ol-play" aria-label="Play">▶ Play</button>'
                f'<input type="range" class="ol-step" min="0" max="{s["T"]}" step="1" '
                f'value="{s["step"]}" aria-label="{esc(s["stepword"])}">'
                f'<output class="ol-step-value"></output></div>')
        if s["sliders"]:
            parts.append('<div class="ol-row ol-params">')
            for sl in s["sliders"]:
                parts.append(
                    f'<label class="ol-param-label"><span>{esc(sl["label"])}</span>'
                    f'<input type="range" class="ol-param" data-name="{esc(sl["name"])}" min="0" '
                    f'max="{len(sl["values"]) - 1}" step="1" value="{sl["init"]}">'
                    f'<output class="ol-value">{esc(sl["text"][sl["init"]])}</output></label>')
            parts.append("</div>")
        if s["kind"] == "race":
            parts.append('<div class="ol-status" aria-live="polite"></div>')
        parts.append("</div>")
        parts.append(f'<script type="application/json" class="optimlab-explorer-data">'
                     f'{self._json}</script>')
        parts.append(extra)
        parts.append("</div>")
        return "".join(parts)

    def to_html(self, mode: str | None = None, *, include_plotlyjs: bool | None = None) -> str:
        """HTML for the given ``mode``: ``"book"``, ``"live"`` or ``"standalone"``.

        ``mode=None`` picks ``"book"`` when :func:`book_mode` is true, else ``"live"``.  In live
        mode ``include_plotlyjs=None`` inlines plotly.js only the first time in the session
        (always under Google Colab); ``True``/``False`` force it.
        """
        mode = mode or ("book" if book_mode() else "live")
        if mode == "book":
            return self._markup()
        controller = CONTROLLER_PATH.read_text(encoding="utf-8")
        if mode == "standalone":
            body = (f"<script>{plotly_js_path().read_text(encoding='utf-8')}</script>\n"
                    f"{self._markup()}\n<script>{controller}</script>")
            title = html.escape(self.title or "optimlab explorer")
            return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    f"<title>{title}</title></head>\n<body style=\"max-width:58rem;margin:2rem "
                    f"auto;font-family:{html.escape(_FONT)}\">\n{body}\n</body></html>\n")
        if mode != "live":
            raise ValueError(f"mode must be 'book', 'live' or 'standalone', got {mode!r}")
        if include_plotlyjs is None:
            include_plotlyjs = "google.colab" in sys.modules or not _session["plotly_sent"]
        head = ""
        if include_plotlyjs:
            head = f"<script>{plotly_js_path().read_text(encoding='utf-8')}</script>"
            _session["plotly_sent"] = True
        mount = ("<script>(function(s){var e=s&&s.closest('.optimlab-explorer');"
                 "if(window.optimlabExplorer&&e){window.optimlabExplorer.mount(e);}})"
                 "(document.currentScript);</script>")
        return head + self._markup(f"<script>{controller}</script>{mount}")

    def _html(self) -> str:
        mode = "book" if book_mode() else "live"
        if mode not in self._cache or ("google.colab" in sys.modules and mode == "live"):
            self._cache[mode] = self.to_html(mode)
        return self._cache[mode]

    def _repr_html_(self):
        return self._html()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._html(), "text/plain": repr(self)}

    def series_data(self, label) -> dict:
        """The data of one series as the browser sees it (decoded), one row per combination.

        Races: ``xs`` (C, T+1, 2) path points (cut as drawn), ``f`` (C, T+1) clipped
        ``f − f*``, ``end`` and ``div`` (C,) last drawn point and divergence step (−1: none);
        values after ``end`` (points) or after the divergence (losses) repeat the last one.
        Lines: ``y`` (C, T) (or (T,) for a fixed curve).
        """
        s = next(e for e in self.spec["series"] if e["label"] == str(label))
        C = len(self.combos)
        m = np.asarray(s.get("m", np.arange(C)))
        if self.spec["kind"] == "lines":
            y = decode(s["y"])
            return {"y": y if s["fixed"] else y.reshape(-1, self.spec["T"] + 1)[m]}
        n = self.spec["T"] + 1
        X, Y, F = decode(s["x"]), decode(s["y"]), decode(s["f"])
        xs, fs = [], []
        for r, (e, d) in enumerate(zip(s["end"], s["div"])):
            p = np.stack([X[s["px"][r]:s["px"][r] + e + 1], Y[s["px"][r]:s["px"][r] + e + 1]], -1)
            xs.append(np.concatenate([p, np.repeat(p[-1:], n - e - 1, axis=0)]))
            lf = max(d - 1 if d >= 0 else n - 1, 0)
            f = F[s["pf"][r]:s["pf"][r] + lf + 1]
            fs.append(np.concatenate([f, np.repeat(f[-1:], n - lf - 1)]))
        return {"xs": np.array(xs)[m], "f": np.array(fs)[m],
                "end": np.asarray(s["end"])[m], "div": np.asarray(s["div"])[m]}

    def save(self, path) -> Path:
        """Write a self-contained HTML page (plotly.js and the controller inline); returns it."""
        path = Path(path)
        path.write_text(self.to_html("standalone"), encoding="utf-8")
        return path

    @property
    def size(self) -> int:
        """Bytes of the book-mode HTML (what the explorer adds to a page)."""
        return len(self.to_html("book").encode("utf-8"))

    def __repr__(self):
        s = self.spec
        n = len(s["series"])
        what = "optimizers" if s["kind"] == "race" else "series"
        return (f"<optimlab Explorer ({s['kind']}): {n} {what} × {len(self.combos)} "
                f"combination{'s' * (len(self.combos) != 1)}, {s['T']} steps>")


def _layout_base(height, title):
    lay = {
        "height": height,
        "autosize": True,
        "font": {"family": _FONT, "size": 13, "color": "#222"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 62, "r": 16, "t": 74 if title else 40, "b": 50},
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02,
                   "yanchor": "bottom", "font": {"size": 13}, "itemclick": "toggle",
                   "itemdoubleclick": "toggleothers", "groupclick": "togglegroup"},
        "hoverlabel": {"font": {"family": _FONT}},
    }
    if title:
        lay["title"] = {"text": title, "x": 0.01, "xanchor": "left", "y": 0.98,
                        "yanchor": "top", "font": {"size": 16}}
    return lay


_CONFIG = {"displaylogo": False, "responsive": True, "typesetMath": False,
           "scrollZoom": False, "doubleClick": "reset", "displayModeBar": "hover",
           "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d",
                                      "toggleSpikelines", "hoverCompareCartesian",
                                      "hoverClosestCartesian"]}


def _axis(**kw):
    ax = {"showgrid": False, "zeroline": False, "showline": True, "linecolor": "#555",
          "ticks": "outside", "tickcolor": "#555", "mirror": False, "fixedrange": False}
    ax.update(kw)
    return ax


# --------------------------------------------------------------------------- race
def _dedupe(table):
    """Rows of ``table`` (C, n) to store: ``(rows, m)`` with ``rows`` the first index of each
    distinct row, in order, and ``m[c]`` the position in ``rows`` of row c — or ``m = None``
    when all rows differ."""
    table = np.ascontiguousarray(table)
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    if len(first) == table.shape[0]:
        return np.arange(table.shape[0]), None
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], [int(v) for v in rank[np.ravel(inverse)]]


def _contour_lines(X, Y, Z, levels, budget: int = 6000):
    """Contour lines of Z at ``levels`` as x, y arrays with NaN between lines.

    When the lines would hold more than ``budget`` points, only every k-th level is kept.
    """
    import contourpy

    gen = contourpy.contour_generator(X, Y, Z, line_type="Separate")
    per = [gen.lines(float(lv)) for lv in levels]
    total = sum(sum(len(a) + 1 for a in ls) for ls in per)
    k = max(1, math.ceil(total / budget))
    xs, ys = [], []
    for ls in per[::k]:
        for a in ls:
            xs.extend([a[:, 0], [np.nan]])
            ys.extend([a[:, 1], [np.nan]])
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def race(surface, optimizers, sliders=None, *, x0=None, steps: int = 60, initial=None,
         loss_panel: bool = True, title=None, labels=None, noise: float = 0.0,
         batch_size=None, seed: int = 0, grid: int = 70, height=None) -> Explorer:
    """Optimizers racing on ``surface``, for every combination of slider values.

    Parameters
    ----------
    surface : an :mod:`optimlab.surfaces` surface (needs ``f``, ``grad``, ``window``).
    optimizers : dict label → factory.  A factory is called once with every slider value as an
        array of shape ``(C, 1)`` and returns an optimizer (e.g.
        ``lambda lr, beta: ol.Momentum(lr=lr, beta=beta)``); it may take only the sliders it
        uses (or ``**_``).  A plain optimizer instance is used for every combination.
    sliders : dict name → list of numbers (shown in the order given).
    x0 : start point, default ``surface.start``.
    steps : steps per run.
    initial : dict name → value the slider starts at (nearest listed value); default middle.
    loss_panel : add the ``f − f*`` panel (log y) on the right.
    title : figure title (default: the surface's name).
    labels : dict slider name → display label (default :func:`optimlab.style.slider_label`).
    noise, batch_size, seed : passed to :func:`optimlab.run` (stochastic gradients).
    grid : contour grid points per axis.

    Returns
    -------
    Explorer
        Its ``runs`` are the :class:`~optimlab.Trajectory` objects shown (batch shape ``(C,)``).
    """
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be an integer in [1, inf), got {steps!r}")
    specs, combos = _slider_specs(sliders, initial, labels)
    C = combos.shape[0]
    if C * len(optimizers) * (steps + 1) > 3_000_000:
        raise ValueError(f"{C} combinations × {len(optimizers)} optimizers × {steps} steps is "
                         "too much for one page: use fewer slider values or steps")
    x0 = np.asarray(surface.start if x0 is None else x0, dtype=float)
    if x0.shape != (2,):
        raise ValueError(f"x0 must be one point of shape (2,), got shape {x0.shape}")
    kwargs = {sp["name"]: combos[:, i:i + 1] for i, sp in enumerate(specs)}
    runs = {}
    for label, factory in optimizers.items():
        opt = _call(label, factory, kwargs)
        traj = _run(opt, surface, x0, int(steps), noise=noise, batch_size=batch_size, seed=seed)
        xs = np.asarray(traj.xs)
        try:
            xs = np.broadcast_to(xs.reshape(steps + 1, -1, 2), (steps + 1, C, 2))
            losses = np.broadcast_to(np.asarray(traj.losses).reshape(steps + 1, -1),
                                     (steps + 1, C))
            div = np.broadcast_to(np.asarray(traj.diverged_at).reshape(-1), (C,))
        except ValueError:
            raise ValueError(
                f"optimizer {label!r} produced runs of batch shape {xs.shape[1:-1]}, expected "
                f"({C},) — one per slider combination (hyperparameters of shape ({C}, 1))"
            ) from None
        runs[label] = Trajectory(np.array(xs), np.array(losses), np.array(div))

    window = surface.window
    (wx0, wx1), (wy0, wy1) = window
    f_min = getattr(surface, "f_min", -math.inf)
    has_min = bool(np.isfinite(f_min))
    shift = float(f_min) if has_min else 0.0
    word = "loss" if (not has_min or f_min == 0) else "f − f*"
    cols = style.colors(optimizers)
    xn, yn = style.axis_names(surface)

    # figure: static traces
    X, Y, Z, lv, _ = style.contour_data(surface, grid)
    c0, c1, c2 = style.CONTOUR_COLORS
    data = [{
        # The background: a smooth shaded map of the contoured quantity (a heatmap the browser
        # scales with smoothing) under precomputed contour lines.  Plotly redraws every trace
        # on each update; its own contour trace costs more than all the paths together.
        "type": "heatmap", "x0": float(X[0, 0]), "dx": float(X[0, 1] - X[0, 0]),
        "y0": float(Y[0, 0]), "dy": float(Y[1, 0] - Y[0, 0]), "z": [], "zsmooth": "fast",
        "zmin": float(lv[0]), "zmax": float(lv[-1]),
        "colorscale": [[0, c0], [0.5, c1], [1, c2]], "showscale": False,
        "hoverinfo": "skip", "showlegend": False, "name": "contour"}]
    grids = [{"trace": 0, "nx": int(X.shape[1]), "ny": int(X.shape[0]),
              "z": encode(np.clip(Z, lv[0], lv[-1]))}]
    sx, sy = (wx1 - wx0) / 16000, (wy1 - wy0) / 16000
    ox, oy = 0.5 * (wx0 + wx1), 0.5 * (wy0 + wy1)
    cx, cy = _contour_lines(X, Y, Z, lv)
    data.append({"type": "scatter", "mode": "lines", "x": [], "y": [], "name": "contour lines",
                 "line": {"color": "rgba(120,133,156,0.5)", "width": 0.7},
                 "hoverinfo": "skip", "showlegend": False})
    polylines = [{"trace": 1, "x": encode(cx, offset=ox, scale=sx),
                  "y": encode(cy, offset=oy, scale=sy)}]
    minima = np.asarray(getattr(surface, "minima", np.zeros((0, 2))), dtype=float).reshape(-1, 2)
    data.append({"type": "scatter", "mode": "markers", "name": "minimum",
                 "x": [round(float(v), 6) for v in minima[:, 0]],
                 "y": [round(float(v), 6) for v in minima[:, 1]],
                 "marker": {"symbol": "star", "size": 17, "color": style.MINIMUM_COLOR,
                            "line": {"color": "black", "width": 1}},
                 "hovertemplate": f"minimum<br>{xn} = %{{x:.4g}}, {yn} = %{{y:.4g}}<extra></extra>",
                 "showlegend": False})
    data.append({"type": "scatter", "mode": "markers", "name": "start",
                 "x": [float(x0[0])], "y": [float(x0[1])],
                 "marker": {"symbol": "circle", "size": 11, "color": "white",
                            "line": {"color": "black", "width": 1.6}},
                 "hovertemplate": f"start<br>{xn} = %{{x:.4g}}, {yn} = %{{y:.4g}}<extra></extra>",
                 "showlegend": False})
    if loss_panel:
        data[-1]["cliponaxis"] = False

    # figure: dynamic traces and data per optimizer
    all_gaps, all_div = [], []
    for traj in runs.values():
        all_gaps.append(np.clip(traj.losses - shift, style.LOSS_FLOOR, None))
        all_div.append(traj.diverged_at)
    lo, hi = style.loss_limits(np.concatenate(all_gaps, axis=1), np.concatenate(all_div))
    series = []
    for label, traj in runs.items():
        c = cols[label]
        # Combinations that give the very same run (a factory ignoring a slider) share a row.
        rows, m = _dedupe(np.concatenate(
            [traj.xs.transpose(1, 0, 2).reshape(C, -1), traj.losses.T], axis=1))
        # Rows are stored up to where they stop changing: a path to its last drawn point, a
        # loss curve to the step before the divergence (offsets px, pf locate each row).
        xs_rows, f_rows, ends, px, pf = [], [], [], [], []
        gaps = np.clip(traj.losses - shift, style.LOSS_FLOOR, None)
        for k in rows:
            d = int(traj.diverged_at[k])
            p, e = style.display_path(traj.xs[:, k], d, window)
            lf = d - 1 if d >= 0 else steps
            px.append(sum(len(r) for r in xs_rows))
            pf.append(sum(len(r) for r in f_rows))
            xs_rows.append(p[:e + 1])
            f_rows.append(gaps[:max(lf, 0) + 1, k])
            ends.append(int(e))
        pts = np.concatenate(xs_rows)
        fs = np.concatenate(f_rows)
        t = {}
        esc_label = html.escape(str(label))
        t["path"] = len(data)
        data.append({"type": "scatter", "mode": "lines+markers", "name": str(label),
                     "legendgroup": str(label), "x": [], "y": [],
                     "line": {"color": c, "width": 2.4}, "marker": {"color": c, "size": 4.5},
                     "hovertemplate": (f"<b>{esc_label}</b><br>step %{{pointNumber}}<br>"
                                       f"{xn} = %{{x:.4g}}, {yn} = %{{y:.4g}}<extra></extra>")})
        t["head"] = len(data)
        data.append({"type": "scatter", "mode": "markers", "name": str(label),
                     "legendgroup": str(label), "showlegend": False, "x": [], "y": [],
                     "marker": {"color": c, "size": 12, "line": {"color": "white", "width": 1.8}},
                     "hovertemplate": f"<b>{esc_label}</b><extra></extra>"})
        t["cross"] = len(data)
        data.append({"type": "scatter", "mode": "markers", "name": str(label),
                     "legendgroup": str(label), "showlegend": False, "x": [], "y": [],
                     "cliponaxis": False,
                     "marker": {"color": c, "size": 15, "symbol": "x",
                                "line": {"color": "white", "width": 1.2}},
                     "hovertemplate": f"<b>{esc_label}</b>: diverged<extra></extra>"})
        if loss_panel:
            t["loss"] = len(data)
            data.append({"type": "scatter", "mode": "lines", "name": str(label),
                         "legendgroup": str(label), "showlegend": False, "x": [], "y": [],
                         "xaxis": "x2", "yaxis": "y2", "line": {"color": c, "width": 2.2},
                         "hovertemplate": (f"<b>{esc_label}</b><br>step %{{x}}<br>{word} = "
                                           "%{y:.3g}<extra></extra>")})
            t["lhead"] = len(data)
            data.append({"type": "scatter", "mode": "markers", "name": str(label),
                         "legendgroup": str(label), "showlegend": False, "x": [], "y": [],
                         "xaxis": "x2", "yaxis": "y2", "cliponaxis": False,
                         "marker": {"color": c, "size": 8}, "hoverinfo": "skip"})
            t["lcross"] = len(data)
            data.append({"type": "scatter", "mode": "markers", "name": str(label),
                         "legendgroup": str(label), "showlegend": False, "x": [], "y": [],
                         "xaxis": "x2", "yaxis": "y2", "cliponaxis": False,
                         "marker": {"color": c, "size": 13, "symbol": "x",
                                    "line": {"color": "white", "width": 1}},
                         "hovertemplate": f"<b>{esc_label}</b>: diverged<extra></extra>"})
        entry = {"label": str(label), "color": c, "t": t,
                 "x": encode(pts[:, 0], offset=ox, scale=sx),
                 "y": encode(pts[:, 1], offset=oy, scale=sy),
                 "f": encode(fs, log=True), "px": px, "pf": pf,
                 "end": ends, "div": [int(traj.diverged_at[k]) for k in rows]}
        if m is not None:
            entry["m"] = m
        series.append(entry)

    title_text = surface.name if title is None else title
    height = height or (440 if loss_panel else 480)
    layout = _layout_base(height, title_text)
    dom = [0.0, 0.47] if loss_panel else [0.0, 1.0]
    layout["xaxis"] = _axis(domain=dom, range=[wx0, wx1], autorange=False,
                            title={"text": xn}, constrain="domain")
    layout["yaxis"] = _axis(range=[wy0, wy1], autorange=False,
                            title={"text": yn, "standoff": 6},
                            scaleanchor="x", scaleratio=1, constrain="domain")
    if loss_panel:
        layout["xaxis2"] = _axis(domain=[0.6, 1.0], anchor="y2", range=[0, steps],
                                 autorange=False, title={"text": "step"}, showgrid=True,
                                 gridcolor="#ececec")
        layout["yaxis2"] = _axis(anchor="x2", type="log", autorange=False,
                                 range=[math.log10(lo), math.log10(hi)],
                                 title={"text": word, "standoff": 4}, showgrid=True,
                                 gridcolor="#ececec", exponentformat="power")
    spec = {"v": 1, "kind": "race", "fps": FPS, "T": int(steps), "step": int(steps),
            "animate": True, "stepword": "step", "word": word, "floor": style.LOSS_FLOOR,
            "yhi": hi, "height": height, "sliders": specs, "grids": grids, "polylines": polylines,
            "series": series,
            "figure": {"data": data, "layout": layout, "config": _CONFIG}}
    combo_dicts = [{sp["name"]: float(v) for sp, v in zip(specs, row)} for row in combos]
    return Explorer(spec, combos=combo_dicts, runs=runs, title=title_text)


# --------------------------------------------------------------------------- lines
def lines(x, ys, sliders=None, *, xlabel: str = "", ylabel: str = "", logy: bool = False,
          animate: bool = False, title=None, initial=None, labels=None, logx: bool = False,
          yrange=None, colors=None, dash=None, height: int = 400) -> Explorer:
    """Curves ``y(x)`` that switch with sliders (and optionally draw themselves with Play).

    Parameters
    ----------
    x : array (T,), shared by all curves.
    ys : dict label → array.  Shape ``(C, T)``, one row per slider combination in
        cartesian-product order (first slider slowest) — ``(n₁, n₂, …, T)`` is accepted too —
        or ``(T,)`` for a fixed reference curve (drawn dashed).
    sliders : dict name → list of numbers; ``C`` is the product of their lengths.
    xlabel, ylabel : axis titles (plain Unicode, e.g. ``"β₁"``; no LaTeX).
    logy, logx : logarithmic axes (non-positive values leave gaps with ``logy``).
    animate : add Play and a slider over x that reveal the curves progressively.
    initial : dict name → starting value of a slider.
    labels : dict slider name → display label.
    yrange : fixed ``(lo, hi)`` for y (default: all the data, so the axes stay put).
    colors : dict label → colour (default :func:`optimlab.style.colors`).
    dash : dict label → plotly dash style (``"dash"``, ``"dot"`` …).
    """
    x = np.asarray(x, dtype=float).ravel()
    T = x.size
    if T < 2:
        raise ValueError("x needs at least 2 points")
    if not ys:
        raise ValueError("ys must hold at least one curve")
    specs, combos = _slider_specs(sliders, initial, labels)
    C = combos.shape[0]
    cols = style.colors(ys)
    cols.update(colors or {})
    dash = dict(dash or {})
    series, data, allv = [], [], []
    xlab = xlabel or "x"
    for label, y in ys.items():
        y = np.asarray(y, dtype=float)
        fixed = y.ndim == 1
        if fixed:
            if y.size != T:
                raise ValueError(f"curve {label!r} has {y.size} points, x has {T}")
        else:
            if y.shape[-1] != T or int(np.prod(y.shape[:-1])) != C:
                raise ValueError(f"curve {label!r} has shape {y.shape}; expected ({C}, {T}) "
                                 f"(one row per slider combination) or ({T},)")
            y = y.reshape(C, T)
        allv.append(y.ravel())
        esc_label = html.escape(str(label))
        t = len(data)
        data.append({"type": "scatter", "mode": "lines", "name": str(label),
                     "legendgroup": str(label), "x": [], "y": [],
                     "line": {"color": cols[label], "width": 1.8 if fixed else 2.4,
                              "dash": dash.get(label, "dash" if fixed else "solid")},
                     "hovertemplate": (f"<b>{esc_label}</b><br>{html.escape(xlab)} = %{{x:.4g}}"
                                       f"<br>%{{y:.4g}}<extra></extra>")})
        entry = {"label": str(label), "color": cols[label], "fixed": fixed, "t": t}
        if fixed:
            entry["y"] = encode(y, log=logy)
        else:
            rows, m = _dedupe(np.nan_to_num(y, nan=np.inf))
            entry["y"] = encode(y[rows], log=logy)
            if m is not None:
                entry["m"] = m
        series.append(entry)
    v = np.concatenate(allv)
    v = v[np.isfinite(v) & ((v > 0) if logy else True)]
    if yrange is not None:
        ylo, yhi = map(float, yrange)
        yr = [math.log10(ylo), math.log10(yhi)] if logy else [ylo, yhi]
    elif v.size == 0:
        yr = [0, 1]
    elif logy:
        a, b = math.log10(v.min()), math.log10(v.max())
        pad = 0.05 * (b - a or 1.0)
        yr = [a - pad, b + pad]
    else:
        a, b = float(v.min()), float(v.max())
        pad = 0.05 * (b - a or abs(a) or 1.0)
        yr = [a - pad, b + pad]
    if logx:
        xp = x[x > 0]
        xr = [math.log10(xp.min()), math.log10(xp.max())] if xp.size else [0, 1]
    else:
        xr = [float(x.min()), float(x.max())]
    layout = _layout_base(height, title)
    layout["margin"]["t"] = 74 if title else 44
    layout["xaxis"] = _axis(range=xr, title={"text": xlabel}, type="log" if logx else "linear",
                            showgrid=True, gridcolor="#ececec")
    layout["yaxis"] = _axis(range=yr, title={"text": ylabel}, type="log" if logy else "linear",
                            showgrid=True, gridcolor="#ececec",
                            exponentformat="power" if logy else "B")
    spec = {"v": 1, "kind": "lines", "fps": FPS, "T": T - 1, "step": T - 1,
            "animate": bool(animate), "stepword": xlab, "height": height, "sliders": specs,
            "x": [float(f"{xi:.7g}") for xi in x], "series": series, "grids": [],
            "figure": {"data": data, "layout": layout, "config": _CONFIG}}
    combo_dicts = [{sp["name"]: float(val) for sp, val in zip(specs, row)} for row in combos]
    return Explorer(spec, combos=combo_dicts, title=title or "")
