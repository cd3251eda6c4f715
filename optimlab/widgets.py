"""The lecturer's live panel: the book's live explorer as a Jupyter widget (anywidget).

:func:`panel` shows optimizers racing on a surface.  Everything the reader drags — the start
point (click or drag on the contour), each optimizer's learning rate, β₁, β₂, the steps, the
surface, which optimizers are on, Play — is computed in the browser by the same JavaScript as the
book's explorers (:mod:`optimlab.explorers`), so it redraws at the page's speed, not the kernel's.
The state is synced with Python both ways::

    p = ol.widgets.panel("rosenbrock", optimizers=("SGD", "Adam"), lr=0.01)
    p                      # display it
    p.lr = 0.05            # every learning rate to 0.05 (the sliders move)
    p.lrs["Adam"]          # one optimizer's rate
    p.start                # where the lecturer last clicked
    p.runs()               # the runs shown, recomputed by optimlab.run in Python
    p.add("mine", lambda surface, start, steps, lr: ol.run(ol.SGD(lr=lr), surface, start, steps))
    p.remove("mine")       # or p.clear(): every run added from Python
    p.savefig("race.png")  # the current state as a static figure (PNG, SVG, PDF)

:func:`network_panel` does the same for chapter 9's network explorer: the digits MLP trained in
the browser (Web Workers), its settings synced both ways::

    n = ol.widgets.network_panel({"SGD": ol.SGD(lr=0.1), "Adam": ol.Adam(lr=3e-3)}, epochs=10)
    n.batch_size = 128     # the page retrains at once
    n.runs()               # the runs shown, recomputed by ol.nets.train in Python

In the static book (``OPTIMLAB_BOOK=1``) both return the same component as a page explorer
(:class:`optimlab.explorers.Explorer`): it works there too, with no kernel.
"""
from __future__ import annotations

import inspect
import json
import math

import anywidget
import traitlets as t

from . import engine, explorers, registry, surfaces

__all__ = ["HYPERPARAMETERS", "NETWORK_STATE_KEYS", "OPTIMIZERS", "STATE_KEYS", "SURFACES", "NetworkPanel",
           "Panel", "network_panel", "panel", "surface_key"]

#: The optimizers a panel can start with, by name (PyTorch's forms; :data:`optimlab.explorers.CATALOGUE`).
OPTIMIZERS = explorers.CATALOGUE

#: Surfaces a panel can be given by name.
SURFACES = {
    "quadratic": surfaces.Quadratic,
    "rosenbrock": surfaces.Rosenbrock,
    "beale": surfaces.Beale,
    "himmelblau": surfaces.Himmelblau,
    "saddle": surfaces.Saddle,
    "rastrigin": surfaces.Rastrigin,
}

#: The panel's controls a run added from Python can ask for by name (see :meth:`Panel.add`).
HYPERPARAMETERS = ("lr", *registry.ROLES)  # the learning rate, then the shared knobs by role


def surface_key(name, kinds: dict) -> str:
    """The surface that ``name`` means among ``kinds`` (display name → kind): its display name.

    One naming everywhere (:func:`panel`, ``Panel.surface``): a surface is named by its
    display name (``"Rosenbrock"``, ``"quadratic (κ=25)"``) or by its kind, a key of
    :data:`SURFACES` (``"rosenbrock"``, ``"quadratic"``), in any case.
    """
    wanted = str(name).strip().lower()
    for key, kind in kinds.items():
        if wanted in (key.lower(), kind):
            return key
    raise ValueError(f"unknown surface {name!r}; choose from {sorted(SURFACES)}")


