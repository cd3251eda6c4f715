"""Every explorer of the built book, driven in headless Chromium as a reader would.

All explorers: drawn, every visible slider changes the drawing, Play advances.  Live explorers
(computed in the page): a click on the contour moves the start — the paths then begin at the
clicked data coordinates; a typed value is applied (and a bad one refused with a message naming
the parameter and its range); a slider answers the keyboard; the optimizer buttons turn runs on
and off; the code the page offers reproduces, run by optimlab in Python, the paths it draws.  At
375 px and at 1920 px nothing overflows sideways.

Any screen: a sweep of widths from 320 to 1920 px (map and loss panel side by side exactly where
the explorer is wide enough, nothing overflowing); touch (a swipe on the map scrolls, a tap or a
long-press drag moves the start); keyboard (toggles keep the focus, arrow keys on the map move the
start, tab order); toggles that stay under the pointer; linked learning rates held in range with
a note; number boxes that step ×10^0.1 and quote a bad entry; titles that follow the surface.
"""
from __future__ import annotations

import numpy as np
import pytest

import optimlab as ol
from conftest import EXPLORERS_READY, chapter_pages, new_context, next_frame

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning")


def _explorers(page):
    """The races and line charts (the network explorer has its own tests, test_network_explorer.py)."""
    page.wait_for_function(EXPLORERS_READY)  # the contexts' ceiling: READY_TIMEOUT
    return page.locator(".optimlab-explorer:not([data-kind=network])")


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
        extra = ex.locator(".ol-toggle[aria-pressed=false]").first
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


# --------------------------------------------------------------------------- layout at every width
SWEEP_PAGE = "book/01_gradient_descent.html"  # live races with loss panels and line charts
NAMED_WIDTHS = [320, 360, 375, 390, 414, 768, 1024, 1280, 1366, 1440, 1536, 1920, *range(1360, 1371)]

# Per explorer: the width its last layout was made for, the width it has, and where its canvases are.
_GEOMETRY = """() => [...document.querySelectorAll('.optimlab-explorer')].map(e => {
  const box = e.getBoundingClientRect(), fig = e.querySelector('.ol-figure');
  const canvases = [...fig.querySelectorAll('canvas')].map(c => {
    const r = c.getBoundingClientRect(); return {top: r.top, left: r.left, right: r.right}; });
  return {laidOut: Number(e.dataset.width), width: Math.floor(parseFloat(getComputedStyle(fig).width)),
          left: box.left, right: box.right, loss: !!e.querySelector('canvas.ol-loss'), canvases,
          overflow: e.scrollWidth - e.clientWidth};
})"""
_LAID_OUT = f"() => ({_GEOMETRY})().every(g => g.laidOut === g.width)"


def _breakpoints(page) -> set[int]:
    """The viewport widths where the page's layout changes: its stylesheets' media queries."""
    return set(page.evaluate("""() => { const out = [];
      for (const sheet of document.styleSheets) { let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
        for (const r of rules) if (r.media) for (const m of r.media.mediaText.matchAll(/width:\\s*([\\d.]+)px/g))
          out.push(Math.round(parseFloat(m[1]))); }
      return out; }"""))


