"""A live panel for lecturers: pick optimizers and hyperparameters, click a start point, Play.

:func:`panel` needs a running Python kernel (Jupyter, VS Code, Colab) with ipywidgets and
ipympl; in the static book (``OPTIMLAB_BOOK=1``) it returns a short note pointing to the launch
buttons instead, and creates no widget at all.

The logic lives in :class:`Lab`, which holds the settings, runs the optimizers (one batched
:func:`optimlab.run` per optimizer per change) and updates existing matplotlib artists
(``set_data``; the contour is drawn once per surface).  It works on any matplotlib figure, so
tests and benchmarks drive it with the Agg backend and no browser::

    lab = Lab("rosenbrock", ("SGD", "Adam"), lr=0.01)
    lab.set(lr=0.03)              # recompute and redraw
    lab.set(step=10)              # redraw only
    lab.set(x0=(-1.0, 2.0))       # what a click on the contour does

The optimizers of the panel, as functions of the panel's three sliders (η, β₁, β₂), are in
:data:`OPTIMIZERS`; pass a dict label → ``f(lr, beta1, beta2)`` as ``optimizers`` to use others.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import rules, style, surfaces
from .runs import run as _run

__all__ = ["OPTIMIZERS", "SURFACES", "NOTE", "Lab", "panel"]


def _nesterov(lr, beta1, beta2):
    if beta1 <= 0:  # Nesterov needs momentum > 0; with β₁ = 0 it is plain SGD anyway
        return rules.SGD(lr=lr)
    return rules.SGD(lr=lr, momentum=beta1, nesterov=True)


#: The panel's optimizers: name → ``f(lr, beta1, beta2)`` (PyTorch's forms and names).
OPTIMIZERS = {
    "SGD": lambda lr, beta1, beta2: rules.SGD(lr=lr),
    "Momentum": lambda lr, beta1, beta2: rules.SGD(lr=lr, momentum=beta1),
    "Nesterov": _nesterov,
    "RMSprop": lambda lr, beta1, beta2: rules.RMSprop(lr=lr, alpha=beta2),
    "Adagrad": lambda lr, beta1, beta2: rules.Adagrad(lr=lr),
    "Adam": lambda lr, beta1, beta2: rules.Adam(lr=lr, betas=(beta1, beta2)),
    "AdamW": lambda lr, beta1, beta2: rules.AdamW(lr=lr, betas=(beta1, beta2)),
    "NAdam": lambda lr, beta1, beta2: rules.NAdam(lr=lr, betas=(beta1, beta2)),
    "AMSGrad": lambda lr, beta1, beta2: rules.Adam(lr=lr, betas=(beta1, beta2), amsgrad=True),
}

#: Surfaces offered by the panel's dropdown: name → constructor.
SURFACES = {
    "quadratic": surfaces.Quadratic,
    "rosenbrock": surfaces.Rosenbrock,
    "beale": surfaces.Beale,
    "himmelblau": surfaces.Himmelblau,
    "saddle": surfaces.Saddle,
    "rastrigin": surfaces.Rastrigin,
}

#: What :func:`panel` shows in the static book.
NOTE = ("Live panel: this needs a running Python kernel. Use the launch button (rocket icon, "
        "Binder or Colab) at the top of the page, or download the notebook and open it in "
        "Jupyter.")

_DEFAULTS = {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "steps": 100, "x0": None, "noise": 0.0}


def _surface(surface):
    if surface is None:
        return SURFACES["quadratic"](), "quadratic"
    if isinstance(surface, str):
        key = surface.strip().lower()
        if key not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; choose from {sorted(SURFACES)}")
        return SURFACES[key](), key
    return surface, getattr(surface, "name", type(surface).__name__)


class Lab:
    """The live panel without widgets: settings → runs → matplotlib artists.

    Parameters
    ----------
    surface : a surface instance or a name from :data:`SURFACES` (default ``"quadratic"``).
    optimizers : names from :data:`OPTIMIZERS` shown at first, or a dict label →
        ``f(lr, beta1, beta2)`` of extra optimizers (shown at first).
    lr, beta1, beta2, steps, x0, noise : the starting settings (``x0`` defaults to
        ``surface.start``; ``noise`` is the gradient-noise level of :func:`optimlab.run`).
    figure : the matplotlib Figure to draw into (default: a new Agg figure); it gets two axes,
        paths on the contour (left) and ``f − f*`` against the step (right).

    Notes
    -----
    The attributes ``runs`` (dict label → Trajectory of the active optimizers), ``active``,
    ``surface``, and the settings, are read-only views of the state: change them with
    :meth:`set`.
    """

    def __init__(self, surface=None, optimizers=("SGD", "Momentum", "Adam"), *, figure=None,
                 **settings):
        unknown = set(settings) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}; use {sorted(_DEFAULTS)}")
        self.factories = dict(OPTIMIZERS)
        if isinstance(optimizers, dict):
            self.factories.update(optimizers)
            active = list(optimizers)
        else:
            active = [str(o) for o in optimizers]
        for name in active:
            if name not in self.factories:
                raise ValueError(f"unknown optimizer {name!r}; choose from {list(self.factories)}")
        self.active = active
        s = {**_DEFAULTS, **settings}
        self.lr, self.beta1, self.beta2 = float(s["lr"]), float(s["beta1"]), float(s["beta2"])
        self.steps, self.noise = int(s["steps"]), float(s["noise"])
        self.surface, self.surface_name = _surface(surface)
        self.x0 = tuple(map(float, self.surface.start if s["x0"] is None else s["x0"]))
        self.step = self.steps
        self.runs: dict = {}
        self.listeners: list = []  # called as f(lab, changed_names) after every change
        if figure is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            from .figures import BookFigure

            with style.rc():
                figure = BookFigure(figsize=(10, 4.2))
            FigureCanvasAgg(figure)
        # Fixed positions: a layout engine would cost more than the rest of a redraw.
        figure.set_layout_engine("none")
        figure.subplots_adjust(left=0.07, right=0.985, bottom=0.13, top=0.9, wspace=0.22)
        self.fig = figure
        with style.rc():
            self.ax = figure.add_subplot(1, 2, 1)
            self.ax_loss = figure.add_subplot(1, 2, 2)
        self._bg = None          # pixels of everything that does not move (for blitting)
        self._bg_renderer = None
        self._static_key = None  # what the cached background shows
        self._legend = None
        figure.canvas.mpl_connect("button_press_event", self.on_click)
        figure.canvas.mpl_connect("draw_event", self._on_draw)
        self._draw_surface()
        self._recompute()
        self._redraw()

    # -- state ---------------------------------------------------------------------------
    def set(self, **changes):
        """Change settings and redraw: ``surface``, ``active`` (list of names), ``lr``,
        ``beta1``, ``beta2``, ``steps``, ``noise``, ``x0``, ``step`` (the step shown).
        Anything but ``step`` reruns the optimizers."""
        allowed = {"surface", "active", "lr", "beta1", "beta2", "steps", "noise", "x0", "step"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}; use {sorted(allowed)}")
        if "surface" in changes:
            self.surface, self.surface_name = _surface(changes["surface"])
            if "x0" not in changes:
                self.x0 = tuple(map(float, self.surface.start))
        if "active" in changes:
            active = list(changes["active"])
            for name in active:
                if name not in self.factories:
                    raise ValueError(f"unknown optimizer {name!r}")
            self.active = active
        for key in ("lr", "beta1", "beta2", "noise"):
            if key in changes:
                setattr(self, key, float(changes[key]))
        if "steps" in changes:
            self.steps = max(1, int(changes["steps"]))
            self.step = self.steps if "step" not in changes else self.step
        if "x0" in changes:
            self.x0 = tuple(map(float, changes["x0"]))
        if "step" in changes:
            self.step = int(min(max(int(changes["step"]), 0), self.steps))
        if "surface" in changes:
            self._draw_surface()
        if set(changes) - {"step"}:
            self._recompute()
        self._redraw()
        for f in list(self.listeners):
            f(self, set(changes))

    def optimizer(self, name):
        """The optimizer ``name`` with the current η, β₁, β₂."""
        return self.factories[name](self.lr, self.beta1, self.beta2)

    def _recompute(self):
        self.runs = {name: _run(self.optimizer(name), self.surface, np.array(self.x0), self.steps,
                                noise=self.noise)
                     for name in self.active}
        # Loss axis: fixed by the start alone (ten decades below the start, two above), so the
        # axes — and the cached background — survive every change but the start or surface.
        shift = self.surface.f_min if np.isfinite(self.surface.f_min) else 0.0
        g0 = float(self.surface.f(np.array(self.x0))) - shift
        g0 = g0 if np.isfinite(g0) and g0 > style.LOSS_FLOOR else 1.0
        e0 = np.log10(g0)
        self._ylim = (10.0 ** max(np.floor(e0 - 10), -16), 10.0 ** np.ceil(e0 + 2))

    # -- drawing -------------------------------------------------------------------------
    def _draw_surface(self):
        from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

        from .figures import contour

        ax = self.ax
        ax.clear()
        self.ax_loss.clear()
        with style.rc():
            contour(self.surface, ax, n=100, levels=16)
            ax.set_title(f"{self.surface.name} — click to set the start", fontsize=11)
            self._start, = ax.plot([], [], ls="none", marker="o", ms=9, mfc="white", mec="black",
                                   mew=1.4, zorder=10, animated=True)
            cols = style.colors(self.factories)
            self.artists = {}
            for name in self.factories:
                c = cols[name]
                kw = {"visible": False, "animated": True}
                path, = ax.plot([], [], color=c, lw=2.0, marker="o", ms=2.5, zorder=4, **kw)
                head, = ax.plot([], [], ls="none", marker="o", ms=8, mfc=c, mec="white",
                                mew=1.2, zorder=7, **kw)
                cross, = ax.plot([], [], ls="none", marker="x", ms=11, mew=2.8, color=c,
                                 zorder=9, clip_on=False, **kw)
                loss, = self.ax_loss.plot([], [], color=c, lw=2.0, **kw)
                lcross, = self.ax_loss.plot([], [], ls="none", marker="x", ms=10, mew=2.6,
                                            color=c, clip_on=False, **kw)
                self.artists[name] = (path, head, cross, loss, lcross)
            # Few ticks: tick labels are most of the cost of a redraw.
            ax.xaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
            ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
            self.ax_loss.set_yscale("log")
            self.ax_loss.yaxis.set_major_locator(LogLocator(numticks=5))
            self.ax_loss.yaxis.set_minor_locator(NullLocator())
            self.ax_loss.xaxis.set_major_locator(MaxNLocator(5, integer=True))
            self.ax_loss.set_xlabel("step")
            f_min = self.surface.f_min
            self.ax_loss.set_ylabel("loss" if not np.isfinite(f_min) or f_min == 0 else "f − f*")
            self.ax_loss.set_title("loss", fontsize=11)

    def _redraw(self):
        k = self.step
        window = self.surface.window
        shift = self.surface.f_min if np.isfinite(self.surface.f_min) else 0.0
        self._start.set_data([self.x0[0]], [self.x0[1]])
        handles = []
        for name, (path, head, cross, loss, lcross) in self.artists.items():
            traj = self.runs.get(name)
            on = traj is not None
            for a in (path, head, cross, loss, lcross):
                a.set_visible(on)
            if not on:
                continue
            div = int(traj.diverged_at)
            pts, end = style.display_path(traj.xs, div, window)
            e = min(k, end)
            gone = div >= 0 and k >= div
            path.set_data(pts[:e + 1, 0], pts[:e + 1, 1])
            head.set_data([pts[e, 0]], [pts[e, 1]])
            head.set_visible(not gone)
            cross.set_data([pts[e, 0]], [pts[e, 1]])
            cross.set_visible(gone)
            le = max(min(k, div - 1 if div >= 0 else self.steps), 0)
            g = np.clip(traj.losses[:le + 1] - shift, style.LOSS_FLOOR, None)
            loss.set_data(np.arange(le + 1), g)
            lo, hi = self._ylim
            lcross.set_data([le], [min(max(g[-1], lo), hi)])
            lcross.set_visible(gone)
            note = f" (diverged at step {div})" if div >= 0 else ""
            loss.set_label(name + note)
            handles.append(loss)
        if self._legend is not None:
            self._legend.remove()
            self._legend = None
        if handles:
            self._legend = self.ax_loss.legend(handles=handles, loc="upper right", fontsize=9)
            self._legend.set_animated(True)
        key = (id(self.surface), self.steps, self._ylim, tuple(self.fig.bbox.bounds))
        canvas = self.fig.canvas
        fresh = (canvas.supports_blit and self._bg is not None
                 and canvas.get_renderer() is self._bg_renderer)
        if key != self._static_key or not fresh:
            # The axes change: draw everything (the draw_event caches the new background).
            self.ax_loss.set_xlim(0, self.steps)
            self.ax_loss.set_ylim(*self._ylim)
            self._static_key = key
            self._bg = None
            canvas.draw_idle()
        else:
            # Only the paths, markers and legend change: paint them over the cached background.
            canvas.restore_region(self._bg)
            self._draw_dynamic(canvas.get_renderer())
            canvas.blit(self.fig.bbox)

    def _dynamic(self):
        out = [self._start]
        for group in self.artists.values():
            out.extend(group)
        if self._legend is not None:
            out.append(self._legend)
        return [a for a in out if a.get_visible()]

    def _draw_dynamic(self, renderer):
        for a in self._dynamic():
            a.draw(renderer)

    def _on_draw(self, event):
        """After a full draw: remember the background, then paint the moving artists on it
        (they are ``animated``, so the figure's own draw — and savefig — skip them)."""
        canvas = self.fig.canvas
        if canvas.supports_blit and event.renderer is getattr(canvas, "renderer", None):
            self._bg = canvas.copy_from_bbox(self.fig.bbox)
            self._bg_renderer = event.renderer
        self._draw_dynamic(event.renderer)

    def on_click(self, event):
        """Mouse handler: a left click inside the contour sets the start point."""
        if event.inaxes is not self.ax or event.xdata is None or event.ydata is None:
            return
        if event.button != 1:  # MouseButton.LEFT
            return
        self.set(x0=(float(event.xdata), float(event.ydata)))


class _Note:
    """What :func:`panel` returns in the static book: the note, as HTML and as text."""

    def __init__(self, text=NOTE):
        self.text = text

    def _repr_html_(self):
        import html

        title, _, body = self.text.partition(": ")
        return ('<div class="admonition note optimlab-live-note"><p class="admonition-title">'
                f'{html.escape(title)}</p><p>{html.escape(body[:1].upper() + body[1:])}</p>'
                '</div>')

    def _repr_markdown_(self):
        return f"**{self.text}**"

    def __repr__(self):
        return self.text


def panel(surface=None, optimizers=("SGD", "Momentum", "Adam"), **defaults):
    """A live ipywidgets panel in Jupyter; in the static book (``OPTIMLAB_BOOK=1``) a note.

    The panel has a surface dropdown, one toggle per optimizer of :data:`OPTIMIZERS`, a log
    slider for η, sliders for β₁ (momentum) and β₂, the number of steps, Play with a step
    slider, and the start point (click on the contour, or type it).  ``surface``: instance or
    name (``"quadratic"``, ``"rosenbrock"``, ``"beale"``, ``"himmelblau"``, ``"saddle"``,
    ``"rastrigin"``); ``optimizers``: the names toggled on at first; ``defaults``: ``lr``,
    ``beta1``, ``beta2``, ``steps``, ``x0``, ``noise``.  Returns the widget box (its ``lab``
    attribute is the :class:`Lab`).
    """
    from .explorers import book_mode

    if book_mode():
        return _Note()
    import ipywidgets as W
    from ipympl.backend_nbagg import Canvas, FigureManager

    try:  # Colab renders third-party widgets only after this
        from google.colab import output as _colab_output

        _colab_output.enable_custom_widget_manager()
    except ImportError:
        pass

    from .figures import BookFigure

    with style.rc():
        fig = BookFigure(figsize=(9.6, 4.0))
    with warnings.catch_warnings():
        # ipympl 0.10's toolbar passes its canvas on to traitlets, which warns (harmless).
        warnings.filterwarnings("ignore", message="Passing unrecognized arguments",
                                category=DeprecationWarning)
        canvas = Canvas(fig)
        canvas.manager = FigureManager(canvas, 0)  # not registered with pyplot
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.resizable = False
    canvas.toolbar_visible = "fade-in-fade-out"
    canvas.toolbar_position = "left"
    lab = Lab(surface, optimizers, figure=fig, **defaults)

    names = list(SURFACES)
    if lab.surface_name not in SURFACES:
        names = [lab.surface_name] + names
    custom = {lab.surface_name: lab.surface}
    wide = W.Layout(width="330px")
    dd = W.Dropdown(options=names, value=lab.surface_name, description="surface",
                    layout=W.Layout(width="230px"))
    toggles = {name: W.ToggleButton(value=name in lab.active, description=name,
                                    layout=W.Layout(width="auto"))
               for name in lab.factories}
    lr = W.FloatLogSlider(value=lab.lr, base=10, min=-4, max=0.5, step=0.05,
                          description="η (lr)", readout_format=".3g", continuous_update=False,
                          layout=wide)
    b1 = W.FloatSlider(value=lab.beta1, min=0.0, max=0.99, step=0.01,
                       description="β₁ (momentum)", continuous_update=False, layout=wide,
                       style={"description_width": "initial"})
    b2 = W.FloatSlider(value=lab.beta2, min=0.8, max=0.9999, step=0.0001, description="β₂",
                       readout_format=".4f", continuous_update=False, layout=wide)
    steps = W.IntSlider(value=lab.steps, min=10, max=500, step=10, description="steps",
                        continuous_update=False, layout=wide)
    play = W.Play(value=lab.steps, min=0, max=lab.steps, step=1, interval=70,
                  description="Play", show_repeat=False)
    step = W.IntSlider(value=lab.steps, min=0, max=lab.steps, description="step", layout=wide)
    W.jslink((play, "value"), (step, "value"))
    xs = W.FloatText(value=round(lab.x0[0], 4), description="start x",
                     layout=W.Layout(width="180px"))
    ys = W.FloatText(value=round(lab.x0[1], 4), description="start y",
                     layout=W.Layout(width="180px"))
    busy = {"sync": False}

    def sync(_lab, changed):
        busy["sync"] = True
        try:
            if "x0" in changed or "surface" in changed:
                xs.value, ys.value = round(lab.x0[0], 4), round(lab.x0[1], 4)
            if "steps" in changed:
                play.max = step.max = lab.steps
                play.value = step.value = lab.steps
        finally:
            busy["sync"] = False

    lab.listeners.append(sync)

    def on(name, fn):
        def handler(change):
            if not busy["sync"]:
                fn(change["new"])
        return handler

    dd.observe(on("surface", lambda v: lab.set(surface=custom.get(v, v))), "value")
    for name, t in toggles.items():
        t.observe(on(name, lambda v: lab.set(active=[n for n, tt in toggles.items() if tt.value])),
                  "value")
    lr.observe(on("lr", lambda v: lab.set(lr=v)), "value")
    b1.observe(on("beta1", lambda v: lab.set(beta1=v)), "value")
    b2.observe(on("beta2", lambda v: lab.set(beta2=v)), "value")
    steps.observe(on("steps", lambda v: lab.set(steps=v)), "value")
    step.observe(on("step", lambda v: lab.set(step=v)), "value")
    xs.observe(on("x", lambda v: lab.set(x0=(v, lab.x0[1]))), "value")
    ys.observe(on("y", lambda v: lab.set(x0=(lab.x0[0], v))), "value")

    box = W.VBox([
        W.HBox([dd] + list(toggles.values()), layout=W.Layout(flex_flow="row wrap")),
        W.HBox([lr, b1, b2], layout=W.Layout(flex_flow="row wrap")),
        W.HBox([steps, play, step], layout=W.Layout(flex_flow="row wrap")),
        W.HBox([xs, ys, W.HTML("<i>or click on the contour to set the start point</i>")],
               layout=W.Layout(flex_flow="row wrap", align_items="center")),
        canvas,
    ])
    box.lab = lab
    return box
