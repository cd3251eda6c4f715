"""Static figures (optimlab.figures) and the shared drawing rules (optimlab.style)."""
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import optimlab as ol  # noqa: E402
from optimlab import figures, style  # noqa: E402

Q = ol.surfaces.Quadratic(kappa=10)


def _runs():
    return {"SGD": ol.run(ol.SGD(lr=0.3), Q, Q.start, 40),          # 0.3 > 2/L: diverges
            "Momentum": ol.run(ol.SGD(lr=0.05, momentum=0.8), Q, Q.start, 40),
            "Adam": ol.run(ol.Adam(lr=0.1), Q, Q.start, 40)}


def _markers(ax, marker):
    return [ln for ln in ax.lines if ln.get_marker() == marker and ln.get_visible()]


# --------------------------------------------------------------------------- style
def test_color_is_fixed_case_insensitive_and_first_word():
    assert style.color("Adam") == style.color("adam (β₁=0.9)") == style.color("ADAM, lr 0.1")
    assert style.color("GD") == style.color("SGD") == style.OKABE_ITO["black"]
    assert style.color("AdamW") != style.color("Adam")
    names = ["SGD", "Momentum", "Nesterov", "RMSprop", "Adagrad", "Adam", "AdamW", "AMSGrad",
             "NAdam"]
    assert len({style.color(n) for n in names}) == len(names)
    assert all(re.fullmatch(r"#[0-9A-Fa-f]{6}", style.color(n)) for n in names + ["β=0.9"])


def test_color_fallback_is_deterministic_and_colors_distinct():
    assert style.color("β = 0.9") == style.color("β = 0.9")
    cols = style.colors(["β=0.5", "β=0.9", "β=0.99", "Adam", "Adam, lr 0.3"])
    assert cols["Adam"] == style.color("Adam")
    assert len(set(cols.values())) == 5


def test_display_path_cuts_a_diverged_run_at_the_window_border():
    traj = ol.run(ol.SGD(lr=0.3), Q, Q.start, 40)
    assert traj.diverged_at > 0
    pts, end = style.display_path(traj.xs, traj.diverged_at, Q.window)
    (x0, x1), (y0, y1) = Q.window
    p = pts[end]
    assert x0 - 1e-9 <= p[0] <= x1 + 1e-9 and y0 - 1e-9 <= p[1] <= y1 + 1e-9
    on_border = np.isclose([p[0] - x0, x1 - p[0], p[1] - y0, y1 - p[1]], 0).any()
    assert on_border
    assert end < traj.diverged_at and np.all(pts[end:] == p)
    ok = ol.run(ol.Adam(lr=0.1), Q, Q.start, 40)
    pts2, end2 = style.display_path(ok.xs, ok.diverged_at, Q.window)
    assert end2 == 40 and np.array_equal(pts2, ok.xs)


def test_loss_limits_ignore_blow_ups():
    traj = ol.run(ol.SGD(lr=0.3), Q, Q.start, 40)
    good = ol.run(ol.SGD(lr=0.1), Q, Q.start, 40)
    gaps = np.stack([traj.losses, good.losses], axis=1)
    lo, hi = style.loss_limits(gaps, np.array([traj.diverged_at, good.diverged_at]))
    assert hi < 1e3 * gaps[0].max() and lo > 0
    assert traj.losses.max() > 1e6  # the blow-up really was large


# --------------------------------------------------------------------------- figures
def test_contour_axes_window_levels_and_minimum():
    ax = figures.contour(ol.surfaces.Rosenbrock())
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 3.0)
    assert len(ax.collections) >= 2  # filled contours and lines
    stars = _markers(ax, "*")
    assert len(stars) == 1 and np.allclose(np.c_[stars[0].get_data()], [[1.0, 1.0]])
    assert ax.get_xlabel() == "x"


def test_paths_marks_divergence_and_keeps_the_window():
    runs = _runs()
    d = int(runs["SGD"].diverged_at)
    ax = figures.paths(Q, runs, title="race")
    assert ax.get_xlim() == Q.window[0] and ax.get_ylim() == Q.window[1]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"SGD (diverged at step {d})", "Momentum", "Adam"]
    crosses = _markers(ax, "x")
    assert len(crosses) == 1
    cx, cy = crosses[0].get_data()
    assert crosses[0].get_color() == style.color("SGD")
    (x0, x1), (y0, y1) = Q.window
    assert x0 <= cx[0] <= x1 and y0 <= cy[0] <= y1
    # one path line per run, each ending where the run ends (or is cut)
    paths = [ln for ln in ax.lines if len(ln.get_xdata()) > 1 and ln.get_marker() == "o"]
    assert len(paths) == 3
    adam = [ln for ln in paths if ln.get_color() == style.color("Adam")][0]
    assert np.allclose(np.c_[adam.get_data()], runs["Adam"].xs)
    assert ax.get_title() == "race"


