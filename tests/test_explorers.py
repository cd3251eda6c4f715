"""Explorers (optimlab.explorers): precomputed data, output modes, size budget, controller."""
import json
import re
import sys
import types

import numpy as np
import pytest

import optimlab as ol
from optimlab import explorers, style

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
    fig = typical.spec["figure"]
    assert fig["layout"]["xaxis"]["range"] == [x0, x1]
    assert fig["layout"]["yaxis"]["range"] == [y0, y1]
    assert fig["layout"]["yaxis2"]["type"] == "log"
    assert fig["data"][s["t"]["cross"]]["marker"]["symbol"] == "x"


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
    assert "<script src=" not in html.replace(" ", "")
    assert "http" not in html.lower()
    assert "plotly.js v" not in html and "window.optimlabExplorer" not in html
    assert html.count("<script") == 1  # only the JSON data
    for hook in ('class="ol-play"', 'class="ol-step"', 'class="ol-param" data-name="lr"',
                 'class="ol-param" data-name="beta"', 'class="ol-plot"', 'class="ol-status"'):
        assert hook in html
    spec = _payload(html)
    assert spec["figure"]["config"]["typesetMath"] is False
    assert spec["figure"]["config"]["displaylogo"] is False
    assert "$" not in json.dumps(spec["figure"]["layout"])  # no LaTeX for MathJax to find


def test_size_budget(typical):
    assert typical.size < 150_000
    rast = explorers.race(ol.surfaces.Rastrigin(), OPTS, {"lr": LRS, "beta": BETAS}, steps=60)
    assert rast.size < 150_000


def test_live_mode_includes_plotly_once_per_session(monkeypatch, typical):
    monkeypatch.delenv("OPTIMLAB_BOOK", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    explorers.reset_session()
    first = explorers.race(Q, OPTS, {"lr": LRS[:2], "beta": [0.9]}, steps=5)
    second = explorers.race(Q, OPTS, {"lr": LRS[2:4], "beta": [0.9]}, steps=5)
    h1 = first._repr_mimebundle_()["text/html"]
    assert first._repr_html_() == h1  # both reprs agree (rendered once)
    h2 = second._repr_mimebundle_()["text/html"]
    assert h1.count("plotly.js v") == 1 and "plotly.js v" not in h2
    for h in (h1, h2):
        assert h.count("window.optimlabExplorer") >= 1  # the controller, inline
        assert 'class="optimlab-explorer-data"' in h
        assert "<script src=" not in h
    assert len(h1) > 4_000_000 > len(h2)
    explorers.reset_session()
    assert "plotly.js v" in explorers.race(Q, FIXED, steps=3).to_html("live")


def test_live_mode_under_colab_always_includes_plotly(monkeypatch):
    monkeypatch.delenv("OPTIMLAB_BOOK", raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    for _ in range(2):
        ex = explorers.race(Q, FIXED, steps=3)
        assert "plotly.js v" in ex._repr_mimebundle_()["text/html"]
    explorers.reset_session()


def test_standalone_page(tmp_path):
    path = explorers.race(Q, FIXED, steps=3).save(tmp_path / "x.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "plotly.js v" in text
    assert "window.optimlabExplorer" in text


def test_controller_asset_is_clean():
    js = explorers.CONTROLLER_PATH.read_text(encoding="utf-8")
    assert "http" not in js and "</script" not in js.lower()
    assert "console." not in js
    for hook in ("data-ready", "data-step", "data-combo", ".ol-play", ".ol-step", ".ol-param",
                 "DOMContentLoaded", "Plotly.restyle", "Plotly.newPlot"):
        assert hook in js
    assert explorers.plotly_js_path().is_file()


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
    assert 'class="ol-play"' in html and 'data-name="beta"' in html
    assert "http" not in html.lower()
    # grid-shaped input is accepted, wrong shapes are not
    grid = np.zeros((2, 3, 50))
    ex2 = explorers.lines(t, {"a": grid}, {"p": [1, 2], "q": [1, 2, 3]})
    assert len(ex2.combos) == 6 and not ex2.spec["animate"]
    assert 'class="ol-play"' not in ex2.to_html("book")
    with pytest.raises(ValueError, match="shape"):
        explorers.lines(t, {"a": np.zeros((4, 50))}, {"p": [1, 2]})
    logy = explorers.lines(t, {"a": np.exp(-t)[None, :]}, logy=True)
    assert logy.spec["figure"]["layout"]["yaxis"]["type"] == "log"
