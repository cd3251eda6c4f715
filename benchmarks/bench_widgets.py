"""How fast the live panel answers a slider, and how heavy a typical explorer is.

Run:  .venv/bin/python benchmarks/bench_widgets.py

1. Live panel (optimlab.widgets.Lab on an Agg canvas, the same figure the panel draws):
   time from a change of the learning-rate slider to a finished redraw — rerun 3 optimizers
   × 200 steps, update the artists, paint them over the cached background (a full draw when
   the axes change) — median over 20 changes.  Target: < 100 ms.  Also the same followed by a
   full figure render, and the redraw when only the step slider moves (Play).
2. Explorer: bytes of HTML that a typical race (3 optimizers, 2 sliders of 6 values, 60 steps)
   adds to a book page, and the time to build it.  Budget: < 150 KB.
"""
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import optimlab as ol  # noqa: E402
from optimlab import explorers, widgets  # noqa: E402


def _median_ms(times):
    return 1000 * statistics.median(times)


def bench_panel(n: int = 20):
    """Median ms of: slider change → redraw as the panel does it (rerun, set_data, then blit
    over the cached background, or a full draw when the axes change); the same followed by a
    full ``fig.canvas.draw()`` (the strict upper bound); and a step change (Play frame)."""
    lab = widgets.Lab("quadratic", ("SGD", "Momentum", "Adam"), lr=0.02, steps=200)
    lab.fig.canvas.draw()  # warm up (fonts, caches)
    panel, full, steps = [], [], []
    for lr in np.geomspace(0.005, 0.15, n):
        t = time.perf_counter()
        lab.set(lr=float(lr))
        panel.append(time.perf_counter() - t)
        lab.fig.canvas.draw()
        full.append(time.perf_counter() - t)
    for k in range(0, 200, 10):
        t = time.perf_counter()
        lab.set(step=k)
        steps.append(time.perf_counter() - t)
    return _median_ms(panel), _median_ms(full), _median_ms(steps)


def bench_explorer():
    q = ol.surfaces.Quadratic(kappa=10, angle=20)
    opts = {"SGD": lambda lr, **_: ol.SGD(lr=lr),
            "Momentum": lambda lr, beta: ol.SGD(lr=lr, momentum=beta),
            "Adam": lambda lr, beta: ol.Adam(lr=lr, betas=(beta, 0.999))}
    sliders = {"lr": [0.01, 0.03, 0.05, 0.1, 0.2, 0.3], "beta": [0.0, 0.5, 0.7, 0.8, 0.9, 0.95]}
    t = time.perf_counter()
    ex = explorers.race(q, opts, sliders, steps=60)
    html = ex.to_html("book")
    build = time.perf_counter() - t
    return len(html.encode("utf-8")), build, ex


def main():
    change, full, step = bench_panel()
    ok = "OK" if change < 100 else "SLOW"
    print(f"live panel, lr slider change → finished redraw (3 optimizers × 200 steps, Agg), "
          f"median of 20: {change:.1f} ms  [{ok}, target < 100 ms]")
    print(f"  the same plus a full fig.canvas.draw() (no blitting): {full:.1f} ms")
    print(f"  step slider / Play frame (no rerun): {step:.1f} ms")
    size, build, ex = bench_explorer()
    ok = "OK" if size < 150_000 else "TOO BIG"
    print(f"race explorer (3 optimizers, 2 sliders × 6 values = {len(ex.combos)} combinations, "
          f"60 steps): {size / 1000:.1f} KB of HTML  [{ok}, budget < 150 KB], "
          f"built in {1000 * build:.0f} ms")
    return 0 if change < 100 and size < 150_000 else 1


if __name__ == "__main__":
    sys.exit(main())
