"""``make lab``: JupyterLab (and Notebook 7) on the book's chapters, each opened with its outputs.

``make lab`` builds only what a classroom needs: the virtual environment and the chapters executed
into Jupyter Book's cache (``make execute``; cached, so seconds when nothing changed); no HTML
book, no JupyterLite site.  The chapters then open from a working folder, ``_build/lab/`` (ignored
by git), never from ``book/``:

- each chapter is written there as a notebook with the outputs of its cached execution, unless the
  copy there is newer than that execution: what a lecturer saves stays until that chapter is
  executed again, and saving never touches the chapter sources (no dirty git tree);
- the cells the book hides get their input folded (JupyterLab's ``source_hidden``), as on the page,
  and the outputs the book removes are left out (the hidden setup cell shows no ``False``);
- the book's interactive figures carry their scripts and the copy is signed as trusted by this
  Jupyter installation, so they run when the notebook opens, with nothing to re-run;
- ``{ref}`` becomes a link to the chapter (or page) and section it names, ``{cite}`` an
  author–year citation (:func:`link_roles`; JupyterLite's copies use the same function); the
  pages the chapters link to besides chapters (notation, sources) are written there too;
- equations carry the book's numbers (:func:`number_equations`: jupyterlab-myst would number
  every display equation of the notebook from 1, the book numbers labelled ones through the book);
- JupyterLab (pinned in requirements.txt, with ``jupyterlab-myst`` for MyST directives, roles and
  folded solutions) starts on that folder; Notebook 7 serves the same folder under ``/tree``.

``tools/jupyterlab-settings.json`` becomes this ``.venv``'s JupyterLab overrides: jupytext opens a
``.md`` chapter as a notebook (should one be opened), widget state is saved with the notebook (a
reload or a second window redraws a live panel), and JupyterLab asks no news or update server.

    python tools/lab.py prepare          # only prepare _build/lab (what the tests use)
    python tools/lab.py [ARGS...]        # prepare, then `jupyter lab ARGS` on _build/lab
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import execute  # noqa: E402  (tools/execute.py: the cache `make execute` fills, read as it reads it)
from optimlab.explorers import live_notebook  # noqa: E402  (the .ipynb downloads use it too)

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LAB = ROOT / "_build" / "lab"
SETTINGS = Path(__file__).with_name("jupyterlab-settings.json")
#: Pages the chapters link to that are not chapters: written beside them as notebooks.
PAGES = ("notation", "sources")

#: Cell tags of the book (myst-nb) → JupyterLab's folding flags.
FOLD_INPUT = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
FOLD_OUTPUT = {"remove-output", "hide-output", "hide-cell"}
#: Tags whose outputs the book never shows.
REMOVE_OUTPUT = {"remove-cell", "remove-output"}


def chapters(book: Path = BOOK) -> list[Path]:
    """The chapters: the notebooks of _toc.yml, in the book's order (tools/execute.py reads it)."""
    if not (book.parent / "_toc.yml").exists():
        return []
    return [p for p in execute.chapters(book.parent) if p.parent == book and p.name[:2].isdigit()]


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


# --------------------------------------------------------------------------- {ref} and {cite}
_TARGET = re.compile(r"^\(([\w:-]+)\)=\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$")
_EXERCISE = re.compile(r"^`{3,}\{exercise\}")
_EXERCISE_LABEL = re.compile(r"^:label:\s*([\w:-]+)\s*$")
_ROLE = re.compile(r"\{(ref|cite)\}`([^`]*)`")
_EXPLICIT = re.compile(r"^(.*?)\s*<([\w:-]+)>$")


def targets(book: Path = BOOK) -> dict[str, tuple[str, str]]:
    """Every ``{ref}`` target of the book: label → (page stem, title).

    A target is ``(label)=`` before a heading (its title) or an exercise's ``:label:``
    ("Exercise n", numbered in its chapter as the book numbers them).
    """
    out = {}
    for md in sorted(book.glob("*.md")):
        lines = md.read_text(encoding="utf-8").splitlines()
        exercises = 0
        for i, line in enumerate(lines):
            if _EXERCISE.match(line):
                exercises += 1
                label = next((m.group(1) for m in map(_EXERCISE_LABEL.match, lines[i + 1:i + 4]) if m), None)
                if label:
                    out[label] = (md.stem, f"Exercise {exercises}")
            found = _TARGET.match(line)
            if found:
                heading = next((_HEADING.match(x) for x in lines[i + 1:] if x.strip()), None)
                out[found.group(1)] = (md.stem, heading.group(1) if heading else found.group(1))
    return out


