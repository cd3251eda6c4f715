"""The browser engine (optimlab/assets/engine.js) against optimlab.run, under node.

Random cases cover every rule and option on every surface, with random hyperparameters and
starts, 200–300 steps each: the engine's points and losses must equal optimlab.run's to 1e-9
(relative, with the plot window as the scale of a coordinate) and diverge at the same step.

Where a setting is chaotic, last-bit differences between numpy's and JavaScript's arithmetic
(pow, cos, summation order) grow until they are visible: such a run is compared only over the
steps before a perturbation of 1e-14 of the window at the start grows past 1e-9 in optimlab.run
itself (its "horizon").  The test reports and bounds how many cases are cut that way.
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest

import optimlab as ol
from optimlab import engine, surfaces

NODE = shutil.which("node") or shutil.which("nodejs")
RUNNER = Path(__file__).parent / "js" / "run_engine.js"
TOL = 1e-9


def run_node(runner, payload, tmp_path, what="the browser engine"):
    """Run a tests/js runner under Node.js on a JSON payload; its JSON answer."""
    if NODE is None:
        pytest.fail(f"node is needed to test {what} (Debian: apt-get install nodejs)")
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(payload))
    out = subprocess.run([NODE, str(runner), str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _engine(cases, tmp_path):
    return run_node(RUNNER, cases, tmp_path)


def _logu(rng, lo, hi):
    return float(10 ** rng.uniform(math.log10(lo), math.log10(hi)))


def _maybe(rng, value, p=0.5):
    return value if rng.random() < p else 0.0


def _betas(rng):
    return (rng.uniform(0, 0.99), 1 - _logu(rng, 1e-4, 0.5))


def _sgd(rng, wd, maximize):
    momentum = _maybe(rng, rng.uniform(0.05, 0.99), 0.75)
    nesterov = bool(momentum > 0 and rng.random() < 0.4)
    dampening = 0.0 if nesterov else _maybe(rng, rng.uniform(0, 1), 0.3)
    return ol.SGD(lr=_logu(rng, 1e-4, 0.3), momentum=momentum, dampening=dampening,
                  weight_decay=wd, nesterov=nesterov, maximize=maximize)


#: A random-hyperparameter sampler for every rule of the engine (test_every_engine_rule_is_sampled
#: fails when a rule of the registry has none).
SAMPLERS = {
    "SGD": _sgd,
    "Momentum": lambda rng, wd, maximize: ol.Momentum(
        lr=_logu(rng, 1e-3, 1.0), beta=rng.uniform(0, 0.99), weight_decay=wd, maximize=maximize),
    "RMSprop": lambda rng, wd, maximize: ol.RMSprop(
        lr=_logu(rng, 1e-4, 0.3), alpha=rng.uniform(0.5, 0.999), eps=_logu(rng, 1e-10, 1e-2),
        weight_decay=wd, momentum=_maybe(rng, rng.uniform(0.05, 0.95)),
        centered=bool(rng.random() < 0.4), maximize=maximize),
    "Adagrad": lambda rng, wd, maximize: ol.Adagrad(
        lr=_logu(rng, 1e-3, 1.0), lr_decay=_maybe(rng, _logu(rng, 1e-4, 0.1)), weight_decay=wd,
        eps=_logu(rng, 1e-12, 1e-3), initial_accumulator_value=_maybe(rng, rng.uniform(0, 1)),
        maximize=maximize),
    "Adam": lambda rng, wd, maximize: ol.Adam(
        betas=_betas(rng), lr=_logu(rng, 1e-3, 0.5), eps=_logu(rng, 1e-10, 1e-2), weight_decay=wd,
        amsgrad=bool(rng.random() < 0.4), maximize=maximize,
        decoupled_weight_decay=bool(rng.random() < 0.3)),
    "AdamW": lambda rng, wd, maximize: ol.AdamW(
        betas=_betas(rng), lr=_logu(rng, 1e-3, 0.5), eps=_logu(rng, 1e-10, 1e-2),
        weight_decay=_logu(rng, 1e-3, 0.5), amsgrad=bool(rng.random() < 0.4), maximize=maximize),
    "NAdam": lambda rng, wd, maximize: ol.NAdam(
        betas=_betas(rng), lr=_logu(rng, 1e-3, 0.5), eps=_logu(rng, 1e-10, 1e-2), weight_decay=wd,
        momentum_decay=_logu(rng, 1e-4, 0.1), decoupled_weight_decay=bool(rng.random() < 0.3),
        maximize=maximize),
    "Lion": lambda rng, wd, maximize: ol.Lion(
        lr=_logu(rng, 1e-4, 0.3), betas=_betas(rng), weight_decay=wd, maximize=maximize),
    # β₂ in [0.5, 1): below β₂ = 2/3, ρ∞ ≤ 5 and RAdam never leaves its momentum-SGD phase, so
    # both branches are drawn.
    "RAdam": lambda rng, wd, maximize: ol.RAdam(
        lr=_logu(rng, 1e-3, 0.5), betas=(rng.uniform(0, 0.99), 1 - _logu(rng, 1e-4, 0.5)),
        eps=_logu(rng, 1e-10, 1e-2), weight_decay=wd,
        decoupled_weight_decay=bool(rng.random() < 0.3), maximize=maximize),
}


def random_optimizer(rng, name):
    wd = _maybe(rng, _logu(rng, 1e-4, 0.1), 0.3)
    maximize = bool(rng.random() < 0.05)
    return SAMPLERS[name](rng, wd, maximize)


def random_surface(rng, kind):
    if kind == "quadratic":
        return surfaces.Quadratic(kappa=_logu(rng, 1, 100), angle=rng.uniform(-90, 90),
                                  mu=_logu(rng, 0.1, 10), center=rng.uniform(-1, 1, 2))
    if kind == "rosenbrock":
        return surfaces.Rosenbrock(a=rng.uniform(0.5, 1.5), b=_logu(rng, 1, 100))
    if kind == "rastrigin":
        return surfaces.Rastrigin(A=rng.uniform(0.5, 10))
    if kind == "linear_regression":
        x = rng.normal(0, 1, int(rng.integers(5, 60)))
        return surfaces.LinearRegression(x, 3 * x + 1 + rng.normal(0, 0.5, x.size))
    return {"beale": surfaces.Beale, "himmelblau": surfaces.Himmelblau,
            "saddle": surfaces.Saddle}[kind]()


RULES = list(engine.DEFAULTS)
KINDS = ["quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "rastrigin", "linear_regression"]


def _cases(seed=2026, per_pair=6):
    rng = np.random.default_rng(seed)
    cases = []
    for name in RULES:
        for kind in KINDS:
            for _ in range(per_pair):
                s = random_surface(rng, kind)
                (x0, x1), (y0, y1) = s.window
                start = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
                cases.append((random_optimizer(rng, name), s, start, int(rng.integers(200, 301))))
    return cases


def _horizon(opt, s, start, steps, ref, scale):
    """First step at which a nudge shows at 1e-9 (steps + 1 if never): of the start by 1e-14·scale,
    or of every gradient, taken 1e-14·scale away from the point (the engine rounds differently at
    every step, and near a minimum a gradient is a difference of nearly equal numbers: Adam-like
    rules, which divide it by its own size, then blow a rounding-level change up)."""
    shift = np.array([1.0, -1.0]) * 1e-14 * scale
    nudged_grads = types.SimpleNamespace(f=s.f, grad=lambda xy: s.grad(xy + shift))
    bad = []
    for nudged in (ol.run(opt, s, start + 1e-14 * scale, steps), ol.run(opt, nudged_grads, start, steps)):
        gap = np.abs(nudged.xs - ref.xs).max(axis=-1) / scale
        bad.extend(np.flatnonzero(gap > TOL)[:1])
        if nudged.diverged_at != ref.diverged_at:
            bad.append(min(v for v in (int(nudged.diverged_at), int(ref.diverged_at)) if v >= 0))
    return int(min(bad)) if bad else steps + 1


def test_every_engine_rule_is_sampled():
    assert set(SAMPLERS) == set(RULES), "every rule the engine runs needs a random-case sampler"


def test_engine_matches_optimlab_run_on_random_cases(tmp_path):
    cases = _cases()
    refs = [ol.run(opt, s, start, steps) for opt, s, start, steps in cases]
    got = _engine([{"optimizer": engine.optimizer_spec(opt), "surface": engine.surface_spec(s),
                    "x0": start.tolist(), "steps": steps, "bound": 1e6}
                   for opt, s, start, steps in cases], tmp_path)
    cut, compared = [], 0
    for (opt, s, start, steps), ref, js in zip(cases, refs, got):
        scale = max(np.ptp(np.asarray(s.window), axis=1))
        h = _horizon(opt, s, start, steps, ref, scale)
        n = min(h, steps + 1)
        xs = np.asarray(js["xs"], dtype=float).reshape(-1, 2)
        losses = np.asarray(js["losses"], dtype=float)
        where = f"{opt!r} on {s!r} from {start.tolist()}"
        np.testing.assert_allclose(xs[:n], ref.xs[:n], rtol=TOL, atol=TOL * scale, err_msg=where)
        f_scale = np.abs(ref.losses[:n]).max() + 1e-300
        np.testing.assert_allclose(losses[:n], ref.losses[:n], rtol=TOL, atol=TOL * f_scale,
                                   err_msg=where)
        if h > steps:
            assert js["divergedAt"] == int(ref.diverged_at), where
            compared += 1
        else:
            cut.append((type(opt).__name__, type(s).__name__, h))
    print(f"\n{len(cases)} cases: {compared} compared over every step (200–300), "
          f"{len(cut)} chaotic ones up to their horizon (median {np.median([c[2] for c in cut] or [0]):.0f} steps)")
    assert len(cut) <= 0.2 * len(cases), f"too many chaotic cases to be a real check: {cut[:10]}"
    diverged = sum(int(r.diverged_at) >= 0 for r in refs)
    assert 0 < diverged < 0.5 * len(cases), "the cases must include some (not mostly) diverging runs"


def test_engine_defaults_are_the_rules_defaults():
    # The tables come from the classes: a spec of a default-constructed rule is DEFAULTS.
    for name, hp in engine.DEFAULTS.items():
        cls = getattr(ol, name)
        assert engine.optimizer_spec(cls())["hp"] == hp
        assert repr(engine.optimizer_from_spec({"rule": name, "hp": hp})) == repr(cls())
    assert engine.DEFAULTS["Adam"]["betas"] == [0.9, 0.999]
    assert engine.DEFAULTS["AdamW"]["weight_decay"] == 0.01


def test_knobs_name_real_hyperparameters():
    for name, knobs in engine.KNOBS.items():
        for knob, path in knobs.items():
            assert knob in {"beta1", "beta2", "eps", "weight_decay"}
            key, *index = path.split(".")
            value = engine.DEFAULTS[name][key]
            assert isinstance(value, list) if index else isinstance(value, float), (name, path)


def test_specs_refuse_what_the_engine_cannot_run():
    with pytest.raises(ValueError, match="one optimizer at a time"):
        engine.optimizer_spec(ol.SGD(lr=np.array([[0.1], [0.2]])))
    with pytest.raises(ValueError, match="runs"):
        engine.optimizer_spec(object())

    class Custom(surfaces.Surface):
        pass

    with pytest.raises(ValueError, match="knows the optimlab surfaces"):
        engine.surface_spec(Custom())
    assert not engine.supported(Custom())
    assert engine.supported(surfaces.Beale(), ol.Adam())


def test_surface_specs_carry_what_the_drawing_needs():
    for s in surfaces.gallery():
        spec = engine.surface_spec(s)
        json.dumps(spec, allow_nan=False)
        assert spec["window"] == [list(w) for w in s.window]
        assert spec["start"] == list(s.start)
        assert spec["code"].startswith("ol.surfaces.")
    assert engine.surface_spec(surfaces.Saddle())["fmin"] == -0.25
