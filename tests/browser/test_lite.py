"""JupyterLite ("Run in your browser"), network off: chapter 1 runs in Pyodide from the built site.

Headless Chromium opens chapter 1's "Run in your browser" link from the built book, waits for the
Pyodide kernel, runs every cell, and checks the outputs; every request must stay on 127.0.0.1
(the test server), so Pyodide, its packages and optimlab all come from the site.
"""
from __future__ import annotations


import pytest

from conftest import HTML, SHOTS, offline_context

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")

CHAPTER = "book/01_gradient_descent"
# Ceilings, not sleeps: each wait returns as soon as its readiness signal holds (the kernel idle,
# every cell run). Pyodide starts in ~10 s on a quiet 2-core machine and running the chapter takes
# ~17 s; these two are longer than READY_TIMEOUT (every other wait's ceiling) because a busy
# machine can multiply both.
KERNEL_READY_MS = 240_000
RUN_ALL_MS = 600_000
NOTE = "This cell needs PyTorch"

_KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle'; }"""
_ALL_RUN = """() => { const w = window.jupyterapp.shell.currentWidget;
  const cells = [...w.content.model.cells].filter(c => c.type === 'code');
  return w.sessionContext.session.kernel.status === 'idle' && cells.every(c => c.executionCount !== null); }"""
_OUTPUTS = """() => [...window.jupyterapp.shell.currentWidget.content.model.cells]
  .filter(c => c.type === 'code')
  .map(c => ({source: c.sharedModel.getSource(), outputs: [...Array(c.outputs.length).keys()].map(i => c.outputs.get(i).toJSON())}))"""


@pytest.fixture(scope="module")
def lite_run(browser, site):
    """Chapter 1 opened from its page's "Run in your browser" link, every cell run once."""
    if not (HTML / "lite" / "index.html").exists():
        pytest.fail("no JupyterLite site in the book: run `make book` (it builds `make lite`)")
    external: list[str] = []
    context = offline_context(browser, site, external, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: m.type == "error" and console.append(m.text))
    page.on("pageerror", lambda e: console.append(f"uncaught: {e}"))
    page.goto(site + CHAPTER + ".html", wait_until="load")
    href = page.get_attribute("a.btn-run-in-browser-button", "href")
    assert href and "lite/notebooks/index.html?path=" in href, f"no Run in your browser link: {href}"
    page.goto(page.url.rsplit("/", 1)[0] + "/" + href)
    page.wait_for_function(_KERNEL_IDLE, timeout=KERNEL_READY_MS, polling=250)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_ALL_RUN, timeout=RUN_ALL_MS, polling=250)
    cells = page.evaluate(_OUTPUTS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lite_01_gradient_descent.png"))
    yield {"page": page, "cells": cells, "external": external, "console": console}
    context.close()


def _text(output) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def test_chapter_runs_offline_in_the_browser_without_errors(lite_run):
    cells = lite_run["cells"]
    assert lite_run["external"] == [], f"requests leaving 127.0.0.1: {lite_run['external'][:5]}"
    assert cells and "optimlab.notebook.setup(" in cells[0]["source"], "the first cell is not the install cell"
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(cells) for o in c["outputs"]
              if o["output_type"] == "error"]
    assert errors == [], f"error outputs: {errors[:5]}"
    tracebacks = [i for i, c in enumerate(cells) for o in c["outputs"]
                  if o["output_type"] == "stream" and "Traceback" in _text(o)]
    assert tracebacks == [], f"tracebacks printed by cells {tracebacks}"


