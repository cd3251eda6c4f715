"""The lecturer's panel in a real JupyterLab (and Notebook 7), driven in headless Chromium.

The `make lab` server (tests/browser/conftest.py) opens the chapters as notebooks. The lecture
recipe is run exactly as the README gives it, for every chapter with a panel: the imports cell,
then the panel cell, nothing else. On chapter 1 the test then drags the panel's learning-rate
slider and clicks its contour in the page, asks the same kernel (over its own connection file)
what the widget's state is, and the other way round; it live-codes a failing `panel.add` in a new
cell, a Python run that fails after a click, reloads the page and opens a second window. Notebook
7 drives the same panel.
"""
from __future__ import annotations

import json
import sys
import time
import urllib.request

import jupytext
import nbformat
import pytest

from conftest import LAB_CHAPTER, READY_TIMEOUT, ROOT, new_context, next_frame

sys.path.insert(0, str(ROOT / "tools"))
import lab as lab_tool  # noqa: E402  (tools/lab.py: which cells the recipe runs)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning",
                                        "ignore::DeprecationWarning")

KERNEL_IDLE = ("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
               " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
               " return !!k && k.status === 'idle'; }")
WIDGET = ".jp-OutputArea-output:has(pre.ol-error)"  # the widget's own error area marks it
PANEL = WIDGET + " .optimlab-explorer[data-ready='1']"
#: Every chapter with a live panel.
CHAPTERS = [md.stem for md in lab_tool.chapters() if lab_tool.lecture_cells(jupytext.read(md))]


def _open(context, lab, chapter, app="lab"):
    """A page with ``chapter`` open in JupyterLab (``app="lab"``) or Notebook 7, its kernel idle."""
    page = context.new_page()
    where = f"lab/tree/{chapter}.ipynb?reset&" if app == "lab" else f"notebooks/{chapter}.ipynb?"
    page.goto(f"{lab['base']}/{where}token={lab['token']}")
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')")
    page.wait_for_function(KERNEL_IDLE)
    return page


def _run(page, index):
    """Run cell ``index`` of the open notebook as a lecturer would (select it, Shift-less run)."""
    page.evaluate("""async (i) => { const w = window.jupyterapp.shell.currentWidget;
        w.content.activeCellIndex = i; await window.jupyterapp.commands.execute('notebook:run-cell'); }""", index)
    page.wait_for_function(KERNEL_IDLE)


def _outputs(page, index):
    return page.evaluate("(i) => window.jupyterapp.shell.currentWidget.content.model.cells.get(i).toJSON().outputs",
                         index)


def _recipe(page, lab, chapter):
    """Run the chapter's imports cell, then its panel cell; return the panel cell's index."""
    imports, panel = lab_tool.lecture_cells(nbformat.read(str(lab["root"] / f"{chapter}.ipynb"), 4))
    for i in (imports, panel):
        _run(page, i)
        errors = [o for o in _outputs(page, i) if o["output_type"] == "error"]
        assert not errors, f"{chapter}, cell {i}: {errors[0]['ename']}: {errors[0]['evalue']}"
    return panel


