"""The explorers, measured where the reader is: in headless Chromium.

1. Redraw: 4 optimizers × 500 steps on Rosenbrock, live.  From the input event (a key on the
   learning-rate slider; a drag on the contour, i.e. trusted pointer events) to the frame that
   shows the new paths: the page records ``performance.now() − event.timeStamp`` after the next
   animation frame has run and been handed to the compositor.  Median and 90th percentile.
   The same in projector mode (the Full screen button) at 1280×720, where the canvases are larger.
2. Play: frames drawn per second while playing the 500 steps.
3. The built book (``make book`` first): per chapter, time from navigation to every explorer
   drawn and answering, and the bytes of a first visit and of a second (cached) visit.

   The first visit's bytes are split by what they are: the page (HTML), its images, the theme
   (style sheets, scripts, icons, fonts), MathJax (its components and fonts), the explorers'
   scripts, and the rest.

Targets (issues 8, 19): redraw ≤ 16 ms median; Play ≥ 30 fps; ready ≤ 2 s; first visit ≤ 3 MB per
chapter with the explorers' own scripts and data ≤ 2 MB.
Usage: python benchmarks/bench_explorer.py [--book]
"""
from __future__ import annotations

import functools
import re
import http.server
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import optimlab as ol  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, HTML, chapter_pages  # noqa: E402
from optimlab import explorers  # noqa: E402


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def page_with_race(folder):
    rosen = ol.surfaces.Rosenbrock()
    ex = explorers.race(rosen, {"SGD": ol.SGD(lr=2e-3), "Momentum": ol.SGD(lr=1.5e-3, momentum=0.9),
                                "RMSprop": ol.RMSprop(lr=0.03), "Adam": ol.Adam(lr=0.3)}, steps=500)
    ex.save(Path(folder) / "race.html")
    return "race.html"


def _samples(page, trigger, n=60):
    out = []
    for i in range(n):
        before = page.evaluate("document.querySelector('.optimlab-explorer').__ol.timing.n")
        trigger(i)
        page.wait_for_function(f"document.querySelector('.optimlab-explorer').__ol.timing.n > {before}")
        out.append(page.evaluate("document.querySelector('.optimlab-explorer').__ol.timing.last"))
    return out


def redraw_and_play(browser, base, name, size=(1280, 900), projector=False):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(base + name)
    page.wait_for_selector(".optimlab-explorer[data-ready='1']")
    ex = page.locator(".optimlab-explorer")
    if projector:
        ex.locator(".ol-full").click()
        page.wait_for_function("el => document.fullscreenElement === el && el.dataset.fit === innerWidth + 'x' + innerHeight",
                               arg=ex.element_handle())
    slider = ex.locator("input.ol-param[data-name=lr]").nth(3)
    slider.focus()
    keys = _samples(page, lambda i: page.keyboard.press("ArrowRight" if i % 2 else "ArrowLeft"))
    (x0, x1), (y0, y1) = ex.evaluate("el => el.__ol.surface().window")
    px, py = ex.evaluate(f"el => el.__ol.toPixel({x0 + 0.25 * (x1 - x0)}, {y0 + 0.8 * (y1 - y0)})")
    page.mouse.move(px, py)
    page.mouse.down()
    drags = _samples(page, lambda i: page.mouse.move(px + (i % 20) * 3, py + (i % 7) * 2))
    page.mouse.up()
    ex.locator("input.ol-num[data-name=steps]").fill("500")
    ex.locator("input.ol-num[data-name=steps]").press("Enter")
    ex.locator(".ol-play").click()
    page.wait_for_function("el => !el.__ol.playing", arg=ex.element_handle(), timeout=60_000)
    frames = ex.evaluate("el => el.__ol.frames")
    t = page.evaluate("""() => new Promise(done => {
        const el = document.querySelector('.optimlab-explorer'), ol = el.__ol;
        ol.state.step = 0; const t0 = performance.now(); ol.play(true);
        const poll = () => ol.playing ? requestAnimationFrame(poll) : done([performance.now() - t0, ol.frames]);
        requestAnimationFrame(poll); })""")
    page.close()
    return keys, drags, t[1] / (t[0] / 1000), frames


