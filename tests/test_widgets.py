"""The live panel: its logic (Lab) on Agg, the widget wiring, and the note in the book."""
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.backend_bases import MouseEvent  # noqa: E402

import optimlab as ol  # noqa: E402
from optimlab import widgets  # noqa: E402


def _path(lab, name):
    return lab.artists[name][0].get_xydata().copy()


def _click(lab, x, y, ax=None, button=1):
    ax = ax or lab.ax
    lab.fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    event = MouseEvent("button_press_event", lab.fig.canvas, px, py, button=button)
    lab.fig.canvas.callbacks.process("button_press_event", event)


def test_lab_runs_the_active_optimizers_from_the_start():
    lab = widgets.Lab("quadratic", ("SGD", "Adam"), lr=0.05, steps=30)
    assert set(lab.runs) == {"SGD", "Adam"}
    q = ol.surfaces.Quadratic()
    ref = ol.run(ol.Adam(lr=0.05, betas=(0.9, 0.999)), q, q.start, 30)
    assert np.allclose(lab.runs["Adam"].xs, ref.xs)
    assert np.allclose(_path(lab, "Adam"), ref.xs)
    assert lab.artists["SGD"][0].get_visible() and not lab.artists["RMSprop"][0].get_visible()


def test_changing_lr_changes_the_drawn_path():
    lab = widgets.Lab("rosenbrock", ("SGD", "Momentum", "Adam"), lr=0.001, steps=50)
    before = {n: _path(lab, n) for n in lab.active}
    lab.set(lr=0.002)
    assert lab.lr == 0.002
    for n in lab.active:
        assert not np.array_equal(before[n], _path(lab, n)), n
    r = ol.surfaces.Rosenbrock()
    assert np.allclose(_path(lab, "SGD"), ol.run(ol.SGD(lr=0.002), r, r.start, 50).xs)


def test_step_slider_shows_a_prefix_without_rerunning():
    lab = widgets.Lab("quadratic", ("Adam",), steps=40)
    runs = lab.runs
    lab.set(step=7)
    assert lab.runs is runs
    assert _path(lab, "Adam").shape == (8, 2)
    head = lab.artists["Adam"][1].get_xydata()
    assert np.allclose(head[0], runs["Adam"].xs[7])
    assert len(lab.artists["Adam"][3].get_xdata()) == 8  # loss curve up to step 7


def test_click_sets_the_start_point():
    lab = widgets.Lab("himmelblau", ("SGD", "Adam"), lr=0.01, steps=20)
    seen = []
    lab.listeners.append(lambda lab_, changed: seen.append(changed))
    _click(lab, 1.0, -2.0)
    assert np.allclose(lab.x0, (1.0, -2.0), atol=0.02)
    assert np.allclose(_path(lab, "SGD")[0], lab.x0)
    assert np.allclose(lab.runs["Adam"].xs[0], lab.x0)
    assert seen == [{"x0"}]
    x0 = lab.x0
    _click(lab, 10.0, 1e-3, ax=lab.ax_loss)  # a click on the loss panel does nothing
    _click(lab, 0.0, 0.0, button=3)          # nor does a right click
    assert lab.x0 == x0


def test_divergence_is_marked_and_toggles_hide_optimizers():
    lab = widgets.Lab("quadratic", ("SGD", "Adam"), lr=0.3, steps=60)
    d = int(lab.runs["SGD"].diverged_at)
    assert d > 0
    path, head, cross, loss, lcross = lab.artists["SGD"]
    assert cross.get_visible() and not head.get_visible() and lcross.get_visible()
    (x0, x1), (y0, y1) = lab.surface.window
    assert lab.ax.get_xlim() == (x0, x1) and lab.ax.get_ylim() == (y0, y1)
    labels = [t.get_text() for t in lab.ax_loss.get_legend().get_texts()]
    assert f"SGD (diverged at step {d})" in labels
    lab.set(active=["Adam"])
    assert not path.get_visible() and set(lab.runs) == {"Adam"}
    lab.set(surface="saddle")
    assert lab.x0 == tuple(map(float, ol.surfaces.Saddle().start))
    with pytest.raises(ValueError):
        lab.set(active=["nope"])
    with pytest.raises(ValueError):
        widgets.Lab("nope")
    with pytest.raises(TypeError):
        widgets.Lab(colour="red")


def test_book_mode_returns_the_note_and_no_widgets(monkeypatch):
    import ipywidgets

    monkeypatch.setenv("OPTIMLAB_BOOK", "1")
    note = widgets.panel()
    assert not isinstance(note, ipywidgets.Widget)
    html = note._repr_html_()
    assert "running Python kernel" in html and "launch button" in html
    assert "rocket icon, Binder or Colab" in repr(note)
    assert "optimlab-explorer" not in html  # does not pull the explorer assets into the page


def test_panel_widgets_drive_the_lab(monkeypatch):
    import ipywidgets as W

    monkeypatch.delenv("OPTIMLAB_BOOK", raising=False)
    box = widgets.panel("rosenbrock", ("SGD", "Adam"), lr=0.001, steps=40)
    assert isinstance(box, W.VBox)
    lab = box.lab
    by_desc = {}
    for row in box.children[:4]:
        for w in row.children:
            by_desc[getattr(w, "description", "")] = w
    before = _path(lab, "Adam")
    by_desc["η (lr)"].value = 0.003
    assert lab.lr == pytest.approx(0.003, rel=0.2)
    assert not np.array_equal(before, _path(lab, "Adam"))
    by_desc["Momentum"].value = True
    assert set(lab.active) == {"SGD", "Momentum", "Adam"}
    by_desc["start x"].value = -1.0
    assert lab.x0[0] == -1.0 and np.allclose(lab.runs["SGD"].xs[0], lab.x0)
    by_desc["steps"].value = 60
    assert lab.steps == 60 and by_desc["step"].max == 60
    by_desc["step"].value = 5
    assert _path(lab, "Adam").shape == (6, 2)
    by_desc["surface"].value = "beale"
    assert lab.surface.name == "Beale"
    assert by_desc["start x"].value == ol.surfaces.Beale().start[0]
