"""The lecturer's panel (optimlab.widgets): the live explorer as an anywidget, state synced with Python.

What the page does with the state is tested in the browser (tests/browser); here: the widget's
traits, their validation, the Python-side runs, Python-computed runs, and book mode.
"""
import json
import re

import numpy as np
import pytest
import traitlets

import optimlab as ol
from optimlab import engine, explorers, widgets


@pytest.fixture
def kernel(monkeypatch):
    monkeypatch.delenv("OPTIMLAB_BOOK", raising=False)


def test_panel_is_a_widget_with_the_explorers_state(kernel):
    p = widgets.panel("rosenbrock", optimizers=("SGD", "Adam"), lr=0.01, steps=50)
    assert isinstance(p, widgets.Panel)
    assert p.surface == "Rosenbrock" and p.active == ["SGD", "Adam"]
    assert p.start == [-1.5, 2.5] and p.steps == p.step == 50
    assert p.lr == 0.01 and p.beta1 == 0.9 and p.beta2 == 0.999
    # the same component as the book's explorers: engine + controller + the anywidget entry
    assert engine.engine_source() in p._esm and "optimlabExplorer.create" in p._esm
    assert "export default" in p._esm and p._css == explorers.stylesheet()
    assert p.spec["live"] and p.spec["kind"] == "race"


def test_one_list_of_the_synced_state(kernel):
    """The traits tagged ``state`` are what the page's glue syncs, and every key of a live spec's
    state (plus playing, which the page owns)."""
    p = widgets.panel("rosenbrock", optimizers=("SGD", "Adam"), steps=20, knobs=tuple(widgets.HYPERPARAMETERS[1:]))
    keys = json.loads(re.search(r"const KEYS = (\[.*?\]);", p._esm).group(1))
    assert keys == list(widgets.STATE_KEYS)
    assert set(p.spec["state"]) | {"playing"} == set(widgets.STATE_KEYS)
    for k in widgets.STATE_KEYS:
        assert p.trait_metadata(k, "sync"), k


def test_a_panel_is_only_a_live_race(kernel):
    replay = explorers.race(ol.surfaces.Quadratic(kappa=10), {"SGD": lambda lr: ol.SGD(lr=lr)}, {"lr": [0.01, 0.1]}, steps=5)
    with pytest.raises(ValueError, match="live race"):
        widgets.Panel(replay.spec)


def test_setting_traits_from_python(kernel):
    p = widgets.panel("quadratic", optimizers=("SGD", "Momentum", "Adam"), lr=0.05)
    p.lr = 0.02
    assert set(p.lrs.values()) == {0.02}
    p.lrs = {**p.lrs, "Adam": 0.1}
    assert p.lr == 0.02 and p.lrs["Adam"] == 0.1
    p.start = [0.5, -0.5]
    p.active = ["Adam", "SGD"]
    assert p.active == ["SGD", "Adam"]  # the panel's order


@pytest.mark.parametrize("name, value, message", [
    ("beta1", 1.5, "beta1 must be in"), ("beta2", -0.1, "beta2 must be in"),
    ("steps", 0, "steps must be in"), ("eps", float("nan"), "eps must be in"),
    ("start", [50.0, 0.0], "start must lie in the plot window"),
    ("surface", "moon", "surface must be one of"), ("active", ["Bogus"], "unknown optimizers"),
    ("lrs", {"SGD": -1.0}, "lr of SGD must be in"), ("step", 10**6, "step must be in"),
])
def test_bad_values_name_the_parameter_and_range(kernel, name, value, message):
    p = widgets.panel("quadratic")
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(p, name, value)


def test_runs_recompute_what_the_page_shows(kernel):
    p = widgets.panel(ol.surfaces.Quadratic(kappa=25, angle=30), optimizers=("Momentum", "Adam"),
                      lr=0.03, beta1=0.7, steps=40)
    p.start = [1.0, -1.0]
    p.beta2 = 0.99
    runs = p.runs()
    q = ol.surfaces.Quadratic(kappa=25, angle=30)
    ref = ol.run(ol.SGD(lr=0.03, momentum=0.7), q, (1.0, -1.0), 40)
    assert np.allclose(runs["Momentum"].xs, ref.xs, rtol=1e-12, atol=1e-12)
    ref = ol.run(ol.Adam(lr=0.03, betas=(0.7, 0.99)), q, (1.0, -1.0), 40)
    assert np.allclose(runs["Adam"].xs, ref.xs, rtol=1e-12, atol=1e-12)
    assert repr(p.optimizer("Adam")) == repr(ol.Adam(lr=0.03, betas=(0.7, 0.99)))


