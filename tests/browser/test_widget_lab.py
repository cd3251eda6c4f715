"""The lecturer's panel in a real JupyterLab, driven in headless Chromium.

The `make lab` server (tests/browser/conftest.py) opens chapter 1 as a notebook; the test runs it, drags the
panel's learning-rate slider and clicks its contour in the page, then asks the same kernel (over
its own connection file) what the widget's state is; and the other way round, sets the state
from Python and finds the page's controls moved.
"""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from conftest import LAB_CHAPTER, READY_TIMEOUT, new_context, next_frame

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning",
                                        "ignore::DeprecationWarning")


def _kernel(lab):
    """A client of the notebook's own kernel (found through the server's sessions)."""
    from jupyter_client import BlockingKernelClient

    with urllib.request.urlopen(f"{lab['base']}/api/sessions?token={lab['token']}") as r:
        sessions = json.load(r)
    kid = next(s["kernel"]["id"] for s in sessions if s["path"].endswith(f"{LAB_CHAPTER}.ipynb"))
    kc = BlockingKernelClient(connection_file=str(lab["runtime"] / f"kernel-{kid}.json"))
    kc.load_connection_file()
    kc.start_channels()
    kc.wait_for_ready(timeout=READY_TIMEOUT / 1000)
    return kc


def _python(kc, code):
    """Run code in the notebook's kernel; return what it printed."""
    out = []
    reply = kc.execute_interactive(code, output_hook=lambda m: m["msg_type"] == "stream" and out.append(
        m["content"]["text"]), timeout=READY_TIMEOUT / 1000)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


def test_panel_in_jupyterlab_syncs_both_ways(browser, lab):
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{lab['base']}/lab/tree/{LAB_CHAPTER}.ipynb?reset&token={lab['token']}")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')")
    page.wait_for_function("(() => { const w = window.jupyterapp.shell.currentWidget;"
                           " const k = w && w.sessionContext && w.sessionContext.session &&"
                           " w.sessionContext.session.kernel; return k && k.status === 'idle'; })()")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    panel = page.locator(".jp-OutputArea .optimlab-explorer[data-ready='1']").last
    panel.wait_for()
    panel.scroll_into_view_if_needed()
    kc = _kernel(lab)
    find = ("import json, optimlab as ol\n"
            "p = [v for v in Out.values() if isinstance(v, ol.widgets.Panel)][-1]\n")
    _python(kc, find + "print(json.dumps([p.lr, p.start]))")
    # Page → Python: a slider moved by the keyboard, a click on the contour.
    slider = panel.locator("input.ol-param[data-name=lr]").first
    slider.click()  # as a lecturer would: the click moves the thumb and focuses the slider
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    shown = float(panel.locator("input.ol-num[data-name=lr]").first.input_value())
    (x0, x1), (y0, y1) = panel.evaluate("el => el.__ol.surface().window")
    target = (x0 + 0.7 * (x1 - x0), y0 + 0.25 * (y1 - y0))
    px, py = panel.evaluate("(el, p) => el.__ol.toPixel(p[0], p[1])", list(target))
    page.mouse.click(px, py)
    tol = 2 * (x1 - x0) / panel.evaluate("el => el.__ol.map.rect.w")
    deadline = time.monotonic() + READY_TIMEOUT / 1000
    while True:  # the model reaches the kernel a moment after the last change: ask until it has
        lr, start = json.loads(_python(kc, "print(json.dumps([p.lr, p.start]))"))
        if abs(lr - shown) < 1e-12 and abs(start[0] - target[0]) < tol and abs(start[1] - target[1]) < tol:
            break
        assert time.monotonic() < deadline, (f"kernel saw lr={lr}, start={start}; page shows {shown}, "
                                             f"{panel.get_attribute('data-start')} (clicked {target})")
        next_frame(page)  # paced by the kernel's answer and the page's next frame
    assert lr != 0.1  # the chapter opens the panel at 0.1
    # The runs Python computes for that state are the ones the page draws.
    drawn = panel.evaluate("el => el.__ol.snapshot().runs.SGD.xs")
    py = json.loads(_python(kc, "print(json.dumps(p.runs()['SGD'].xs[:len(p.runs()['SGD'].xs)].ravel().tolist()))"))
    n = min(len(drawn), len(py))
    assert n > 2 and max(abs(a - b) for a, b in zip(drawn[:n], py[:n])) < 1e-9
    # Python → page: the sliders and the start follow.
    _python(kc, "p.lr = 0.05\np.start = [1.0, -1.0]\np.steps = 25")
    page.wait_for_function("el => el.__ol.state.steps === 25 && el.dataset.start === '1,-1'",
                           arg=panel.element_handle())
    assert float(panel.locator("input.ol-num[data-name=lr]").first.input_value()) == 0.05
    assert panel.evaluate("el => el.__ol.snapshot().runs.SGD.xs.slice(0, 2)") == [1.0, -1.0]
    # Bad input from Python is refused with the parameter and its range.
    err = _python(kc, "try:\n    p.beta1 = 2\nexcept Exception as e:\n    print(e)")
    assert "beta1 must be in [0.0, 0.9999]" in err
    kc.stop_channels()
    context.close()
