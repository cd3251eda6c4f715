"""Interactive explorers: one component for the static book, a notebook and the lecturer's panel.

An explorer is a figure with controls, drawn in the page by ``optimlab/assets/explorer.js`` on a
canvas.  It works in two modes, chosen with one argument of :func:`race` (``live``):

* **live** — the page itself computes the trajectories, with ``optimlab/assets/engine.js`` (the
  update rules and surfaces in JavaScript, its tables written by ``optimlab.engine`` and held to
  :func:`optimlab.run` by tests).  The reader clicks or drags the start on the contour, drags each
  optimizer's learning rate (log scale, linkable) and the shared β₁, β₂ (ε on request) and the
  number of steps, switches the surface, turns optimizers on and off (the book's others too),
  plays and scrubs, resets, and copies the setting as optimlab code.  No kernel is needed.
* **replay** — precomputed runs (any factory, noise, mini-batches, custom surfaces) or curves
  (:func:`lines`) indexed by sliders, as 16-bit arrays in the page.

Both return an :class:`Explorer`, which displays itself in a notebook and in the book; the
lecturer's widget (:func:`optimlab.widgets.panel`) is the same component as an anywidget::

    from optimlab import explorers
    import optimlab as ol
    q = ol.surfaces.Quadratic(kappa=10)
    explorers.race(q, {"SGD": ol.SGD(lr=0.1), "Momentum": ol.SGD(lr=0.05, momentum=0.8)})

Data (replay)
-------------
Factories are called once, with every slider value as a numpy array of shape ``(C, 1)`` (``C`` =
number of combinations, the cartesian product with the first slider slowest), and each optimizer is
run once, batched, by :func:`optimlab.run`.  Arrays are 16-bit integers in base64 (positions: the
plot window spans ±8000 steps of 1/16000 of its width; losses: log10); combinations that give the
very same run share one stored row; each row stops where it stops changing.  :func:`decode` reads
arrays back and :meth:`Explorer.series_data` a whole series.

The spec (version 4): the contract between this module and explorer.js
------------------------------------------------------------------------
An explorer is drawn from one JSON object, ``Explorer.spec``.  Its ``"v"`` is
:data:`SPEC_VERSION`; explorer.js refuses a spec of a version it does not read, with a message in
the figure and an error on the console (change the format → bump the version here and in
``SPEC_VERSIONS`` of explorer.js).  Arrays marked *enc* are :func:`encode`'d.

Every spec: ``v``; ``kind`` (``"race"``, ``"lines"`` or ``"network"``); ``live`` (bool); ``title``;
``animate`` (a time slider and Play).

Races also: ``style`` (:func:`spec_style`: ``contour`` fill colours low → high, ``contour_line``,
``contour_levels``, ``minimum`` (the ★), ``loss_floor``); ``loss_panel`` (bool).

* live race: ``surfaces`` (display name → ``optimlab.engine.surface_spec``), ``optimizers``
  (``label``, ``rule``, ``hp``, ``bind``: knob → hyperparameter path, ``color``), ``defaults``
  (``optimlab.engine.DEFAULTS``), ``integers`` (``optimlab.engine.INTEGERS``: the copied code
  writes these hyperparameters as Python ints), ``knobs`` (``name``, ``label``, ``min``, ``max``,
  ``step``, ``log``), ``limits`` (``lr``, ``steps``: [min, max]), ``state`` (the initial controls:
  ``surface``, ``active``, ``lrs``, ``linked``, one value per knob, ``steps``, ``start``,
  ``step``; the widget syncs these, :data:`optimlab.widgets.STATE_KEYS`), ``extra`` (label →
  :func:`python_run`).
* replay race: ``T`` (steps), ``step``, ``start``, ``surface`` (``name``, ``window``, ``minima``,
  ``fmin``, ``axes``), ``grid`` (``nx``, ``ny``, ``z`` *enc*, ``levels``), ``sliders`` (``name``,
  ``label``, ``values``, ``text``, ``init``), ``series`` (``label``, ``color``, ``x``, ``y``, ``f``
  *enc* (f − f*, log), ``px``/``pf`` row offsets, ``end``, ``div`` per stored row, ``m``
  combination → row when rows are shared).
* lines: ``T``, ``step``, ``stepword``, ``height``, ``sliders``, ``xlabel``, ``ylabel``,
  ``logx``, ``logy``, ``xrange``, ``yrange`` (log10 on a log axis), ``x``, ``series`` (``label``,
  ``color``, ``dash``, ``fixed``, ``y`` *enc*, ``m``).

* network (:func:`network`, drawn by ``network_view.js``, trained by ``network.js``): ``data``
  (:func:`network_data`), ``scalings`` (:func:`network_scalings`), ``schedules`` (``name``,
  ``label``), ``optimizers``, ``defaults``, ``integers``, ``knobs`` and ``limits`` as a live race
  (``limits`` also ``epochs``, ``batch_size``, ``hidden``, ``seed``, ``warmup``, ``clip``), ``state``
  (``active``, ``lrs``, ``linked``, one value per knob, ``epochs``, ``batch_size``, ``seed``,
  ``hidden``, ``schedule``, ``warmup`` (epochs), ``clipping`` (bool), ``clip``, ``scaling``),
  ``python_only`` (``label``, ``note``: the rules the page cannot train), ``style`` (as a
  race's), ``plane`` (:func:`network_plane`, or None).

Output modes (:meth:`Explorer.to_html`)
---------------------------------------
* **book** (environment variable ``OPTIMLAB_BOOK=1``): the markup only, ``<div
  class="optimlab-explorer">`` holding ``<script type="application/json"
  class="optimlab-explorer-data">``; the book's Sphinx extension adds ``engine.js``,
  ``explorer.js`` and ``explorer.css`` (:data:`ASSETS`) to pages that contain an explorer.
* **live** (a notebook): the same markup plus the style sheet and both scripts inline, mounted at
  once.
* **standalone**: :meth:`Explorer.save` writes a self-contained HTML page.

The test hooks (``data-ready``, ``data-step``, ``data-start``, ``.ol-play``, ``.ol-step``,
``input.ol-param[data-name]``, ``el.__ol.snapshot()``…) are listed at the top of explorer.js.
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
import re
from pathlib import Path

import numpy as np

from . import engine, registry, rules, style, surfaces
from .runs import Trajectory
from .runs import run as _run

__all__ = ["Explorer", "race", "lines", "network", "network_data", "network_dataset", "network_scalings", "NETWORK_LIMITS",
           "NETWORK_CLIP", "NETWORK_SCHEDULES", "network_plane", "network_optimizer", "network_training", "NETWORK_SCALINGS", "DISPARATE_FACTORS", "PYTHON_ONLY",
           "NETWORK_CATALOGUE", "NETWORK_REST", "decode", "encode", "book_mode", "live_notebook", "ASSETS",
           "CONTROLLER_PATH", "CATALOGUE", "KNOB_SLIDERS", "STEP_LIMITS", "SPEC_VERSION",
           "spec_style", "python_run", "scripts", "stylesheet", "STYLESHEET_PATH"]

#: The controller script (drawing and controls).
CONTROLLER_PATH = Path(__file__).resolve().parent / "assets" / "explorer.js"
#: The explorer's style sheet.
STYLESHEET_PATH = CONTROLLER_PATH.with_name("explorer.css")
#: The files an explorer page needs, the scripts in loading order: name → path.
#: (network_view.js only defines the network explorer's view; explorer.js builds it on demand.)
ASSETS = {"engine.js": engine.ENGINE_PATH, "network.js": engine.ENGINE_PATH.with_name("network.js"),
          "network_view.js": CONTROLLER_PATH.with_name("network_view.js"), "explorer.js": CONTROLLER_PATH,
          "explorer.css": STYLESHEET_PATH}

#: The optimizers a live explorer offers besides the chapter's own (PyTorch's names and forms):
#: every entry of ``optimlab.registry.ENTRIES`` whose rule the browser engine runs.
CATALOGUE = {e.label: e.make() for e in registry.ENTRIES if e.info.engine is not None}

#: The shared sliders of a live explorer, by role: name → (label, min, max, slider step, log scale).
KNOB_SLIDERS = {k: (r.label, r.lo, r.hi, r.step, r.log) for k, r in registry.ROLES.items()}
_KNOB_DEFAULTS = {k: r.default for k, r in registry.ROLES.items()}
STEP_LIMITS = (1, 2000)

#: The version of the spec format written here; explorer.js refuses a spec of any other version.
SPEC_VERSION = 4


def spec_style() -> dict:
    """The drawing constants a race's page takes from its spec (``spec["style"]``), from
    :mod:`optimlab.style`: one source for the book's figures and the page."""
    return {"contour": list(style.CONTOUR_COLORS), "contour_line": style.CONTOUR_LINE,
            "contour_levels": style.CONTOUR_LEVELS, "minimum": style.MINIMUM_COLOR,
            "loss_floor": style.LOSS_FLOOR}


