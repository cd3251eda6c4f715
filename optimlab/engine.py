"""What the in-browser engine (``optimlab/assets/engine.js``) takes from optimlab: its tables.

The live explorers compute trajectories in the reader's browser with a JavaScript copy of the
update rules and surfaces.  That copy holds no numbers of its own: every hyperparameter (with
torch.optim's defaults, read from the rule classes) and every surface parameter (κ's matrix, the
centre, Rosenbrock's a and b, the regression's data…) is written here, from the Python objects,
into the JSON the page carries.  ``tests/test_engine.py`` holds the JavaScript to
:func:`optimlab.run` on random cases.

* :func:`surface_spec` — a surface as ``{"kind", "params", "name", "window", "minima", …}``;
* :func:`optimizer_spec` — an optimizer as ``{"rule", "hp"}`` with every hyperparameter;
* :data:`DEFAULTS` — each rule's default hyperparameters (from its dataclass fields);
* :data:`KNOBS` — which hyperparameter each of an explorer's shared sliders (β₁, β₂, ε) moves;
* :func:`engine_source` — the engine's JavaScript.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from . import registry, rules, style, surfaces

__all__ = ["surface_spec", "optimizer_spec", "optimizer_from_spec", "supported", "DEFAULTS", "NETWORK_DEFAULTS",
           "INTEGERS", "KNOBS", "ENGINE_PATH", "engine_source"]

#: The engine's JavaScript file.
ENGINE_PATH = Path(__file__).resolve().parent / "assets" / "engine.js"

#: The rules the engine runs (every registry rule with an engine twin), by engine name.
_RULES = {r.engine: r.cls for r in registry.RULES.values() if r.engine is not None}
#: The rules only the network trainer (``network.js``) runs, on whole tensors, by its name.
_TENSOR_RULES = {r.network: r.cls for r in registry.RULES.values() if r.engine is None and r.network}


def _plain(v):
    """A hyperparameter as JSON: floats, bools, lists of floats (``betas``); None and names
    (Adafactor's ε₁, Muon's ``adjust_lr_fn``) as they are."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (tuple, list)):
        return [_plain(u) for u in v]
    a = np.asarray(v, dtype=float)
    if a.ndim:
        raise ValueError(f"the engine runs one optimizer at a time: hyperparameter {v!r} is an array")
    return float(a)


#: Default hyperparameters of every rule the engine knows (torch.optim's, from the classes).
DEFAULTS = {name: {f.name: _plain(f.default) for f in dataclasses.fields(cls)}
            for name, cls in _RULES.items()}
#: The same for the rules only the network trainer runs (whole tensors).
NETWORK_DEFAULTS = {name: {f.name: _plain(f.default) for f in dataclasses.fields(cls)}
                    for name, cls in _TENSOR_RULES.items()}
#: The whole-number hyperparameters of each rule that has any (Muon's ``ns_steps``): JSON does not
#: tell 5 from 5.0, and the explorer's copied code must write them as Python ints.
INTEGERS = {name: [f.name for f in dataclasses.fields(cls) if type(f.default) is int]
            for name, cls in {**_RULES, **_TENSOR_RULES}.items()
            if any(type(f.default) is int for f in dataclasses.fields(cls))}

#: The explorer's shared sliders (roles: β₁, β₂, ε, weight decay) and the hyperparameter each
#: moves, per rule (``"betas.0"`` is ``betas[0]``), from :data:`optimlab.registry.RULES`.
KNOBS = {r.engine: dict(r.knobs) for r in registry.RULES.values() if r.engine is not None}


def optimizer_spec(opt, *, network: bool = False) -> dict:
    """``{"rule": name, "hp": {...}}`` for an optimlab rule with scalar hyperparameters; with
    ``network=True`` also for the rules only the network trainer runs (Adafactor, Muon)."""
    if not isinstance(opt, rules.Optimizer):
        raise ValueError(f"the browser engine runs optimlab rules ({sorted(_RULES)}); got {opt!r}")
    info = registry.rule_of(opt)
    name = info.engine or (info.network if network else None)
    if name is None:
        raise ValueError(f"the browser engine has no {info.name}: {info.note or 'it is Python-only'}")
    return {"rule": name, "hp": {k: _plain(v) for k, v in opt.hyperparameters.items()}}


def optimizer_from_spec(spec) -> rules.Optimizer:
    """The optimlab rule a spec describes (inverse of :func:`optimizer_spec`)."""
    hp = dict(spec["hp"])
    cls = _RULES.get(spec["rule"]) or _TENSOR_RULES[spec["rule"]]
    for f in dataclasses.fields(cls):  # pairs as tuples, whole numbers as ints (INTEGERS)
        if isinstance(hp.get(f.name), list):
            hp[f.name] = tuple(hp[f.name])
        elif f.name in INTEGERS.get(spec["rule"], ()) and isinstance(hp.get(f.name), float) and hp[f.name].is_integer():
            hp[f.name] = int(hp[f.name])
    return cls(**hp)


def _params(surface) -> tuple[str, dict]:
    if isinstance(surface, surfaces.Quadratic):
        return "quadratic", {"A": surface.A.tolist(), "center": surface.center.tolist()}
    if isinstance(surface, surfaces.Rosenbrock):
        return "rosenbrock", {"a": surface.a, "b": surface.b}
    if isinstance(surface, surfaces.Beale):
        return "beale", {"c": list(surface._c)}
    if isinstance(surface, surfaces.Himmelblau):
        return "himmelblau", {}
    if isinstance(surface, surfaces.Saddle):
        return "saddle", {}
    if isinstance(surface, surfaces.Rastrigin):
        return "rastrigin", {"A": surface.A}
    if isinstance(surface, surfaces.LinearRegression):
        return "linear_regression", {"x": surface.x.tolist(), "y": surface.y.tolist()}
    raise ValueError(f"the browser engine knows the optimlab surfaces, not {surface!r}")


def supported(surface=None, opt=None) -> bool:
    """Whether the engine can run ``opt`` (scalar hyperparameters) and/or ``surface``."""
    try:
        if surface is not None:
            _params(surface)
        if opt is not None:
            optimizer_spec(opt)
    except ValueError:
        return False
    return True


def _code(surface) -> str:
    """A line of Python that rebuilds ``surface`` (data surfaces name their data ``x, y``)."""
    if isinstance(surface, surfaces.LinearRegression):
        return "ol.surfaces.LinearRegression(x, y)"
    return f"ol.surfaces.{surface!r}"


def surface_spec(surface) -> dict:
    """A surface as the engine and the explorer's drawing need it (JSON-serialisable)."""
    kind, params = _params(surface)
    (x0, x1), (y0, y1) = surface.window
    f_min = surface.f_min
    xn, yn = style.axis_names(surface)
    return {"kind": kind, "params": params, "name": surface.name, "code": _code(surface),
            "window": [[float(x0), float(x1)], [float(y0), float(y1)]],
            "minima": np.asarray(surface.minima, dtype=float).reshape(-1, 2).tolist(),
            "start": [float(v) for v in surface.start],
            "fmin": float(f_min) if math.isfinite(f_min) else None,
            "logLevels": bool(surface.log_levels), "axes": [xn, yn]}


def engine_source() -> str:
    """The engine's JavaScript."""
    return ENGINE_PATH.read_text(encoding="utf-8")
