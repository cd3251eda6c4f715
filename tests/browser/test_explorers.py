"""Every explorer of the built book, driven in headless Chromium as a reader would.

All explorers: drawn, every visible slider changes the drawing, Play advances.  Live explorers
(computed in the page): a click on the contour moves the start — the paths then begin at the
clicked data coordinates; a typed value is applied (and a bad one refused with a message naming
the parameter and its range); a slider answers the keyboard; the optimizer buttons turn runs on
and off; the code the page offers reproduces, run by optimlab in Python, the paths it draws.  At
375 px and at 1920 px nothing overflows sideways.
"""
from __future__ import annotations

import numpy as np
import pytest

import optimlab as ol
from conftest import EXPLORERS_READY, chapter_pages, new_context

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning")


def _explorers(page):
    page.wait_for_function(EXPLORERS_READY)  # the contexts' ceiling: READY_TIMEOUT
    return page.locator(".optimlab-explorer")


def _snap(ex):
    return ex.evaluate("el => el.__ol.snapshot()")


def _drawn(ex, python=True):
    """label → drawn run; without the runs computed in Python (fixed in the book) if python=False."""
    return {k: v for k, v in _snap(ex)["runs"].items() if python or not v["python"]}


def _set_range(slider, value):
    slider.evaluate("(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }",
                    value)


def _is_live(ex):
    return ex.evaluate("el => !!el.__ol.live")


@pytest.mark.parametrize("path", chapter_pages())
def test_every_explorer_draws_responds_and_plays(visit, path):
    v = visit(path)
    page = v.page
    explorers = _explorers(page)
    n = explorers.count()
    assert n >= 1, "no explorer on this chapter"
    for i in range(n):
        ex = explorers.nth(i)
        ex.scroll_into_view_if_needed()
        assert ex.locator("canvas").count() >= 1
        drawn = ex.evaluate("el => el.__ol.timing.draws")
        assert drawn >= 1, f"explorer {i} never drew"
        sliders = ex.locator("input.ol-param:visible")
        for s in range(sliders.count()):
            slider = sliders.nth(s)
            if ex.locator(".ol-reset").count():
                ex.locator(".ol-reset").click()  # each slider from the chapter's setting
            before = _drawn(ex)
            lo, hi, cur = (float(slider.evaluate(f"e => e.{k}")) for k in ("min", "max", "value"))
            _set_range(slider, lo if abs(cur - lo) > abs(cur - hi) else hi)
            name = slider.get_attribute("data-name")
            assert _drawn(ex) != before, f"explorer {i}: slider {name} did not change the drawing"
        if ex.locator(".ol-play").count():
            _set_range(ex.locator("input.ol-step"), 0)
            assert ex.get_attribute("data-step") == "0"
            ex.locator(".ol-play").click()
            page.wait_for_function("el => Number(el.dataset.step) > 0", arg=ex.element_handle())
            ex.locator(".ol-play").click()  # pause (or it had already finished)
    assert v.errors == [], f"console errors while interacting: {v.errors[:5]}"


def _live_explorers(page):
    explorers = _explorers(page)
    return [explorers.nth(i) for i in range(explorers.count()) if _is_live(explorers.nth(i))]


@pytest.mark.parametrize("path", chapter_pages())
def test_live_explorers_take_a_clicked_start(visit, path):
    page = visit(path).page
    live = _live_explorers(page)
    assert live, "no live explorer on this chapter"
    for ex in live:
        ex.locator(".ol-reset").click()
        ex.scroll_into_view_if_needed()
        (x0, x1), (y0, y1) = ex.evaluate("el => el.__ol.surface().window")
        target = (x0 + 0.3 * (x1 - x0), y0 + 0.7 * (y1 - y0))
        px, py = ex.evaluate("(el, p) => el.__ol.toPixel(p[0], p[1])", list(target))
        page.mouse.click(px, py)
        runs = _drawn(ex, python=False)
        assert runs, "nothing drawn after the click"
        tol = 1.5 * (x1 - x0) / ex.evaluate("el => el.__ol.map.rect.w")  # a pixel and a half
        for label, r in runs.items():
            assert abs(r["xs"][0] - target[0]) < tol and abs(r["xs"][1] - target[1]) < tol, label
        start = [float(c) for c in ex.get_attribute("data-start").split(",")]
        assert np.allclose(start, target, atol=tol)
        # A drag moves it again, while the button is held.
        page.mouse.move(px, py)
        page.mouse.down()
        page.mouse.move(px + 20, py + 15, steps=4)
        moved = _drawn(ex, python=False)
        page.mouse.up()
        assert all(abs(moved[k]["xs"][0] - runs[k]["xs"][0]) > tol for k in runs)