def book_mode() -> bool:
    """True when building the static book (environment variable ``OPTIMLAB_BOOK=1``)."""
    return os.environ.get("OPTIMLAB_BOOK", "").strip().lower() in {"1", "true", "yes", "on"}


#: The scripts only the network explorer needs (its trainer and view).
NETWORK_SCRIPTS = ("network.js", "network_view.js")


def scripts(kind: str | None = None) -> str:
    """The explorer's JavaScript (engine first), as one string; for an explorer of ``kind``
    other than ``"network"``, without the network explorer's own scripts (None: every script)."""
    return "\n".join(p.read_text(encoding="utf-8") for n, p in ASSETS.items()
                     if n.endswith(".js") and (kind in (None, "network") or n not in NETWORK_SCRIPTS))


def stylesheet() -> str:
    """The explorer's style sheet (CSS)."""
    return STYLESHEET_PATH.read_text(encoding="utf-8")


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



# --------------------------------------------------------------------------- the Explorer
class Explorer:
    """An interactive figure; displays itself in Jupyter and in the book.

    Attributes
    ----------
    spec : dict
        Everything the page needs (JSON-serialisable; arrays encoded by :func:`encode`).
    combos : list of dict
        Replay: the slider values of every combination, in the order of the data.
    runs : dict label → Trajectory
        Races: the runs of the initial setting (live) or of every combination (replay, batch
        shape ``(C,)``).
    """

    def __init__(self, spec: dict, *, combos=None, runs=None, title: str = ""):
        self.spec = spec
        self.combos = combos or [{}]
        self.runs = runs or {}
        self.title = title
        self._json = json.dumps(spec, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
        self.id = "ol-" + hashlib.sha1(self._json.encode()).hexdigest()[:12]

    @property
    def live(self) -> bool:
        return bool(self.spec.get("live"))

    def _markup(self, extra: str = "") -> str:
        return (f'<div class="optimlab-explorer" id="{self.id}" data-kind="{self.spec["kind"]}">'
                '<div class="ol-fallback">Interactive figure: loading… (it needs JavaScript; in '
                'Jupyter, trust the notebook and run the cell)</div>'
                f'<script type="application/json" class="optimlab-explorer-data">{self._json}</script>'
                f"{extra}</div>")

    def to_html(self, mode: str | None = None) -> str:
        """HTML for ``mode``: ``"book"``, ``"live"`` or ``"standalone"`` (default: book in the
        static build, else live)."""
        mode = mode or ("book" if book_mode() else "live")
        if mode == "book":
            return self._markup()
        if mode == "standalone":
            title = html.escape(self.title or "optimlab explorer")
            return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    f"<title>{title}</title><style>{stylesheet()}</style></head>\n<body style=\"max-width:72rem;margin:2rem auto;"
                    f"padding:0 1rem\">\n{self._markup()}\n<script>{scripts(self.spec['kind'])}</script>\n"
                    "</body></html>\n")
        if mode != "live":
            raise ValueError(f"mode must be 'book', 'live' or 'standalone', got {mode!r}")
        mount = ("<script>(function(s){var e=s&&s.closest('.optimlab-explorer');"
                 "if(window.optimlabExplorer&&e){window.optimlabExplorer.mount(e);}})"
                 "(document.currentScript);</script>")
        return self._markup(f"<style>{stylesheet()}</style><script>{scripts(self.spec['kind'])}</script>{mount}")

    def _repr_html_(self):
        return self.to_html()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.to_html(), "text/plain": repr(self)}

    def series_data(self, label) -> dict:
        """Replay: the data of one series as the browser sees it (decoded), one row per combination.

        Races: ``xs`` (C, T+1, 2) path points (cut as drawn), ``f`` (C, T+1) clipped
        ``f − f*``, ``end`` and ``div`` (C,) last drawn point and divergence step (−1: none);
        values after ``end`` (points) or after the divergence (losses) repeat the last one.
        Lines: ``y`` (C, T) (or (T,) for a fixed curve).
        """
        if self.live:
            raise ValueError("a live explorer stores no runs: its page computes them")
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
        """Write a self-contained HTML page (the scripts inline); returns its path."""
        path = Path(path)
        path.write_text(self.to_html("standalone"), encoding="utf-8")
        return path

    @property
    def size(self) -> int:
        """Bytes of the book-mode HTML (what the explorer adds to a page)."""
        return len(self.to_html("book").encode("utf-8"))

    def __repr__(self):
        s = self.spec
        if s["kind"] == "network":
            st = s["state"]
            return (f"<optimlab Explorer (network, trained in the page): {len(st['active'])} of "
                    f"{len(s['optimizers'])} optimizers on, {st['epochs']} epochs>")
        if self.live:
            return (f"<optimlab Explorer (live race): {len(s['state']['active'])} of "
                    f"{len(s['optimizers'])} optimizers on, {s['state']['steps']} steps>")
        n = len(s["series"])
        what = "optimizers" if s["kind"] == "race" else "series"
        return (f"<optimlab Explorer ({s['kind']}): {n} {what} × {len(self.combos)} "
                f"combination{'s' * (len(self.combos) != 1)}, {s['T']} steps>")


