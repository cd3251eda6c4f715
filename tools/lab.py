"""``make lab``: JupyterLab on the book's chapters, each opened with the outputs of the last ``make book``.

The chapters open from a working folder, ``_build/lab/`` (ignored by git), never from ``book/``:

- each executed chapter of the last build (``_build/jupyter_execute/book/*.ipynb``) is copied
  there, unless the copy there is newer: what a lecturer saves stays until that chapter is
  rebuilt, and saving never touches the chapter sources (no dirty git tree);
- the cells the book hides get their input folded (JupyterLab's ``source_hidden``), as on the page;
- JupyterLab (pinned in requirements.txt, with ``jupyterlab-myst`` for MyST directives, roles and
  folded solutions) starts on that folder.

``tools/jupyterlab-settings.json`` becomes this ``.venv``'s JupyterLab overrides: jupytext opens a
``.md`` chapter as a notebook (should one be opened), and JupyterLab asks no news or update server.

    python tools/lab.py prepare          # only prepare _build/lab (what the tests use)
    python tools/lab.py [ARGS...]        # prepare, then `jupyter lab ARGS` on _build/lab
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "_build" / "jupyter_execute" / "book"
LAB = ROOT / "_build" / "lab"
SETTINGS = Path(__file__).with_name("jupyterlab-settings.json")

#: Cell tags of the book (myst-nb) → JupyterLab's folding flags.
FOLD_INPUT = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
FOLD_OUTPUT = {"remove-output", "hide-output", "hide-cell"}


def fold_hidden(nb: dict) -> dict:
    """Fold, in place, the inputs and outputs that the book hides; return the notebook."""
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        jupyter = {}
        if tags & FOLD_INPUT:
            jupyter["source_hidden"] = True
        if tags & FOLD_OUTPUT and cell.get("cell_type") == "code":
            jupyter["outputs_hidden"] = True
        if jupyter:
            cell.setdefault("metadata", {}).setdefault("jupyter", {}).update(jupyter)
    return nb


def install_settings(prefix: Path = Path(sys.prefix)) -> Path:
    """Install the JupyterLab overrides for the environment at ``prefix``; return their path."""
    target = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SETTINGS, target)
    return target


def prepare(executed: Path = EXECUTED, lab: Path = LAB) -> list[Path]:
    """Copy the executed chapters into ``lab`` (keeping newer copies); return the copies."""
    sources = sorted(executed.glob("*.ipynb"))
    if not sources:
        raise SystemExit(f"no executed chapters in {executed}: run `make book` first")
    lab.mkdir(parents=True, exist_ok=True)
    copies = []
    for src in sources:
        dst = lab / src.name
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            nb = fold_hidden(json.loads(src.read_text()))
            dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        copies.append(dst)
    return copies


def command(args: list[str], lab: Path = LAB) -> list[str]:
    """The JupyterLab command line ``make lab`` runs (local address only)."""
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers, CI
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={lab}",
            "--ServerApp.ip=127.0.0.1", *root, *args]


def main(argv: list[str]) -> None:
    install_settings()
    copies = prepare()
    if argv[:1] == ["prepare"]:
        print(f"{len(copies)} chapters ready in {LAB}")
        return
    print(f"JupyterLab on {len(copies)} chapters in {LAB.relative_to(ROOT)}/ (stop it with Ctrl-C twice)")
    cmd = command(argv)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
