"""Print how long `make lab` takes to a ready notebook.

Runs ``make lab`` (which first brings the book up to date: cached, only what changed is rebuilt)
without opening a browser, on a free port of 127.0.0.1; headless Chromium then opens chapter 1
and waits until its figures are there and its kernel is idle. Prints the time to the server and
to the ready notebook, both from the moment the command starts, then stops JupyterLab.

    python benchmarks/bench_lab.py
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "01_gradient_descent.ipynb"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no Chromium on this machine")
        return 1
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=tmp, JUPYTERLAB_WORKSPACES_DIR=tmp)
        args = f"--no-browser --ServerApp.port={port} --IdentityProvider.token={token}"
        t0 = time.perf_counter()
        make = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while True:
                if make.poll() is not None:
                    print("make lab exited early")
                    return 1
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                    break
                except OSError:
                    time.sleep(0.1)
            t_server = time.perf_counter() - t0
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{CHAPTER}?reset&token={token}")
                page.wait_for_selector(".jp-NotebookPanel .jp-OutputArea-output img", state="attached", timeout=120_000)
                t_outputs = time.perf_counter() - t0
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
                t_ready = time.perf_counter() - t0
                browser.close()
        finally:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"),
                                       timeout=10)
                make.wait(timeout=30)
            except Exception:
                os.killpg(make.pid, 9)
                make.wait()
    print(f"make lab (book up to date): server answers after {t_server:.1f} s; chapter 1 shows its "
          f"figures after {t_outputs:.1f} s, kernel idle after {t_ready:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
