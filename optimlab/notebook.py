"""Chapters without PyTorch: a cell that needs torch prints a note instead of a traceback.

PyTorch does not run in the browser (JupyterLite's Pyodide kernel), so there the chapters' torch
cells cannot run. Each chapter's hidden first cell calls :func:`setup`; when ``import torch`` fails
it installs an IPython exception handler that turns two kinds of error into :data:`NOTE`:

- ``ModuleNotFoundError`` for ``torch`` (or ``torch.…``, also when raised inside
  ``optimlab.torch``): the cell itself needs PyTorch;
- ``NameError`` for a name that an earlier cell, stopped for lack of torch, would have defined
  (found by reading that cell's assignments, imports and definitions with :mod:`ast`).

The noted cell counts as run, not failed (its execution result is cleared after the cell), so
"Run All" in JupyterLab goes on past it. Every other error keeps its usual traceback::

    import optimlab.notebook
    optimlab.notebook.setup()      # returns False (and does nothing) where torch imports
"""
from __future__ import annotations

import ast
import importlib.util
import json

__all__ = ["NOTE", "setup", "torch_available", "needs_torch", "defined_names", "table",
           "SETUP_CALL", "install_cell", "with_install_cell", "BOOK_OUTPUT", "book_outputs", "replay"]

#: What a cell that needs PyTorch prints where torch cannot be imported. It names only routes the
#: book always offers: the chapter's notebook download (every page has it) and a local copy.
NOTE = ("This cell needs PyTorch, which is not installed in this kernel (and does not run in the "
        "browser). To run it, download the chapter as a notebook (download button at the top of its "
        "page) and open it in Jupyter where PyTorch is installed (`pip install torch`).")

#: The call every chapter's hidden first cell makes; in every copy of a chapter that leaves the
#: book's own environment, :func:`with_install_cell` puts :func:`install_cell` in that cell's place.
SETUP_CALL = "optimlab.notebook.setup()"

_INSTALL = '''\
# Set up the chapter: install optimlab, the book's package, where it is missing. Cells that need
# PyTorch print a note where torch is missing (always in the browser).
import importlib.util, sys
if importlib.util.find_spec("optimlab") is None:
    if sys.platform == "emscripten":      # in the browser (JupyterLite): the wheel its site serves
        %pip install -q "optimlab[widgets]"
    else:
{elsewhere}
importlib.invalidate_caches()
if importlib.util.find_spec("optimlab") is not None:
    import optimlab.notebook
    optimlab.notebook.setup({args})
'''


def install_cell(source: str | None = None, outputs: str | None = None) -> str:
    """The source of a chapter's first cell outside the book's environment (the single copy).

    ``source``: where pip gets optimlab outside the browser, a pip URL (the book's repository,
    ``git+https://…@branch``, or the wheel its site serves, ``https://…/optimlab-….whl``). Without
    one the cell prints how to run the chapter locally instead of a pip line that would fail.
    ``outputs``: the file of the book's outputs handed to :func:`setup` (the JupyterLite copies).
    """
    if source:
        if any(c in source for c in "\"\n ") or not source.startswith(("git+https://", "https://", "http://")):
            raise ValueError(f"source must be a git+https:// or http(s):// URL, got {source!r}")
        elsewhere = f'        %pip install -q "optimlab[widgets] @ {source}"'
    else:
        elsewhere = ("        print(\"optimlab, the book's package, is not installed here and this notebook names no \"\n"
                     "              \"place to install it from. To run the chapter: get the book's sources \"\n"
                     "              \"(git clone the book's repository, then cd into it) and run: make lab\")")
    return _INSTALL.format(elsewhere=elsewhere, args=f"outputs={json.dumps(outputs)}" if outputs else "")


def with_install_cell(nb: dict, source: str | None = None, outputs: str | None = None) -> bool:
    """Put, in place, :func:`install_cell` into ``nb``'s setup cell (its first code cell calling
    :data:`SETUP_CALL`), keeping that cell's tags and outputs; False when it has none."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if SETUP_CALL in text:
            cell["source"] = install_cell(source, outputs)
            return True
    return False


def torch_available() -> bool:
    """True when ``import torch`` can succeed (the module is found, without importing it)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a None placeholder in sys.modules, a broken parent
        return False


def defined_names(source: str) -> set[str]:
    """The names a cell binds at its top level: assignments, imports, ``def``, ``class``, ``for``, ``with``.

    IPython magics (``%…``, ``!…``) are blanked first; a cell that does not parse binds nothing.
    """
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return names


def needs_torch(error: BaseException, missing: set[str] | frozenset[str] = frozenset()) -> bool:
    """Whether ``error`` comes from torch being absent: ``torch`` not found, or a name in ``missing``."""
    if isinstance(error, ModuleNotFoundError):
        return (error.name or "").split(".")[0] == "torch"
    if isinstance(error, NameError):
        return getattr(error, "name", None) in missing
    return False