def test_cells_without_torch_compute_in_the_browser(lite_run):
    cells = lite_run["cells"]
    assert all(NOTE not in _text(o) for o in cells[1]["outputs"]), "the setup cell needs torch"
    figures = [i for i, c in enumerate(cells) for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert figures, "no cell drew a figure"
    noted = [i for i, c in enumerate(cells) if any(NOTE in _text(o) for o in c["outputs"])]
    assert len(noted) < len(cells) / 2, f"{len(noted)} of {len(cells)} cells need torch: {noted}"


def test_explorer_responds_to_a_slider(lite_run):
    page = lite_run["page"]
    # Off-screen cells are not rendered (the notebook is windowed): scroll to the first explorer's cell.
    assert page.evaluate("""async () => { const nb = window.jupyterapp.shell.currentWidget.content;
        const i = nb.widgets.findIndex(w => w.node.querySelector('.optimlab-explorer'));
        if (i < 0) return false;
        nb.activeCellIndex = i; await nb.scrollToItem(i, 'start'); return true; }"""), "no explorer in the notebook"
    explorer = page.locator(".optimlab-explorer").first
    page.wait_for_function("el => el.dataset.ready === '1' && el.offsetWidth > 0", arg=explorer.element_handle())
    slider = explorer.locator("input.ol-param").first
    snapshot = "el => JSON.stringify(el.__ol.snapshot().runs)"
    before = explorer.evaluate(snapshot)
    lo, hi, cur = (slider.evaluate(f"e => Number(e.{k})") for k in ("min", "max", "value"))
    slider.evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }",
                    lo if cur != lo else hi)
    page.wait_for_function(f"el => ({snapshot})(el) !== {before!r}", arg=explorer.element_handle())
    # Play advances the steps, in the browser's kernel-free page as in the book.
    explorer.locator("input.ol-step").evaluate("e => { e.value = 0; e.dispatchEvent(new Event('input', {bubbles: true})); }")
    explorer.locator(".ol-play").click()
    page.wait_for_function("el => Number(el.dataset.step) > 0", arg=explorer.element_handle())


def test_no_console_error_and_nothing_on_stderr(lite_run):
    assert [m for m in lite_run["console"] if "last_modified" in m or "TypeError" in m] == []
    stderr = [(i, _text(o)[:80]) for i, c in enumerate(lite_run["cells"]) for o in c["outputs"]
              if o["output_type"] == "stream" and o.get("name") == "stderr"]
    assert stderr == [], f"cells printing on stderr (e.g. matplotlib's font cache): {stderr}"


def _book_numbers() -> dict[str, str]:
    """label → the number the built book shows for it, from every chapter's HTML."""
    import re

    numbers = {}
    for page in (HTML / "book").glob("*.html"):
        for number, label in re.findall(r'class="eqno">\(([0-9.]+)\)<a class="headerlink" href="#equation-([\w:-]+)"',
                                        page.read_text(encoding="utf-8")):
            numbers[label] = number
    return numbers


def test_lite_copies_number_equations_as_the_book_and_link_references():
    import json
    import re

    book = _book_numbers()
    assert book, "no numbered equation in the built book"
    lite = {}
    for path in (HTML / "lite" / "files").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert "{ref}" not in text and "{cite}" not in text, f"{path.name}: a role left unresolved"
        assert not re.search(r"^\$\$", text, re.M), f"{path.name}: display math the notebook would number itself"
        lite.update(re.findall(r"^:label: ([\w:-]+)\n:enumerator: ([0-9]+)$", text, re.M))
    assert lite == book