# The anywidget module's render: KEYS is filled in with the widget's state keys (see below).
_GLUE = """
const KEYS = %s;
export default {
  render({ model, el }) {
    const spec = model.get("spec"), state = {};
    KEYS.forEach((k) => { if (k in spec.state || k === "playing") state[k] = model.get(k); });
    if (model.get("extra") !== undefined) spec.extra = model.get("extra");
    const ex = globalThis.optimlabExplorer.create(el, spec, {
      state,
      onChange(patch) {
        for (const k in patch) if (KEYS.includes(k)) model.set(k, patch[k]);
        model.save_changes();
      },
    });
    if (!ex) return () => {};  // a spec this script does not read: the figure says so
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const off = [];
    KEYS.forEach((k) => {
      const fn = () => { if (!same(model.get(k), ex.state[k])) ex.set({ [k]: model.get(k) }, undefined, true); };
      model.on("change:" + k, fn);
      off.push(() => model.off("change:" + k, fn));
    });
    if (model.get("extra") !== undefined) {
      const fx = () => ex.set({ extra: model.get("extra") }, undefined, true);
      model.on("change:extra", fx);
      off.push(() => model.off("change:extra", fx));
    }
    // The error of a run computed in Python after a change made on the page: shown here, in the
    // notebook, not only in the Log Console.
    const err = document.createElement("pre");
    err.className = "ol-error";
    err.setAttribute("role", "alert");
    err.style.cssText = "white-space:pre-wrap;margin:.4em 0;padding:.4em .6em;border-left:4px solid #D55E00;" +
      "background:#fff3ec;color:#1d1d1f;font-size:0.9em";
    const showError = () => { err.textContent = model.get("error"); err.hidden = !model.get("error"); };
    showError();
    el.appendChild(err);
    model.on("change:error", showError);
    off.push(() => model.off("change:error", showError));
    return () => { off.forEach((f) => f()); err.remove(); ex.destroy(); };
  },
};
"""


class _Synced(anywidget.AnyWidget):
    """What a live panel and a network panel share: the spec, the optimizers on, their learning
    rates and the shared knobs by role, validated with the page's own ranges."""

    spec = t.Dict().tag(sync=True)
    active = t.List(t.Unicode()).tag(sync=True, state=True)
    lrs = t.Dict().tag(sync=True, state=True)
    linked = t.Bool(False).tag(sync=True, state=True)
    beta1 = t.Float(0.9).tag(sync=True, state=True)
    beta2 = t.Float(0.999).tag(sync=True, state=True)
    eps = t.Float(1e-8).tag(sync=True, state=True)
    weight_decay = t.Float(0.0).tag(sync=True, state=True)
    error = t.Unicode("").tag(sync=True)

    def _limits(self, name):
        if name in self.spec.get("limits", {}) and name != "lr":
            return tuple(self.spec["limits"][name])
        k = next((k for k in self.spec.get("knobs", []) if k["name"] == name), None)
        return (k["min"], k["max"]) if k else explorers.KNOB_SLIDERS[name][1:3]

    def _check(self, name, value, lo, hi):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
            raise t.TraitError(f"{name} must be in [{lo}, {hi}], got {value!r}")
        return value

    @t.validate("beta1", "beta2", "eps", "weight_decay")
    def _valid_knob(self, proposal):
        name = proposal["trait"].name
        return self._check(name, proposal["value"], *self._limits(name))

    @t.validate("lrs")
    def _valid_lrs(self, proposal):
        lo, hi = self.spec["limits"]["lr"]
        labels = {o["label"] for o in self.spec["optimizers"]}
        lrs = dict(proposal["value"])
        for k, v in lrs.items():
            if k not in labels:
                raise t.TraitError(f"lrs: unknown optimizer {k!r}; choose from {sorted(labels)}")
            self._check(f"lr of {k}", v, lo, hi)
        return lrs

    @t.validate("active")
    def _valid_active(self, proposal):
        labels = [o["label"] for o in self.spec["optimizers"]]
        bad = [a for a in proposal["value"] if a not in labels]
        if bad:
            raise t.TraitError(f"active: unknown optimizers {bad}; choose from {labels}")
        return [a for a in labels if a in proposal["value"]]

    @property
    def lr(self) -> float:
        """The learning rate of the first optimizer shown; setting it sets every rate."""
        return self.lrs[self.active[0]] if self.active else next(iter(self.lrs.values()))

    @lr.setter
    def lr(self, value):
        self.lrs = {k: value for k in self.lrs}

    def optimizer(self, label):
        """The optimlab rule an optimizer of the panel runs under the current controls."""
        o = next(o for o in self.spec["optimizers"] if o["label"] == label)
        hp = {k: (list(v) if isinstance(v, list) else v) for k, v in o["hp"].items()}
        hp["lr"] = self.lrs[label]
        for knob, path in o.get("bind", {}).items():
            hp = registry.set_path(hp, path, getattr(self, knob))
        return engine.optimizer_from_spec({"rule": o["rule"], "hp": hp})


