"""`make lab`: JupyterLab, started here on 127.0.0.1 the way `make lab` starts it, in headless Chromium.

A chapter opened by its path is a notebook (not a text editor) with the outputs of the last build,
its solutions folded; a chapter's `.md` source also opens as a notebook (jupytext); saving writes to
the working folder only; nothing is requested outside 127.0.0.1.
"""
from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import LAB_CHAPTER as CHAPTER
from conftest import ROOT, next_frame, offline_context


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")



def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout



def _open(browser, lab, path):
    external: list[str] = []
    context = offline_context(browser, lab["base"], external, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{lab['base']}/lab/tree/{path}?reset&token={lab['token']}")  # reset: no tabs restored
    page.wait_for_selector(f".lm-TabBar-tab[title*='{path}']")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell, .jp-FileEditor")
    return context, page, external


# True once the element has kept the same box, inside the window, for 10 frames in a row (cells
# above it render lazily and MathJax typesets, so a link can still move after it scrolled in).
_AT_REST = """async selector => {
    const frame = () => new Promise(r => requestAnimationFrame(r));
    let last = '', same = 0;
    for (let k = 0; k < 30 && same < 10; k++) {
        await frame();
        const el = document.querySelector(selector);
        if (!el) { same = 0; continue; }
        const b = el.getBoundingClientRect(), now = [b.x, b.y, b.width, b.height].join();
        same = now === last && b.top >= 0 && b.bottom <= innerHeight ? same + 1 : 0;
        last = now;
    }
    return same >= 10;
}"""


def _scroll_until(page, selector: str) -> int:
    """Scroll the notebook down until `selector` is in the DOM (cells render lazily); its count."""
    for _ in range(200):
        n = page.locator(selector).count()
        if n:
            return n
        page.evaluate("() => { const o = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');"
                      " o.scrollTop += o.clientHeight; }")
        page.wait_for_function("() => new Promise(r => requestAnimationFrame(() => r(true)))")
    return 0


def _cells_without_outputs(page, cells) -> list[int]:
    """Those of `cells` (indices) that show no output once scrolled into view (JupyterLab attaches
    only the cells near the window); the notebook is back at its top afterwards."""
    missing = []
    for i in sorted(cells):
        page.evaluate("async i => { const nb = window.jupyterapp.shell.currentWidget.content;"
                      " await nb.scrollToItem(i, 'start'); }", i)
        try:
            page.wait_for_selector(f".jp-NotebookPanel .jp-Cell[data-windowed-list-index='{i}'] .jp-OutputArea-output",
                                   state="attached", timeout=10_000)
        except PlaywrightTimeout:
            missing.append(i)
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.content.scrollToItem(0, 'start'); }")
    return missing


def test_chapter_opens_as_notebook_with_outputs_and_folded_solutions(browser, lab):
    context, page, external = _open(browser, lab, f"{CHAPTER}.ipynb")
    try:
        page.wait_for_selector(".jp-NotebookPanel .jp-OutputArea-output img", state="attached")
        assert page.locator(".jp-FileEditor").count() == 0, "opened in a text editor"
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        # Every cell that has outputs in the file shows them (cells render lazily: scroll through).
        nb = json.loads((lab["root"] / f"{CHAPTER}.ipynb").read_text())
        expected = {i for i, c in enumerate(nb["cells"]) if c.get("outputs")}
        assert len(expected) >= 5
        assert _cells_without_outputs(page, expected) == [], "cells whose outputs did not show"
        # The hidden install cell (and the other cells the book hides) start folded.
        page.wait_for_selector(".jp-Cell .jp-InputPlaceholder", state="attached")
        # Exercises render (jupyterlab-myst), and their solutions are folded.
        assert _scroll_until(page, "details.myst-exercise") >= 1, "no folded solution rendered"
        assert page.evaluate("() => [...document.querySelectorAll('details.myst-exercise')].every(d => !d.open)")
        # (jupyterlab-myst fills the summary after it attaches the element: wait for its text)
        page.wait_for_function("() => (document.querySelector('details.myst-exercise summary') || {})"
                               ".textContent?.includes('Solution')")
        assert page.locator(".myst-exercise").count() >= 2
        # Saving writes the working copy only: the repository does not turn dirty.
        before, saved = _git_status(), (lab["root"] / f"{CHAPTER}.ipynb").stat().st_mtime
        page.locator(".jp-NotebookPanel .jp-Notebook").click()
        # The save is done when the server has answered JupyterLab's PUT of the notebook.
        with page.expect_response(lambda r: r.request.method == "PUT" and f"/api/contents/{CHAPTER}.ipynb" in r.url) as put:
            page.keyboard.press("Control+s")
        assert put.value.ok, f"save failed: {put.value.status}"
        page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel .jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty')")
        assert (lab["root"] / f"{CHAPTER}.ipynb").stat().st_mtime > saved, "save did not reach the working copy"
        assert _git_status() == before, "saving in JupyterLab changed the repository"
        assert external == [], f"requests leaving 127.0.0.1: {external[:5]}"
    finally:
        context.close()


