"""optimlab.notebook: without PyTorch, the cells that need it print a note and the rest still run.

The kernel tests run a chapter-like notebook (starting with chapter 1's real hidden first cell) in
a kernel where ``import torch`` fails, as it does in the browser.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from optimlab import notebook

ROOT = Path(__file__).resolve().parents[1]


def test_defined_names_reads_assignments_imports_and_definitions():
    src = """
%matplotlib inline
import torch
import torch.nn as nn
from optimlab.torch import Adam as TAdam
a, (b, c) = 1, (2, 3)
model: int = 4
for i in range(3):
    pass
def loss(): pass
class Net: pass
with open(__file__) as fh: pass
"""
    assert notebook.defined_names(src) >= {"torch", "nn", "TAdam", "a", "b", "c", "model", "i",
                                           "loss", "Net", "fh"}
    assert notebook.defined_names("this is not python (") == set()


def test_needs_torch_only_for_torch_and_names_torch_cells_would_define():
    assert notebook.needs_torch(ModuleNotFoundError("x", name="torch"))
    assert notebook.needs_torch(ModuleNotFoundError("x", name="torch.nn"))
    assert not notebook.needs_torch(ModuleNotFoundError("x", name="torchvision"))
    assert not notebook.needs_torch(ModuleNotFoundError("x", name="scipy"))
    assert notebook.needs_torch(NameError("x", name="model"), {"model"})
    assert not notebook.needs_torch(NameError("x", name="typo"), {"model"})
    assert not notebook.needs_torch(ValueError("torch"), {"torch"})


def test_torch_available_sees_a_blocked_import(monkeypatch):
    assert notebook.torch_available()          # the test environment has torch
    monkeypatch.setitem(sys.modules, "torch", None)
    assert not notebook.torch_available()


def test_setup_does_nothing_where_torch_imports():
    class NoShell:  # setup must not touch the shell at all
        pass

    assert notebook.setup(NoShell()) is False


def _first_cell(chapter: str) -> str:
    """The hidden first code cell of a chapter, as the book runs it."""
    text = (ROOT / "book" / chapter).read_text()
    cell = re.search(r"```\{code-cell\} ipython3\n:tags: \[remove-cell\]\n\n(.*?)```", text, re.S)
    assert cell, f"{chapter} has no hidden first cell"
    return cell.group(1)


def _run(cells: list[str], tmp_path, monkeypatch) -> nbformat.NotebookNode:
    """Execute cells in a fresh kernel in which ``import torch`` fails (as in Pyodide)."""
    blocker = tmp_path / "blocker"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    monkeypatch.setenv("PYTHONPATH", str(blocker))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize("chapter", ["01_gradient_descent.md"])
def test_torch_cells_print_the_note_and_later_cells_run(chapter, tmp_path, monkeypatch):
    nb = _run([
        _first_cell(chapter),
        "import importlib.util\nprint(importlib.util.find_spec('torch') is None)",
        "import numpy as np\nimport optimlab as ol",
        "import torch\nw = torch.zeros(2, requires_grad=True)",      # needs torch
        "loss = (w ** 2).sum()",                                     # uses a name the torch cell defines
        "loss.backward()\nprint(w.grad)",                            # ... and one defined by that cell
        "import optimlab.torch as olt",                              # torch imported inside optimlab
        "x, opt = np.ones(2), ol.SGD(lr=0.5)\nprint('after', opt.step(x, x, opt.init(x))[0])",
    ], tmp_path, monkeypatch)                     # CellExecutionError here would mean a cell failed
    outs = [c.outputs for c in nb.cells]
    assert all(o.output_type != "error" for cell in outs for o in cell)
    assert _text(nb.cells[1]).strip() == "True", "torch was importable in the test kernel"
    for i in (3, 4, 5, 6):
        assert _text(nb.cells[i]).strip() == notebook.NOTE, f"cell {i}: {nb.cells[i].outputs}"
    assert _text(nb.cells[7]).strip() == "after [0.5 0.5]"


def test_other_errors_still_fail_without_torch(tmp_path, monkeypatch):
    with pytest.raises(CellExecutionError, match="undefined_name"):
        _run(["import optimlab.notebook\nassert optimlab.notebook.setup()", "undefined_name + 1"],
             tmp_path, monkeypatch)
    with pytest.raises(CellExecutionError, match="scipy_is_not_here"):
        _run(["import optimlab.notebook\noptimlab.notebook.setup()", "import scipy_is_not_here"],
             tmp_path, monkeypatch)


def test_table_is_a_markdown_table_with_the_first_column_left_aligned():
    md = notebook.table(["name", "value"], [["a", 1.5], ["b", 2]]).data
    assert md.splitlines() == ["| name | value |", "|:---|---:|", "| a | 1.5 |", "| b | 2 |"]
    with pytest.raises(ValueError, match="every row must have 2 cells, got 1"):
        notebook.table(["name", "value"], [["a"]])


def test_a_torch_cell_shows_its_book_output_after_the_note(tmp_path, monkeypatch):
    torch_cell = "import torch\nprint(torch.ones(2))"
    saved = {"cells": [{"cell_type": "code", "source": torch_cell, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "tensor([1., 1.])\n"},
        {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>drawn</b>", "text/plain": "drawn"}}]}]}
    outputs = tmp_path / "book-outputs.json"
    outputs.write_text(json.dumps(notebook.book_outputs(saved)))
    nb = _run([f"import optimlab.notebook\nassert optimlab.notebook.setup(outputs={str(outputs)!r})",
               torch_cell, "import torch  # edited: no saved output"], tmp_path, monkeypatch)
    assert _text(nb.cells[1]) == f"{notebook.NOTE}\n{notebook.BOOK_OUTPUT}\ntensor([1., 1.])\n"
    assert [o.data["text/html"] for o in nb.cells[1].outputs if o.output_type == "display_data"] == ["<b>drawn</b>"]
    assert _text(nb.cells[2]).strip() == notebook.NOTE


def test_a_missing_outputs_file_leaves_the_note_alone(tmp_path, monkeypatch):
    nb = _run(["import optimlab.notebook\nassert optimlab.notebook.setup(outputs='nowhere.json')",
               "import torch"], tmp_path, monkeypatch)
    assert _text(nb.cells[1]).strip() == notebook.NOTE