class Panel(_Synced):
    """A live race (see :func:`panel`); its traits are the state the page shows.

    ``surface`` (display name), ``active`` (optimizers shown), ``lrs`` (label → learning rate),
    ``linked``, ``beta1``, ``beta2``, ``eps``, ``steps``, ``start`` (x, y), ``step`` (the step
    drawn), ``playing``; ``extra`` holds runs computed in Python (:meth:`add`) and ``error`` the
    last failure of one, shown under the panel.  Setting a trait from Python moves the controls;
    dragging a control sets the trait.  Bad values raise a ``TraitError`` naming the parameter and
    the allowed range.  A surface is named as in :func:`surface_key` (``p.surface = "rosenbrock"``).
    """

    # The page's state, synced both ways, is the traits tagged ``state`` (:data:`STATE_KEYS`).
    surface = t.Unicode().tag(sync=True, state=True)
    steps = t.Int(100).tag(sync=True, state=True)
    start = t.List(t.Float(), minlen=2, maxlen=2).tag(sync=True, state=True)
    step = t.Int(0).tag(sync=True, state=True)
    playing = t.Bool(False).tag(sync=True, state=True)
    extra = t.Dict().tag(sync=True)

    def __init__(self, spec: dict, **kwargs):
        if not (spec.get("live") and spec.get("kind") == "race"):
            raise ValueError("spec must be a live race's (optimlab.explorers.race(..., live=True)); "
                             "replay explorers are static figures")
        self._python_runs = {}
        state = dict(spec["state"])
        super().__init__(spec=spec, **{k: v for k, v in state.items() if k in STATE_KEYS},
                         extra=dict(spec.get("extra", {})), **kwargs)
        self.observe(self._rerun_python, names=["start", "steps", "surface", "lrs", *HYPERPARAMETERS[1:]])

    # -- validation: the same ranges as the page's controls -------------------------------
    @t.validate("steps")
    def _valid_steps(self, proposal):
        return self._check("steps", proposal["value"], *self._limits("steps"))

    @t.validate("surface")
    def _valid_surface(self, proposal):
        try:
            return surface_key(proposal["value"], {k: sp["kind"] for k, sp in self.spec["surfaces"].items()})
        except ValueError:
            raise t.TraitError(f"surface must be one of {sorted(self.spec['surfaces'])} (or their kinds "
                               f"{sorted(SURFACES)}, any case), got {proposal['value']!r}") from None

    @t.validate("start")
    def _valid_start(self, proposal):
        x, y = proposal["value"]
        (x0, x1), (y0, y1) = self.spec["surfaces"][self.surface]["window"] if self.surface else \
            ((-math.inf, math.inf), (-math.inf, math.inf))
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise t.TraitError(f"start must lie in the plot window x ∈ [{x0}, {x1}], "
                               f"y ∈ [{y0}, {y1}], got {(x, y)}")
        return [float(x), float(y)]

    @t.observe("surface")
    def _start_inside(self, change):
        (x0, x1), (y0, y1) = self.spec["surfaces"][self.surface]["window"]
        x, y = self.start
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            self.start = list(self.spec["surfaces"][self.surface]["start"])

    @t.validate("step")
    def _valid_step(self, proposal):
        return self._check("step", proposal["value"], 0, self.steps)

    # -- conveniences ----------------------------------------------------------------------
    def surface_object(self):
        """The optimlab surface shown (rebuilt from its table)."""
        sp = self.spec["surfaces"][self.surface]
        return _surface_from_spec(sp)

    def runs(self) -> dict:
        """The runs shown, recomputed in Python by :func:`optimlab.run`: label → Trajectory."""
        from .runs import run

        s = self.surface_object()
        return {label: run(self.optimizer(label), s, self.start, self.steps) for label in self.active}

    def hyperparameters(self) -> dict:
        """The controls a Python run can ask for (:data:`HYPERPARAMETERS`): ``lr`` is
        ``panel.lr``, the first learning rate shown."""
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def add(self, label: str, compute, color=None) -> None:
        """Race a run computed in Python, drawn dashed beside the page's runs.

        ``compute(surface, start, steps, **hp)`` returns a :class:`~optimlab.Trajectory` (or
        points of shape (steps+1, 2)).  It receives the surface shown (an optimlab surface), the
        start ``(x, y)``, the number of steps and, by name, those of the panel's current
        hyperparameters it declares: ``lr`` (``panel.lr``, the first rate shown), ``beta1``,
        ``beta2``, ``eps``, ``weight_decay`` (all of them if it takes ``**hp``).  For example::

            panel.add("mine", lambda surface, start, steps, lr, beta1:
                      ol.run(ol.SGD(lr=lr, momentum=beta1), surface, start, steps))

        It runs once here: an error is raised here and nothing is added.  Afterwards it runs again
        (in the kernel) whenever the start, the steps, the surface or a hyperparameter it declares
        changes; an error then is shown under the panel (the trait ``error``).  Adding a label again
        replaces its run; :meth:`remove` and :meth:`clear` take runs away.
        """
        from . import style

        label = str(label)
        if label in self.lrs:
            raise ValueError(f"label {label!r} is one of the panel's optimizers; choose another name")
        if not callable(compute):
            raise TypeError(f"compute must be a function (surface, start, steps, **hp), got {compute!r}")
        entry = (compute, color or style.color(label), _declared(compute))
        drawn = self._python_run(label, entry)  # raises, and nothing is registered
        self._python_runs[label] = entry
        self.extra = {**self.extra, label: drawn}
        self.error = ""

    def remove(self, label: str) -> None:
        """Take away a run added with :meth:`add`."""
        if label not in self._python_runs:
            raise ValueError(f"no run {label!r} was added; added: {sorted(self._python_runs)}")
        del self._python_runs[label]
        self.extra = {k: v for k, v in self.extra.items() if k != label}
        self.error = ""

    def clear(self) -> None:
        """Take away every run added with :meth:`add`."""
        self._python_runs.clear()
        self.extra = {}
        self.error = ""

    def _python_run(self, label, entry) -> dict:
        compute, color, wants = entry
        s = self.surface_object()
        hp = self.hyperparameters()
        out = compute(s, tuple(self.start), self.steps, **{k: hp[k] for k in wants})
        try:
            return explorers.python_run(s, out, self.surface, color)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{label}: compute(surface, start, steps) must return a Trajectory or points "
                             f"of shape (steps+1, 2), got {type(out).__name__}") from err

    def _rerun_python(self, change):
        """Recompute the Python runs that depend on what changed; show a failure under the panel."""
        name = "lr" if change["name"] == "lrs" else change["name"]
        todo = [k for k, (_, _, wants) in self._python_runs.items() if name not in HYPERPARAMETERS or name in wants]
        if not todo:
            return
        extra, errors = dict(self.extra), []
        for label in todo:
            try:
                extra[label] = self._python_run(label, self._python_runs[label])
            except Exception as err:  # noqa: BLE001 — shown to the lecturer, the panel goes on
                extra.pop(label, None)
                errors.append(f"{label}: {type(err).__name__}: {err}")
        self.extra = extra
        self.error = "\n".join(errors)

    def caption(self) -> str:
        """One line of the current settings (what :meth:`savefig` writes under the figure)."""
        shown = ", ".join(f"{k} {self.lrs[k]:.3g}" for k in self.active)
        knobs = [f"{KNOB_SYMBOLS[k['name']]} {getattr(self, k['name']):.4g}" for k in self.spec.get("knobs", [])]
        x, y = self.start
        return " · ".join([f"{self.surface}", f"start ({x:.3g}, {y:.3g})", f"{self.steps} steps",
                           f"η: {shown}" if shown else "no optimizer shown", *knobs])

    def savefig(self, path, *, dpi: int = 200):
        """Save the current state as a static figure (PNG, SVG or PDF, from the file name): the
        paths on the contour and the loss curves of every run shown (the Python runs included),
        their legend, and :meth:`caption` underneath.  Returns the path."""
        from pathlib import Path

        import numpy as np

        from . import figures
        from .runs import Trajectory

        runs = self.runs()
        for label, e in self.extra.items():
            runs[label] = Trajectory(np.reshape(e["xs"], (-1, 2)), np.asarray(e["losses"]), np.asarray(e["div"]))
        fig = figures.race(self.surface_object(), runs)  # the contour panel is titled by the surface
        fig.text(0.5, -0.01, self.caption(), ha="center", va="top", fontsize=10)
        path = Path(path)
        fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
        return path