def _shutdown_kernels(lab, chapter):
    with urllib.request.urlopen(f"{lab['base']}/api/sessions?token={lab['token']}") as r:
        sessions = json.load(r)
    for s in sessions:
        if s["path"].endswith(f"{chapter}.ipynb"):
            urllib.request.urlopen(urllib.request.Request(
                f"{lab['base']}/api/sessions/{s['id']}?token={lab['token']}", method="DELETE"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_recipe_imports_then_panel(browser, lab, chapter):
    """README: "run the chapter's first visible code cell (the imports), then the panel's cell"."""
    context = new_context(browser, viewport={"width": 1280, "height": 720})
    try:
        page = _open(context, lab, chapter)
        cell = _recipe(page, lab, chapter)
        panel = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(PANEL)
        panel.wait_for()
        text = page.locator(".jp-Notebook .jp-Cell").nth(cell).inner_text()
        assert "Panel object" not in text and "Interactive figure: loading" not in text
    finally:
        context.close()
        _shutdown_kernels(lab, chapter)


def _kernel(lab, chapter=LAB_CHAPTER):
    """A client of the notebook's own kernel (found through the server's sessions)."""
    from jupyter_client import BlockingKernelClient

    with urllib.request.urlopen(f"{lab['base']}/api/sessions?token={lab['token']}") as r:
        sessions = json.load(r)
    kid = next(s["kernel"]["id"] for s in sessions if s["path"].endswith(f"{chapter}.ipynb"))
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


def _new_cell_below(page, index, code):
    """Insert a code cell below ``index`` holding ``code``; return its index."""
    page.evaluate("""([i, code]) => { const w = window.jupyterapp.shell.currentWidget;
        w.content.activeCellIndex = i; window.jupyterapp.commands.execute('notebook:insert-cell-below');
        w.content.activeCell.model.sharedModel.setSource(code); }""", [index, code])
    return index + 1


def test_panel_in_jupyterlab_syncs_both_ways_and_survives_live_coding(browser, lab):
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    page = _open(context, lab, LAB_CHAPTER)
    cell = _recipe(page, lab, LAB_CHAPTER)
    panel = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(PANEL)
    panel.wait_for()
    panel.scroll_into_view_if_needed()
    kc = _kernel(lab)
    # Live coding: a failing add raises in its cell, briefly, and registers nothing.
    bad = _new_cell_below(page, cell, 'panel.add("broken", lambda surface, start, steps: undefined_name)')
    _run(page, bad)
    [err] = [o for o in _outputs(page, bad) if o["output_type"] == "error"]
    assert err["ename"] == "NameError" and "undefined_name" in err["evalue"]
    trace = "\n".join(err["traceback"])
    assert "traitlets" not in trace and len(err["traceback"]) <= 8, trace
    assert json.loads(_python(kc, "import json; print(json.dumps(sorted(panel.extra)))")) == []
    # A run that fails only for starts on the right: added while the start is on the left.
    _python(kc, "import optimlab as ol\n"
                "panel.add('picky', lambda surface, start, steps, lr: ol.run(ol.SGD(lr=lr), surface, start, steps)"
                " if start[0] < 0 else 1 / 0)")
    page.wait_for_function("el => 'picky' in el.__ol.extra", arg=panel.element_handle())
    # Page → Python: a slider moved by the keyboard, a click on the contour (on the right).
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
        lr, start = json.loads(_python(kc, "print(json.dumps([panel.lr, panel.start]))"))
        if abs(lr - shown) < 1e-12 and abs(start[0] - target[0]) < tol and abs(start[1] - target[1]) < tol:
            break
        assert time.monotonic() < deadline, (f"kernel saw lr={lr}, start={start}; page shows {shown}, "
                                             f"{panel.get_attribute('data-start')} (clicked {target})")
        next_frame(page)  # paced by the kernel's answer and the page's next frame
    assert lr != 0.1  # the chapter opens the panel at 0.1
    # The Python run failed after that click: its error is in the notebook, under the panel.
    error = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(WIDGET + " pre.ol-error")
    error.wait_for()
    assert "picky: ZeroDivisionError: division by zero" in error.inner_text()
    page.screenshot(path=str(lab["root"].parent / "lab-panel-error.png"))
    # The runs Python computes for that state are the ones the page draws.
    drawn = panel.evaluate("el => el.__ol.snapshot().runs.SGD.xs")
    py = json.loads(_python(kc, "print(json.dumps(panel.runs()['SGD'].xs.ravel().tolist()))"))
    n = min(len(drawn), len(py))
    assert n > 2 and max(abs(a - b) for a, b in zip(drawn[:n], py[:n])) < 1e-9
    # Python → page: the sliders and the start follow; the error clears when the run succeeds.
    _python(kc, "panel.lr = 0.05\npanel.start = [-1.0, -1.0]\npanel.steps = 25")
    page.wait_for_function("el => el.__ol.state.steps === 25 && el.dataset.start === '-1,-1'",
                           arg=panel.element_handle())
    assert float(panel.locator("input.ol-num[data-name=lr]").first.input_value()) == 0.05
    assert panel.evaluate("el => el.__ol.snapshot().runs.SGD.xs.slice(0, 2)") == [-1.0, -1.0]
    error.wait_for(state="hidden")
    # The Python run follows the learning rate: it is SGD at the panel's rate, as the page's SGD.
    page.wait_for_function("el => el.__ol.extra.picky && el.__ol.extra.picky.xs.length === 52",
                           arg=panel.element_handle())
    picky = panel.evaluate("el => el.__ol.extra.picky.xs")
    sgd = panel.evaluate("el => el.__ol.snapshot().runs.SGD.xs")
    assert max(abs(a - b) for a, b in zip(picky, sgd)) < 1e-9
    # Bad input from Python is refused with the parameter and its range; a surface by its kind.
    err = _python(kc, "try:\n    panel.beta1 = 2\nexcept Exception as e:\n    print(e)")
    assert "beta1 must be in [0.0, 0.9999]" in err
    _python(kc, "panel.surface = 'rosenbrock'")
    page.wait_for_function("el => el.__ol.state.surface === 'Rosenbrock'", arg=panel.element_handle())
    kc.stop_channels()
    context.close()


def test_reload_and_second_window_redraw_the_panel(browser, lab):
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    page = _open(context, lab, LAB_CHAPTER)
    cell = _recipe(page, lab, LAB_CHAPTER)
    page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(PANEL).wait_for()
    with page.expect_response(lambda r: r.request.method == "PUT" and f"/api/contents/{LAB_CHAPTER}.ipynb" in r.url):
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    saved = json.loads((lab["root"] / f"{LAB_CHAPTER}.ipynb").read_text())
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(m["state"].get("spec", {}).get("kind") == "race" for m in state.values()), \
        "the panel's state is not saved with the notebook"
    second = new_context(browser, viewport={"width": 1280, "height": 720})
    for where in (page, second.new_page()):
        if where is page:
            page.reload()
        else:
            where.goto(f"{lab['base']}/lab/tree/{LAB_CHAPTER}.ipynb?reset&token={lab['token']}")
        where.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')")
        out = where.locator(".jp-Notebook .jp-Cell").nth(cell)
        out.locator(PANEL).wait_for()
        assert "Panel object" not in out.inner_text()
    second.close()
    context.close()


def test_panel_in_notebook_7(browser, lab):
    chapter = "04_momentum"
    context = new_context(browser, viewport={"width": 1280, "height": 720})
    try:
        page = _open(context, lab, chapter, app="notebook")
        assert page.locator("#top-panel, .jp-NotebookPanel").count() >= 1
        cell = _recipe(page, lab, chapter)
        panel = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(PANEL)
        panel.wait_for()
        panel.scroll_into_view_if_needed()
        page.screenshot(path=str(lab["root"].parent / "notebook7-panel.png"))
        slider = panel.locator("input.ol-param[data-name=beta1]").first
        slider.click()  # the thumb jumps to the click, the slider has the focus
        for _ in range(3):
            page.keyboard.press("ArrowLeft")
        shown = float(panel.locator("input.ol-num[data-name=beta1]").first.input_value())
        assert shown != 0.8  # the chapter opens the panel at β₁ = 0.8
        kc = _kernel(lab, chapter)
        deadline = time.monotonic() + READY_TIMEOUT / 1000
        while abs(float(_python(kc, "print(panel.beta1)")) - shown) > 1e-12:
            assert time.monotonic() < deadline, "Notebook 7: the kernel never saw the slider move"
            next_frame(page)
        kc.stop_channels()
    finally:
        context.close()
        _shutdown_kernels(lab, chapter)


def test_panel_projector_mode_and_export_in_jupyterlab(browser, lab, tmp_path):
    """The panel's Full screen at 1280×720 in JupyterLab: every control and the legend on the
    screen, Esc leaves; Save PNG and Save SVG download the view (tests/browser/test_projector.py
    checks the same in the book)."""
    import xml.etree.ElementTree as ET

    from test_projector import _FITS, _png_size

    context = new_context(browser, viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = _open(context, lab, LAB_CHAPTER)
    cell = _recipe(page, lab, LAB_CHAPTER)
    panel = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(PANEL)
    panel.wait_for()
    panel.locator(".ol-full").scroll_into_view_if_needed()
    panel.locator(".ol-full").click()
    page.wait_for_function("el => document.fullscreenElement === el && el.dataset.fit === innerWidth + 'x' + innerHeight",
                           arg=panel.element_handle())
    assert panel.evaluate(_FITS) == []
    shown = [t.get_attribute("data-label") for t in panel.locator(".ol-toggle[aria-pressed=true]").all()]
    assert [b["label"] for b in panel.evaluate("el => el.__ol.legendBoxes()")] == shown
    page.keyboard.press("Escape")
    page.wait_for_function("el => el.dataset.projector === '0' && !document.fullscreenElement", arg=panel.element_handle())
    with page.expect_download() as info:
        panel.locator(".ol-save-png").click()
    info.value.save_as(tmp_path / "view.png")
    assert _png_size((tmp_path / "view.png").read_bytes())[0] > 400
    with page.expect_download() as info:
        panel.locator(".ol-save-svg").click()
    info.value.save_as(tmp_path / "view.svg")
    svg = ET.parse(tmp_path / "view.svg").getroot()
    runs = svg.findall(".//{*}g[@class='ol-map']//{*}path[@class='ol-run']")
    assert sorted(p.get("data-label") for p in runs) == sorted(shown)
    assert panel.evaluate("el => el.__ol.caption()") in ["".join(t.itertext()) for t in svg.findall(".//{*}text")]
    context.close()


NETWORK_CHAPTER = "09_network"
NETWORK_PANEL = WIDGET + " .optimlab-explorer[data-kind=network][data-ready='1']"


def test_network_panel_trains_in_jupyterlab_synced_with_python(browser, lab):
    """The lecturer's network panel (``ol.widgets.network_panel``) in chapter 9's notebook: it
    trains in JupyterLab's page, its curves equal ``panel.runs()`` computed by the kernel, a
    setting changed from Python retrains the page, and one changed on the page reaches Python."""
    context = new_context(browser, viewport={"width": 1366, "height": 768})
    try:
        page = _open(context, lab, NETWORK_CHAPTER)
        imports, _ = lab_tool.lecture_cells(nbformat.read(str(lab["root"] / f"{NETWORK_CHAPTER}.ipynb"), 4))
        _run(page, imports)
        cell = _new_cell_below(page, imports, 'net_panel = ol.widgets.network_panel({"SGD": ol.SGD(lr=0.1), '
                               '"Adam": ol.Adam(lr=3e-3)}, epochs=2, batch_size=64)\nnet_panel')
        _run(page, cell)
        panel = page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(NETWORK_PANEL)
        panel.wait_for()
        panel.scroll_into_view_if_needed()
        done = "el => el.dataset.done === '1'"
        page.wait_for_function(done, arg=panel.element_handle())
        kc = _kernel(lab, NETWORK_CHAPTER)

        def same_as_python():
            drawn = panel.evaluate("el => el.__ol.snapshot().runs")
            py = json.loads(_python(kc, "import json; print(json.dumps({k: [r.train_loss.tolist(), "
                                        "r.test_accuracy.tolist()] for k, r in net_panel.runs().items()}))"))
            assert sorted(drawn) == sorted(py)
            for label, (loss, acc) in py.items():
                assert drawn[label]["train_loss"] == pytest.approx(loss, rel=1e-9), label
                assert drawn[label]["test_accuracy"] == pytest.approx(acc, rel=1e-9), label

        same_as_python()
        # Python → page: a new batch size and schedule retrain the page.
        _python(kc, "net_panel.batch_size = 128\nnet_panel.schedule = 'cosine'")
        page.wait_for_function("el => el.__ol.state.batch_size === 128 && el.__ol.state.schedule === 'cosine'"
                               " && el.dataset.done === '1'", arg=panel.element_handle())
        assert panel.locator("input.ol-num[data-name=batch_size]").input_value() == "128"
        same_as_python()
        # Page → Python: a typed learning rate and a toggle.
        box = panel.locator("input.ol-num[data-name=lr][data-opt='Adam']")
        box.fill("0.01")
        box.press("Enter")
        panel.locator(".ol-toggle[data-label='SGD']").click()
        page.wait_for_function(done, arg=panel.element_handle())
        deadline = time.monotonic() + READY_TIMEOUT / 1000
        while json.loads(_python(kc, "print(json.dumps([net_panel.lrs['Adam'], net_panel.active]))")) != [0.01, ["Adam"]]:
            assert time.monotonic() < deadline, "the page's change did not reach Python"
            next_frame(page)
        same_as_python()
        # A bad value from Python is refused, naming the parameter and its range.
        err = _python(kc, "try:\n    net_panel.hidden = 0\nexcept Exception as e:\n    print(e)")
        assert "hidden must be in [1, 256], got 0" in err
        kc.stop_channels()
    finally:
        context.close()
        _shutdown_kernels(lab, NETWORK_CHAPTER)
