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


CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

(ch-x)=
# Chapter X

```{code-cell} ipython3
:tags: [remove-cell]
1
```

See {ref}`ch-x` and {ref}`the notes <notes>`, after {cite}`kingma2015adam`.
"""


def _book(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "01_x.md").write_text(CHAPTER)
    (book / "notation.md").write_text("(notes)=\n# Notes\n")
    (book / "sources.md").write_text("(src)=\n# Sources\n")
    (book / "references.bib").write_text((ROOT / "book" / "references.bib").read_text())
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/notation\nchapters:\n  - file: book/01_x\n")
    return book


def test_prepare_writes_trusted_chapters_and_keeps_newer_copies(tmp_path):
    from nbformat.sign import NotebookNotary

    book, work = _book(tmp_path), tmp_path / "lab"
    [copy] = lab.prepare(work, book, cache=tmp_path / "no-cache")   # not executed: no outputs
    nb = nbformat.read(copy, 4)
    nbformat.validate(nb)
    assert nb.cells[1].metadata["jupyter"]["source_hidden"] is True
    assert NotebookNotary().check_signature(nb), "the working copy is not trusted"
    assert "[Chapter X](01_x.ipynb#ch-x)" in nb.cells[2].source and "[the notes](notation.ipynb#notes)" in nb.cells[2].source
    assert (work / "notation.ipynb").exists() and (work / "sources.ipynb").exists()
    copy.write_text(copy.read_text().replace("Chapter X", "lecturer edit"))   # saved in JupyterLab
    lab.prepare(work, book, cache=tmp_path / "no-cache")
    assert "lecturer edit" in copy.read_text(), "a newer working copy was overwritten"
    os.utime(book / "01_x.md", (copy.stat().st_mtime + 10,) * 2)             # the chapter changed
    lab.prepare(work, book, cache=tmp_path / "no-cache")
    assert "lecturer edit" not in copy.read_text()
    with pytest.raises(SystemExit, match="no chapters"):
        lab.prepare(work, tmp_path / "nothing")


def test_roles_become_links_and_author_year_citations():
    refs = lab.targets()
    assert refs["ch-momentum"] == ("04_momentum", "Momentum")
    assert refs["live-panel"] == ("01_gradient_descent", "Live panel (for lecturers)")
    assert refs["rmsprop-ex-5"][0] == "05_rmsprop" and refs["rmsprop-ex-5"][1].startswith("Exercise ")
    cites = lab.citations()
    assert cites["kingma2015adam"] == "Kingma and Ba, 2015"
    assert cites["polyak1964some"] == "Polyak, 1964"
    text = ("{ref}`ch-momentum`, {ref}`sweep <rmsprop-sweep>`, {ref}`live-panel`, {cite}`polyak1964some`, "
            "{cite}`kingma2015adam,polyak1964some`, {ref}`no-such-label`")
    assert lab.resolve_roles(text, refs, cites) == (
        "[Momentum](04_momentum.ipynb#ch-momentum), [sweep](05_rmsprop.ipynb#rmsprop-sweep), "
        "[Live panel (for lecturers)](01_gradient_descent.ipynb#live-panel), [Polyak, 1964], "
        "[Kingma and Ba, 2015; Polyak, 1964], {ref}`no-such-label`")
    # Every {ref} and {cite} of every chapter resolves.
    for md in lab.chapters():
        nb = lab.link_roles(lite.jupytext.read(md), refs, cites)
        left = [c.source for c in nb.cells if c.cell_type == "markdown" and ("{ref}`" in c.source or "{cite}`" in c.source)]
        assert left == [], f"{md.name}: unresolved roles in {left[0][:200]}"


def test_removed_outputs_left_out_and_explorers_made_live():
    from optimlab import explorers, surfaces, rules

    ex = explorers.race(surfaces.Quadratic(), {"SGD": rules.SGD(lr=0.1)}, live=True, steps=10)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("setup()", metadata={"tags": ["remove-cell"]},
                                  outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "False"})]),
        nbformat.v4.new_code_cell("ex", outputs=[nbformat.v4.new_output(
            "execute_result", {"text/html": ex.to_html("book"), "text/plain": repr(ex)})]),
    ])
    lab.live_notebook(lab.drop_removed_outputs(nb))
    assert nb.cells[0].outputs == []
    html = nb.cells[1].outputs[0]["data"]["text/html"]
    assert html == ex.to_html("live") and "optimlabExplorer.mount" in html


def test_lab_command_stays_on_localhost():
    cmd = lab.command(["--no-browser"], lab=Path("/x"))
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.root_dir=/x" in cmd and cmd[-1] == "--no-browser"


def test_equations_carry_the_book_numbers_and_unlabelled_ones_none():
    numbers = {"eq-a": 7, "eq-b": 8}
    nb = {"cells": [{"cell_type": "markdown", "source":
                     "Text\n\n```{math}\n:label: eq-a\nx = 1\n```\n\n```{math}\nw = 0\n```\n\n$$\ny = 2\n$$\n\n$$\nz = 3\n$$ (eq-b)\n\nFrom {eq}`eq-a`."}]}
    text = lab.number_equations(nb, numbers)["cells"][0]["source"]
    assert "```{math}\n:label: eq-a\n:enumerator: 7\nx = 1\n```" in text
    assert "```{math}\n:enumerated: false\ny = 2\n```" in text
    assert "```{math}\n:enumerated: false\nw = 0\n```" in text
    assert "```{math}\n:label: eq-b\n:enumerator: 8\nz = 3\n```" in text
    assert "$$" not in text and "{eq}`eq-a`" in text


def test_equation_numbers_count_labelled_equations_through_the_book_in_toc_order():
    numbers = lab.equation_numbers()
    assert list(numbers.values()) == list(range(1, len(numbers) + 1))
    first_chapter = lab._labelled((lab.BOOK / "01_gradient_descent.md").read_text())
    assert [numbers[label] for label in first_chapter] == list(range(1, len(first_chapter) + 1))