def test_every_offered_surface_rebuilds(kernel):
    p = widgets.panel("quadratic")
    for name, sp in p.spec["surfaces"].items():
        p.surface = name
        s = p.surface_object()
        assert engine.surface_spec(s)["kind"] == sp["kind"]
        assert np.allclose(s.f(np.array(sp["start"])), s.f(np.array(s.start)))


def test_python_runs_follow_the_start(kernel):
    p = widgets.panel("quadratic", optimizers=("SGD",), lr=0.1, steps=20)
    p.add("mine", lambda s, start, steps: ol.run(ol.SGD(lr=0.05), s, start, steps))
    first = list(p.extra["mine"]["xs"][:2])
    assert first == list(p.start)
    p.start = [1.0, 1.0]
    assert p.extra["mine"]["xs"][:2] == [1.0, 1.0]
    assert len(p.extra["mine"]["xs"]) == 2 * 21
    p.steps = 30
    assert len(p.extra["mine"]["losses"]) == 31


def test_run_torch_matches_optimlab(kernel):
    torch = pytest.importorskip("torch")
    q = ol.surfaces.Quadratic(kappa=10)
    tr = ol.run_torch(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5), q, q.start, 30)
    ref = ol.run(ol.SGD(lr=0.1, momentum=0.5), q, q.start, 30)
    assert np.allclose(tr.xs, ref.xs, rtol=1e-12, atol=1e-14)
    blow = ol.run_torch(lambda ps: torch.optim.SGD(ps, lr=5.0), q, q.start, 30)
    assert blow.diverged_at == ol.run(ol.SGD(lr=5.0), q, q.start, 30).diverged_at


def test_book_mode_returns_the_same_explorer(monkeypatch):
    monkeypatch.setenv("OPTIMLAB_BOOK", "1")
    ex = widgets.panel("quadratic", optimizers=("SGD", "Adam"), lr=0.05,
                       python={"mine": lambda s, start, steps: ol.run(ol.SGD(lr=0.05), s, start, steps)})
    assert isinstance(ex, explorers.Explorer) and ex.live
    html = ex._repr_mimebundle_()["text/html"]
    assert html.startswith('<div class="optimlab-explorer"')
    mine = ex.spec["extra"]["mine"]  # the Python run is computed once and carried in the page
    ref = ol.run(ol.SGD(lr=0.05), ol.surfaces.Quadratic(), ol.surfaces.Quadratic().start, ex.spec["state"]["steps"])
    np.testing.assert_allclose(np.reshape(mine["xs"], (-1, 2)), ref.xs)


def test_panel_rejects_bad_arguments(kernel):
    with pytest.raises(ValueError, match="unknown surface"):
        widgets.panel("moon")
    with pytest.raises(ValueError, match="unknown optimizers"):
        widgets.panel("quadratic", optimizers=("SGD", "Adamm"))
    with pytest.raises(ValueError, match="lrs names"):
        widgets.panel("quadratic", optimizers=("SGD",), lrs={"Adam": 0.1})


# --------------------------------------------------------------------------- live coding
def _momentum(surface, start, steps, lr, beta1):
    return ol.run(ol.SGD(lr=lr, momentum=beta1), surface, start, steps)


def test_add_runs_once_returns_none_and_a_failure_registers_nothing(kernel):
    p = widgets.panel("quadratic", optimizers=("SGD",), lr=0.1, steps=20)
    calls = []
    assert p.add("mine", lambda s, start, steps: calls.append(1) or ol.run(ol.SGD(lr=0.05), s, start, steps)) is None
    assert calls == [1] and set(p.extra) == {"mine"}
    with pytest.raises(ZeroDivisionError):  # the function's own error, raised in the cell
        p.add("broken", lambda s, start, steps: 1 / 0)
    with pytest.raises(ValueError, match="broken: compute.*must return a Trajectory or points"):
        p.add("broken", lambda s, start, steps: 3.0)
    assert set(p.extra) == {"mine"} and p.error == ""
    p.start = [1.0, 1.0]  # the panel goes on: the registered run follows, nothing else is called
    assert calls == [1, 1] and p.extra["mine"]["xs"][:2] == [1.0, 1.0]
    assert set(p.extra) == {"mine"} and p.error == ""
    with pytest.raises(ValueError, match="one of the panel's optimizers"):
        p.add("SGD", _momentum)


def test_remove_and_clear(kernel):
    p = widgets.panel("quadratic", optimizers=("SGD",), steps=10)
    p.add("a", _momentum)
    p.add("b", _momentum)
    p.remove("a")
    assert set(p.extra) == {"b"}
    with pytest.raises(ValueError, match=r"no run 'a' was added; added: \['b'\]"):
        p.remove("a")
    p.clear()
    assert p.extra == {}
    p.start = [0.5, 0.5]  # nothing left to recompute
    assert p.extra == {}


