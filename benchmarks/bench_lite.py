"""Print the figures of "Run in your browser" (JupyterLite): start, run, download, size.

The built book is served on 127.0.0.1 by a server that counts the bytes it sends; headless
Chromium (with a fresh profile, so its HTTP cache starts empty) opens chapter 1's "Run in your
browser" link twice, with the network off:

- first visit: time until the Pyodide kernel is ready, time to run every cell, bytes downloaded;
- second visit (same browser, so its cache is warm): kernel-ready time and bytes downloaded.

Also the size the lite site adds to the book (``_build/html/lite``), and what it is made of.

    python benchmarks/bench_lite.py
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
CHAPTER = "book/01_gradient_descent.html"
# Network off: every host but 127.0.0.1 fails to resolve. (Playwright's request routing would
# also block, but it disables the browser's HTTP cache, which the second visit measures.)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle'; }"""
ALL_RUN = """() => { const w = window.jupyterapp.shell.currentWidget;
  const cells = [...w.content.model.cells].filter(c => c.type === 'code');
  return w.sessionContext.session.kernel.status === 'idle' && cells.every(c => c.executionCount !== null); }"""


class Counting(http.server.SimpleHTTPRequestHandler):
    sent = 0

    def copyfile(self, source, outputfile):
        data = source.read()
        Counting.sent += len(data)
        outputfile.write(data)

    def log_message(self, *args):
        pass


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def visit(context, site: str, run_all: bool) -> dict:
    page = context.new_page()
    Counting.sent = 0
    page.goto(site + CHAPTER)
    href = page.get_attribute("a.btn-run-in-browser-button", "href")
    t0 = time.perf_counter()
    page.goto(page.url.rsplit("/", 1)[0] + "/" + href)
    page.wait_for_function(KERNEL_IDLE, timeout=600_000, polling=100)
    out = {"kernel_s": time.perf_counter() - t0, "kernel_bytes": Counting.sent}
    if run_all:
        t1 = time.perf_counter()
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(ALL_RUN, timeout=900_000, polling=100)
        out.update(run_s=time.perf_counter() - t1, run_bytes=Counting.sent)
    page.close()
    return out


def main() -> int:
    lite = HTML / "lite"
    if not (lite / "index.html").exists():
        print("no JupyterLite site in the book: run `make book` first")
        return 1
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no Chromium on this machine")
        return 1
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Counting, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}/"
    external: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=chromium, args=ARGS,
                                                       viewport={"width": 1280, "height": 900})
        context.on("request", lambda r: r.url.startswith((site, "data:", "blob:")) or external.append(r.url))
        first = visit(context, site, run_all=True)
        second = visit(context, site, run_all=False)
        context.close()
    server.shutdown()
    mb = 1e6
    print(f"first visit : kernel ready {first['kernel_s']:.1f} s, {first['kernel_bytes'] / mb:.1f} MB; "
          f"chapter 1 run in {first['run_s']:.1f} s, {first['run_bytes'] / mb:.1f} MB in all")
    print(f"second visit: kernel ready {second['kernel_s']:.1f} s, {second['kernel_bytes'] / mb:.2f} MB "
          "(browser cache)")
    parts = {p.name: du(p) for p in lite.iterdir() if p.is_dir()}
    biggest = ", ".join(f"{k} {v / mb:.1f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])[:5])
    print(f"lite site   : {du(lite) / mb:.1f} MB on disk ({biggest} MB); the book without it: "
          f"{(du(HTML) - du(lite)) / mb:.1f} MB")
    if external:
        print(f"requests for other hosts (they failed): {external[:5]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
