"""Browser tests of the built book: every page in _toc.yml, opened in headless Chromium.

Per page: no console errors, no request leaving the site, all math typeset, every interactive
explorer renders and responds to Play and to its sliders, no inert widget, page weight under budget,
and a screenshot saved under _build/screenshots/ for inspection.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import HTML, SHOTS, chapter_pages, configured_repository, toc_pages

# Chromium keeps connections alive; the test server's sockets close when the session ends.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")

PAGE_BUDGET = 1.5e6          # bytes of HTML + the page's own images/data (shared scripts excluded)
SHARED = ("_static/",)       # theme, MathJax, plotly.js, explorer.js: loaded once, cached by the browser


@pytest.mark.parametrize("path", toc_pages())
def test_page_is_clean_offline_and_typeset(visit, path):
    v = visit(path)
    page = v.page
    # MathJax (served by the site) has typeset every formula.
    n_math = page.locator(".math").count()
    if n_math:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
        page.evaluate("MathJax.startup.promise")
        untypeset = page.evaluate(
            "[...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length")
        assert untypeset == 0, f"{untypeset} of {n_math} formulas were not typeset"
        assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (path.replace("/", "_").replace(".html", ".png"))), full_page=True)
    assert v.external == [], f"requests leaving the site: {v.external[:5]}"
    assert v.errors == [], f"console errors: {v.errors[:5]}"
    # No inert widgets in the static page: live panels are replaced by a note.
    assert page.locator(".jupyter-widgets, .widget-area").count() == 0
    assert "application/vnd.jupyter.widget-view+json" not in page.content()


@pytest.mark.parametrize("path", toc_pages())
def test_page_weight_and_shared_scripts(visit, path):
    v = visit(path)
    own = {u: n for u, n in v.responses.items() if not v.local(u).startswith(SHARED)}
    total = sum(own.values())
    assert total < PAGE_BUDGET, f"{path}: {total / 1e6:.2f} MB of page-specific content: " + ", ".join(
        f"{v.local(u)} {n // 1000} kB" for u, n in sorted(own.items(), key=lambda kv: -kv[1])[:5])
    html = (HTML / path).read_text()
    plotly_requests = [u for u in v.responses if v.local(u).endswith("plotly.min.js")]
    if 'class="optimlab-explorer"' in html:
        assert len(plotly_requests) == 1, "an explorer page must load plotly.js exactly once"
    else:
        assert plotly_requests == [], "a page without explorers must not load plotly.js"


@pytest.mark.parametrize("path", chapter_pages())
def test_chapter_reader_features(visit, path):
    v = visit(path)
    page = v.page
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    ipynb = [h for h in hrefs if h.endswith(".ipynb")]
    assert ipynb, "no .ipynb download link"
    assert (HTML / Path(path).parent / ipynb[0]).resolve().exists(), f"{ipynb[0]} is not in the site"
    # "Run in your browser" always; Binder and Colab exactly when a real repository is configured.
    header = page.eval_on_selector_all(".bd-header-article a[href]", "as => as.map(a => a.getAttribute('href'))")
    lite = [h for h in header if "lite/notebooks/index.html?path=" in h]
    assert lite, "no 'Run in your browser' link"
    assert lite[0].endswith("?path=" + Path(path).stem + ".ipynb")
    has_repo = configured_repository() is not None
    for name, key in (("Binder", "mybinder"), ("Colab", "colab"), ("repository", "github.com")):
        shown = any(key in h for h in header)
        assert shown == has_repo, f"{name} button shown: {shown}; repository configured: {has_repo}"
    assert page.locator(".exercise").count() >= 3, "fewer than three exercises"
    assert page.locator(".solution").count() >= 3, "fewer than three solutions"
    assert "Live panel" in page.inner_text("main"), "no note in place of the live panel"


def _trace_lengths(page, explorer):
    return explorer.evaluate(
        "el => el.querySelector('.js-plotly-plot').data.map(t => (t.x || []).length)")


def _trace_data(page, explorer):
    return explorer.evaluate(
        "el => JSON.stringify(el.querySelector('.js-plotly-plot').data.map(t => [t.x, t.y]))")


@pytest.mark.parametrize("path", chapter_pages())
def test_explorers_play_and_respond(visit, path):
    v = visit(path)
    page = v.page
    explorers = page.locator(".optimlab-explorer")
    n = explorers.count()
    assert n >= 1, "no interactive explorer on this chapter"
    for i in range(n):
        ex = explorers.nth(i)
        ex.scroll_into_view_if_needed()
        page.wait_for_function("el => el.dataset.ready === '1'", arg=ex.element_handle(), timeout=20000)
        assert ex.locator(".js-plotly-plot .main-svg").count() >= 1, f"explorer {i} did not render"
        # Every slider changes what is drawn.
        for s in range(ex.locator("input.ol-param").count()):
            slider = ex.locator("input.ol-param").nth(s)
            before = _trace_data(page, ex)
            lo, hi, cur = (slider.evaluate(f"e => Number(e.{k})") for k in ("min", "max", "value"))
            target = lo if cur != lo else hi
            slider.evaluate(f"(e, val) => {{ e.value = val; e.dispatchEvent(new Event('input', {{bubbles: true}})); }}", target)
            page.wait_for_timeout(100)
            assert _trace_data(page, ex) != before, f"explorer {i}: slider {s} did not change the plot"
        # Play moves the animation forward.
        if ex.locator(".ol-play").count():
            step_slider = ex.locator("input.ol-step")
            step_slider.evaluate("e => { e.value = 0; e.dispatchEvent(new Event('input', {bubbles: true})); }")
            before = ex.get_attribute("data-step")
            ex.locator(".ol-play").click()
            page.wait_for_function("([el, b]) => el.dataset.step !== b", arg=[ex.element_handle(), before], timeout=5000)
            page.wait_for_timeout(400)
            ex.locator(".ol-play").click()  # pause
            assert int(ex.get_attribute("data-step")) > int(before or 0)
    assert v.errors == [], f"console errors while interacting: {v.errors[:5]}"
