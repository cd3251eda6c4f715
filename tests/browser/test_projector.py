"""Lecture use of the explorers, in headless Chromium: projector mode, the legend, Save PNG/SVG.

Projector mode (the Full screen button): at 1280×720, 1366×768 and 1920×1080 every explorer of the
book fills the screen with its figure, its legend and every control inside the window — none
clipped or covered (the control itself is what the window shows at its centre), nothing to scroll
— with text larger than on the page, and no serious axe-core finding; Esc and the button leave it.  The legend drawn on the figure
lists exactly the optimizers shown and follows a toggle.  Save PNG and Save SVG download the view:
a PNG of twice the figure's size, an SVG that parses, with one path per optimizer shown on the map
and the caption of the settings.
"""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import axe
import pytest

from conftest import EXPLORERS_READY, chapter_pages, new_context

#: Every explorer of the book has a projector mode (the races, the line charts and chapter 9's
#: network explorer; its saved figure: tests/browser/test_network_explorer.py).
EXPLORER = ".optimlab-explorer"

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning",
                                        "ignore::pytest.PytestUnraisableExceptionWarning")

LIVE_PAGE = "book/06_adam.html"  # live races with many optimizers and every shared slider

# The explorer fills the window, and every control, canvas and legend entry in it is inside the
# window and is what the window shows there (not clipped by a column, not covered); lists what is
# wrong.
_FITS = """el => {
  const W = innerWidth, H = innerHeight, bad = [];
  if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) bad.push('the explorer scrolls');
  const side = el.querySelector('.ol-side');
  if (side.scrollHeight > side.clientHeight + 1) bad.push('the controls column overflows');
  const r0 = el.getBoundingClientRect();
  if (r0.left > 0.5 || r0.top > 0.5 || r0.width < W - 1 || r0.height < H - 1) bad.push('the explorer does not fill the window');
  const name = e => (e.className || e.tagName) + (e.dataset.label ? '[' + e.dataset.label + ']' : '') +
                    (e.dataset.name ? '[' + e.dataset.name + ']' : '');
  for (const e of el.querySelectorAll('button, input, select, summary, canvas')) {
    if (!e.checkVisibility()) continue;
    const r = e.getBoundingClientRect();
    if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) { bad.push(name(e) + ' outside the window'); continue; }
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    if (!(hit === e || e.contains(hit) || (hit && hit.tagName === 'LABEL' && hit.contains(e)))) bad.push(name(e) + ' covered or clipped');
  }
  for (const b of el.__ol.legendBoxes()) {
    if (b.left < 0 || b.top < 0 || b.right > W || b.bottom > H) bad.push('legend entry ' + b.label + ' outside the window');
  }
  return bad;
}"""


def _ready(page):
    page.wait_for_function(EXPLORERS_READY)


def _enter(page, ex):
    """Press the explorer's Full screen button; return once it is laid out for the full screen."""
    ex.scroll_into_view_if_needed()
    ex.locator(".ol-full").click()
    page.wait_for_function("el => document.fullscreenElement === el && el.dataset.fit === innerWidth + 'x' + innerHeight",
                           arg=ex.element_handle())


def _font(ex):
    return ex.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_projector_mode_fits_every_explorer_on_the_screen(browser, site, size):
    width, height = size
    context = new_context(browser, viewport={"width": width, "height": height})
    page = context.new_page()
    failures, seen = [], 0
    for path in chapter_pages():
        page.goto(site + path, wait_until="load")
        _ready(page)
        explorers = page.locator(EXPLORER)
        for i in range(explorers.count()):
            ex = explorers.nth(i)
            if ex.evaluate("el => el.__ol.live"):  # as many optimizers shown as the chapter offers
                ex.evaluate("""el => { for (const t of el.querySelectorAll('.ol-toggle[aria-pressed=false]'))
                                         if (el.querySelectorAll('.ol-toggle[aria-pressed=true]').length < 6) t.click(); }""")
            page_font = _font(ex)
            _enter(page, ex)
            seen += 1
            bad = ex.evaluate(_FITS)
            if bad:
                failures.append(f"{path} #{i}: {bad[:4]}")
            if _font(ex) <= page_font:
                failures.append(f"{path} #{i}: text {_font(ex):.1f} px, not larger than on the page ({page_font} px)")
            if len(ex.evaluate("el => el.__ol.legendBoxes()")) != len(ex.evaluate("el => el.__ol.legendEntries()")):
                failures.append(f"{path} #{i}: legend incomplete")
            page.keyboard.press("Escape")
            page.wait_for_function("el => el.dataset.projector === '0' && !document.fullscreenElement",
                                   arg=ex.element_handle())
    context.close()
    assert seen >= 30, f"only {seen} explorers seen"
    assert not failures, f"{len(failures)} of {seen} explorers do not fit {width}×{height}: {failures[:6]}"


