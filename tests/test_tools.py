"""The build tools behind `make lab` and `make lite` (tools/lab.py, tools/lite.py), without a build."""
from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lab  # noqa: E402
import lite  # noqa: E402

LOCK = {"info": {"version": "0.27.7"}, "packages": {
    "numpy": {"file_name": "numpy-2.whl", "sha256": "", "depends": []},
    "matplotlib": {"file_name": "matplotlib-3.whl", "sha256": "", "depends": ["numpy", "python-dateutil"]},
    "python-dateutil": {"file_name": "python_dateutil-2.whl", "sha256": "", "depends": ["six"]},
    "six": {"file_name": "six-1.whl", "sha256": "", "depends": []},
    "scipy": {"file_name": "scipy-1.whl", "sha256": "", "depends": ["numpy"]},
}}


def _archive(files: dict[str, bytes]) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr("assets/pyodide/" + name, data)
    buf.seek(0)
    return zipfile.ZipFile(buf)


def _lock_for(files: dict[str, bytes]) -> dict:
    lock = json.loads(json.dumps(LOCK))
    for entry in lock["packages"].values():
        entry["sha256"] = lite.sha256(files.get(entry["file_name"], b"absent"))
    return lock


def test_closure_follows_dependencies_and_names_unknown_packages():
    assert lite.closure(LOCK, ["matplotlib"]) == {"matplotlib", "numpy", "python-dateutil", "six"}
    assert lite.closure(LOCK, ["Python_Dateutil"]) == {"python-dateutil", "six"}
    with pytest.raises(KeyError, match="torch"):
        lite.closure(LOCK, ["torch"])


def test_served_lock_keeps_only_served_entries_unchanged():
    served = lite.served_lock(LOCK, {"numpy", "six"})
    assert set(served["packages"]) == {"numpy", "six"}
    assert served["packages"]["numpy"] == LOCK["packages"]["numpy"] and served["info"] == LOCK["info"]


def test_wheels_are_taken_only_with_the_lockfile_sha256():
    files = {"numpy-2.whl": b"numpy bytes", "six-1.whl": b"six bytes"}
    lock = _lock_for(files)
    assert lite.verified_wheels(lock, {"numpy", "six"}, _archive(files), "assets/pyodide/") == files
    tampered = dict(files, **{"six-1.whl": b"six bytes, changed"})
    with pytest.raises(lite.VerificationError, match="six-1.whl: sha256"):
        lite.verified_wheels(lock, {"numpy", "six"}, _archive(tampered), "assets/pyodide/")
    with pytest.raises(lite.VerificationError, match="scipy-1.whl"):
        lite.verified_wheels(lock, {"scipy"}, _archive(files), "assets/pyodide/")


def test_chapter_notebook_for_the_browser():
    nb = lite.chapter_notebook(ROOT / "book" / "01_gradient_descent.md")
    assert nb.metadata["kernelspec"]["name"] == "python"       # the Pyodide kernel
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] for c in code)
    assert code[0].metadata["jupyter"]["source_hidden"] is True  # the hidden install cell, folded
    nbformat.validate(nb)


def test_fold_hidden_follows_the_books_tags():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("a", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("b", metadata={"tags": ["hide-input"]}),
        nbformat.v4.new_code_cell("c", metadata={"tags": ["remove-output"]}),
        nbformat.v4.new_code_cell("d"),
        nbformat.v4.new_markdown_cell("e", metadata={"tags": ["hide-output"]}),
    ])
    lab.fold_hidden(nb)
    meta = [c.metadata.get("jupyter", {}) for c in nb.cells]
    assert meta == [{"source_hidden": True}, {"source_hidden": True}, {"outputs_hidden": True}, {}, {}]


def test_prepare_copies_executed_chapters_and_keeps_newer_copies(tmp_path):
    executed, work = tmp_path / "executed", tmp_path / "lab"
    executed.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", metadata={"tags": ["hide-input"]})])
    nbformat.write(nb, executed / "01_x.ipynb")
    [copy] = lab.prepare(executed, work)
    assert nbformat.read(copy, 4).cells[0].metadata["jupyter"]["source_hidden"] is True
    copy.write_text(copy.read_text().replace('"1"', '"lecturer edit"'))   # saved in JupyterLab
    lab.prepare(executed, work)
    assert "lecturer edit" in copy.read_text(), "a newer working copy was overwritten"
    os.utime(executed / "01_x.ipynb", (copy.stat().st_mtime + 10,) * 2)    # the chapter was rebuilt
    lab.prepare(executed, work)
    assert "lecturer edit" not in copy.read_text()
    with pytest.raises(SystemExit, match="make book"):
        lab.prepare(tmp_path / "nothing", work)


def test_lab_command_stays_on_localhost():
    cmd = lab.command(["--no-browser"], lab=Path("/x"))
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.root_dir=/x" in cmd and cmd[-1] == "--no-browser"
