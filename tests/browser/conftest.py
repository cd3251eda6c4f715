"""Fixtures for the browser tests: the built book served on localhost, and headless Chromium."""
from __future__ import annotations

import functools
import http.server
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Overridable for debugging a build made elsewhere (jupyter-book build --path-output / --toc).
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
TOC = Path(os.environ.get("BOOK_TOC", ROOT / "_toc.yml"))
SHOTS = HTML.parent / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A ceiling, not a timing: the tests wait for readiness signals (the load event, MathJax's
# promise, the explorers' data-ready, no request in flight, a kernel's idle status, the server's
# "is running at" line); this only turns something that never becomes ready into a failure
# instead of a hang. Every context made by `new_context` uses it for every wait and navigation
# (Playwright's own default, 30 s, is what a page on a busy machine exceeded).
READY_TIMEOUT = 180_000
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def toc_pages() -> list[str]:
    """Every page in _toc.yml, as a path relative to the HTML root (e.g. 'book/02_ewma.html')."""
    toc = yaml.safe_load(TOC.read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", [toc]):
        pages += [entry["file"] for entry in part["chapters"]]
    return [p + ".html" for p in pages]


def configured_repository() -> str | None:
    """The repository set in _config.yml, as the book's extension reads it (None: unset/placeholder)."""
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from optimlab_launch import repository

    url = (yaml.safe_load((ROOT / "_config.yml").read_text()).get("repository") or {}).get("url")
    return repository({"repository_url": url})


def chapter_pages() -> list[str]:
    return [p for p in toc_pages() if Path(p).name[:2].isdigit()]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site():
    """Base URL of the built book, served from _build/html on a free localhost port."""
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (or `make test`, which builds it first)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_context(browser, **options):
    """A browser context whose every wait and navigation has the ceiling READY_TIMEOUT."""
    context = browser.new_context(**options)
    context.set_default_timeout(READY_TIMEOUT)
    context.set_default_navigation_timeout(READY_TIMEOUT)
    return context


def next_frame(page) -> None:
    """Return after the page has painted its next frame (the pace of a readiness poll)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")


# A book page is ready when: MathJax (if the page loads it) has typeset, its fonts are loaded,
# and every explorer has drawn (data-ready="1").
_MATHJAX_STARTED = ("() => !document.querySelector('script[src*=\"mathjax\"]')"
                    " || !!(window.MathJax && MathJax.startup && MathJax.startup.promise)")
_TYPESET_AND_FONTS = ("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise;"
                      " await document.fonts.ready; }")
EXPLORERS_READY = "() => [...document.querySelectorAll('.optimlab-explorer')].every(e => e.dataset.ready === '1')"


class PageVisit:
    """One page opened in a fresh context, recording console errors, requests and their sizes.

    The visit returns once the page is ready (see :meth:`settle`), never after a fixed time.
    """

    def __init__(self, browser, site: str, path: str):
        self.site, self.path = site, path
        self.errors: list[str] = []
        self.external: list[str] = []
        self.responses: dict[str, int] = {}
        self.missing: list[str] = []
        self.pending: set = set()
        self.context = new_context(browser, viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("request", lambda r: r.url.startswith(site) and self.pending.add(r))
        self.page.on("requestfinished", self._finished)
        self.page.on("requestfailed", lambda r: self.pending.discard(r))
        self.page.on("response", lambda r: r.status >= 400 and self.missing.append(f"{r.status} {r.url}"))
        self.page.goto(site + path, wait_until="load")
        self.settle()

    def settle(self) -> None:
        """Wait until the page is ready and nothing it asked for is still loading."""
        self.page.wait_for_function(_MATHJAX_STARTED)
        self.page.evaluate(_TYPESET_AND_FONTS)
        self.page.wait_for_function(EXPLORERS_READY)
        deadline = time.monotonic() + READY_TIMEOUT / 1000
        while self.pending:  # requests in flight (e.g. MathJax's fonts), each ends with an event
            assert time.monotonic() < deadline, f"requests never finished: {[r.url for r in self.pending][:5]}"
            next_frame(self.page)

    def _route(self, route):
        if route.request.url.startswith(self.site):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def _finished(self, request):
        sizes = request.sizes()
        self.responses[request.url] = sizes["responseBodySize"]
        self.pending.discard(request)

    def first_visit_bytes(self) -> int:
        """Every byte this first visit loaded (bodies, as sent by the server)."""
        return sum(self.responses.values())

    def local(self, url: str) -> str:
        return url[len(self.site):].split("#")[0].split("?")[0]

    def close(self):
        self.context.close()


@pytest.fixture(scope="session")
def visit(browser, site):
    """Open a page once per session; the tests of one page share the visit (loading is the slow part)."""
    visits: dict[str, PageVisit] = {}

    def _open(path):
        if path not in visits:
            visits[path] = PageVisit(browser, site, path)
        return visits[path]

    yield _open
    for v in visits.values():
        v.close()


# --------------------------------------------------------------------------- JupyterLab (`make lab`)
LAB_CHAPTER = "01_gradient_descent"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def offline_context(browser, base: str, external: list, **options):
    """A browser context in which every request outside ``base`` is refused and recorded."""
    context = new_context(browser, **options)

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return context


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab on a fresh working folder prepared as `make lab` prepares _build/lab (the chapters
    as notebooks with the outputs of the last build), started as `make lab` starts it; the tests
    that use it share one server."""
    sys.path.insert(0, str(ROOT / "tools"))
    import lab as lab_tool  # tools/lab.py, what `make lab` runs

    if not (lab_tool.execute.CACHE / "global.db").exists():
        pytest.fail("no executed chapters: run `make execute` (or `make lab`, `make book`) first")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "chapters"
    lab_tool.install_settings()
    lab_tool.prepare(lab=root)
    shutil.copyfile(ROOT / "book" / f"{LAB_CHAPTER}.md", root / f"{LAB_CHAPTER}.md")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    cmd = lab_tool.command(["--no-browser", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
                            "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True"],
                           lab=root)
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    told = threading.Event()  # set when the server says it is running, or when its log ends
    running = []

    def copy_log():  # the server's output to server.log, watching for the address it serves
        with open(tmp / "server.log", "w") as log:
            for line in server.stdout:
                log.write(line)
                log.flush()
                found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
                if found and not running:  # the port it really listens on (another, if ours was taken)
                    running.append(int(found.group(1)))
                    told.set()
        told.set()

    copier = threading.Thread(target=copy_log, daemon=True)
    copier.start()
    if not told.wait(READY_TIMEOUT / 1000):
        server.kill()
        pytest.fail(f"JupyterLab never said it was running: {(tmp / 'server.log').read_text()[-2000:]}")
    if not running:
        pytest.fail(f"JupyterLab exited: {(tmp / 'server.log').read_text()[-2000:]}")
    base = f"http://127.0.0.1:{running[0]}"
    # The server logs its address a moment before it accepts connections: the readiness signal is
    # its API answering (polled; a ceiling only turns a server that never answers into a failure).
    deadline = time.monotonic() + READY_TIMEOUT / 1000
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=READY_TIMEOUT / 1000):
                break
        except (ConnectionError, urllib.error.URLError):
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not answer: {(tmp / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)  # polling interval of the readiness check, not a wait for the machine
    yield {"base": base, "token": token, "root": root, "runtime": tmp / "runtime"}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"),
                                    timeout=READY_TIMEOUT / 1000):
            pass
        server.wait(timeout=READY_TIMEOUT / 1000)
    except Exception:
        server.kill()
        server.wait()
    copier.join()