def _layout_at(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function(_LAID_OUT)  # every explorer has laid itself out for its new width
    return page.evaluate(_GEOMETRY)


def test_explorer_layout_at_every_width(browser, site):
    """From 320 to 1920 px (every 16 px, and every 2 px around each of the theme's breakpoints and
    where the explorers switch to map and loss panel side by side): the two sit side by side
    exactly when the explorer is at least SIDE_BY_SIDE px wide, and no canvas leaves its explorer."""
    context = new_context(browser, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(site + SWEEP_PAGE, wait_until="load")
    _explorers(page)
    side_by_side = page.evaluate("optimlabExplorer.SIDE_BY_SIDE")
    coarse = {w: _layout_at(page, w) for w in range(320, 1921, 16)}
    # Viewport widths where an explorer crosses SIDE_BY_SIDE, between two coarse widths.
    ws = sorted(coarse)
    switch = {b for a, b in zip(ws, ws[1:])
              if any((g0["width"] >= side_by_side) != (g1["width"] >= side_by_side)
                     for g0, g1 in zip(coarse[a], coarse[b]))}
    assert switch, "no width at which the explorers switch layout: the sweep does not cover it"
    fine = {w for b in _breakpoints(page) | switch for w in range(b - 16, b + 17, 2) if 320 <= w <= 1920}
    failures, seen = [], 0
    for w in sorted(set(NAMED_WIDTHS) | fine | set(coarse)):
        for i, g in enumerate(coarse.get(w) or _layout_at(page, w)):
            seen += 1
            cs = g["canvases"]
            if any(c["right"] > g["right"] + 0.01 or c["left"] < g["left"] - 0.01 for c in cs) or g["overflow"] > 0:
                failures.append(f"{w} px, explorer {i}: a canvas leaves the explorer ({g['width']} px wide)")
            if g["loss"]:
                beside = abs(cs[0]["top"] - cs[1]["top"]) < 1
                if beside != (g["width"] >= side_by_side):
                    failures.append(f"{w} px, explorer {i} ({g['width']} px wide): map and loss panel "
                                    + ("side by side" if beside else "stacked"))
    context.close()
    assert not failures, f"{len(failures)} of {seen} layouts wrong: {failures[:8]}"


# --------------------------------------------------------------------------- touch
def _touch(cdp, kind, x, y):
    points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def _frames(page, n):
    for _ in range(n):
        next_frame(page)


# The map's top in the window, once it has not moved for 10 frames in a row (a fling from a swipe
# can go on for a while on a busy machine, and a tap measured during it lands elsewhere).
_MAP_AT_REST = """async el => {
    const map = el.querySelector('canvas.ol-map'), frame = () => new Promise(r => requestAnimationFrame(r));
    let last = NaN, same = 0;
    for (let k = 0; k < 600 && same < 10; k++) {
        await frame();
        const top = map.getBoundingClientRect().top;
        same = top === last ? same + 1 : 0;
        last = top;
    }
    return same >= 10;
}"""


def _map_near_top(page, ex):
    """Scroll the map to 100 px below the top of the window, once it is at rest; its box."""
    page.evaluate("() => window.scrollTo(0, scrollY)")  # stops a fling where it can
    assert ex.evaluate(_MAP_AT_REST), "the page never came to rest"
    box = ex.locator("canvas.ol-map").bounding_box()
    page.evaluate("y => window.scrollBy(0, y)", box["y"] - 100)
    assert ex.evaluate(_MAP_AT_REST), "the page never came to rest"
    return ex.locator("canvas.ol-map").bounding_box()


def test_touch_on_the_map_scrolls_taps_and_drags(browser, site):
    """On a phone, a vertical swipe that starts on the map scrolls the page and leaves the start
    alone; a tap sets the start there; a long press, then a drag, drags it (and does not scroll)."""
    context = new_context(browser, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site + SWEEP_PAGE, wait_until="load")
    ex = next(e for e in _live_explorers(page))
    ex.scroll_into_view_if_needed()
    cdp = context.new_cdp_session(page)
    box = _map_near_top(page, ex)
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.7
    start, scrolled = ex.get_attribute("data-start"), page.evaluate("scrollY")
    # The swipe: the finger moves up by 200 px.
    _touch(cdp, "touchStart", x, y)
    for k in range(1, 11):
        _touch(cdp, "touchMove", x, y - 20 * k)
    _touch(cdp, "touchEnd", x, y - 200)
    page.wait_for_function(f"scrollY > {scrolled} + 100")  # the page follows the finger
    assert ex.get_attribute("data-start") == start, "a swipe on the map moved the start"
    # A tap sets the start where the finger lands (the map scrolled back into view first).
    box = _map_near_top(page, ex)
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    top = box["y"]
    page.touchscreen.tap(x, y)
    assert ex.locator("canvas.ol-map").bounding_box()["y"] == top, "the map moved under the tap"
    want = ex.evaluate("(el, p) => { const b = el.__ol.mapCanvas.getBoundingClientRect();"
                       " return el.__ol.map.inv(p[0] - b.left, p[1] - b.top); }", [x, y])
    got = [float(c) for c in ex.get_attribute("data-start").split(",")]
    assert np.allclose(got, want, atol=1e-9), f"tap at {want}, start {got}"
    # A long press, then a drag: the start follows the finger and the page stays put.
    scrolled = page.evaluate("scrollY")
    _touch(cdp, "touchStart", x, y)
    page.wait_for_function("el => el.dataset.touchDrag === '1'", arg=ex.element_handle())
    for k in range(1, 6):
        _touch(cdp, "touchMove", x + 6 * k, y + 8 * k)
    dragged = [float(c) for c in ex.get_attribute("data-start").split(",")]
    _touch(cdp, "touchEnd", x + 30, y + 40)
    _frames(page, 2)
    assert page.evaluate("scrollY") == scrolled, "the long-press drag scrolled the page"
    want = ex.evaluate("(el, p) => { const b = el.__ol.mapCanvas.getBoundingClientRect();"
                       " return el.__ol.map.inv(p[0] - b.left, p[1] - b.top); }", [x + 30, y + 40])
    assert np.allclose(dragged, want, atol=1e-9), f"dragged to {want}, start {dragged}"
    context.close()


# --------------------------------------------------------------------------- keyboard and honesty
KEYS_PAGE = "book/04_momentum.html"  # live races with several optimizers and a shared β₁ slider


def _focused(page):
    return page.evaluate("() => { const e = document.activeElement;"
                         " return e ? (e.dataset.label || e.className || e.tagName) : null; }")


def test_keyboard_toggles_keep_focus_and_arrows_move_the_start(visit):
    page = visit(KEYS_PAGE).page
    ex = _live_explorers(page)[0]
    ex.locator(".ol-reset").click()
    ex.scroll_into_view_if_needed()
    # Space and Enter on a toggle: it flips, keeps the focus and stays where it was.
    toggle = ex.locator(".ol-toggle").nth(1)
    toggle.focus()
    label, box = toggle.get_attribute("data-label"), toggle.bounding_box()
    for key, pressed in (("Space", "false"), ("Enter", "true")):
        page.keyboard.press(key)
        assert toggle.get_attribute("aria-pressed") == pressed, f"{key} did not flip {label}"
        assert _focused(page) == label, f"{key} on the toggle sent the focus to {_focused(page)}"
        assert toggle.bounding_box() == box, f"{key}: the toggle moved"
    # The arrow keys on the focused map move the start by 1 % of the window, 10 % with Shift.
    (x0, x1), (y0, y1) = ex.evaluate("el => el.__ol.surface().window")
    start = np.array([float(c) for c in ex.get_attribute("data-start").split(",")])
    ex.locator("canvas.ol-map").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    moved = np.array([float(c) for c in ex.get_attribute("data-start").split(",")])
    np.testing.assert_allclose(moved - start, [0.01 * (x1 - x0), 0.1 * (y1 - y0)], rtol=1e-9, atol=1e-12)
    said = ex.locator(".ol-sr").inner_text()
    assert said.startswith("start ") and label in said or "loss" in said, f"announced: {said!r}"
    assert _drawn(ex)[ex.locator(".ol-toggle").first.get_attribute("data-label")]["xs"][0] == pytest.approx(moved[0])
    # Tab order: the header controls (save, full screen), the map, time, the toggles, then each
    # row's settings.
    ex.locator("select.ol-surface").focus()
    order = []
    for _ in range(9):
        order.append(page.evaluate("document.activeElement.classList[0]"))
        page.keyboard.press("Tab")
    assert order == ["ol-surface", "ol-reset", "ol-save-png", "ol-save-svg", "ol-full", "ol-map", "ol-play",
                     "ol-step", "ol-toggle"], order


def test_toggles_stay_under_the_pointer(visit):
    """Two clicks at the same spot turn the same optimizer off and on again (a toggle used to move
    into the "add:" row, so that the second click hit the next optimizer)."""
    page = visit(KEYS_PAGE).page
    ex = _live_explorers(page)[0]
    ex.locator(".ol-reset").click()
    for i in (0, ex.locator(".ol-toggle").count() - 1):  # one shown, one not shown at first
        toggle = ex.locator(".ol-toggle").nth(i)
        toggle.scroll_into_view_if_needed()
        label, before = toggle.get_attribute("data-label"), toggle.get_attribute("aria-pressed")
        box = toggle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(x, y)
        assert toggle.get_attribute("aria-pressed") != before
        page.mouse.click(x, y)
        assert toggle.get_attribute("aria-pressed") == before, f"the second click missed {label}"
        assert toggle.bounding_box() == box


def _lrs(ex):
    return _snap(ex)["state"]["lrs"]


def test_linked_rates_stay_in_range_and_say_so(visit):
    """Linked learning rates keep their ratios; one that would leave its slider's range is held at
    the limit with a note in its row, and the ratios come back when the rate comes back."""
    page = visit("book/06_adam.html").page
    ex = next(e for e in _live_explorers(page) if len({round(v, 12) for k, v in _lrs(e).items()
                                                          if k in _snap(e)["state"]["active"]}) > 1)
    ex.locator(".ol-reset").click()
    if not ex.locator("input.ol-link").is_checked():
        ex.locator("input.ol-link").check()
    lo, hi = ex.evaluate("el => el.__ol.spec.limits.lr")
    active = _snap(ex)["state"]["active"]
    start = _lrs(ex)
    smallest = min(active, key=lambda k: start[k])
    slider = ex.locator(f"input.ol-param[data-name=lr][data-opt='{smallest}']")
    _set_range(slider, slider.get_attribute("max"))
    lrs = _lrs(ex)
    assert lrs[smallest] == pytest.approx(hi)
    assert all(lo <= v <= hi for v in lrs.values()), f"a linked rate left [{lo}, {hi}]: {lrs}"
    held = [k for k in active if start[k] / start[smallest] * hi > hi * (1 + 1e-9)]
    assert held, "this setting holds no rate at its limit: the test checks nothing"
    for k in active:
        note = ex.locator(f".ol-opt[data-label='{k}'] .ol-held")
        assert (note.inner_text() != "") == (k in held), f"{k}: note {note.inner_text()!r}"
        if k in held:
            assert note.is_visible() and "held at" in note.inner_text()
    code = ex.locator("details.ol-code pre").text_content()
    assert all(float(v) <= hi for v in __import__("re").findall(r"lr=([0-9.e+-]+)", code)), code
    # Back to where it was: every rate as it was, no note.
    _set_range(slider, str(np.log10(start[smallest])))
    back = _lrs(ex)
    for k in start:
        assert back[k] == pytest.approx(start[k], rel=1e-4), k
    assert ex.locator(".ol-held:visible").count() == 0


def test_number_boxes_step_and_explain(visit):
    page = visit(KEYS_PAGE).page
    ex = _live_explorers(page)[0]
    ex.locator(".ol-reset").click()
    box = ex.locator("input.ol-num[data-name=lr]").first
    label = box.get_attribute("data-opt")
    box.fill("0.03")
    box.press("Enter")
    box.press("ArrowUp")  # one step of the log slider: ×10^0.1
    assert _lrs(ex)[label] == pytest.approx(float(f"{0.03 * 10 ** 0.1:.3g}"))
    box.press("ArrowDown")
    assert _lrs(ex)[label] == pytest.approx(0.03, rel=2e-3)
    box.fill("abc")
    box.press("Enter")
    assert "got 'abc', not a number" in ex.locator(".ol-error").inner_text()
    assert _lrs(ex)[label] == pytest.approx(0.03, rel=2e-3)


def test_title_follows_the_surface(visit):
    page = visit(KEYS_PAGE).page
    for ex in _live_explorers(page):
        ex.locator(".ol-reset").click()
        chapter_title = ex.locator(".ol-title").inner_text()
        menu = ex.locator("select.ol-surface")
        other = next(o for o in menu.locator("option").all_inner_texts() if o != menu.evaluate("s => s.selectedOptions[0].text"))
        menu.select_option(label=other)
        assert ex.locator(".ol-title").inner_text() == other
        ex.locator(".ol-reset").click()
        assert ex.locator(".ol-title").inner_text() == chapter_title


# --------------------------------------------------------------------------- the spec contract
def test_a_spec_of_another_version_is_refused_visibly(browser, tmp_path):
    """A standalone page (style sheet and scripts inline) draws its spec; the same page with a spec
    version explorer.js does not read shows why in the figure and logs an error, drawing nothing."""
    from optimlab import explorers

    ex = explorers.race(ol.surfaces.Quadratic(kappa=10), {"SGD": ol.SGD(lr=0.05)}, live=True, steps=10)
    context = new_context(browser, viewport={"width": 900, "height": 800})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(ex.save(tmp_path / "ok.html").as_uri(), wait_until="load")
    page.wait_for_selector(".optimlab-explorer[data-ready='1']")
    assert page.evaluate("getComputedStyle(document.querySelector('.ol-play')).minWidth") != "0px"  # explorer.css
    assert errors == []
    bad = explorers.Explorer({**ex.spec, "v": explorers.SPEC_VERSION + 1})
    page.goto(bad.save(tmp_path / "bad.html").as_uri(), wait_until="load")
    page.wait_for_selector(".optimlab-explorer[data-error='spec']")
    text = page.inner_text(".optimlab-explorer .ol-fallback")
    assert f"spec version {explorers.SPEC_VERSION + 1}" in text and page.locator("canvas").count() == 0
    assert len(errors) == 1 and "spec version" in errors[0]
    context.close()


# --------------------------------------------------------------------------- the replay race
def test_a_replay_race_draws_the_stored_runs_its_sliders_choose(browser, tmp_path):
    """No chapter shows a replay race (precomputed runs, chosen by sliders): a standalone one draws,
    for each setting of its sliders, the very runs optimlab stored for it; a toggle hides a run,
    Reset brings back the chapter's setting; its map only reads out coordinates."""
    from optimlab import explorers

    ex = explorers.race(ol.surfaces.Quadratic(kappa=10),
                        {"SGD": lambda lr: ol.SGD(lr=lr), "Momentum": lambda lr, beta: ol.SGD(lr=lr, momentum=beta)},
                        {"lr": [0.01, 0.05, 0.3], "beta": [0.5, 0.9]}, steps=25)
    assert not ex.live
    context = new_context(browser, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(ex.save(tmp_path / "replay.html").as_uri(), wait_until="load")
    el = page.locator(".optimlab-explorer[data-ready='1']")
    assert not _is_live(el) and el.locator("canvas.ol-map").get_attribute("role") == "img"

    def drawn_are_stored(combo):
        assert el.get_attribute("data-combo") == str(combo)
        runs = _snap(el)["runs"]
        assert sorted(runs) == ["Momentum", "SGD"]
        for label, run in runs.items():
            stored = ex.series_data(label)
            assert run["end"] == stored["end"][combo] and run["div"] == stored["div"][combo]
            np.testing.assert_allclose(np.reshape(run["xs"], (-1, 2)), stored["xs"][combo][:run["end"] + 1], atol=1e-12)

    drawn_are_stored(3)  # the sliders start at their middle values: lr 0.05 (index 1), beta 0.9 (index 1)
    for lr, beta in [(0, 0), (2, 1), (2, 0)]:
        _set_range(el.locator("input.ol-param[data-name=lr]"), lr)
        _set_range(el.locator("input.ol-param[data-name=beta]"), beta)
        drawn_are_stored(2 * lr + beta)  # the first slider slowest
    assert "0.3" in el.evaluate("el => el.__ol.caption()")
    el.locator(".ol-toggle[data-label=SGD]").click()
    assert sorted(_snap(el)["runs"]) == ["Momentum"]
    el.locator(".ol-reset").click()
    drawn_are_stored(3)
    box = el.locator("canvas.ol-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    readout, axes = el.locator(".ol-readout").inner_text(), ex.spec["surface"]["axes"] or ["x", "y"]
    assert readout.startswith(f"{axes[0]} = ") and f", {axes[1]} = " in readout
    assert "click" not in readout and "f = " not in readout  # nothing to compute or click here
    assert errors == []
    context.close()
