"""The explorer's pure parts (optimlab/assets/explorer.js) against their Python twins, under node.

As tests/test_engine.py holds the browser engine to optimlab.run, this holds what the page draws
to what the book's figures and optimlab compute, on random cases: ``decode`` to
:func:`optimlab.explorers.encode`/``decode``, ``displayEnd`` to :func:`optimlab.style.display_path`,
``lossLimits`` to :func:`optimlab.style.loss_limits`, ``surfaceGrid`` (the live map's contour grid
and levels) to :func:`optimlab.style.contour_data`, ``percentile`` to ``numpy.percentile``,
``ruleCode`` (the copied code of an optimizer) to the optimizer it was made from; the
axis ticks (no Python twin: matplotlib draws the book's) to their rule; ``specProblem`` to the spec
contract (:data:`optimlab.explorers.SPEC_VERSION`).
"""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import optimlab as ol
from optimlab import engine, explorers, style, surfaces

NODE = shutil.which("node") or shutil.which("nodejs")
RUNNER = Path(__file__).parent / "js" / "run_explorer.js"
SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _plain(v):
    """JSON for the runner: arrays as lists, NaN and ±inf as the strings it reads back."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    if isinstance(v, (float, np.floating)) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _js(calls, tmp_path):
    """Results of [(function name, args), ...] run by explorer.js under node."""
    if NODE is None:
        pytest.fail("node is needed to test the explorer (Debian: apt-get install nodejs)")
    path = tmp_path / "calls.json"
    path.write_text(json.dumps([{"fn": fn, "args": _plain(list(args))} for fn, args in calls]))
    out = subprocess.run([NODE, str(RUNNER), str(path)], capture_output=True, text=True, check=True)
    return _revive(json.loads(out.stdout))


def _revive(v):
    if isinstance(v, list):
        return [_revive(x) for x in v]
    if isinstance(v, dict):
        return {k: _revive(x) for k, x in v.items()}
    return SPECIAL.get(v, v) if isinstance(v, str) else v


def test_decode_reads_what_encode_writes(tmp_path):
    rng = np.random.default_rng(1)
    cases = []
    for _ in range(60):
        n = int(rng.integers(1, 400))
        log = bool(rng.random() < 0.4)
        a = 10 ** rng.uniform(-12, 6, n) if log else rng.normal(rng.normal(0, 100), 10 ** rng.uniform(-3, 3), n)
        a[rng.random(n) < 0.1] = np.nan
        cases.append(explorers.encode(a, log=log))
    got = _js([("decode", [ch]) for ch in cases], tmp_path)
    for ch, js in zip(cases, got):
        ref = explorers.decode(ch)
        np.testing.assert_allclose(np.array(js, dtype=float), ref, rtol=1e-12, atol=0, equal_nan=True)


def _wander(rng, window, n):
    """A random path that may leave the window (for good) before it 'diverges'."""
    (x0, x1), (y0, y1) = window
    scale = np.array([x1 - x0, y1 - y0])
    p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
    drift = rng.normal(0, 0.05, 2) * scale
    steps = rng.normal(0, 0.04, (n, 2)) * scale + drift * rng.uniform(0, 3)
    return np.vstack([p, p + np.cumsum(steps, axis=0)])


def test_display_end_cuts_as_display_path(tmp_path):
    rng = np.random.default_rng(2)
    cases = []
    for _ in range(300):
        s = [surfaces.Rosenbrock(), surfaces.Beale(), surfaces.Quadratic(kappa=10)][int(rng.integers(3))]
        n = int(rng.integers(2, 80))
        xs = _wander(rng, s.window, n)
        div = -1 if rng.random() < 0.2 else int(rng.integers(0, n + 1))
        cases.append((xs, div, s.window))
    got = _js([("displayEnd", [xs.ravel(), div, [list(w) for w in win]]) for xs, div, win in cases], tmp_path)
    exits = 0
    for (xs, div, win), js in zip(cases, got):
        points, end = style.display_path(xs, div, win)
        assert js["end"] == end, (div, js, end)
        if "exit" in js:
            exits += 1
            np.testing.assert_allclose(js["exit"], points[end], rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(points[end], xs[end])
    assert 0.1 * len(cases) < exits < 0.9 * len(cases), "the cases must include paths cut at the border"


def test_loss_limits_as_style_loss_limits(tmp_path):
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(300):
        T, R = int(rng.integers(1, 60)), int(rng.integers(1, 6))
        g = 10 ** rng.uniform(-20, 8, (T, R)) * np.exp(rng.normal(0, 1, (T, 1)))
        g[rng.random((T, R)) < 0.05] = rng.choice([np.nan, np.inf])
        div = np.where(rng.random(R) < 0.3, rng.integers(0, T, R), -1)
        floor = style.LOSS_FLOOR if rng.random() < 0.7 else 10 ** rng.uniform(-12, -2)
        cases.append((g, div, floor))
    runs = [[{"gap": g[:, r], "div": int(div[r])} for r in range(g.shape[1])] for g, div, _ in cases]
    got = _js([("lossLimits", [rs, floor]) for rs, (_, _, floor) in zip(runs, cases)], tmp_path)
    for (g, div, floor), js in zip(cases, got):
        lo, hi = style.loss_limits(g, div, floor=floor)
        np.testing.assert_allclose(js, [math.log10(lo), math.log10(hi)], rtol=1e-12, atol=1e-12)


def _surface(rng, kind):
    if kind == "quadratic":
        return surfaces.Quadratic(kappa=10 ** rng.uniform(0, 2), angle=rng.uniform(-90, 90),
                                  center=rng.uniform(-1, 1, 2))
    if kind == "rosenbrock":
        return surfaces.Rosenbrock(a=rng.uniform(0.5, 1.5), b=10 ** rng.uniform(0, 2))
    if kind == "rastrigin":
        return surfaces.Rastrigin(A=rng.uniform(0.5, 10))
    if kind == "linear_regression":
        x = rng.normal(0, 1, int(rng.integers(5, 60)))
        return surfaces.LinearRegression(x, 3 * x + 1 + rng.normal(0, 0.5, x.size))
    return {"beale": surfaces.Beale, "himmelblau": surfaces.Himmelblau, "saddle": surfaces.Saddle}[kind]()


def test_surface_grid_contours_as_contour_data(tmp_path):
    rng = np.random.default_rng(4)
    kinds = ["quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "rastrigin", "linear_regression"]
    cases = [(_surface(rng, k), int(rng.integers(10, 70)), int(rng.integers(2, 30))) for k in kinds for _ in range(4)]
    got = _js([("surfaceGrid", [engine.surface_spec(s), n, lv]) for s, n, lv in cases], tmp_path)
    logs = 0
    for (s, n, levels), js in zip(cases, got):
        _, _, Z, lv, is_log = style.contour_data(s, n, levels)
        logs += is_log
        np.testing.assert_allclose(js["levels"], lv, rtol=1e-9, atol=1e-9 * np.ptp(lv))
        z = np.array(js["z"], dtype=float).reshape(n, n)
        ok = np.isfinite(Z)
        np.testing.assert_allclose(z[ok], Z[ok], rtol=1e-9, atol=1e-9 * np.ptp(lv))
    assert 0 < logs < len(cases), "the cases must include log-spaced and linear levels"


def test_percentile_is_numpys(tmp_path):
    rng = np.random.default_rng(5)
    cases = [(np.sort(rng.normal(0, 10 ** rng.uniform(-3, 3), int(rng.integers(1, 200)))), rng.uniform(0, 100))
             for _ in range(200)]
    got = _js([("percentile", [a, p]) for a, p in cases], tmp_path)
    for (a, p), js in zip(cases, got):
        assert js == pytest.approx(np.percentile(a, p), rel=1e-12, abs=1e-300)


def test_ticks_are_round_and_cover_the_range(tmp_path):
    rng = np.random.default_rng(6)
    lin = []
    for _ in range(300):
        span = 10 ** rng.uniform(-6, 6)
        lo = span * rng.normal(0, 3)
        lin.append(([lo, lo + span], int(rng.integers(2, 12))))
    logs = []
    for _ in range(100):
        lo = rng.uniform(-20, 5)
        # lossLimits gives at least log10(90) decades (lo ≤ hi/10, then /3 and ×3)
        logs.append(([lo, lo + rng.uniform(math.log10(90), 25)], int(rng.integers(2, 12))))
    got = _js([("ticksFor", [r, False, n]) for r, n in lin] + [("ticksFor", [r, True, n]) for r, n in logs], tmp_path)
    single = 0
    for (r, n), ticks in zip(lin, got[:len(lin)]):
        v = np.array([t[0] for t in ticks])
        span = r[1] - r[0]
        assert v.size >= 1 and np.all((v >= r[0] - 1e-9 * span) & (v <= r[1] + 1e-9 * span)), (r, ticks)
        for value, label in ticks:  # a label names its value to 4 significant digits
            assert float(label) == pytest.approx(value, rel=1e-3, abs=span * 1e-9), (value, label)
        if v.size == 1:  # a narrow axis (n = 2) can get a single tick from this rule
            single += 1
            continue
        step = np.diff(v).mean()
        np.testing.assert_allclose(np.diff(v), step, rtol=1e-6)
        mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
        assert min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-6, (r, n, step)
        assert v[0] - r[0] < step * (1 + 1e-9) and r[1] - v[-1] < step * (1 + 1e-9), (r, ticks)
        assert v.size <= 1.5 * n + 2, (r, n, ticks)
    assert single < 0.1 * len(lin)
    sup = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    for (r, n), ticks in zip(logs, got[len(lin):]):
        e = [round(math.log10(t[0])) for t in ticks]
        assert ticks and all(r[0] - 1e-9 <= k <= r[1] + 1e-9 for k in e), (r, ticks)
        assert len(set(np.diff(e))) <= 1 and len(e) <= n + 2, (r, n, e)
        assert [int(t[1][2:].translate(sup)) for t in ticks] == e and all(t[1][:2] == "10" for t in ticks)


def _specs():
    q = surfaces.Quadratic(kappa=10)
    live = explorers.race(q, {"SGD": ol.SGD(lr=0.05)}, live=True, steps=20)
    replay = explorers.race(q, {"SGD": lambda lr: ol.SGD(lr=lr)}, {"lr": [0.01, 0.05]}, steps=20)
    curves = explorers.lines(np.arange(5.0), {"y": np.arange(5.0) ** 2})
    return {"live": live.spec, "replay": replay.spec, "lines": curves.spec}


def test_the_page_reads_the_spec_version_written_and_no_other(tmp_path):
    specs = _specs()
    bad = {"old": {**specs["live"], "v": explorers.SPEC_VERSION - 1},
           "new": {**specs["replay"], "v": explorers.SPEC_VERSION + 1},
           "none": {k: v for k, v in specs["lines"].items() if k != "v"},
           "no style": {k: v for k, v in specs["live"].items() if k != "style"}}
    got = _js([("specProblem", [s]) for s in [*specs.values(), *bad.values()]], tmp_path)
    assert got[:3] == ["", "", ""]
    for what, problem in zip(bad, got[3:]):
        assert problem, what
    assert "version" in got[3] and str(explorers.SPEC_VERSION) in got[3]


def test_drawing_constants_come_from_the_spec_not_a_copy():
    for s in _specs().values():
        assert s["v"] == explorers.SPEC_VERSION
    st = _specs()["live"]["style"]
    assert st == {"contour": list(style.CONTOUR_COLORS), "contour_line": style.CONTOUR_LINE,
                  "contour_levels": style.CONTOUR_LEVELS, "minimum": style.MINIMUM_COLOR,
                  "loss_floor": style.LOSS_FLOOR}
    js = explorers.CONTROLLER_PATH.read_text(encoding="utf-8").lower()
    for value in [*style.CONTOUR_COLORS, style.CONTOUR_LINE, style.MINIMUM_COLOR]:
        assert value.lower() not in js, f"explorer.js copies {value} (take it from spec.style)"
    assert not re.search(r"1e-16|\brgba\(120", js)


def test_copied_code_of_every_rule_makes_the_same_optimizer(tmp_path):
    """The copied code's ``ol.Rule(...)``, run in Python, is the optimizer the page ran, for random
    settings of every rule a page runs (a Muon with 3 Newton–Schulz steps writes ``ns_steps=3``,
    not ``3.0``, which Muon refuses)."""
    from test_engine import random_optimizer
    from test_network_js import _tensor_cases

    rng = np.random.default_rng(5)
    opts = [random_optimizer(rng, name) for name in engine.DEFAULTS for _ in range(4)]
    for c in _tensor_cases():
        opts += c["opt"] if isinstance(c["opt"], list) else [c["opt"]]
    assert {type(o).__name__ for o in opts} == set(engine.DEFAULTS) | set(engine.NETWORK_DEFAULTS)
    assert any(isinstance(o, ol.Muon) and o.ns_steps != 5 for o in opts)
    spec = explorers.network({"Adam": ol.Adam()}).spec
    calls = [("ruleCode", [spec, s["rule"], s["hp"]]) for s in (engine.optimizer_spec(o, network=True) for o in opts)]
    for opt, code in zip(opts, _js(calls, tmp_path)):
        assert repr(eval(code, {"ol": ol})) == repr(opt), code  # (rules compare by identity: the reprs name every value)