class NetworkPanel(_Synced):
    """The network explorer as a widget (see :func:`network_panel`); its traits are the page's
    settings: ``active``, ``lrs``, ``linked``, ``beta1``, ``beta2``, ``eps``, ``weight_decay`` (as
    :class:`Panel`), and ``hidden``, ``epochs``, ``batch_size``, ``seed``, ``schedule``,
    ``warmup``, ``clipping``, ``clip``, ``scaling`` (:func:`optimlab.explorers.network`).  Setting
    one from Python moves the control and the page trains again; a change on the page sets it.
    Bad values raise a ``TraitError`` naming the parameter and the allowed range."""

    hidden = t.Int(32).tag(sync=True, state=True)
    epochs = t.Int(20).tag(sync=True, state=True)
    batch_size = t.Int(32).tag(sync=True, state=True)
    seed = t.Int(0).tag(sync=True, state=True)
    schedule = t.Unicode("constant").tag(sync=True, state=True)
    warmup = t.Int(1).tag(sync=True, state=True)
    clipping = t.Bool(False).tag(sync=True, state=True)
    clip = t.Float(0.1).tag(sync=True, state=True)
    scaling = t.Unicode("given").tag(sync=True, state=True)

    def __init__(self, spec: dict, **kwargs):
        if spec.get("kind") != "network":
            raise ValueError("spec must be a network explorer's (optimlab.explorers.network(...))")
        keys = self.class_trait_names(state=True)
        super().__init__(spec=spec, **{k: v for k, v in spec["state"].items() if k in keys}, **kwargs)

    @t.validate("hidden", "epochs", "batch_size", "seed", "warmup", "clip")
    def _valid_setting(self, proposal):
        name = proposal["trait"].name
        return self._check(name, proposal["value"], *self._limits(name))

    @t.validate("schedule", "scaling")
    def _valid_choice(self, proposal):
        name, names = proposal["trait"].name, [o["name"] for o in self.spec[proposal["trait"].name + "s"]]
        if proposal["value"] not in names:
            raise t.TraitError(f"{name} must be one of {names}, got {proposal['value']!r}")
        return proposal["value"]

    def optimizer(self, label):
        """The optimlab rule an optimizer of the panel runs, or (Muon) its list for [W1, b1, W2, b2]."""
        o = next(o for o in self.spec["optimizers"] if o["label"] == label)
        return explorers.network_optimizer({**o, "hp": engine.optimizer_spec(super().optimizer(label), network=True)["hp"]})

    def data(self):
        """The data set the page trains on (the input scaling shown)."""
        return explorers.network_dataset(self.scaling)

    def training(self) -> dict:
        """``ol.nets.train``'s keyword arguments for the setting shown (epochs, batch size, seed,
        schedule, clip)."""
        return explorers.network_training({k: getattr(self, k) for k in NETWORK_STATE_KEYS},
                                          self.spec["data"]["n_train"])

    def runs(self) -> dict:
        """The runs shown, recomputed in Python by :func:`optimlab.nets.train`: label → Training."""
        from . import nets

        d, data = self.spec["data"], self.data()
        net = nets.MLP((d["features"], self.hidden, d["classes"]))
        return {label: nets.train(self.optimizer(label), net, data, **self.training()) for label in self.active}

    def caption(self) -> str:
        """One line of the current setting (what :meth:`savefig` writes under the figure)."""
        shown = ", ".join(f"{k} {self.lrs[k]:.3g}" for k in self.active)
        knobs = [f"{KNOB_SYMBOLS[k['name']]} {getattr(self, k['name']):.4g}" for k in self.spec.get("knobs", [])]
        return " · ".join([f"digits, MLP 64–{self.hidden}–10", f"η: {shown}" if shown else "no optimizer shown",
                           *knobs, f"batch {self.batch_size}", f"{self.epochs} epochs", f"seed {self.seed}",
                           self.schedule, f"clip {self.clip:g}" if self.clipping else "no clipping", self.scaling])

    def savefig(self, path, *, dpi: int = 200):
        """Save the runs shown as a static figure (PNG, SVG or PDF, from the file name): training
        loss and test accuracy per epoch, recomputed in Python (:meth:`runs`), with
        :meth:`caption` underneath.  Returns the path."""
        from pathlib import Path

        from matplotlib.ticker import MaxNLocator

        from . import figures

        fig, (ax_loss, ax_acc) = figures.new_figure(1, 2, figsize=(10.5, 4.0))
        for label, rec in self.runs().items():
            color = next(o["color"] for o in self.spec["optimizers"] if o["label"] == label)
            ax_loss.semilogy(rec.train_loss_epoch, "o-", color=color, ms=3, label=label)
            ax_acc.plot(100 * rec.test_accuracy, "o-", color=color, ms=3, label=label)
        for ax in (ax_loss, ax_acc):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_loss.set(xlabel="epoch", ylabel="training loss")
        ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(0, 100))
        if self.active:
            ax_loss.legend()
        fig.text(0.5, -0.01, self.caption(), ha="center", va="top", fontsize=10)
        path = Path(path)
        fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
        return path