def test_python_runs_follow_the_sliders(kernel):
    p = widgets.panel("quadratic", optimizers=("Momentum",), lr=0.05, beta1=0.8, steps=30)
    p.add("mine", _momentum)
    assert np.allclose(p.extra["mine"]["xs"], p.runs()["Momentum"].xs.ravel())
    p.beta1, p.lr = 0.5, 0.02
    assert np.allclose(p.extra["mine"]["xs"], p.runs()["Momentum"].xs.ravel())
    assert np.allclose(p.extra["mine"]["xs"], ol.run(ol.SGD(lr=0.02, momentum=0.5), p.surface_object(),
                                                     p.start, 30).xs.ravel())
    # A run that names no hyperparameter is not recomputed when one changes.
    calls = []
    p.add("fixed", lambda s, start, steps: calls.append(1) or ol.run(ol.SGD(lr=0.01), s, start, steps))
    p.beta1 = 0.6
    p.lr = 0.03
    assert calls == [1]
    seen = {}
    p.add("all", lambda s, start, steps, **hp: seen.update(hp) or ol.run(ol.SGD(lr=0.01), s, start, steps))
    assert seen == {"lr": 0.03, "beta1": 0.6, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}


def test_a_failure_after_a_change_is_shown_not_raised(kernel):
    p = widgets.panel("quadratic", optimizers=("SGD",), steps=10)
    p.add("picky", lambda s, start, steps: ol.run(ol.SGD(lr=0.1), s, start, steps) if start[0] < 1 else nowhere)
    p.start = [1.5, 0.0]  # as a click on the page does: the observer runs it, and it fails
    assert "picky: NameError: name 'nowhere' is not defined" in p.error and "picky" not in p.extra
    p.start = [0.5, 0.0]
    assert p.error == "" and "picky" in p.extra


def test_surface_names_are_one_naming_in_any_case(kernel):
    p = widgets.panel("Rosenbrock")
    assert p.surface == "Rosenbrock"
    p.surface = "quadratic"
    assert p.surface == "quadratic (κ=10)"
    p.surface = "rosenbrock"
    assert p.surface == "Rosenbrock"
    p.surface = "HIMMELBLAU"
    assert p.surface == "Himmelblau"
    assert widgets.panel("quadratic (κ=10)").surface == "quadratic (κ=10)"
    with pytest.raises(ValueError, match="unknown surface 'moon'; choose from"):
        widgets.surface_key("moon", {"Rosenbrock": "rosenbrock"})