KINDS = ("page", "images", "theme", "MathJax", "explorers", "other")


def kind(url: str) -> str:
    """What a request of a book page is, for the breakdown of its bytes."""
    path = url.split("?")[0]
    if "/_static/mathjax/" in path:
        return "MathJax"
    if "/_static/optimlab/" in path:
        return "explorers"
    if path.endswith(".html"):
        return "page"
    if "/_images/" in path or path.endswith((".png", ".svg", ".jpg")):
        return "images"
    if "/_static/" in path:
        return "theme"
    return "other"


def book_pages(browser, base):
    rows = []
    for path in chapter_pages():
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        sizes = {}
        ctx.on("requestfinished", lambda r: sizes.__setitem__(r.url, r.sizes()["responseBodySize"]))
        page = ctx.new_page()
        page.goto(base + path, wait_until="commit")
        page.wait_for_function(
            "document.querySelectorAll('.optimlab-explorer').length > 0 && "
            "[...document.querySelectorAll('.optimlab-explorer')].every(e => e.dataset.ready === '1')",
            timeout=60_000)
        ready = page.evaluate("performance.now()")  # since navigation started
        page.wait_for_load_state("networkidle")
        first = sum(max(v, 0) for v in sizes.values())
        split = {k: sum(max(v, 0) for u, v in sizes.items() if kind(u) == k) for k in KINDS}
        data = re.findall(r'<script type="application/json" class="optimlab-explorer-data">(.*?)</script>',
                          (HTML / path).read_text(encoding="utf-8"), re.S)
        own = sum(len(d.encode()) for d in data) + sum(v for u, v in sizes.items() if "/_static/optimlab/" in u)
        sizes.clear()
        page.reload(wait_until="networkidle")
        second = sum(max(v, 0) for v in sizes.values())  # cache hits report no body
        rows.append((path, ready, first, second, own, split))
        ctx.close()
    return rows


def main():
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        sys.exit("no Chromium (Debian: apt-get install chromium)")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        name = page_with_race(tmp)
        server, base = serve(tmp)
        q = lambda v, k: sorted(v)[int(k * (len(v) - 1))]  # noqa: E731
        for title, size, projector in (("in the page, 1280×900", (1280, 900), False),
                                       ("projector mode, 1280×720", (1280, 720), True)):
            keys, drags, fps, _ = redraw_and_play(browser, base, name, size, projector)
            print(f"explorer, 4 optimizers × 500 steps on Rosenbrock, {title} (input event → painted frame):")
            print(f"  slider key : median {statistics.median(keys):5.1f} ms, p90 {q(keys, .9):5.1f} ms  (target ≤ 16 ms median)")
            print(f"  drag start : median {statistics.median(drags):5.1f} ms, p90 {q(drags, .9):5.1f} ms")
            print(f"  Play       : {fps:5.1f} frames per second (target ≥ 30)")
        server.shutdown()
        if "--book" in sys.argv:
            if not (HTML / "index.html").exists():
                sys.exit("build the book first (make book)")
            server, base = serve(HTML)
            print("\nchapter pages (ready = navigation → every explorer drawn; bytes over the wire):")
            print(f"  {'page':34s} {'ready':>7s} {'first visit':>12s} {'cached':>9s} {'explorers':>10s}"
                  "   first visit by kind (MB): " + " ".join(f"{k:>9s}" for k in KINDS))
            for path, ready, first, second, own, split in book_pages(browser, base):
                print(f"  {path:34s} {ready / 1000:6.2f}s {first / 1e6:10.2f} MB {second / 1e6:7.2f} MB"
                      f" {own / 1e6:8.3f} MB" + " " * 28 + " ".join(f"{split[k] / 1e6:9.3f}" for k in KINDS))
            server.shutdown()
        browser.close()


if __name__ == "__main__":
    main()