# --------------------------------------------------------------------------- race
def _put(hp, path, value):
    """Set the hyperparameter at ``path`` in a spec's ``hp`` in place (its lists stay lists)."""
    key, *index = path.split(".")
    if index:
        hp[key][int(index[0])] = value
    else:
        hp[key] = value


def _live_problem(surface, optimizers, sliders, noise, batch_size):
    """Why a race cannot be computed in the page ("" when it can)."""
    if sliders:
        return "sliders over precomputed values are a replay feature"
    if noise or batch_size is not None:
        return "stochastic gradients (noise, batch_size) are precomputed"
    if not engine.supported(surface):
        return f"the page's engine knows the optimlab surfaces, not {surface!r}"
    for label, opt in optimizers.items():
        if not (isinstance(opt, rules.Optimizer) and engine.supported(opt=opt)):
            return (f"optimizer {label!r} must be an optimlab rule with scalar hyperparameters "
                    f"(got {opt!r})")
    return ""


def race(surface, optimizers, sliders=None, *, live=None, x0=None, steps: int = 60,
         initial=None, loss_panel: bool = True, title=None, labels=None, noise: float = 0.0,
         batch_size=None, seed: int = 0, grid: int = 70, knobs=("beta1", "beta2"),
         catalogue: bool = True, extra=None, lr_range=None, linked=None) -> Explorer:
    """Optimizers racing on ``surface``: paths on the contour, ``f − f*`` against the step.

    Parameters
    ----------
    surface : an :mod:`optimlab.surfaces` surface (replay: anything with ``f``, ``grad``, ``window``).
    optimizers : dict label → optimizer.  Live: optimlab rules with scalar hyperparameters (each
        keeps its own learning rate).  Replay: a rule, or a factory called once with every slider
        value as an array of shape ``(C, 1)`` (e.g. ``lambda lr, beta: ol.Momentum(lr=lr,
        beta=beta)``; it may take only the sliders it uses).
    sliders : dict name → list of numbers (replay only).
    live : compute in the page (True), replay precomputed runs (False), or decide (None: live
        whenever the race can be computed in the page — optimlab rules and surface, no sliders,
        no noise).
    x0 : start point, default ``surface.start``.
    steps : steps per run (live: the initial value of the steps slider).
    initial : replay: dict name → value a slider starts at (nearest listed value).
    loss_panel : draw the ``f − f*`` panel (log scale) beside the contour.
    title : figure title (default: the surface's name).
    labels : replay: dict slider name → display label.
    noise, batch_size, seed : replay: passed to :func:`optimlab.run` (stochastic gradients).
    grid : replay: contour grid points per axis.
    knobs : live: the shared sliders, among ``"beta1"``, ``"beta2"``, ``"eps"``; an optimizer
        follows a slider (β₁ → SGD's momentum, Momentum's β, Adam's β₁; β₂ → RMSprop's α, Adam's
        β₂; ε) when its value equals the slider's first value (the first optimizer using it).
    catalogue : live: also offer the book's other optimizers (:data:`CATALOGUE`), off at first.
    extra : live: dict label → Trajectory (or points of shape (steps+1, 2)) computed in Python
        from ``x0`` — e.g. a custom optimizer — drawn beside the others (fixed in the book; a
        widget recomputes them, see :meth:`optimlab.widgets.Panel.add`).
    lr_range : live: (lowest, highest) learning rate of the sliders (default: two decades below
        and one above the optimizers' rates).
    linked : live: whether the learning rates start linked (dragging one scales all by the same
        factor); default: when they are all equal.
    """
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    if isinstance(steps, bool) or not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be an integer in [1, inf), got {steps!r}")
    x0 = np.asarray(surface.start if x0 is None else x0, dtype=float)
    if x0.shape != (2,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be one finite point of shape (2,), got {x0!r}")
    problem = _live_problem(surface, optimizers, sliders, noise, batch_size)
    if live is None:
        live = not problem
    if live:
        if problem:
            raise ValueError(f"live=True cannot compute this race in the page: {problem}")
        return _live_race(surface, optimizers, x0, int(steps), loss_panel, title, knobs,
                          catalogue, extra, lr_range, linked)
    return _replay_race(surface, optimizers, sliders, x0, int(steps), initial, loss_panel, title,
                        labels, noise, batch_size, seed, grid)


def _surfaces_offered(surface):
    """The chapter's surface first, then the book's others, by display name."""
    main = engine.surface_spec(surface)
    out = {main["name"]: main}
    for s in surfaces.gallery():
        sp = engine.surface_spec(s)
        if sp["kind"] == main["kind"]:
            continue
        out[sp["name"]] = sp
    return main["name"], out


def _live_entries(optimizers, knobs, catalogue, network=False):
    """A live explorer's optimizers: ``(entries, values, lrs)`` — each entry ``{label, rule, hp,
    bind, color}`` (the chapter's first, then the catalogue's, off), the shared sliders' values
    by role and every optimizer's learning rate.  In a network explorer (``network=True``) an
    optimizer may be a list (a rule for the hidden layer's weights, one for the other
    parameters: :func:`network`); its entry has the second as ``rest``."""
    values: dict = {}

    def entry(label, opt, chapter):
        rest = None
        if isinstance(opt, list):
            opt, rest = opt[0], engine.optimizer_spec(opt[1], network=True)
        spec = engine.optimizer_spec(opt, network=network)
        info = registry.rule_of(opt)
        bind = {}
        for knob, path in info.knobs.items():
            if knob not in knobs or not info.knob_applies(knob, spec["hp"]):
                continue  # e.g. plain SGD has no momentum for β₁ to move
            v = registry.get_path(spec["hp"], path)
            if chapter:
                values.setdefault(knob, v)
                if v != values[knob]:
                    continue  # a fixed value of its own: it does not follow the slider
            bind[knob] = path
        return {"label": str(label), "rule": spec["rule"], "hp": spec["hp"], "bind": bind,
                **({"rest": rest} if rest else {})}

    entries = [entry(label, opt, True) for label, opt in optimizers.items()]
    for k in knobs:
        values.setdefault(k, _KNOB_DEFAULTS[k])
    lrs = {e["label"]: e["hp"]["lr"] for e in entries}
    if catalogue:
        def signature(e):
            hp = {k: v for k, v in e["hp"].items() if k != "lr"}
            for path in e["bind"].values():
                hp = registry.set_path(hp, path, None)
            return e["rule"], json.dumps([hp, e.get("rest")], sort_keys=True)

        seen = {signature(e) for e in entries}
        for label, opt in (NETWORK_CATALOGUE if network else CATALOGUE).items():
            e = entry(label, opt, False)
            if e["label"] in lrs or signature(e) in seen:
                continue
            entries.append(e)
            # (a race's catalogue starts at the chapter's first η, to compare at one rate; a
            # network's at each rule's own default (PyTorch's; Lion's optimlab's): Lion at SGD's η does not train)
            lrs[e["label"]] = e["hp"]["lr"] if network else entries[0]["hp"]["lr"]
    cols = style.colors([e["label"] for e in entries])
    for e in entries:
        e["color"] = cols[e["label"]]
        for knob, path in e["bind"].items():
            _put(e["hp"], path, values[knob])
    return entries, values, lrs


def _lr_range(chapter_lrs, lr_range):
    """The learning-rate sliders' (low, high): two decades below and one above the rates."""
    if lr_range is None:
        lo = 10.0 ** (math.floor(math.log10(min(chapter_lrs))) - 2)
        hi = 10.0 ** (math.ceil(math.log10(max(chapter_lrs))) + 1)
        lr_range = (max(lo, 1e-6), min(hi, 100.0))
    lr_range = tuple(float(v) for v in lr_range)
    if not (0 < lr_range[0] < lr_range[1] and all(lr_range[0] <= v <= lr_range[1] for v in chapter_lrs)):
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high around the learning "
                         f"rates {chapter_lrs}, got {lr_range}")
    return list(lr_range)


