"""The lecturer's panel (optimlab.widgets): the live explorer as an anywidget, state synced with Python.

What the page does with the state is tested in the browser (tests/browser); here: the widget's
traits, their validation, the Python-side runs, Python-computed runs, and book mode.
"""
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
    assert "export default" in p._esm
    assert p.spec["live"] and p.spec["kind"] == "race"


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