def citations(bib: Path = BOOK / "references.bib") -> dict[str, str]:
    """key → author–year text as the book prints it (``Kingma and Ba, 2015``; ``X et al., 2023``)."""
    from pybtex.database import parse_file

    out = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        who = (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2
               else f"{names[0]} et al." if names else key)
        out[key] = f"{who}, {entry.fields.get('year', 'n.d.')}"
    return out


def resolve_roles(text: str, refs: dict, cites: dict) -> str:
    """``text`` with ``{ref}`` as Markdown links and ``{cite}`` as author–year text.

    A link is ``stem.ipynb#label``, within the page too (jupyterlab-myst takes a bare ``#label``
    for a reference inside the cell and warns); another page's link opens that notebook beside
    this one.  Unknown labels and keys are left as they were (the book's build reports them).
    """
    def one(m):
        role, body = m.groups()
        if role == "cite":
            keys = [k.strip() for k in body.split(",")]
            if not all(k in cites for k in keys):
                return m.group(0)
            return "[" + "; ".join(cites[k] for k in keys) + "]"
        explicit = _EXPLICIT.match(body)
        title, label = (explicit.group(1), explicit.group(2)) if explicit else (None, body.strip())
        if label not in refs:
            return m.group(0)
        stem, heading = refs[label]
        return f"[{title or heading}]({stem}.ipynb#{label})"

    return _ROLE.sub(one, text)


def link_roles(nb: dict, refs: dict | None = None, cites: dict | None = None) -> dict:
    """Resolve, in place, the ``{ref}`` and ``{cite}`` roles of ``nb``'s Markdown cells; return it."""
    refs = targets() if refs is None else refs
    cites = citations() if cites is None else cites
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = resolve_roles(source, refs, cites)
    return nb


# --------------------------------------------------------------------------- equation numbers
_MATH_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{math\}[ \t]*\n((?::[\w-]+:[^\n]*\n)*)", re.M)
_LABEL_OPTION = re.compile(r"^:label:\s*([\w:-]+)\s*$", re.M)
_DOLLAR_BLOCK = re.compile(r"^\$\$[ \t]*\n(.*?)\n\$\$[ \t]*(?:\(([\w:-]+)\))?[ \t]*$", re.M | re.S)


def toc_pages(root: Path = ROOT) -> list[Path]:
    """Every page of ``_toc.yml``, in the book's order (its root first)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [root / f"{f}.md" for f in files if (root / f"{f}.md").exists()]


def _labelled(text: str) -> list[str]:
    """The labels of ``text``'s numbered display equations, in order (``{math}`` with ``:label:``,
    ``$$ … $$ (label)``)."""
    found = [(m.start(), lab.group(1)) for m in _MATH_DIRECTIVE.finditer(text)
             if (lab := _LABEL_OPTION.search(m.group(2)))]
    found += [(m.start(), m.group(2)) for m in _DOLLAR_BLOCK.finditer(text) if m.group(2)]
    return [label for _, label in sorted(found)]


def equation_numbers(root: Path = ROOT) -> dict[str, int]:
    """label → the number the book shows: labelled display equations, counted through the book."""
    labels = [label for md in toc_pages(root) for label in _labelled(md.read_text(encoding="utf-8"))]
    return {label: i for i, label in enumerate(labels, 1)}


def _numbered(text: str, numbers: dict) -> str:
    def directive(m):
        lab = _LABEL_OPTION.search(m.group(2))
        option = f":enumerator: {numbers[lab.group(1)]}\n" if lab and lab.group(1) in numbers else ":enumerated: false\n"
        return m.group(0) + option

    def dollars(m):
        body, label = m.group(1), m.group(2)
        option = (f":label: {label}\n:enumerator: {numbers[label]}\n" if label in numbers
                  else ":enumerated: false\n")
        return f"```{{math}}\n{option}{body}\n```"

    return _DOLLAR_BLOCK.sub(dollars, _MATH_DIRECTIVE.sub(directive, text))


def number_equations(nb: dict, numbers: dict | None = None) -> dict:
    """Give, in place, every display equation of ``nb``'s Markdown cells the book's number
    (``:enumerator:``), and the equations the book leaves unnumbered none (``:enumerated: false``),
    so that jupyterlab-myst shows, and ``{eq}`` cites, the numbers of the book; return ``nb``."""
    numbers = equation_numbers() if numbers is None else numbers
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = _numbered(source, numbers)
    return nb


# --------------------------------------------------------------------------- outputs
def drop_removed_outputs(nb: dict) -> dict:
    """Leave out, in place, the outputs the book removes (e.g. the setup cell's ``False``)."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and set(cell.get("metadata", {}).get("tags", [])) & REMOVE_OUTPUT:
            cell["outputs"] = []
    return nb


def executed(md: Path, cache_dir: Path = execute.CACHE):
    """(notebook with the outputs of its cached execution, time of that execution), or
    (the chapter without outputs, the source's time) when the cache has none."""
    import jupytext

    if (cache_dir / "global.db").exists():
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_dir))
        try:
            pk, nb = cache.merge_match_into_notebook(execute.read(md))
            return nb, cache.get_cache_record(pk).created.timestamp()
        except KeyError:
            pass
    print(f"lab: {md.name} is not in the execution cache (did it fail?): opened without outputs")
    nb = jupytext.read(md)
    nb.metadata.pop("jupytext", None)
    return nb, md.stat().st_mtime