def test_paths_with_a_batch_draws_every_run_thin():
    lrs = np.array([0.05, 0.1, 0.15, 0.3])[:, None]
    runs = {"SGD": ol.run(ol.SGD(lr=lrs), Q, Q.start, 30)}
    ax = figures.paths(Q, runs)
    thin = [ln for ln in ax.lines if len(ln.get_xdata()) > 1]
    assert len(thin) == 4 and all(ln.get_linewidth() < 1.8 for ln in thin)
    assert ax.get_legend().get_texts()[0].get_text() == "SGD (1 of 4 diverged)"
    assert len(_markers(ax, "x")) == 1


def test_loss_curves_stop_at_divergence_on_a_log_axis():
    runs = _runs()
    d = int(runs["SGD"].diverged_at)
    ax = figures.loss_curves(runs, f_min=0.0)
    assert ax.get_yscale() == "log"
    sgd = [ln for ln in ax.lines if ln.get_label().startswith("SGD")][0]
    assert len(sgd.get_xdata()) == d and sgd.get_label() == f"SGD (diverged at step {d})"
    lo, hi = ax.get_ylim()
    assert hi < 1e4 and lo >= style.LOSS_FLOOR / 10
    assert len(_markers(ax, "x")) == 1
    assert ax.get_xlim() == (0, 40)
    lin = figures.loss_curves(runs, log=False)
    assert lin.get_yscale() == "linear" and lin.get_ylim()[1] < 100


def test_race_figure_has_two_panels_and_displays_once():
    from IPython.core.formatters import DisplayFormatter
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = figures.race(Q, _runs(), title="Three optimizers")
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xlim() == Q.window[0]
    assert fig.axes[1].get_yscale() == "log"
    assert plt.get_fignums() == before  # not registered with pyplot: shown only as the result
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    ax = figures.paths(Q, _runs())
    data, _ = DisplayFormatter().format(ax)  # a returned Axes shows its figure
    assert "image/png" in data


def test_figures_work_on_every_gallery_surface():
    for s in ol.surfaces.gallery():
        runs = {"Adam": ol.run(ol.Adam(lr=0.05), s, s.start, 20)}
        fig = figures.race(s, runs)
        assert fig.axes[0].get_xlim() == tuple(map(float, s.window[0]))


def test_user_axes_are_returned_and_not_replaced():
    fig, ax = figures.new_figure()
    assert figures.paths(Q, _runs(), ax=ax) is ax
    with pytest.raises(ValueError, match=r"runs\['bad'\] must be a Trajectory"):
        figures.paths(Q, {"bad": "not a trajectory"})
    with pytest.raises(ValueError, match=r"runs\['bad'\] must be a Trajectory"):
        figures.loss_curves({"bad": np.zeros((3, 2))})


def test_tuning_curves_draw_median_band_and_choice():
    from optimlab import tuning
    lrs = np.array([0.01, 0.1, 1.0])
    tu = tuning.tune(lambda lrs, seed: np.array([0.5, 0.8 + 0.01 * seed, np.nan]), lrs,
                     seeds=(0, 1, 2), maximize=True)
    ax = figures.tuning_curves({"Adam": tu}, ylabel="accuracy")
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [0.01, 0.1]  # the rate where every seed diverged is left out
    assert ax.get_lines()[1].get_xdata()[0] == 0.1 and "best η = 0.1" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match=r"tunings\['x'\] must be an optimlab.tuning.Tuning"):
        figures.tuning_curves({"x": [1, 2]})


def test_wide_figures_keep_their_text_legible_in_the_column():
    """A figure wider than the book's text column is shown scaled down: its text is enlarged so
    that it still shows at least MIN_TEXT_PX high there; a narrow figure keeps its sizes."""
    from matplotlib.text import Text

    def smallest(fig):
        fig.canvas.draw()
        return min(t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_visible())

    wide, axes = figures.new_figure(1, 4, figsize=(12, 3.1))
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="run")
        ax.set(title="η = 2.1 (diverges)", xlabel="θ")
        ax.legend()
    before = smallest(wide)
    wide._repr_png_()
    shown = figures.COLUMN_PX / (12 * wide.dpi)  # page px per figure px
    assert before * wide.dpi / 72 * shown < figures.MIN_TEXT_PX  # too small before
    assert smallest(wide) * wide.dpi / 72 * shown >= figures.MIN_TEXT_PX - 1e-9
    narrow, ax = figures.new_figure(figsize=(5.6, 4.4))
    ax.plot([0, 1], [0, 1])
    ax.set_title("t")
    before = smallest(narrow)
    narrow._repr_png_()
    assert smallest(narrow) == before