def test_projector_mode_is_keyboard_reachable_labelled_and_left_with_the_button(browser, site):
    context = new_context(browser, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(site + LIVE_PAGE, wait_until="load")
    _ready(page)
    ex = page.locator(EXPLORER).nth(1)
    button = ex.locator(".ol-full")
    button.scroll_into_view_if_needed()
    before = page.evaluate("scrollY")
    assert button.get_attribute("aria-label") == "Full screen (projector mode)"
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("el => document.fullscreenElement === el && el.dataset.fit === innerWidth + 'x' + innerHeight",
                           arg=ex.element_handle())
    assert button.get_attribute("aria-label") == "Leave full screen (Esc)"
    assert page.evaluate("document.activeElement.classList.contains('ol-full')"), "the focus left the button"
    found = axe.violations(page, axe.script())  # contrast, names, targets at the projector's sizes
    assert found == [], f"axe-core {axe.VERSION} in projector mode: {[(v['id'], v['targets'][:2]) for v in found]}"
    # The controls still act in projector mode: a toggle redraws, the legend follows.
    shown = len(ex.evaluate("el => el.__ol.legendBoxes()"))
    ex.locator(".ol-toggle[aria-pressed=true]").first.click()
    assert len(ex.evaluate("el => el.__ol.legendBoxes()")) == shown - 1
    assert not ex.evaluate(_FITS)
    page.keyboard.press("Space")  # the focus is on a toggle: it flips back
    button.click()
    page.wait_for_function("el => el.dataset.projector === '0' && !document.fullscreenElement", arg=ex.element_handle())
    assert button.get_attribute("aria-label") == "Full screen (projector mode)"
    assert page.evaluate("scrollY") == pytest.approx(before, abs=2), "the page did not scroll back"
    context.close()


# --------------------------------------------------------------------------- the legend
def test_legend_lists_the_optimizers_shown_and_follows_the_toggles(visit):
    page = visit(LIVE_PAGE).page
    _ready(page)
    for i in range(page.locator(EXPLORER).count()):
        ex = page.locator(EXPLORER).nth(i)

        def legend():
            return [b["label"] for b in ex.evaluate("el => el.__ol.legendBoxes()")]

        def shown():
            return [t.get_attribute("data-label") for t in ex.locator(".ol-toggle[aria-pressed=true]").all()]

        assert legend() == shown() and legend(), f"explorer {i}: legend {legend()} for {shown()}"
        off = ex.locator(".ol-toggle[aria-pressed=false]")
        # (the element itself: `off.first` would be another toggle once this one is on)
        toggle = (off.first if off.count() else ex.locator(".ol-toggle").first).element_handle()
        toggle.click()
        assert legend() == shown(), f"explorer {i}: after a toggle, legend {legend()} for {shown()}"
        box = ex.evaluate("el => el.__ol.legendBoxes()")[0]
        canvas = ex.evaluate("el => { const r = el.__ol.legendChart().canvas.getBoundingClientRect();"
                             " return [r.left, r.top, r.right, r.bottom]; }")
        assert canvas[0] <= box["left"] and box["right"] <= canvas[2] and canvas[1] <= box["top"] <= canvas[3]
        toggle.click()
        assert legend() == shown()


# --------------------------------------------------------------------------- Save PNG / Save SVG
def _png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("projector", [False, True], ids=["page", "projector"])
def test_save_png_and_svg_of_the_view(browser, site, tmp_path, projector):
    context = new_context(browser, viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = context.new_page()
    page.goto(site + LIVE_PAGE, wait_until="load")
    _ready(page)
    ex = page.locator(EXPLORER).nth(1)
    ex.scroll_into_view_if_needed()
    ex.locator(".ol-toggle[aria-pressed=true]").first.click()  # one optimizer fewer than the chapter's
    if projector:
        _enter(page, ex)
    shown = [t.get_attribute("data-label") for t in ex.locator(".ol-toggle[aria-pressed=true]").all()]
    caption = ex.evaluate("el => el.__ol.caption()")
    for label in shown:
        assert label + " η " in caption, f"{label} missing from the caption {caption!r}"
    assert "steps" in caption and "start (" in caption
    figure = ex.evaluate("el => { const p = el.__ol.placement(); return {w: p.w, h: p.h}; }")
    with page.expect_download() as info:
        ex.locator(".ol-save-png").click()
    png = tmp_path / info.value.suggested_filename
    info.value.save_as(png)
    assert png.suffix == ".png"
    data = png.read_bytes()
    w, h = _png_size(data)
    assert w == round(2 * figure["w"]) and h > 2 * figure["h"], (w, h, figure)
    assert len(data) > 20_000, f"a {len(data)}-byte PNG"
    with page.expect_download() as info:
        ex.locator(".ol-save-svg").click()
    svg = tmp_path / info.value.suggested_filename
    info.value.save_as(svg)
    root = ET.parse(svg).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall(".//s:g[@class='ol-map']//s:path[@class='ol-run']", ns)
    assert sorted(p.get("data-label") for p in paths) == sorted(shown), "one path per optimizer shown"
    loss = root.findall(".//s:g[@class='ol-loss']//s:path[@class='ol-run']", ns)
    assert sorted(p.get("data-label") for p in loss) == sorted(shown)
    assert len(root.findall(".//s:g[@class='ol-map']//s:path", ns)) > len(shown) + 20  # contours, axes
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert caption in texts, "the caption is not in the SVG"
    assert set(shown) <= set(texts), "the legend is not in the SVG"
    if projector:
        assert ex.evaluate("el => document.fullscreenElement === el"), "saving left full screen"
    context.close()