@pytest.fixture(scope="module")
def lite_torch_chapter(browser, site):
    """Chapter 8 (PyTorch throughout) run in JupyterLite: every cell once."""
    external: list[str] = []
    context = offline_context(browser, site, external, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(site + "lite/notebooks/index.html?path=08_custom_optimizer.ipynb")
    page.wait_for_function(_KERNEL_IDLE, timeout=KERNEL_READY_MS, polling=250)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(_ALL_RUN, timeout=RUN_ALL_MS, polling=250)
    yield {"page": page, "cells": page.evaluate(_OUTPUTS), "external": external}
    context.close()


def test_torch_chapter_shows_its_explorers_and_book_outputs_in_the_browser(lite_torch_chapter):
    import json

    from optimlab.notebook import BOOK_OUTPUT, cell_key

    saved = json.loads((HTML / "lite" / "files" / "book-outputs" / "08_custom_optimizer.json").read_text())
    cells = lite_torch_chapter["cells"]
    assert lite_torch_chapter["external"] == []
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(cells) for o in c["outputs"]
              if o["output_type"] == "error"]
    assert errors == [], f"error outputs: {errors[:5]}"
    noted = [i for i, c in enumerate(cells) if any(NOTE in _text(o) for o in c["outputs"])]
    assert noted, "no cell needed torch in the browser"
    bare = [i for i in noted if cell_key(cells[i]["source"]) in saved
            and not any(BOOK_OUTPUT in _text(o) for o in cells[i]["outputs"])]
    assert bare == [], f"torch cells shown without their book output: {bare}"
    explorers = [i for i, c in enumerate(cells) for o in c["outputs"]
                 if "optimlab-explorer" in str(o.get("data", {}).get("text/html", ""))]
    assert len(explorers) >= 3, f"chapter 8's explorers (two figures and the panel) missing: {explorers}"
    page = lite_torch_chapter["page"]
    assert page.evaluate("""async () => { const nb = window.jupyterapp.shell.currentWidget.content;
        const i = nb.widgets.findIndex(w => w.node.querySelector('.optimlab-explorer'));
        if (i < 0) return false; nb.activeCellIndex = i; await nb.scrollToItem(i, 'start'); return true; }""")
    explorer = page.locator(".optimlab-explorer").first
    page.wait_for_function("el => el.dataset.ready === '1' && el.offsetWidth > 0", arg=explorer.element_handle())


def test_network_chapter_runs_and_trains_in_the_browser(browser, site):
    """Chapter 9 (numpy only) run in JupyterLite, every cell once: its network explorer trains in
    the page (its Web Workers inside JupyterLite's page) and retrains on a change; no cell fails."""
    external: list[str] = []
    context = offline_context(browser, site, external, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(site + "lite/notebooks/index.html?path=09_network.ipynb")
        page.wait_for_function(_KERNEL_IDLE, timeout=KERNEL_READY_MS, polling=250)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(_ALL_RUN, timeout=RUN_ALL_MS, polling=250)
        cells = page.evaluate(_OUTPUTS)
        assert external == [], f"requests leaving 127.0.0.1: {external[:5]}"
        assert not any(NOTE in _text(o) for c in cells for o in c["outputs"]), "a cell of chapter 9 needs torch"
        assert page.evaluate("""async () => { const nb = window.jupyterapp.shell.currentWidget.content;
            const i = nb.widgets.findIndex(w => w.node.querySelector('.optimlab-explorer[data-kind=network]'));
            if (i < 0) return false; nb.activeCellIndex = i; await nb.scrollToItem(i, 'start'); return true; }"""), \
            "no network explorer in the notebook"
        ex = page.locator(".optimlab-explorer[data-kind=network]").first
        page.wait_for_function("el => el.dataset.ready === '1' && el.dataset.done === '1'", arg=ex.element_handle())
        runs = ex.evaluate("el => el.__ol.snapshot().runs")
        assert len(runs) == 4 and runs["Adam"]["test_accuracy"][-1] >= 0.9
        box = ex.locator("input.ol-num[data-name=epochs]")
        box.fill("2")
        box.press("Enter")
        page.wait_for_function("el => el.dataset.done === '1' && el.__ol.snapshot().state.epochs === 2",
                               arg=ex.element_handle())
        after = ex.evaluate("el => el.__ol.snapshot().runs")
        assert after["Adam"]["test_accuracy"] == runs["Adam"]["test_accuracy"][:3]
        errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(cells) for o in c["outputs"]
                  if o["output_type"] == "error"]
        assert errors == [], f"error outputs: {errors[:5]}"
    finally:
        context.close()