def _knob_specs(knobs):
    knobs = list(knobs or ())
    for k in knobs:
        if k not in KNOB_SLIDERS:
            raise ValueError(f"knobs must be among {sorted(KNOB_SLIDERS)}, got {k!r}")
    out = []
    for k in knobs:
        label, lo, hi, step, log = KNOB_SLIDERS[k]
        out.append({"name": k, "label": label, "min": lo, "max": hi, "step": step, "log": log})
    return out


def _live_race(surface, optimizers, x0, steps, loss_panel, title, knobs, catalogue, extra,
               lr_range, linked):
    knobs = list(knobs or ())
    knob_specs = _knob_specs(knobs)
    if not 1 <= steps <= STEP_LIMITS[1]:
        raise ValueError(f"steps must be in [1, {STEP_LIMITS[1]}] for a live race, got {steps}")
    name, offered = _surfaces_offered(surface)
    entries, values, lrs = _live_entries(optimizers, knobs, catalogue)
    cols = {e["label"]: e["color"] for e in entries}
    chapter_lrs = [lrs[str(k)] for k in optimizers]
    lr_range = _lr_range(chapter_lrs, lr_range)
    runs = {str(label): _run(opt, surface, x0, steps) for label, opt in optimizers.items()}
    state = {"surface": name, "active": [str(k) for k in optimizers], "lrs": lrs,
             "linked": len(set(chapter_lrs)) == 1 if linked is None else bool(linked), **{k: values[k] for k in knobs},
             "steps": steps, "start": [float(v) for v in x0], "step": steps}
    spec = {"v": SPEC_VERSION, "kind": "race", "live": True, "style": spec_style(),
            "animate": True, "loss_panel": bool(loss_panel),
            "title": surface.name if title is None else str(title), "surfaces": offered,
            "optimizers": entries, "defaults": engine.DEFAULTS, "integers": engine.INTEGERS, "knobs": knob_specs,
            "limits": {"lr": lr_range, "steps": list(STEP_LIMITS)}, "state": state,
            "extra": {str(k): python_run(surface, v, name, cols.get(str(k)) or style.color(k))
                      for k, v in (extra or {}).items()}}
    return Explorer(spec, runs=runs, title=spec["title"])