def test_markdown_chapter_opens_as_notebook(browser, lab):
    context, page, external = _open(browser, lab, f"{CHAPTER}.md")
    try:
        page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell, .jp-FileEditor")
        assert page.locator(".jp-NotebookPanel .jp-CodeCell").count() >= 1
        assert page.locator(".jp-FileEditor").count() == 0, "the .md opened as text, not as a notebook"
        assert external == [], f"requests leaving 127.0.0.1: {external[:5]}"
    finally:
        context.close()


LINK = ".jp-MarkdownCell a[href*='01_gradient_descent.ipynb']"  # chapter 4's first link to chapter 1


def test_chapter_opens_ready_trusted_and_unmodified(browser, lab):
    """No cell run: the book's interactive figures draw, the notebook is not modified, the hidden
    setup cell shows no output, {ref} are links and {cite} author–year text."""
    chapter = "04_momentum"
    context, page, external = _open(browser, lab, f"{chapter}.ipynb")
    try:
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        nb = json.loads((lab["root"] / f"{chapter}.ipynb").read_text())
        expected = sum("optimlab-explorer" in json.dumps(o) for c in nb["cells"] for o in c.get("outputs", []))
        assert expected >= 3
        drawn = "() => [...document.querySelectorAll('.jp-OutputArea-output .optimlab-explorer')].filter(e => e.dataset.ready === '1').length"
        for _ in range(400):  # outputs attach as the notebook scrolls (JupyterLab's windowing)
            if page.evaluate(drawn) == expected:
                break
            page.evaluate("() => { const o = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');"
                          " o.scrollTop = Math.min(o.scrollTop + o.clientHeight, o.scrollHeight); }")
            next_frame(page)
        assert page.evaluate(drawn) == expected, "an interactive figure did not draw without running its cell"
        page.evaluate("() => { document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer').scrollTop = 0; }")
        assert page.locator(".jp-OutputArea-output .ol-fallback:visible").count() == 0
        figure = page.locator(".jp-OutputArea-output .optimlab-explorer").last
        figure.scroll_into_view_if_needed()
        page.screenshot(path=str(lab["root"].parent / "lab-ch4-opened.png"))
        first = page.locator(".jp-Notebook .jp-CodeCell").first
        assert first.locator(".jp-OutputArea-output").count() == 0, "the hidden setup cell shows an output"
        assert page.locator(".jp-NotebookPanel .jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty").count() == 0, \
            "the chapter opened as modified"
        text = page.evaluate("() => document.querySelector('.jp-NotebookPanel .jp-Notebook').textContent")
        assert "{ref}" not in text and "{cite}" not in text
        assert "Polyak, 1964" in text
        link = page.locator(LINK).first
        assert link.count() == 1
        # A link to another chapter opens it beside this one. The reader clicks it where it is on
        # screen: scrolled into view, once the notebook's lazily rendered cells have stopped moving.
        # On a busy machine a cell above can still grow between the at-rest check and the click,
        # so that the click lands beside the link: the reader then clicks again, and so do we
        # (at most three times; the link must open the chapter).
        opened = ".lm-TabBar-tab[title*='01_gradient_descent.ipynb']"
        for _ in range(3):
            page.evaluate("() => { document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer').scrollTop = 0; }")
            page.wait_for_function(_AT_REST, arg=LINK)
            link.click()
            try:
                page.wait_for_selector(opened, timeout=20_000)
                break
            except PlaywrightTimeout:
                continue
        assert page.locator(opened).count() == 1, "the link did not open chapter 1"
        assert external == [], f"requests leaving 127.0.0.1: {external[:5]}"
    finally:
        context.close()
