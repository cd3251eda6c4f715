"""Fixtures for the browser tests: the built book served on localhost, and headless Chromium."""
from __future__ import annotations

import functools
import http.server
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
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
# A ceiling, not a timing: pages wait for readiness signals (data-ready, MathJax's promise); this
# only turns a page that never becomes ready into a failure instead of a hang.
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


class PageVisit:
    """One page opened in a fresh context, recording console errors, requests and their sizes."""

    def __init__(self, browser, site: str, path: str):
        self.site, self.path = site, path
        self.errors: list[str] = []
        self.external: list[str] = []
        self.responses: dict[str, int] = {}
        self.missing: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfinished", self._finished)
        self.page.on("response", lambda r: r.status >= 400 and self.missing.append(f"{r.status} {r.url}"))
        self.page.set_default_timeout(READY_TIMEOUT)
        self.page.goto(site + path, wait_until="load", timeout=READY_TIMEOUT)
        self.page.wait_for_load_state("networkidle", timeout=READY_TIMEOUT)

    def _route(self, route):
        if route.request.url.startswith(self.site):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def _finished(self, request):
        sizes = request.sizes()
        self.responses[request.url] = sizes["responseBodySize"]

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
    context = browser.new_context(**options)

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

    if not any(lab_tool.EXECUTED.glob("*.ipynb")):
        pytest.fail("no executed chapters: run `make book` first")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "chapters"
    lab_tool.install_settings()
    lab_tool.prepare(lab=root)
    shutil.copyfile(ROOT / "book" / f"{LAB_CHAPTER}.md", root / f"{LAB_CHAPTER}.md")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    cmd = lab_tool.command(["--no-browser", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
                            "--LabApp.expose_app_in_browser=True"], lab=root)
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT / 1000
    while True:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited: {(tmp / 'server.log').read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("JupyterLab did not answer in time")
            time.sleep(0.2)  # polling interval of the readiness check
    yield {"base": base, "token": token, "root": root, "runtime": tmp / "runtime"}
    try:
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"), timeout=10)
        server.wait(timeout=30)
    except Exception:
        server.kill()
        server.wait()
    log.close()