def python_run(surface, run, surface_name, color) -> dict:
    """A trajectory computed in Python, as a live explorer draws it (``extra``)."""
    if isinstance(run, Trajectory):
        xs, losses, div = np.asarray(run.xs), np.asarray(run.losses), int(run.diverged_at)
    else:
        xs = np.asarray(run, dtype=float)
        if xs.ndim != 2 or xs.shape[1] != 2:
            raise ValueError(f"a Python run must be a Trajectory or points of shape (steps+1, 2), "
                             f"got shape {xs.shape}")
        bad = ~np.all(np.isfinite(xs), axis=1)
        div = int(np.argmax(bad)) if bad.any() else -1
        if div >= 0:
            xs = np.concatenate([xs[:div], np.repeat(xs[div - 1:div], len(xs) - div, axis=0)])
        losses = surface.f(xs)
    if xs.ndim != 2:
        raise ValueError("a Python run must be a single trajectory (no batch)")
    return {"xs": [float(v) for v in xs.ravel()], "losses": [float(v) for v in losses],
            "div": div, "color": color, "surface": surface_name}


def _replay_race(surface, optimizers, sliders, x0, steps, initial, loss_panel, title, labels,
                 noise, batch_size, seed, grid):
    specs, combos = _slider_specs(sliders, initial, labels)
    C = combos.shape[0]
    if C * len(optimizers) * (steps + 1) > 3_000_000:
        raise ValueError(f"{C} combinations × {len(optimizers)} optimizers × {steps} steps is "
                         "too much for one page: use fewer slider values or steps")
    kwargs = {sp["name"]: combos[:, i:i + 1] for i, sp in enumerate(specs)}
    runs = {}
    for label, factory in optimizers.items():
        opt = _call(label, factory, kwargs)
        traj = _run(opt, surface, x0, steps, noise=noise, batch_size=batch_size, seed=seed)
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
    shift = float(f_min) if np.isfinite(f_min) else 0.0
    cols = style.colors(optimizers)
    X, Y, Z, lv, _ = style.contour_data(surface, grid)
    sx, sy = (wx1 - wx0) / 16000, (wy1 - wy0) / 16000
    ox, oy = 0.5 * (wx0 + wx1), 0.5 * (wy0 + wy1)
    series = []
    for label, traj in runs.items():
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
        pts, fs = np.concatenate(xs_rows), np.concatenate(f_rows)
        entry = {"label": str(label), "color": cols[label],
                 "x": encode(pts[:, 0], offset=ox, scale=sx), "y": encode(pts[:, 1], offset=oy, scale=sy),
                 "f": encode(fs, log=True), "px": px, "pf": pf,
                 "end": ends, "div": [int(traj.diverged_at[k]) for k in rows]}
        if m is not None:
            entry["m"] = m
        series.append(entry)
    xn, yn = style.axis_names(surface)
    title_text = surface.name if title is None else title
    spec = {"v": SPEC_VERSION, "kind": "race", "live": False, "style": spec_style(),
            "animate": True, "loss_panel": bool(loss_panel),
            "title": title_text, "T": int(steps), "step": int(steps), "start": [float(v) for v in x0],
            "surface": {"name": surface.name, "window": [[float(wx0), float(wx1)], [float(wy0), float(wy1)]],
                        "minima": np.asarray(getattr(surface, "minima", np.zeros((0, 2))),
                                             dtype=float).reshape(-1, 2).tolist(),
                        "fmin": float(f_min) if np.isfinite(f_min) else None, "axes": [xn, yn]},
            "grid": {"nx": int(X.shape[1]), "ny": int(X.shape[0]),
                     "z": encode(np.clip(Z, lv[0], lv[-1])), "levels": [float(v) for v in lv]},
            "sliders": specs, "series": series}
    combo_dicts = [{sp["name"]: float(v) for sp, v in zip(specs, row)} for row in combos]
    return Explorer(spec, combos=combo_dicts, runs=runs, title=title_text)


# --------------------------------------------------------------------------- lines
def lines(x, ys, sliders=None, *, xlabel: str = "", ylabel: str = "", logy: bool = False,
          animate: bool = False, title=None, initial=None, labels=None, logx: bool = False,
          yrange=None, colors=None, dash=None, height: int = 380) -> Explorer:
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
    dash : dict label → dash style (``"dash"``, ``"dot"``, ``"dashdot"``).
    height : height of the plot in CSS pixels.
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
    series, allv = [], []
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
        entry = {"label": str(label), "color": cols[label], "fixed": fixed,
                 "dash": dash.get(label, "dash" if fixed else "solid")}
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
    spec = {"v": SPEC_VERSION, "kind": "lines", "live": False, "T": T - 1, "step": T - 1,
            "animate": bool(animate), "stepword": xlabel or "x", "height": int(height),
            "title": title or "", "sliders": specs, "xlabel": xlabel, "ylabel": ylabel,
            "logx": bool(logx), "logy": bool(logy), "xrange": xr, "yrange": yr,
            "x": [float(f"{xi:.7g}") for xi in x], "series": series}
    combo_dicts = [{sp["name"]: float(val) for sp, val in zip(specs, row)} for row in combos]
    return Explorer(spec, combos=combo_dicts, title=title or "")


