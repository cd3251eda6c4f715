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
    p.add("mine", lambda surface, start, steps: ol.run(my_rule, surface, start, steps))

In the static book (``OPTIMLAB_BOOK=1``) :func:`panel` returns the same component as a page
explorer (:class:`optimlab.explorers.Explorer`): it works there too, with no kernel.
"""
from __future__ import annotations

import math

import anywidget
import traitlets as t

from . import engine, explorers, registry, surfaces

__all__ = ["OPTIMIZERS", "SURFACES", "Panel", "panel"]

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

_GLUE = """
const KEYS = ["surface", "active", "lrs", "linked", "beta1", "beta2", "eps", "weight_decay", "steps",
              "start", "step", "playing"];
export default {
  render({ model, el }) {
    const spec = model.get("spec"), state = {};
    KEYS.forEach((k) => { if (k in spec.state || k === "playing") state[k] = model.get(k); });
    spec.extra = model.get("extra");
    const ex = globalThis.optimlabExplorer.create(el, spec, {
      state,
      onChange(patch) {
        for (const k in patch) if (KEYS.includes(k)) model.set(k, patch[k]);
        model.save_changes();
      },
    });
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const off = [];
    KEYS.forEach((k) => {
      const fn = () => { if (!same(model.get(k), ex.state[k])) ex.set({ [k]: model.get(k) }, undefined, true); };
      model.on("change:" + k, fn);
      off.push(() => model.off("change:" + k, fn));
    });
    const fx = () => ex.set({ extra: model.get("extra") }, undefined, true);
    model.on("change:extra", fx);
    off.push(() => model.off("change:extra", fx));
    return () => { off.forEach((f) => f()); ex.destroy(); };
  },
};
"""


class Panel(anywidget.AnyWidget):
    """A live race (see :func:`panel`); its traits are the state the page shows.

    ``surface`` (display name), ``active`` (optimizers shown), ``lrs`` (label → learning rate),
    ``linked``, ``beta1``, ``beta2``, ``eps``, ``steps``, ``start`` (x, y), ``step`` (the step
    drawn), ``playing``; ``extra`` holds runs computed in Python (:meth:`add`).  Setting a trait
    from Python moves the controls; dragging a control sets the trait.  Bad values raise a
    ``TraitError`` naming the parameter and the allowed range.
    """

    _esm = engine.engine_source() + "\n" + explorers.CONTROLLER_PATH.read_text(encoding="utf-8") + _GLUE
    spec = t.Dict().tag(sync=True)
    surface = t.Unicode().tag(sync=True)
    active = t.List(t.Unicode()).tag(sync=True)
    lrs = t.Dict().tag(sync=True)
    linked = t.Bool(False).tag(sync=True)
    beta1 = t.Float(0.9).tag(sync=True)
    beta2 = t.Float(0.999).tag(sync=True)
    eps = t.Float(1e-8).tag(sync=True)
    weight_decay = t.Float(0.0).tag(sync=True)
    steps = t.Int(100).tag(sync=True)
    start = t.List(t.Float(), minlen=2, maxlen=2).tag(sync=True)
    step = t.Int(0).tag(sync=True)
    playing = t.Bool(False).tag(sync=True)
    extra = t.Dict().tag(sync=True)

    def __init__(self, spec: dict, **kwargs):
        self._python_runs = {}
        state = dict(spec["state"])
        super().__init__(spec=spec, **{k: v for k, v in state.items() if k in self.trait_names()},
                         extra=dict(spec.get("extra", {})), **kwargs)
        self.observe(self._rerun_python, names=["start", "steps", "surface"])

    # -- validation: the same ranges as the page's controls -------------------------------
    def _limits(self, name):
        if name == "steps":
            return tuple(self.spec["limits"]["steps"])
        k = next((k for k in self.spec.get("knobs", []) if k["name"] == name), None)
        return (k["min"], k["max"]) if k else explorers.KNOB_SLIDERS[name][1:3]

    def _check(self, name, value, lo, hi):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
            raise t.TraitError(f"{name} must be in [{lo}, {hi}], got {value!r}")
        return value

    @t.validate("beta1", "beta2", "eps", "weight_decay", "steps")
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

    @t.validate("surface")
    def _valid_surface(self, proposal):
        if proposal["value"] not in self.spec["surfaces"]:
            raise t.TraitError(f"surface must be one of {sorted(self.spec['surfaces'])}, "
                               f"got {proposal['value']!r}")
        return proposal["value"]

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
    @property
    def lr(self) -> float:
        """The learning rate of the first optimizer shown; setting it sets every rate."""
        return self.lrs[self.active[0]] if self.active else next(iter(self.lrs.values()))

    @lr.setter
    def lr(self, value):
        self.lrs = {k: value for k in self.lrs}

    def surface_object(self):
        """The optimlab surface shown (rebuilt from its table)."""
        sp = self.spec["surfaces"][self.surface]
        return _surface_from_spec(sp)

    def optimizer(self, label):
        """The optimlab rule an optimizer of the panel runs under the current controls."""
        o = next(o for o in self.spec["optimizers"] if o["label"] == label)
        hp = {k: (list(v) if isinstance(v, list) else v) for k, v in o["hp"].items()}
        hp["lr"] = self.lrs[label]
        for knob, path in o.get("bind", {}).items():
            explorers._put(hp, path, getattr(self, knob))
        return engine.optimizer_from_spec({"rule": o["rule"], "hp": hp})

    def runs(self) -> dict:
        """The runs shown, recomputed in Python by :func:`optimlab.run`: label → Trajectory."""
        from .runs import run

        s = self.surface_object()
        return {label: run(self.optimizer(label), s, self.start, self.steps) for label in self.active}

    def add(self, label: str, compute, color=None):
        """Race a run computed in Python: ``compute(surface, start, steps)`` returns a
        :class:`~optimlab.Trajectory` (or points of shape (steps+1, 2)).  It is recomputed when
        the start, the steps or the surface change (in the kernel, so at the kernel's speed)."""
        from . import style

        self._python_runs[str(label)] = (compute, color or style.color(label))
        self._rerun_python()
        return self

    def _rerun_python(self, change=None):
        if not self._python_runs:
            return
        s = self.surface_object()
        self.extra = {label: explorers.python_run(s, fn(s, tuple(self.start), self.steps), self.surface, c)
                      for label, (fn, c) in self._python_runs.items()}


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


def _with_knobs(opt, *, lr, **knobs):
    """``opt`` with learning rate ``lr`` and each shared knob (by role, e.g. ``beta1``) set in
    the hyperparameter that plays that role for its rule (:mod:`optimlab.registry`)."""
    info = registry.rule_of(opt)
    hp = {**opt.hyperparameters, "lr": lr}
    for knob, value in knobs.items():
        if info.knob_applies(knob, hp):
            hp = registry.set_path(hp, info.knobs[knob], value)
    return type(opt)(**hp)


def panel(surface=None, optimizers=("SGD", "Momentum", "Adam"), *, lr=0.05, lrs=None, beta1=0.9,
          beta2=0.999, steps=100, x0=None, knobs=("beta1", "beta2"), title=None, python=None):
    """The live panel: a :class:`Panel` widget in Jupyter, the same explorer in the static book.

    Parameters
    ----------
    surface : a surface, or a name from :data:`SURFACES` (default ``"quadratic"``).
    optimizers : names from :data:`OPTIMIZERS` shown at first, or a dict label → optimlab rule.
    lr : the learning rate of every optimizer at first; ``lrs`` (label → rate) overrides it per
        optimizer, e.g. each at its tuned rate.
    beta1, beta2 : the shared β₁ (momentum, Adam's β₁) and β₂ (RMSprop's α, Adam's β₂).
    steps, x0 : the number of steps and the start (default ``surface.start``).
    knobs, title : as in :func:`optimlab.explorers.race`.
    python : dict label → ``compute(surface, start, steps)`` returning a Trajectory: runs computed
        in Python (a custom optimizer, e.g. with :func:`optimlab.run_torch`), drawn dashed.  In
        Jupyter they follow the start, the steps and the surface (see :meth:`Panel.add`); in the
        book they are computed once, from the initial start.
    """
    if surface is None or isinstance(surface, str):
        key = (surface or "quadratic").strip().lower()
        if key not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; choose from {sorted(SURFACES)}")
        surface = SURFACES[key]()
    if isinstance(optimizers, dict):
        chosen = dict(optimizers)
    else:
        unknown = [o for o in optimizers if o not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"unknown optimizers {unknown}; choose from {list(OPTIMIZERS)}")
        chosen = {}
        for name in optimizers:
            opt = OPTIMIZERS[name]
            chosen[name] = _with_knobs(opt, lr=lr, beta1=beta1, beta2=beta2)
    for label, value in (lrs or {}).items():
        if label not in chosen:
            raise ValueError(f"lrs names {label!r}, which is not among the optimizers {list(chosen)}")
        chosen[label] = type(chosen[label])(**{**chosen[label].hyperparameters, "lr": value})
    python = dict(python or {})
    if explorers.book_mode():
        start = surface.start if x0 is None else x0
        return explorers.race(surface, chosen, live=True, steps=steps, x0=x0, knobs=knobs, title=title,
                              extra={k: fn(surface, tuple(start), steps) for k, fn in python.items()})
    widget = explorers.race(surface, chosen, live=True, steps=steps, x0=x0, knobs=knobs,
                            title=title).widget()
    for label, fn in python.items():
        widget.add(label, fn)
    return widget