#: Symbols of the shared sliders in :meth:`Panel.caption`.
KNOB_SYMBOLS = {"beta1": "β₁", "beta2": "β₂", "eps": "ε", "weight_decay": "λ"}


#: The names of the page state a panel syncs both ways (its traits tagged ``state``); the page's
#: glue reads the same list.
STATE_KEYS = tuple(Panel.class_trait_names(state=True))
Panel._esm = (engine.engine_source() + "\n" + explorers.CONTROLLER_PATH.read_text(encoding="utf-8")
              + _GLUE % json.dumps(list(STATE_KEYS)))
Panel._css = explorers.stylesheet()

#: The names of the page state a network panel syncs both ways.
NETWORK_STATE_KEYS = tuple(NetworkPanel.class_trait_names(state=True))
NetworkPanel._esm = explorers.scripts("network") + _GLUE % json.dumps(list(NETWORK_STATE_KEYS))
NetworkPanel._css = explorers.stylesheet()


def _declared(compute) -> tuple:
    """The :data:`HYPERPARAMETERS` ``compute`` takes by name (all of them with ``**hp``)."""
    try:
        params = inspect.signature(compute).parameters.values()
    except (TypeError, ValueError):
        return ()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return HYPERPARAMETERS
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return tuple(h for h in HYPERPARAMETERS if h in names)