# --------------------------------------------------------------------------- network
#: The network explorer's controls: name → (lowest, highest) (integers).
NETWORK_LIMITS = {"epochs": (1, 100), "batch_size": (1, 1438), "hidden": (1, 256), "seed": (0, 2**31 - 1),
                  "warmup": (1, 100)}
#: The network explorer's gradient-clipping norm: (lowest, highest) of its (log) slider.
NETWORK_CLIP = (1e-3, 1e3)
#: The network explorer's learning-rate schedules: name → label.  "cosine" and
#: "warmup_cosine" are :func:`optimlab.nets.cosine_schedule` (without and with ``warmup``
#: epochs of linear warmup) over the whole run.
NETWORK_SCHEDULES = {"constant": "constant", "cosine": "cosine decay",
                     "warmup_cosine": "linear warmup + cosine decay"}
#: The factors of the "disparate" input scaling (chapter 9's first lesson: pixel j multiplied by
#: its own factor, drawn log-uniformly over three decades), as optimlab code.
DISPARATE_FACTORS = "10.0 ** np.random.default_rng(0).uniform(-1.5, 1.5, 64)"
#: The network explorer's input scalings: name → (label, the optimlab code of its data set).
NETWORK_SCALINGS = {
    "given": ("pixels as given (count / 16)", "ol.datasets.digits()"),
    "standardized": ("standardised pixels", "ol.datasets.digits().standardized()"),
    "disparate": ("disparate pixel scales (× 0.03 … 31)", f"ol.datasets.digits().scaled({DISPARATE_FACTORS})"),
}

#: The book's optimizers a network explorer does not offer, with the registry's reason: rules
#: with no twin in engine.js nor in network.js (none today: Adafactor and Muon, which need whole
#: weight matrices, have theirs in network.js).
PYTHON_ONLY = {e.label: e.info.note or "it has no twin in the browser engine"
               for e in registry.ENTRIES if e.info.engine is None and e.info.network is None}

#: The rule a network explorer's matrix-only optimizer (Muon) uses for every parameter but the
#: hidden layer's weights (its biases and the output layer), as in chapter 7b.
NETWORK_REST = "Adam"


def _network_optimizer(e):
    """A catalogue entry as the network explorer trains it (Muon: with :data:`NETWORK_REST`)."""
    opt = e.make()
    return [opt] + [registry.entry(NETWORK_REST).make()] * 3 if e.info.matrix else opt


#: The optimizers a network explorer offers: every rule with a twin in engine.js or network.js.
NETWORK_CATALOGUE = {e.label: _network_optimizer(e) for e in registry.ENTRIES
                     if e.info.engine is not None or e.info.network is not None}


def network_data(data=None) -> dict:
    """The digits as the page's trainer reads them (``spec["data"]``, see network.js).

    Each pixel is the count it was in the data set (0–16, one byte, ``X · 16``; network.js
    divides by ``divisor`` = 16, as :func:`optimlab.datasets.digits` does), the training rows
    first, then the test rows; the labels one byte each, in the same order; ``image``: the
    pixels' (rows, columns) when a row is an 8×8 image, else None.
    """
    from . import datasets
    data = datasets.digits() if data is None else data
    X = np.concatenate([data.X_train, data.X_test])
    counts = X * 16
    q = np.round(counts)
    if not (np.array_equal(q, counts) and q.min() >= 0 and q.max() <= 255 and np.array_equal(q / 16, X)):
        raise ValueError("the page carries pixel counts: data.X must be counts / 16 in [0, 255/16]")
    y = np.concatenate([data.y_train, data.y_test])
    return {"X": base64.b64encode(q.astype(np.uint8).tobytes()).decode("ascii"),
            "y": base64.b64encode(y.astype(np.uint8).tobytes()).decode("ascii"),
            "n_train": int(len(data.y_train)), "n_test": int(len(data.y_test)),
            "features": int(X.shape[1]), "classes": int(data.classes), "divisor": 16,
            "image": [8, 8] if X.shape[1] == 64 else None}


def network_dataset(scaling: str = "given"):
    """The digits as the network explorer's input ``scaling`` (a name of :data:`NETWORK_SCALINGS`)
    gives them: the data set its optimlab code (``NETWORK_SCALINGS[scaling][1]``) builds."""
    if scaling not in NETWORK_SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(NETWORK_SCALINGS)}, got {scaling!r}")
    return eval(NETWORK_SCALINGS[scaling][1], {"ol": _optimlab(), "np": np})  # noqa: S307 (a constant of this module)


def _optimlab():
    import optimlab
    return optimlab


def network_scalings(data=None) -> list:
    """The input scalings the page offers (``spec["scalings"]``): each ``{name, label, code}``
    and the doubles that turn the pixels as given, ``X``, into the pixels of the code's data set
    as ``((X − shift) / divide) · multiply`` (an array left out counts as 0, 1 and 1): one
    subtraction and division per pixel, as ``Dataset.standardized`` does, or one
    multiplication, as ``Dataset.scaled`` does, so the page's inputs are those numbers exactly."""
    from . import datasets
    data = datasets.digits() if data is None else data
    out = []
    for name, (label, code) in NETWORK_SCALINGS.items():
        item = {"name": name, "label": label, "code": code}
        if name == "standardized":
            std = data.X_train.std(axis=0)
            item["shift"] = data.X_train.mean(axis=0).tolist()
            item["divide"] = np.where(std > 0, std, 1.0).tolist()
        elif name == "disparate":
            item["multiply"] = np.asarray(eval(DISPARATE_FACTORS, {"np": np}), dtype=float).tolist()  # noqa: S307 (a constant)
        out.append(item)
    return out


