"""Browser tests of the built book: every page in _toc.yml, opened in headless Chromium.

Per page: no console errors, no request leaving the site (the favicon included), all math typeset,
no inert widget, page weight under budget, and a screenshot saved under _build/screenshots/ for
inspection.  The explorers are driven in test_explorers.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import (_MATHJAX_STARTED, _TYPESET_AND_FONTS, EXPLORERS_READY, HTML, SHOTS, chapter_pages,
                      configured_repository, new_context, toc_pages)

# Chromium keeps connections alive; the test server's sockets close when the session ends.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")

PAGE_BUDGET = 1.5e6          # bytes of HTML + the page's own images/data (shared scripts excluded)
FIRST_VISIT_BUDGET = 3e6     # every byte a first visit loads, shared scripts and fonts included
EXPLORER_BUDGET = 2e6        # the explorers' own scripts and data on one page
SHARED = ("_static/",)       # theme, MathJax, the explorer's scripts: loaded once, cached by the browser


@pytest.mark.parametrize("path", toc_pages())
def test_page_is_clean_offline_and_typeset(visit, path):
    v = visit(path)
    page = v.page
    # MathJax (served by the site) has typeset every formula.
    n_math = page.locator(".math").count()
    if n_math:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        untypeset = page.evaluate(
            "[...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container')).length")
        assert untypeset == 0, f"{untypeset} of {n_math} formulas were not typeset"
        assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
        # Formulas are out of the tab order, except a wide one that scrolls in its own box.
        page.wait_for_function("document.documentElement.dataset.formulasChecked === '1'")
        stops = page.evaluate("[...document.querySelectorAll('mjx-container')].filter(e => e.tabIndex >= 0"
                              " && !(e.scrollWidth > e.clientWidth + 1)).length")
        assert stops == 0, f"{stops} formulas that fit their line are tab stops"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / (path.replace("/", "_").replace(".html", ".png"))), full_page=True)
    assert v.external == [], f"requests leaving the site: {v.external[:5]}"
    assert v.missing == [], f"requests that failed (a favicon?): {v.missing[:5]}"
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
    assert v.first_visit_bytes() < FIRST_VISIT_BUDGET, (
        f"{path}: a first visit loads {v.first_visit_bytes() / 1e6:.2f} MB")
    scripts = {name: [u for u in v.responses if v.local(u).endswith(f"_static/optimlab/{name}")]
               for name in ("engine.js", "explorer.js")}
    if 'class="optimlab-explorer"' in html:
        assert all(len(r) == 1 for r in scripts.values()), "an explorer page loads its two scripts once"
        data = sum(len(m) for m in re.findall(
            r'<script type="application/json" class="optimlab-explorer-data">(.*?)</script>', html, re.S))
        own = data + sum(v.responses[r[0]] for r in scripts.values())
        assert own < EXPLORER_BUDGET, f"{path}: explorers' scripts and data {own / 1e6:.2f} MB"
    else:
        assert not any(scripts.values()), "a page without explorers must not load their scripts"
    network = [u for u in v.responses if v.local(u).endswith(("_static/optimlab/network.js", "_static/optimlab/network_view.js"))]
    assert len(network) == (2 if 'data-kind="network"' in html else 0), \
        f"{path}: the network explorer's scripts load on its pages only, once: {network}"


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
    assert "Live panel" in page.inner_text("main"), "no live panel section"


# --------------------------------------------------------------------------- phones
PHONE_WIDTHS = (320, 375, 414)

# Targets that fail WCAG 2.2's 2.5.8 (target size, minimum): smaller than 24×24 px and so close to
# another target that a 24 px circle centred on it meets that target (or the circle of another
# small one) — the criterion's spacing exception; links inside a line of text and formulas are
# exempt (its "inline" exception).  `coarse` lists the explorers' buttons (Play, the optimizer
# toggles) under 44 px, the size for a finger.
_SMALL_TARGETS = """() => {
  const shown = e => { const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none'; };
  const block = e => { while (e && /^(inline|contents)/.test(getComputedStyle(e).display)) e = e.parentElement; return e; };
  const inline = e => e.tagName === 'A' && block(e.parentElement).textContent.trim().length > e.textContent.trim().length + 2;
  const name = e => `${e.tagName.toLowerCase()}.${String(e.className).split(' ')[0]} "${(e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
  const size = e => { const r = e.getBoundingClientRect(); return `${Math.round(r.width)}×${Math.round(r.height)}`; };
  const targets = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])')]
    .filter(e => shown(e) && !e.closest('mjx-container') && !inline(e))
    .map(e => { const r = e.getBoundingClientRect();
                return {e, r, small: r.width < 24 || r.height < 24, c: [r.left + r.width / 2, r.top + r.height / 2]}; });
  const gap = (c, r) => Math.hypot(Math.max(r.left - c[0], 0, c[0] - r.right), Math.max(r.top - c[1], 0, c[1] - r.bottom));
  const crowded = t => targets.some(o => o !== t && !o.e.contains(t.e) && !t.e.contains(o.e) &&
    (o.small ? Math.hypot(o.c[0] - t.c[0], o.c[1] - t.c[1]) < 24 : gap(t.c, o.r) < 12));
  const small = targets.filter(t => t.small && crowded(t)).map(t => `${name(t.e)} ${size(t.e)}`);
  const coarse = [...document.querySelectorAll('.optimlab-explorer .ol-play, .optimlab-explorer .ol-toggle')]
    .filter(e => shown(e) && e.getBoundingClientRect().height < 44).map(e => `${name(e)} ${size(e)}`);
  return {small, coarse};
}"""


@pytest.mark.parametrize("path", toc_pages())
def test_page_on_a_phone(browser, site, path):
    """At 320, 375 and 414 px on a touch screen: the page never scrolls sideways (long inline code
    wraps, wide formulas and code blocks scroll inside their own box), every control is at least
    24×24 px, and the explorers' Play and optimizer buttons at least 44 px high."""
    context = new_context(browser, viewport={"width": PHONE_WIDTHS[0], "height": 740}, is_mobile=True,
                          has_touch=True)
    page = context.new_page()
    page.goto(site + path, wait_until="load")
    page.wait_for_function(_MATHJAX_STARTED)
    page.evaluate(_TYPESET_AND_FONTS)
    page.wait_for_function(EXPLORERS_READY)
    assert page.evaluate("matchMedia('(pointer: coarse)').matches"), "the phone context has no coarse pointer"
    for width in PHONE_WIDTHS:
        page.set_viewport_size({"width": width, "height": 740})
        page.wait_for_function(f"() => document.documentElement.clientWidth === {width}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"at {width} px the page is {wide} px wide: it scrolls sideways"
        targets = page.evaluate(_SMALL_TARGETS)
        assert targets["small"] == [], f"at {width} px, targets under 24×24 px: {targets['small'][:6]}"
        assert targets["coarse"] == [], f"at {width} px, buttons under 44 px on a touch screen: {targets['coarse'][:6]}"
    context.close()


# --------------------------------------------------------------------------- accessibility (axe-core)
@pytest.fixture(scope="session")
def axe_source():
    import axe

    return axe.script()


def _report(found):
    return "; ".join(f"{v['id']} ({v['impact']}, {v['count']}×: {v['help']}) at {v['targets']}" for v in found)


@pytest.mark.parametrize("path", toc_pages())
def test_page_has_no_serious_accessibility_violation(visit, axe_source, path):
    import axe

    found = axe.violations(visit(path).page, axe_source)
    assert found == [], f"axe-core {axe.VERSION}: {_report(found)}"


def test_explorers_accessible_in_dark_mode(browser, site, axe_source):
    """The reader's dark mode (the theme's switch): the explorers' controls stay readable."""
    import axe

    context = new_context(browser, viewport={"width": 1366, "height": 900}, color_scheme="dark")
    context.add_init_script("localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');")
    page = context.new_page()
    page.goto(site + "book/04_momentum.html", wait_until="load")
    page.wait_for_function(EXPLORERS_READY)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.evaluate(_TYPESET_AND_FONTS)
    found = axe.violations(page, axe_source)
    context.close()
    assert found == [], f"axe-core {axe.VERSION}, dark mode: {_report(found)}"


@pytest.mark.parametrize("path", chapter_pages())
def test_what_a_cell_prints_is_one_box(visit, path):
    """A table printed line by line arrives in several chunks; the page shows it in one box."""
    split = visit(path).page.evaluate(
        "[...document.querySelectorAll('.cell_output')].filter(o => [...o.children].some((c, i, all) =>"
        " i > 0 && c.classList.contains('stream') && all[i - 1].classList.contains('stream'))).length")
    assert split == 0, f"{split} cells print into several boxes"


@pytest.mark.parametrize("path", chapter_pages())
def test_figures_open_full_size(visit, path):
    """Every figure a cell drew is a link to its own image file (a tap or click opens it full size)."""
    page = visit(path).page
    figures = page.evaluate("[...document.querySelectorAll('.cell_output img')].map(i => ["
                            "i.closest('a') && i.closest('a').href, i.src])")
    assert figures, "no figure on this chapter"
    unlinked = [src for href, src in figures if href != src]
    assert unlinked == [], f"{len(unlinked)} of {len(figures)} figures do not open full size: {unlinked[:3]}"