@pytest.mark.parametrize("path", chapter_pages())
def test_live_explorers_take_typed_values_keys_and_toggles(visit, path):
    page = visit(path).page
    for ex in _live_explorers(page):
        ex.locator(".ol-reset").click()
        box = ex.locator("input.ol-num[data-name=steps]")
        box.fill("37")
        box.press("Enter")
        assert _snap(ex)["state"]["steps"] == 37
        assert all(r["end"] <= 37 for r in _drawn(ex, python=False).values())
        runs = _drawn(ex, python=False).values()
        assert any(r["end"] == 37 for r in runs) or all(r["div"] >= 0 for r in runs)
        box.fill("-3")
        box.press("Enter")
        assert "steps must be an integer in [" in ex.locator(".ol-error").inner_text()
        assert _snap(ex)["state"]["steps"] == 37
        lr = ex.locator("input.ol-num[data-name=lr]").first
        label = lr.get_attribute("data-opt")
        lo, hi = (float(ex.locator("input.ol-param[data-name=lr]").first.get_attribute(k)) for k in ("min", "max"))
        typed = float(f"{10 ** (0.6 * lo + 0.4 * hi):.3g}")   # inside the slider's (log) range
        lr.fill(str(typed))
        lr.press("Enter")
        assert _snap(ex)["state"]["lrs"][label] == pytest.approx(typed)
        # A focused slider answers the arrow keys.
        slider = ex.locator("input.ol-param[data-name=lr]").first
        before = _drawn(ex)
        slider.focus()
        page.keyboard.press("ArrowRight")
        assert _drawn(ex) != before
        # The optimizer buttons: off and on again, in the book's colours.
        toggle = ex.locator(f".ol-toggle[data-label='{label}']")
        assert toggle.get_attribute("aria-pressed") == "true"
        toggle.click()
        assert toggle.get_attribute("aria-pressed") == "false" and label not in _drawn(ex)
        toggle.click()
        assert label in _drawn(ex)
        extra = ex.locator(".ol-opts-off .ol-toggle").first
        if extra.count():
            name = extra.get_attribute("data-label")
            extra.click()
            assert name in _drawn(ex)
        ex.locator(".ol-reset").click()
        assert _snap(ex)["state"]["steps"] != 37


@pytest.mark.parametrize("path", chapter_pages())
def test_live_explorers_offer_code_that_reproduces_the_drawing(visit, path):
    page = visit(path).page
    for ex in _live_explorers(page):
        ex.locator(".ol-reset").click()
        snap = _snap(ex)
        code = ex.locator("details.ol-code pre").text_content()  # folded: the text, not what shows
        spec = ex.evaluate("el => el.__ol.surface()")
        ns = {"x": spec["params"].get("x"), "y": spec["params"].get("y")}
        exec(code, ns)  # the page's line of optimlab code, run by optimlab in Python
        assert set(ns["runs"]) == {k for k, r in snap["runs"].items() if not r["python"]}
        for label, tr in ns["runs"].items():
            drawn = np.asarray(snap["runs"][label]["xs"]).reshape(-1, 2)
            end = snap["runs"][label]["end"]
            # Chaotic runs (e.g. a large step on Beale) amplify last-bit differences between numpy
            # and JavaScript: compare up to where a 1e-14 nudge of the start shows at 1e-9.
            nudged = ol.run(ns["optimizers"][label], ns["surface"], tuple(np.asarray(snap["state"]["start"]) + 1e-14),
                            tr.steps)
            h = np.flatnonzero(np.abs(nudged.xs - tr.xs).max(axis=1) > 1e-9)
            h = h[0] if h.size else tr.steps + 1
            if int(tr.diverged_at) < 0 and h > tr.steps:
                assert end == tr.steps
            elif h > tr.steps:
                assert snap["runs"][label]["div"] == int(tr.diverged_at)
            n = min(h, end + 1, int(tr.diverged_at) if tr.diverged_at >= 0 else tr.steps + 1)
            assert n >= 20 or n == end + 1, f"{label}: too chaotic to check ({n} steps)"
            np.testing.assert_allclose(drawn[:n], tr.xs[:n], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("width", [375, 1920])
@pytest.mark.parametrize("path", chapter_pages())
def test_explorers_fit_the_width(browser, site, path, width):
    context = new_context(browser, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(site + path, wait_until="load")
    explorers = _explorers(page)  # laid out and drawn
    over = page.evaluate(
        "[...document.querySelectorAll('.optimlab-explorer')].filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert over == 0, f"{over} explorers overflow sideways at {width} px"
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('.optimlab-explorer canvas')]"
                           ".map(c => c.getBoundingClientRect().right))")
    assert widest <= width, f"a canvas reaches {widest} px at {width} px"
    assert explorers.count() >= 1
    context.close()
