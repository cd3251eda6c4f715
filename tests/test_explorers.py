"""Explorers (optimlab.explorers): precomputed data, output modes, size budget, controller."""
import json
import re

import numpy as np
import pytest

import optimlab as ol
from optimlab import engine, explorers, style

Q = ol.surfaces.Quadratic(kappa=10, angle=20)
LRS = [0.01, 0.03, 0.05, 0.1, 0.2, 0.3]
BETAS = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95]
OPTS = {"SGD": lambda lr, **_: ol.SGD(lr=lr),
        "Momentum": lambda lr, beta: ol.SGD(lr=lr, momentum=beta),
        "Adam": lambda lr, beta: ol.Adam(lr=lr, betas=(beta, 0.999))}
FIXED = {"SGD": ol.SGD(lr=0.1), "Adam": lambda lr=0.1: ol.Adam(lr=lr)}


@pytest.fixture(scope="module")
def typical():
    return explorers.race(Q, OPTS, {"lr": LRS, "beta": BETAS}, steps=60)


def _payload(html):
    m = re.search(r'<script type="application/json" class="optimlab-explorer-data">(.*?)</script>',
                  html, re.S)
    assert m, "no data script"
    return json.loads(m.group(1))


# --------------------------------------------------------------------------- data
def test_encode_decode_round_trip():
    v = np.array([-3.0, 0.0, 1e-3, 2.5, np.nan, 7.0])
    back = explorers.decode(explorers.encode(v))
    assert np.isnan(back[4]) and np.allclose(back[[0, 1, 2, 3, 5]], v[[0, 1, 2, 3, 5]],
                                             atol=10 / 64000)
    g = np.array([1e-12, 1e-3, 1.0, 5e4])
    assert np.allclose(explorers.decode(explorers.encode(g, log=True)), g, rtol=2e-3)


def test_race_data_shapes_and_order(typical):
    C, T = len(LRS) * len(BETAS), 60
    assert len(typical.combos) == C
    assert typical.combos[1] == {"lr": 0.01, "beta": 0.5}  # first slider slowest
    assert typical.combos[len(BETAS)] == {"lr": 0.03, "beta": 0.0}
    for label, traj in typical.runs.items():
        assert traj.xs.shape == (T + 1, C, 2)
        d = typical.series_data(label)
        assert d["xs"].shape == (C, T + 1, 2) and d["f"].shape == (C, T + 1)
        assert d["end"].shape == d["div"].shape == (C,)
    # Each stored row holds a path up to its last drawn point and losses up to divergence.
    for s in typical.spec["series"]:
        assert explorers.decode(s["x"]).size == sum(e + 1 for e in s["end"])
        assert explorers.decode(s["f"]).size == sum(d if d >= 0 else T + 1 for d in s["div"])
        assert s["px"][0] == s["pf"][0] == 0
    # Momentum and Adam depend on both sliders: one stored row per combination.
    for s in typical.spec["series"][1:]:
        assert "m" not in s and len(s["end"]) == C
    # SGD ignores beta: its runs are stored once per learning rate and shared.
    sgd = typical.spec["series"][0]
    assert len(sgd["end"]) == len(LRS) and len(sgd["m"]) == C
    assert sgd["m"][:2 * len(BETAS)] == [0] * len(BETAS) + [1] * len(BETAS)
    assert sum(e < T for e in sgd["end"]) >= 1  # the diverging rate is stored short


def test_race_runs_equal_optimlab_run(typical):
    k = typical.combos.index({"lr": 0.05, "beta": 0.8})
    ref = ol.run(ol.Adam(lr=0.05, betas=(0.8, 0.999)), Q, Q.start, 60)
    got = typical.runs["Adam"]
    assert np.allclose(got.xs[:, k], ref.xs, rtol=1e-12, atol=1e-12)
    assert np.allclose(got.losses[:, k], ref.losses, rtol=1e-12)
    # what the browser gets: the same path, to the quantization step
    d = typical.series_data("Adam")
    (x0, x1), (y0, y1) = Q.window
    assert np.allclose(d["xs"][k, :, 0], ref.xs[:, 0], atol=(x1 - x0) / 16000)
    assert np.allclose(d["xs"][k, :, 1], ref.xs[:, 1], atol=(y1 - y0) / 16000)
    assert np.allclose(d["f"][k], np.clip(ref.losses, style.LOSS_FLOOR, None), rtol=3e-3)
    # SGD ignores beta: every beta gives the same run, stored once
    sgd = typical.runs["SGD"]
    j = typical.combos.index({"lr": 0.05, "beta": 0.0})
    assert np.array_equal(sgd.xs[:, j], sgd.xs[:, k])
    ref_sgd = ol.run(ol.SGD(lr=0.05), Q, Q.start, 60)
    assert np.allclose(typical.series_data("SGD")["xs"][k], ref_sgd.xs, atol=(x1 - x0) / 16000)