def test_savefig_writes_the_current_state(kernel, tmp_path):
    p = widgets.panel("quadratic", optimizers=("SGD", "Adam"), lr=0.05, steps=25)
    p.add("mine", _momentum)
    p.lrs = {**p.lrs, "Adam": 0.2}
    svg = p.savefig(tmp_path / "race.svg").read_text()
    assert p.caption() == "quadratic (κ=10) · start (-1.8, 0.9) · 25 steps · η: SGD 0.05, Adam 0.2 · β₁ 0.9 · β₂ 0.999"
    for text in ("SGD", "Adam", "mine", "25 steps", "Adam 0.2"):  # legend and caption, as text
        assert text in svg, text
    png = p.savefig(tmp_path / "race.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_panel_cell_runs_right_after_the_imports_cell(kernel):
    """The lecture recipe, in-process: a fresh namespace, the chapter's imports cell, its panel cell."""
    import sys
    from pathlib import Path

    import jupytext

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    import lab

    seen = 0
    for md in lab.chapters():
        nb = jupytext.read(md)
        cells = lab.lecture_cells(nb)
        if cells is None:
            continue
        namespace = {}
        for i in cells:
            exec(compile(nb.cells[i].source, f"{md.name}[{i}]", "exec"), namespace)
        assert isinstance(namespace["panel"], widgets.Panel), md.name
        seen += 1
    assert seen == sum("ol.widgets.panel(" in md.read_text() for md in lab.chapters()) >= 9


# --------------------------------------------------------------------------- the network panel
NET_OPTS = {"SGD": ol.SGD(lr=0.1), "Adam": ol.Adam(lr=3e-3)}


def test_network_panel_is_the_network_explorer_as_a_widget(kernel):
    n = widgets.network_panel(NET_OPTS, epochs=2, batch_size=64, schedule="cosine")
    assert isinstance(n, widgets.NetworkPanel) and n.spec["kind"] == "network"
    assert (n.epochs, n.batch_size, n.schedule, n.active) == (2, 64, "cosine", ["SGD", "Adam"])
    # every setting of the page's state is synced, and nothing else
    keys = json.loads(re.search(r"const KEYS = (\[.*?\]);", n._esm).group(1))
    assert keys == list(widgets.NETWORK_STATE_KEYS) and set(keys) == set(n.spec["state"])
    for k in keys:
        assert n.trait_metadata(k, "sync"), k
    # the page's trainer and view come with it
    for name in ("network.js", "network_view.js", "explorer.js", "engine.js"):
        assert explorers.ASSETS[name].read_text(encoding="utf-8") in n._esm, name
    with pytest.raises(ValueError, match="network explorer"):
        widgets.NetworkPanel(widgets.panel("quadratic").spec)


def test_network_panel_in_the_book_is_the_page_explorer(monkeypatch):
    monkeypatch.setenv("OPTIMLAB_BOOK", "1")
    ex = widgets.network_panel(NET_OPTS, epochs=2)
    assert isinstance(ex, explorers.Explorer) and ex.spec["kind"] == "network"


@pytest.mark.parametrize("name, value, message", [
    ("hidden", 0, r"hidden must be in \[1, 256\], got 0"),
    ("epochs", 101, r"epochs must be in \[1, 100\], got 101"),
    ("batch_size", 2000, r"batch_size must be in \[1, 1438\], got 2000"),
    ("clip", 1e4, r"clip must be in \[0.001, 1000.0\], got 10000.0"),
    ("beta2", 1.0, r"beta2 must be in \[0.0, 0.99999\], got 1.0"),
    ("schedule", "step", r"schedule must be one of \['constant', 'cosine', 'warmup_cosine'\], got 'step'"),
    ("scaling", "raw", r"scaling must be one of \['given', 'standardized', 'disparate'\], got 'raw'"),
    ("lrs", {"Adam": 5.0}, r"lr of Adam must be in \[1e-05, 1.0\], got 5.0"),
])
def test_network_panel_refuses_bad_values_naming_the_range(kernel, name, value, message):
    n = widgets.network_panel(NET_OPTS, epochs=2)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(n, name, value)


@pytest.mark.parametrize("setting", [
    {},
    {"schedule": "warmup_cosine", "warmup": 1, "clipping": True, "clip": 0.5, "scaling": "disparate"},
    {"schedule": "cosine", "scaling": "standardized", "hidden": 8, "seed": 3, "beta1": 0.5},
], ids=["default", "warmup-clip-disparate", "cosine-standardised"])
def test_network_panel_runs_are_ol_nets_train_of_the_setting_shown(kernel, setting):
    n = widgets.network_panel(NET_OPTS, epochs=2, batch_size=128)
    for k, v in setting.items():
        setattr(n, k, v)
    data = {"given": ol.datasets.digits(), "standardized": ol.datasets.digits().standardized(),
            "disparate": ol.datasets.digits().scaled(10.0 ** np.random.default_rng(0).uniform(-1.5, 1.5, 64))}[n.scaling]
    per = -(-len(data.y_train) // 128)
    schedule = None if n.schedule == "constant" else ol.nets.cosine_schedule(
        2 * per, warmup_steps=per * n.warmup if n.schedule == "warmup_cosine" else 0)
    expect = {"SGD": ol.SGD(lr=0.1), "Adam": ol.Adam(lr=3e-3, betas=(n.beta1, 0.999))}
    runs = n.runs()
    assert list(runs) == ["SGD", "Adam"]
    for label, opt in expect.items():
        ref = ol.nets.train(opt, ol.nets.MLP((64, n.hidden, 10)), data, epochs=2, batch_size=128, seed=n.seed,
                            lr_schedule=schedule, clip=n.clip if n.clipping else None)
        np.testing.assert_array_equal(runs[label].train_loss, ref.train_loss)
        np.testing.assert_array_equal(runs[label].test_accuracy, ref.test_accuracy)


def test_network_panel_trains_muon_and_adafactor_as_the_page_does(kernel):
    n = widgets.network_panel({"Adafactor": ol.Adafactor(lr=0.01), "Muon": [ol.Muon(lr=0.02)] + [ol.Adam(lr=3e-3)] * 3},
                              epochs=1, batch_size=256)
    muon = n.optimizer("Muon")
    assert [type(o).__name__ for o in muon] == ["Muon", "Adam", "Adam", "Adam"] and muon[1].lr == 3e-3
    runs = n.runs()
    data = ol.datasets.digits()
    ref = ol.nets.train([ol.Muon(lr=0.02)] + [ol.Adam(lr=3e-3)] * 3, ol.nets.MLP((64, 32, 10)), data, epochs=1,
                        batch_size=256, seed=0)
    np.testing.assert_array_equal(runs["Muon"].train_loss, ref.train_loss)
    assert np.isfinite(runs["Adafactor"].train_loss).all()


def test_network_panel_savefig_and_caption(kernel, tmp_path):
    n = widgets.network_panel(NET_OPTS, epochs=2, batch_size=256)
    n.lrs = {**n.lrs, "Adam": 0.01}
    assert "Adam 0.01" in n.caption() and "batch 256" in n.caption() and "2 epochs" in n.caption()
    path = n.savefig(tmp_path / "net.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