def _network_check(label, opt):
    """Refuse, naming the optimizer, what the page's trainer cannot run."""
    if isinstance(opt, (list, tuple)):
        if not (len(opt) == 4 and all(isinstance(o, rules.Optimizer) for o in opt)
                and len({repr(o) for o in opt[1:]}) == 1 and not registry.rule_of(opt[1]).matrix):
            raise ValueError(f"optimizer {label!r}: a list gives one rule per parameter [W1, b1, W2, b2]: a rule "
                             f"for the hidden layer's weights, then one rule, not a matrix rule, three times "
                             f"(e.g. [ol.Muon(lr=0.02)] + [ol.Adam(lr=3e-3)] * 3), got {opt!r}")
        parts = opt[:2]
    elif not isinstance(opt, rules.Optimizer):
        raise ValueError(f"optimizer {label!r} must be an optimlab rule, got {opt!r}")
    elif registry.rule_of(opt).matrix:
        raise ValueError(f"optimizer {label!r}: {type(opt).__name__} steps 2-D weight matrices only; give it the "
                         f"hidden layer's weights and another rule the rest, as ol.nets.train takes it: "
                         f"[ol.{type(opt).__name__}(...)] + [ol.Adam(lr=3e-3)] * 3")
    else:
        parts = [opt]
    for rule in parts:
        info = registry.rule_of(rule)
        if info.engine is None and info.network is None:
            raise ValueError(f"optimizer {label!r}: {info.name} is Python-only, the page cannot "
                             f"train with it ({info.note}); use ol.nets.train")
        try:
            scalar = not isinstance(engine.optimizer_spec(rule, network=True)["hp"]["lr"], list)
        except ValueError:
            scalar = False
        if not scalar:
            raise ValueError(f"optimizer {label!r} must have scalar hyperparameters, got {rule!r}")


def _integer(name, v):
    lo, hi = NETWORK_LIMITS[name]
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


def network(optimizers, *, hidden: int = 32, epochs: int = 20, batch_size: int = 32, seed: int = 0,
            schedule: str = "constant", warmup: int = 1, clip=None, scaling: str = "given",
            title=None, knobs=("beta1", "beta2", "eps", "weight_decay"), catalogue: bool = True,
            lr_range=None, linked: bool = False, plane: bool = True) -> Explorer:
    """The chapter's MLP trained on the digits **in the page**, by every optimizer on.

    ``ol.nets.train(opt, ol.nets.MLP((64, hidden, 10)), ol.datasets.digits(), epochs=…,
    batch_size=…, seed=…)`` for each optimizer, computed in a Web Worker by
    ``optimlab/assets/network.js`` (held to :func:`optimlab.nets.train` by tests) while the
    reader watches: mini-batch loss per step, training loss and test accuracy per epoch.  The
    reader turns optimizers on and off, sets each one's learning rate, the shared β₁, β₂, ε and
    weight decay (by role, as in :func:`race`), the batch size, the epochs, the seed and the
    hidden width, the learning-rate schedule, gradient clipping and the input scaling, and
    copies the setting as optimlab code that reproduces the curves.  The reader scrubs or plays
    the epochs; the epoch shown also shows a chosen optimizer's first-layer weights (one 8×8
    image per hidden unit) and the test digits it gets wrong.  With ``plane``, the paths of the
    runs are drawn on the loss of a plane through the weights (Li et al. 2018): the plane of this
    setting's runs (:func:`network_plane`); for another seed, width or input scaling the page says
    that the plane does not apply instead of drawing it.

    Parameters
    ----------
    optimizers : dict label → optimlab rule with scalar hyperparameters (on at first), or a list
        of four rules, one per parameter ``[W1, b1, W2, b2]`` as ``ol.nets.train`` takes them,
        the last three the same: a rule for the hidden layer's weights and one for the rest
        (``[ol.Muon(lr=0.02)] + [ol.Adam(lr=3e-3)] * 3``; Muon, a matrix rule, needs this
        form).  Rules without a browser twin (:data:`PYTHON_ONLY`) are refused.
    hidden, epochs, batch_size, seed : the initial controls (limits: :data:`NETWORK_LIMITS`).
    schedule : a name of :data:`NETWORK_SCHEDULES` (``lr_schedule=ol.nets.cosine_schedule(…)``
        over the run, with ``warmup`` epochs of linear warmup for "warmup_cosine").
    clip : the gradient-norm clip (``ol.nets.train``'s ``clip``) in :data:`NETWORK_CLIP`, or None (no
        clipping; the norm offered when the reader turns it on is 0.1).
    scaling : a name of :data:`NETWORK_SCALINGS`: the pixels as given, standardised, or with
        the disparate scales of chapter 9's first lesson.
    knobs, catalogue, lr_range, linked : as in :func:`race`.
    plane : draw the runs' paths on a loss contour of a plane through the weights (trained here
        once, for this setting: :func:`network_plane`, about 2 s).
    """
    if not optimizers:
        raise ValueError("optimizers must name at least one optimizer")
    for label, opt in optimizers.items():
        _network_check(label, opt)
    if schedule not in NETWORK_SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(NETWORK_SCHEDULES)}, got {schedule!r}")
    if scaling not in NETWORK_SCALINGS:
        raise ValueError(f"scaling must be one of {', '.join(NETWORK_SCALINGS)}, got {scaling!r}")
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float, np.integer, np.floating))
                             or not NETWORK_CLIP[0] <= clip <= NETWORK_CLIP[1]):
        raise ValueError(f"clip must be None or a number in [{NETWORK_CLIP[0]:g}, {NETWORK_CLIP[1]:g}], got {clip!r}")
    state = {"hidden": _integer("hidden", hidden), "epochs": _integer("epochs", epochs),
             "batch_size": _integer("batch_size", batch_size), "seed": _integer("seed", seed),
             "schedule": schedule, "warmup": _integer("warmup", warmup), "clipping": clip is not None,
             "clip": 0.1 if clip is None else float(clip), "scaling": scaling}
    knob_specs = _knob_specs(knobs)
    entries, values, lrs = _live_entries({k: list(v) if isinstance(v, (list, tuple)) else v
                                          for k, v in optimizers.items()},
                                         [k["name"] for k in knob_specs], catalogue, network=True)
    chapter_lrs = [lrs[str(k)] for k in optimizers]
    limits = {"lr": _lr_range(chapter_lrs, lr_range), "clip": list(NETWORK_CLIP),
              **{k: list(v) for k, v in NETWORK_LIMITS.items()}}
    lo, hi = limits["lr"]
    lrs = {k: v if k in optimizers else min(max(v, lo), hi) for k, v in lrs.items()}  # (the catalogue's, in range)
    state.update({"active": [str(k) for k in optimizers], "lrs": lrs, "linked": bool(linked),
                  **{k["name"]: values[k["name"]] for k in knob_specs}})
    spec = {"v": SPEC_VERSION, "kind": "network", "live": True, "animate": False,
            "title": "A network trained in this page" if title is None else str(title),
            "data": network_data(), "scalings": network_scalings(),
            "schedules": [{"name": k, "label": v} for k, v in NETWORK_SCHEDULES.items()], "optimizers": entries,
            "defaults": {**engine.DEFAULTS, **engine.NETWORK_DEFAULTS}, "integers": engine.INTEGERS,
            "knobs": knob_specs, "limits": limits, "state": state,
            "python_only": [{"label": k, "note": v} for k, v in PYTHON_ONLY.items()],
            "style": spec_style()}
    spec["plane"] = network_plane(entries, state) if plane else None
    return Explorer(spec, title=spec["title"])


