"""Print how long `make lab` takes to a ready notebook: from a fresh clone, and warm.

``make lab`` builds only what a classroom needs (the virtual environment and the executed chapters,
no HTML book, no JupyterLite site).  Each measurement runs ``make lab`` without opening a browser,
on a free port of 127.0.0.1; headless Chromium then opens chapter 1 and waits until its figures
(images and the interactive figures, drawn without running a cell) are there and its kernel is
idle.  Times count from the moment the command starts; then JupyterLab is stopped.

    python benchmarks/bench_lab.py            # warm: this checkout, as it is (run `make lab` once first)
    python benchmarks/bench_lab.py --fresh    # a fresh clone of this checkout's HEAD (new .venv, no
                                              # _build; pip's cache as this machine has it), then warm

Targets: fresh clone to a ready chapter ≤ 4 min; warm ≤ 15 s.
"""
from __future__ import annotations

import argparse
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
CEILING = 1800  # seconds: only turns a `make lab` that never gets ready into a failure


def measure(root: Path, chromium: str) -> dict:
    """Seconds from `make lab` in ``root`` to: the server answering, chapter 1's figures, an idle kernel."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=tmp, JUPYTERLAB_WORKSPACES_DIR=tmp)
        args = f"--no-browser --ServerApp.port={port} --IdentityProvider.token={token}"
        log = open(Path(tmp) / "make.log", "w")
        t0 = time.perf_counter()
        make = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=root, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while True:  # polled: the server's API answering is the readiness signal
                if make.poll() is not None:
                    raise SystemExit("make lab exited early:\n" + (Path(tmp) / "make.log").read_text()[-3000:])
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                    break
                except OSError:
                    if time.perf_counter() - t0 > CEILING:
                        raise SystemExit("make lab never answered") from None
                    time.sleep(0.1)
            out = {"server": time.perf_counter() - t0}
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{CHAPTER}?reset&token={token}")
                page.wait_for_selector(".jp-NotebookPanel .jp-OutputArea-output img", state="attached",
                                       timeout=CEILING * 1000)
                page.wait_for_selector(".jp-OutputArea-output .optimlab-explorer[data-ready='1']",
                                       state="attached", timeout=CEILING * 1000)
                out["figures"] = time.perf_counter() - t0
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=CEILING * 1000)
                out["ready"] = time.perf_counter() - t0
                browser.close()
        finally:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"),
                                       timeout=10)
                make.wait(timeout=30)
            except Exception:
                os.killpg(make.pid, 9)
                make.wait()
            log.close()
    return out


def report(what: str, t: dict) -> None:
    print(f"make lab ({what}): server answers after {t['server']:.1f} s; chapter 1 shows its figures "
          f"after {t['figures']:.1f} s, kernel idle after {t['ready']:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true", help="measure a fresh clone first")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no Chromium on this machine")
        return 1
    if not args.fresh:
        report("this checkout, warm", measure(ROOT, chromium))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
        report("fresh clone: venv, chapters executed", measure(clone, chromium))
        report("the same clone, warm", measure(clone, chromium))
    return 0


if __name__ == "__main__":
    sys.exit(main())