#: Printed after :data:`NOTE` when the book's output of the cell is shown in its place.
BOOK_OUTPUT = "Its output in the book, computed with PyTorch:"


def cell_key(source: str) -> str:
    """The key of a cell's book outputs: a hash of its source (an edited cell has none)."""
    import hashlib

    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()[:16]


def used_names(source: str) -> set[str]:
    """The names a cell reads, and the modules it imports (``import torch`` reads ``torch``)."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
            names.update("torch" for a in node.names if ".torch" in f".{a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add("torch" if ".torch" in f".{node.module}" else node.module.split(".")[0])
    return names


def book_outputs(nb: dict) -> dict[str, list]:
    """cell key → outputs, for the code cells of an executed notebook that can need torch (they
    use torch, or a name an earlier such cell defines) and have outputs: what :func:`setup` shows
    in place of a torch cell's result, e.g. in the browser."""
    out, missing = {}, {"torch"}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if used_names(source) & missing:
            missing |= defined_names(source)
            if cell.get("outputs"):
                out[cell_key(source)] = cell["outputs"]
    return out


def replay(outputs: list) -> None:
    """Show outputs saved in a notebook (streams printed, displays published, errors left out)."""
    import sys

    from IPython.display import publish_display_data

    for out in outputs:
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            print("".join(text) if isinstance(text, list) else text, end="",
                  file=sys.stderr if out.get("name") == "stderr" else sys.stdout)
        elif out.get("output_type") in ("display_data", "execute_result"):
            data = {k: "".join(v) if isinstance(v, list) else v for k, v in out.get("data", {}).items()
                    if k != "application/vnd.jupyter.widget-view+json"}  # its model lived in the book's kernel
            publish_display_data(data=data, metadata=out.get("metadata") or {})


class _TorchNote:
    """The handler behind :func:`setup`: remembers what torch cells would have defined."""

    def __init__(self, outputs: dict | None = None):
        self.missing: set[str] = {"torch"}  # where torch is missing, a NameError for it means just that
        self.cell = ""
        self.noted: BaseException | None = None
        self.outputs = outputs or {}

    def pre_run_cell(self, info):
        self.cell, self.noted = info.raw_cell or "", None

    def post_run_cell(self, result):
        # The kernel replies "error" (and Run All stops) when the result holds an error.
        if result is not None and self.noted is not None and result.error_in_exec is self.noted:
            result.error_in_exec = None

    def __call__(self, shell, etype, value, tb, tb_offset=None):
        if needs_torch(value, self.missing):
            self.missing |= defined_names(self.cell)
            self.noted = value
            print(NOTE)
            saved = self.outputs.get(cell_key(self.cell))
            if saved:
                print(BOOK_OUTPUT)
                replay(saved)
            return None
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def setup(shell=None, outputs: str | None = None) -> bool:
    """Where torch is missing, make cells that need it print :data:`NOTE` instead of failing.

    ``outputs``: a JSON file of the book's outputs (:func:`book_outputs`, written beside the
    chapter by the JupyterLite build): a cell that needs torch then shows its output from the book
    after the note (its interactive figures included). Returns True when the handler was installed, False where torch imports (nothing changes) or
    outside IPython. Calling it again replaces the handler.
    """
    _quiet_font_cache()
    if torch_available():
        return False
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
        if shell is None:
            return False
    note = _TorchNote(_read_outputs(outputs))
    previous = getattr(shell, "_optimlab_torch_note", None)
    for event in ("pre_run_cell", "post_run_cell"):
        if previous is not None:
            shell.events.unregister(event, getattr(previous, event))
        shell.events.register(event, getattr(note, event))
    shell._optimlab_torch_note = note
    shell.set_custom_exc((ModuleNotFoundError, NameError), note)
    return True


def _read_outputs(path: str | None) -> dict:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):  # not served beside this copy of the chapter: the note alone
        return {}


def _quiet_font_cache() -> None:
    """Build matplotlib's font cache now, without its "building the font cache" warning on stderr
    (a fresh kernel, e.g. every JupyterLite session, would print it in the chapter's first figure cell)."""
    import logging

    if importlib.util.find_spec("matplotlib") is None:
        return
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        import matplotlib.font_manager  # noqa: F401  (building the cache is the import's side effect)
    finally:
        log.setLevel(level)


def table(header, rows):
    """A Markdown table that a chapter's cell displays (the book renders it like its text).

    ``header``: the column titles; ``rows``: sequences of cells (printed with ``str``).  Columns
    are right-aligned except the first.
    """
    from IPython.display import Markdown

    header = [str(h) for h in header]
    lines = ["| " + " | ".join(header) + " |", "|:---|" + "---:|" * (len(header) - 1)]
    for row in rows:
        row = [str(c) for c in row]
        if len(row) != len(header):
            raise ValueError(f"every row must have {len(header)} cells, got {len(row)}: {row}")
        lines.append("| " + " | ".join(row) + " |")
    return Markdown("\n".join(lines))