def _surface_from_spec(sp):
    p = sp["params"]
    kind = sp["kind"]
    if kind == "quadratic":
        import numpy as np

        A = np.asarray(p["A"])
        w, V = np.linalg.eigh(A)
        angle = math.degrees(math.atan2(V[1, 0], V[0, 0]))
        return surfaces.Quadratic(kappa=w[1] / w[0], angle=angle, mu=w[0], center=p["center"])
    if kind == "rosenbrock":
        return surfaces.Rosenbrock(a=p["a"], b=p["b"])
    if kind == "rastrigin":
        return surfaces.Rastrigin(A=p["A"])
    if kind == "linear_regression":
        return surfaces.LinearRegression(p["x"], p["y"])
    return {"beale": surfaces.Beale, "himmelblau": surfaces.Himmelblau,
            "saddle": surfaces.Saddle}[kind]()


def _rule(name, lr, beta1, beta2):
    """The optimlab rule the panel runs for optimizer ``name`` of :data:`OPTIMIZERS` at the shared
    β₁ and β₂, each set in the hyperparameter that plays that role for the rule (first-moment
    decay: SGD's momentum, Adam's β₁; second-moment decay: RMSprop's α, Adam's β₂), as
    :data:`optimlab.registry.RULES` says."""
    opt = OPTIMIZERS[name]
    info = registry.rule_of(opt)
    hp = {**opt.hyperparameters, "lr": lr}
    for knob, value in (("beta1", beta1), ("beta2", beta2)):
        if info.knob_applies(knob, hp):
            hp = registry.set_path(hp, info.knobs[knob], value)
    return type(opt)(**hp)