def kernelspec(name: str) -> dict:
    """The notebook metadata of the installed kernel ``name``, as JupyterLab writes it when the kernel
    starts (a chapter saying "Python 3" where the kernel says "Python 3 (ipykernel)" would open
    as modified)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(name)
    return {"name": name, "display_name": spec.display_name, "language": spec.language}


def lab_notebook(nb, refs: dict, cites: dict):
    """A chapter (or page) as the lab opens it (see the module's docstring), signed as trusted."""
    import nbformat
    from nbformat.sign import NotebookNotary

    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    for k in ("jupytext", "source_map"):  # the build's bookkeeping, not the notebook's
        nb.metadata.pop(k, None)
    nb.metadata["kernelspec"] = kernelspec(nb.metadata.get("kernelspec", {}).get("name", "python3"))
    for i, cell in enumerate(nb.cells):  # nbformat 4.5: every cell has an id
        cell.setdefault("id", f"cell-{i}")
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    number_equations(link_roles(live_notebook(drop_removed_outputs(fold_hidden(nb))), refs, cites))
    NotebookNotary().sign(nb)
    return nb


def lecture_cells(nb) -> tuple[int, int] | None:
    """The lecture recipe's two cells of a chapter: (the imports cell, the live-panel cell), as
    indices of ``nb.cells``; None for a chapter without a panel.  The imports cell is the first
    code cell the book does not remove; the panel cell is the one calling ``ol.widgets.panel(``."""
    code = [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    panel = [i for i, c in code if "ol.widgets.panel(" in "".join(c["source"])]
    if not panel:
        return None
    imports = next(i for i, c in code if not set(c.get("metadata", {}).get("tags", [])) & {"remove-cell"})
    return imports, panel[0]


def install_settings(prefix: Path = Path(sys.prefix)) -> Path:
    """Install the JupyterLab overrides for the environment at ``prefix``; return their path."""
    target = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SETTINGS, target)
    return target


def prepare(lab: Path = LAB, book: Path = BOOK, cache: Path = execute.CACHE) -> list[Path]:
    """Write the chapters (and :data:`PAGES`) into ``lab`` (keeping newer copies); return the chapters."""
    import jupytext
    import nbformat

    sources = chapters(book)
    if not sources:
        raise SystemExit(f"no chapters in {book}")
    lab.mkdir(parents=True, exist_ok=True)
    refs, cites = targets(book), citations(book / "references.bib")
    copies = []
    language = {}
    for md in sources + [book / f"{p}.md" for p in PAGES]:
        dst = lab / f"{md.stem}.ipynb"
        nb, made = executed(md, cache) if md in sources else (jupytext.read(md), md.stat().st_mtime)
        if language or "language_info" in nb.metadata:  # as the kernel reports it
            language = nb.metadata.setdefault("language_info", language)
        if not dst.exists() or dst.stat().st_mtime < made:
            nbformat.write(lab_notebook(nb, refs, cites), str(dst))
        if md in sources:
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
    print(f"JupyterLab on {len(copies)} chapters in {LAB.relative_to(ROOT)}/ (stop it with Ctrl-C twice); "
          "Notebook 7 at the same address under /tree")
    cmd = command(argv)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
