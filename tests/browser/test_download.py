"""A downloaded chapter notebook, run by a self-study reader: a fresh virtual environment with only
Jupyter's kernel and PyTorch, and the book's site served locally.

The notebook is the page's ``.ipynb`` download (``_build/html/_sources/…``) as the book built it;
its install cell is the one the build writes for a site at the local server's address
(``repository: site:``), so optimlab comes from the wheel the site serves. The chapter's cells
then run up to its first computation with PyTorch, which must print what it printed in the book.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

from conftest import HTML, ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import optimlab_launch as launch  # noqa: E402
from optimlab import notebook  # noqa: E402

CHAPTER = "book/08_custom_optimizer"
#: What the fresh environment gets besides optimlab: Jupyter's kernel and PyTorch, at the book's pins.
PINNED = ("ipykernel", "torch")


def _pins() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("==")[0].strip() in PINNED]


def _download() -> nbformat.NotebookNode:
    path = HTML / "_sources" / f"{CHAPTER}.ipynb"
    if not path.exists():
        pytest.fail(f"no download {path}: run `make book`")
    return nbformat.read(path, as_version=4)


def _first_torch_computation(nb) -> int:
    """Index of the first code cell that computes with torch (not only imports it)."""
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                and re.search(r"\btorch\.(?!set_num_threads)\w", c.source) and "import torch" not in c.source)


def test_the_download_carries_the_install_cell_of_the_setting_and_live_explorers():
    nb = _download()
    config = launch.settings(ROOT)
    url = launch.repository({"repository_url": config["url"]})
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == notebook.install_cell(launch.install_source(url, config["branch"], config["site"]))
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if "optimlab-explorer" in o.get("data", {}).get("text/html", "")]
    assert html, "no explorer in the download"
    assert all("optimlabExplorer" in h and "<script" in h for h in html), "an explorer without its script"


def test_a_downloaded_notebook_installs_optimlab_from_the_site_and_runs_its_torch_cells(site, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    nb = _download()
    stop = _first_torch_computation(nb)
    book_output = "".join(o.get("text", "") for o in nb.cells[stop].outputs if o.output_type == "stream")
    assert book_output, "the first torch cell printed nothing in the book"
    # The setup cell as the build writes it for a site served at this address.
    source = launch.install_source(None, "main", site)
    assert notebook.with_install_cell(nb, source)
    nb.cells = nb.cells[:stop + 1]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []

    env = tmp_path / "reader"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", *_pins()], check=True)
    assert subprocess.run([python, "-c", "import optimlab"], capture_output=True, cwd=tmp_path).returncode != 0
    subprocess.run([python, "-m", "ipykernel", "install", "--prefix", env, "--name", "reader"], check=True)
    monkeypatch.setenv("JUPYTER_PATH", str(env / "share" / "jupyter"))   # the reader's kernel ...
    monkeypatch.setenv("PATH", f"{env / 'bin'}:/usr/bin:/bin")            # ... and its pip
    monkeypatch.setenv("HOME", str(tmp_path))                             # a first visit: no caches
    done = NotebookClient(nb, kernel_name="reader", timeout=900,
                          resources={"metadata": {"path": str(tmp_path)}}).execute()
    installed = json.loads(subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.distribution('optimlab').read_text('direct_url.json'))"],
        capture_output=True, text=True, check=True, cwd=tmp_path).stdout)
    assert installed["url"] == source, f"optimlab came from {installed['url']}, not the site's wheel"
    printed = "".join(o.get("text", "") for o in done.cells[stop].outputs if o.output_type == "stream")
    assert notebook.NOTE not in printed
    assert printed == book_output, f"the torch cell printed {printed!r}, the book {book_output!r}"