def test_race_factories_called_once_with_column_arrays():
    calls = []

    def factory(lr, beta):
        calls.append((np.shape(lr), np.shape(beta)))
        return ol.Momentum(lr=lr, beta=beta)

    ex = explorers.race(Q, {"Momentum": factory, "fixed": ol.SGD(lr=0.1)},
                        {"lr": [0.1, 0.2], "beta": [0.5, 0.9, 0.99]}, steps=10)
    assert calls == [((6, 1), (6, 1))]
    assert ex.runs["fixed"].xs.shape == (11, 6, 2)


def test_race_marks_divergence(typical):
    s = typical.spec["series"][0]  # SGD
    d = typical.series_data("SGD")
    k = typical.combos.index({"lr": 0.3, "beta": 0.0})
    ref = ol.run(ol.SGD(lr=0.3), Q, Q.start, 60)
    assert ref.diverged_at > 0
    assert d["div"][k] == int(ref.diverged_at)
    e = d["end"][k]
    assert e < d["div"][k]
    x, y = d["xs"][k, e]
    (x0, x1), (y0, y1) = Q.window
    tol = 1e-3
    assert x0 - tol <= x <= x1 + tol and y0 - tol <= y <= y1 + tol
    assert np.all(d["div"][typical.combos.index({"lr": 0.05, "beta": 0.0})] == -1)
    assert typical.spec["surface"]["window"] == [[x0, x1], [y0, y1]]
    assert typical.spec["loss_panel"] and not typical.spec["live"]
    assert s["label"] == "SGD" and s["color"] == style.color("SGD")


def test_race_rejects_bad_input():
    with pytest.raises(ValueError, match="initial"):
        explorers.race(Q, OPTS, {"lr": LRS, "beta": BETAS}, initial={"nope": 1})
    with pytest.raises(ValueError, match="x0"):
        explorers.race(Q, OPTS, {"lr": LRS, "beta": BETAS}, x0=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="lr"):
        explorers.race(Q, OPTS, {"lr": [-1.0], "beta": [0.5]})
    with pytest.raises(ValueError, match="not sliders"):
        explorers.race(Q, OPTS, {"lr": LRS})


def test_initial_slider_values(typical):
    ex = explorers.race(Q, OPTS, {"lr": LRS, "beta": BETAS}, steps=5,
                        initial={"lr": 0.1, "beta": 0.9})
    inits = {s["name"]: s["values"][s["init"]] for s in ex.spec["sliders"]}
    assert inits == {"lr": 0.1, "beta": 0.9}
    labels = [s["label"] for s in ex.spec["sliders"]]
    assert labels == ["learning rate η", "β"]


# --------------------------------------------------------------------------- output modes
def test_book_mode_markup_only(monkeypatch, typical):
    monkeypatch.setenv("OPTIMLAB_BOOK", "1")
    bundle = typical._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.startswith('<div class="optimlab-explorer" id="ol-')
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)  # no external script, however spaced
    assert "http" not in html.lower()
    assert "window.optimlabExplorer" not in html and "optimlabEngine" not in html
    assert html.count("<script") == 1  # only the JSON data; the page's scripts draw the controls
    assert 'class="ol-fallback"' in html
    spec = _payload(html)
    assert spec == json.loads(json.dumps(typical.spec))
    assert "$" not in json.dumps(spec)  # no LaTeX for MathJax to find


def test_size_budget(typical):
    assert typical.size < 150_000
    rast = explorers.race(ol.surfaces.Rastrigin(), OPTS, {"lr": LRS, "beta": BETAS}, steps=60)
    assert rast.size < 150_000
    assert explorers.race(Q, FIXED_LIVE).size < 15_000  # a live race carries tables, not runs


# Save SVG writes this namespace into the file it makes; an identifier, never fetched.  Any other
# URL in the assets would be something the page loads from the network.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def test_live_mode_inlines_the_scripts(monkeypatch):
    monkeypatch.delenv("OPTIMLAB_BOOK", raising=False)
    ex = explorers.race(Q, FIXED_LIVE, steps=5)
    h = ex._repr_mimebundle_()["text/html"]
    assert ex._repr_html_() == h
    assert "window.optimlabExplorer" in h and "root.optimlabEngine" in h
    assert 'class="optimlab-explorer-data"' in h and "<script src=" not in h
    assert f"<style>{explorers.stylesheet()}</style>" in h
    # a live race's notebook output (engine + controller + style + spec) stays near 120 KB: it was
    # 119.5 KB before the network view's projector mode and Muon's code, 121.4 KB after
    assert "http" not in h.lower().replace(SVG_NAMESPACE, "") and len(h) < 125_000