def network_optimizer(entry):
    """The optimlab rule a network explorer's optimizer entry (``spec["optimizers"]``, its ``hp``
    as the page sets it) trains with, or, with a ``rest``, its list for [W1, b1, W2, b2]."""
    opt = engine.optimizer_from_spec(entry)
    return [opt] + [engine.optimizer_from_spec(entry["rest"])] * 3 if entry.get("rest") else opt


def network_training(state, n_train: int) -> dict:
    """``ol.nets.train``'s keyword arguments for a network explorer's ``state``: epochs, batch
    size, seed, the schedule (:func:`optimlab.nets.cosine_schedule` over the run, the warmup in
    epochs of ``n_train`` rows) and the clip."""
    from . import nets
    per = -(-n_train // min(state["batch_size"], n_train))
    schedule = None
    if state["schedule"] != "constant":
        warm = state["warmup"] * per if state["schedule"] == "warmup_cosine" else 0
        schedule = nets.cosine_schedule(state["epochs"] * per, warmup_steps=warm)
    return {"epochs": state["epochs"], "batch_size": state["batch_size"], "seed": state["seed"],
            "lr_schedule": schedule, "clip": state["clip"] if state["clipping"] else None}


_PLANES: dict = {}


def network_plane(entries, state, *, n: int = 41) -> dict:
    """The loss plane of a network explorer's setting (``spec["plane"]``), drawn under its paths.

    The optimizers of ``entries`` on in ``state`` (a network spec's ``optimizers`` and ``state``)
    are trained in Python as the page trains them (``keep_params=True``), and
    :func:`optimlab.nets.loss_plane` gives the plane through their shared start θ₀ that holds
    most of their paths, with the training loss on an ``n × n`` grid.  Returns ``setting`` (the
    ``seed``, ``hidden`` and ``scaling`` it belongs to: another one starts elsewhere or has
    another loss), ``d1``, ``d2`` (the directions, *enc*: 16-bit, about 3·10⁻⁵ of their largest
    entry; the page projects on these decoded values, and so do the parity tests), ``window``,
    ``grid`` (``nx``, ``ny``, ``z`` *enc*: log10 of the loss, ``levels``), ``captured`` (label →
    the fraction of its path the plane holds) and ``explained`` (that fraction over every path).
    """
    from . import nets
    key = json.dumps([[e for e in entries if e["label"] in state["active"]], state, n], sort_keys=True)
    if key in _PLANES:
        return _PLANES[key]
    data = network_dataset(state["scaling"])
    net = nets.MLP((data.X_train.shape[1], state["hidden"], int(data.classes)))
    on = [e for e in entries if e["label"] in state["active"]]
    runs = [nets.train(network_optimizer(e), net, data, keep_params=True, **network_training(state, len(data.y_train)))
            for e in on]
    pl = nets.loss_plane(net, data, runs, n=n)
    _, _, Z, lv, _ = style.contour_data(_Grid(pl), n)
    out = {"setting": {k: state[k] for k in ("seed", "hidden", "scaling")},
           "d1": encode(pl.d1), "d2": encode(pl.d2),
           "window": [[float(pl.a[0]), float(pl.a[-1])], [float(pl.b[0]), float(pl.b[-1])]],
           "grid": {"nx": n, "ny": n, "z": encode(np.clip(Z, lv[0], lv[-1])), "levels": [float(v) for v in lv]},
           "captured": {e["label"]: round(float(f), 4) for e, f in zip(on, pl.captured)},
           "explained": round(pl.explained, 4)}
    _PLANES[key] = out
    return out


class _Grid:
    """A :class:`~optimlab.nets.Plane`'s loss as :func:`optimlab.style.contour_data` reads a surface
    (log-spaced levels above the loss's floor, 0)."""

    f_min, log_levels = 0.0, True

    def __init__(self, plane):
        self.plane = plane

    def grid(self, n):
        A, B = np.meshgrid(self.plane.a, self.plane.b)
        return A, B, self.plane.loss


_EXPLORER_DATA = re.compile(r'<script type="application/json" class="optimlab-explorer-data">(.*?)</script>', re.S)


def live_notebook(nb: dict) -> dict:
    """Give, in place, every explorer output of the static build its scripts (live mode), so it
    draws when the (trusted) notebook opens, without a kernel."""
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            markup = out.get("data", {}).get("text/html")
            markup = "".join(markup) if isinstance(markup, list) else markup
            if not markup or 'class="optimlab-explorer"' not in markup or "optimlabExplorer" in markup:
                continue
            found = _EXPLORER_DATA.search(markup)
            if found:
                spec = json.loads(found.group(1).replace("\\u003c", "<"))
                out["data"]["text/html"] = Explorer(spec).to_html("live")
    return nb