def panel(surface=None, optimizers=("SGD", "Momentum", "Adam"), *, lr=0.05, lrs=None, beta1=0.9,
          beta2=0.999, steps=100, x0=None, knobs=("beta1", "beta2"), title=None, python=None):
    """The live panel: a :class:`Panel` widget in Jupyter, the same explorer in the static book.

    Parameters
    ----------
    surface : a surface, or its name (:func:`surface_key`: ``"rosenbrock"``, ``"Rosenbrock"``, …;
        default ``"quadratic"``).
    optimizers : names from :data:`OPTIMIZERS` shown at first, or a dict label → optimlab rule.
    lr : the learning rate of every optimizer at first; ``lrs`` (label → rate) overrides it per
        optimizer, e.g. each at its tuned rate.
    beta1, beta2 : the shared β₁ (momentum, Adam's β₁) and β₂ (RMSprop's α, Adam's β₂).
    steps, x0 : the number of steps and the start (default ``surface.start``).
    knobs, title : as in :func:`optimlab.explorers.race`.
    python : dict label → ``compute(surface, start, steps, **hp)`` returning a Trajectory: runs
        computed in Python (a custom optimizer, e.g. with :func:`optimlab.run_torch`), drawn
        dashed.  In Jupyter they follow the start, the steps, the surface and the hyperparameters
        they name (see :meth:`Panel.add`); in the book they are computed once, from the initial
        state.
    """
    if surface is None or isinstance(surface, str):
        gallery = {s.name: s for s in surfaces.gallery()}
        kinds = {cls: kind for kind, cls in SURFACES.items()}
        surface = gallery[surface_key(surface or "quadratic", {n: kinds[type(s)] for n, s in gallery.items()})]
    if isinstance(optimizers, dict):
        chosen = dict(optimizers)
    else:
        unknown = [o for o in optimizers if o not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"unknown optimizers {unknown}; choose from {list(OPTIMIZERS)}")
        chosen = {name: _rule(name, lr, beta1, beta2) for name in optimizers}
    for label, value in (lrs or {}).items():
        if label not in chosen:
            raise ValueError(f"lrs names {label!r}, which is not among the optimizers {list(chosen)}")
        chosen[label] = type(chosen[label])(**{**chosen[label].hyperparameters, "lr": value})
    python = dict(python or {})
    if explorers.book_mode():
        start = surface.start if x0 is None else x0
        hp = {"lr": next(iter(chosen.values())).hyperparameters["lr"], "beta1": beta1, "beta2": beta2,
              "eps": 1e-8, "weight_decay": 0.0}  # as Panel.hyperparameters() at the start
        return explorers.race(surface, chosen, live=True, steps=steps, x0=x0, knobs=knobs, title=title,
                              extra={k: fn(surface, tuple(start), steps, **{h: hp[h] for h in _declared(fn)})
                                     for k, fn in python.items()})
    widget = Panel(explorers.race(surface, chosen, live=True, steps=steps, x0=x0, knobs=knobs,
                                  title=title).spec)
    for label, fn in python.items():
        widget.add(label, fn)
    return widget


def network_panel(optimizers, **settings):
    """The network explorer (:func:`optimlab.explorers.network`, same arguments) as a
    :class:`NetworkPanel` widget in Jupyter — the lecturer's panel, trained in the browser and
    synced with Python — and as the page explorer itself in the static book."""
    ex = explorers.network(optimizers, **settings)
    return ex if explorers.book_mode() else NetworkPanel(ex.spec)