def test_standalone_page(tmp_path):
    path = explorers.race(Q, FIXED, steps=3).save(tmp_path / "x.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "root.optimlabEngine" in text and "window.optimlabExplorer" not in text.split("<script>")[0]
    assert f"<style>{explorers.stylesheet()}</style></head>" in text


def test_controller_assets_are_clean():
    js = explorers.scripts()
    assert js.count(SVG_NAMESPACE) == 1  # the one URI: the name an exported SVG's format needs
    assert "http" not in js.replace(SVG_NAMESPACE, "") and "</script" not in js.lower()
    # no logging, but the one error a refused spec writes (the figure says it too)
    assert re.findall(r"console\.\w+", js) == ["console.error"] and "eval(" not in js
    for hook in ("data-ready", "data-step", "data-start", "data-combo", "ol-play", "ol-step",
                 "ol-param", "ol-num", "ol-toggle", "ol-surface", "ol-reset", "ol-copy", "ol-link",
                 "DOMContentLoaded", "prefers-reduced-motion", "aria-label", "aria-pressed"):
        assert hook in js, hook
    assert list(explorers.ASSETS) == ["engine.js", "network.js", "network_view.js", "explorer.js",
                                      "explorer.css"]  # the engine loads first
    css = explorers.stylesheet()
    assert ".optimlab-explorer" in css and "<" not in css and "http" not in css
    assert ".optimlab-explorer{" not in js  # the style lives in its own asset


# --------------------------------------------------------------------------- live races
FIXED_LIVE = {"GD": ol.SGD(lr=0.1), "Momentum": ol.SGD(lr=0.05, momentum=0.8),
              "Adam": ol.Adam(lr=0.1, betas=(0.8, 0.99))}


def test_live_race_spec_holds_tables_from_optimlab():
    ex = explorers.race(Q, FIXED_LIVE, steps=50)
    s = ex.spec
    assert s["live"] and s["kind"] == "race" and ex.live
    labels = [o["label"] for o in s["optimizers"]]
    assert labels[:3] == ["GD", "Momentum", "Adam"]
    # the catalogue adds the book's others, but not a copy of an optimizer already there
    assert "SGD" not in labels and "Momentum" in labels and {"Nesterov", "RMSprop", "NAdam"} <= set(labels)
    st = s["state"]
    assert st["active"] == ["GD", "Momentum", "Adam"] and st["steps"] == st["step"] == 50
    assert st["start"] == list(Q.start) and st["surface"] == Q.name
    assert st["lrs"]["GD"] == 0.1 and st["lrs"]["Momentum"] == 0.05 and not st["linked"]
    # knobs: β₁ takes its first value (Momentum's 0.8); Adam's β₁ = 0.8 follows it, its β₂ too
    assert st["beta1"] == 0.8 and st["beta2"] == 0.99
    by = {o["label"]: o for o in s["optimizers"]}
    assert by["Momentum"]["bind"] == {"beta1": "momentum"} and by["GD"]["bind"] == {}
    assert by["Adam"]["bind"] == {"beta1": "betas.0", "beta2": "betas.1"}
    assert by["Adam"]["hp"] == engine.optimizer_spec(FIXED_LIVE["Adam"])["hp"]
    assert s["defaults"] == engine.DEFAULTS
    assert s["surfaces"][Q.name] == engine.surface_spec(Q)
    assert {sp["kind"] for sp in s["surfaces"].values()} >= {"quadratic", "rosenbrock", "rastrigin"}
    # the Python side keeps the initial runs
    ref = ol.run(FIXED_LIVE["Adam"], Q, Q.start, 50)
    assert np.array_equal(ex.runs["Adam"].xs, ref.xs)


def test_live_race_weight_decay_moves_plain_sgd_too():
    ex = explorers.race(Q, {"SGD + L2": ol.SGD(lr=0.1, weight_decay=0.5),
                            "AdamW": ol.AdamW(lr=0.05, weight_decay=0.5)},
                        knobs=("beta1", "beta2", "weight_decay"))
    by = {o["label"]: o for o in ex.spec["optimizers"]}
    assert by["SGD + L2"]["bind"] == {"weight_decay": "weight_decay"}
    assert by["AdamW"]["bind"]["weight_decay"] == "weight_decay" and ex.spec["state"]["weight_decay"] == 0.5


def test_live_race_optimizer_with_its_own_beta_keeps_it():
    ex = explorers.race(Q, {"a": ol.SGD(lr=0.1, momentum=0.9), "b": ol.SGD(lr=0.1, momentum=0.5)})
    by = {o["label"]: o for o in ex.spec["optimizers"]}
    assert by["a"]["bind"] == {"beta1": "momentum"} and by["b"]["bind"] == {}
    assert ex.spec["state"]["linked"]


def test_live_or_replay_is_one_argument():
    assert explorers.race(Q, FIXED_LIVE).live
    assert not explorers.race(Q, FIXED_LIVE, live=False).live
    assert not explorers.race(Q, OPTS, {"lr": LRS, "beta": BETAS}, steps=5).live
    with pytest.raises(ValueError, match="sliders"):
        explorers.race(Q, OPTS, {"lr": LRS, "beta": BETAS}, live=True)
    with pytest.raises(ValueError, match="scalar hyperparameters"):
        explorers.race(Q, {"f": lambda lr=0.1: ol.SGD(lr=lr)}, live=True)
    with pytest.raises(ValueError, match="stochastic"):
        explorers.race(Q, FIXED_LIVE, live=True, noise=0.1)

    class Bowl(ol.surfaces.Surface):
        window = ((-1, 1), (-1, 1))
        start = (0.5, 0.5)

        def f(self, xy):
            return np.sum(np.asarray(xy) ** 2, axis=-1)

        def grad(self, xy):
            return 2 * np.asarray(xy)

    assert not explorers.race(Bowl(), FIXED_LIVE, steps=5).live  # unknown surface: replayed


def test_live_race_rejects_bad_input():
    with pytest.raises(ValueError, match="knobs"):
        explorers.race(Q, FIXED_LIVE, knobs=("gamma",))
    with pytest.raises(ValueError, match="lr_range"):
        explorers.race(Q, FIXED_LIVE, lr_range=(1.0, 2.0))
    with pytest.raises(ValueError, match="steps"):
        explorers.race(Q, FIXED_LIVE, steps=10**6)
    with pytest.raises(ValueError, match="x0"):
        explorers.race(Q, FIXED_LIVE, x0=(np.nan, 0))


def test_live_race_draws_python_runs():
    tr = ol.run(ol.SGD(lr=0.05, momentum=0.5), Q, Q.start, 30)
    ex = explorers.race(Q, FIXED_LIVE, steps=30, extra={"mine": tr, "points": tr.xs})
    e = ex.spec["extra"]
    assert e["mine"]["xs"] == tr.xs.ravel().tolist() and e["mine"]["div"] == -1
    assert np.allclose(e["points"]["losses"], tr.losses)
    bad = tr.xs.copy()
    bad[10:] = np.nan
    assert explorers.python_run(Q, bad, "q", "#000")["div"] == 10
    with pytest.raises(ValueError, match="shape"):
        explorers.python_run(Q, np.zeros((3, 3)), "q", "#000")


# --------------------------------------------------------------------------- lines
def test_lines_shapes_values_and_fixed_curves(monkeypatch):
    monkeypatch.setenv("OPTIMLAB_BOOK", "1")
    t = np.arange(50.0)
    betas = [0.5, 0.9, 0.99]
    sig = np.sin(t / 5)
    ys = {"EWMA": np.stack([ol.ewma(sig, b) for b in betas]), "signal": sig}
    ex = explorers.lines(t, ys, {"beta": betas}, xlabel="t", ylabel="value", animate=True)
    assert len(ex.combos) == 3 and ex.spec["T"] == 49 and ex.spec["animate"]
    s = ex.spec["series"]
    assert not s[0]["fixed"] and s[1]["fixed"]
    back = ex.series_data("EWMA")["y"]
    assert back.shape == (3, 50)
    assert np.allclose(back, ys["EWMA"], atol=2 * np.ptp(ys["EWMA"]) / 64000)
    assert np.allclose(ex.series_data("signal")["y"], sig, atol=2 * np.ptp(sig) / 64000)
    html = ex._repr_html_()
    assert _payload(html)["sliders"][0]["name"] == "beta"
    assert "http" not in html.lower()
    # grid-shaped input is accepted, wrong shapes are not
    grid = np.zeros((2, 3, 50))
    ex2 = explorers.lines(t, {"a": grid}, {"p": [1, 2], "q": [1, 2, 3]})
    assert len(ex2.combos) == 6 and not ex2.spec["animate"]
    assert not _payload(ex2.to_html("book"))["animate"]
    with pytest.raises(ValueError, match="shape"):
        explorers.lines(t, {"a": np.zeros((4, 50))}, {"p": [1, 2]})
    logy = explorers.lines(t, {"a": np.exp(-t)[None, :]}, logy=True)
    lowest = np.log10(np.exp(-t[-1]))  # the curve spans [lowest, 0] in log10 units
    assert logy.spec["logy"] and logy.spec["yrange"][0] <= lowest and logy.spec["yrange"][1] >= 0
