"""tools/execute.py: the parallel pre-execution behind `make book` and `make test`.

What it must get right: which pages are executed, when the whole cache must be dropped (the hash
of what execution depends on besides the chapters' code), and that a chapter it executes and
caches is found by Jupyter Book's own lookup — with its outputs (stderr included, which the
strict build turns into an error), run in the chapter's folder — while a failing chapter is
reported and not cached.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import execute  # noqa: E402

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A page

"""


def _cell(code: str) -> str:
    return f"```{{code-cell}} ipython3\n{code}\n```\n\n"


def test_the_executed_pages_are_the_books_notebooks():
    pages = [p.relative_to(ROOT).as_posix() for p in execute.chapters()]
    assert pages == sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "book").glob("[0-9][0-9]*.md"))
    assert "book/api.md" not in pages and "book/intro.md" not in pages


def _tree(tmp_path: Path) -> Path:
    for rel, text in {"optimlab/rules.py": "A = 1\n", "optimlab/assets/explorer.js": "let a;\n",
                      "book/_ext/ext.py": "", "requirements.txt": "numpy==2\n", "pyproject.toml": "",
                      "tools/execute.py": "", "book/01.md": HEADER}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@pytest.mark.parametrize("change", ["optimlab/rules.py", "optimlab/assets/explorer.js", "optimlab/new.py",
                                    "book/_ext/ext.py", "requirements.txt", "pyproject.toml"])
def test_the_hash_changes_with_what_execution_depends_on(tmp_path, change):
    root, settings = _tree(tmp_path), {"execute_notebooks": "cache", "timeout": 600}
    before = execute.inputs_hash(settings, root, environ={"OPTIMLAB_BOOK": "1"})
    (root / change).write_text("# changed\n")
    assert execute.inputs_hash(settings, root, environ={"OPTIMLAB_BOOK": "1"}) != before


def test_the_hash_follows_settings_and_environment_but_not_chapters_or_bytecode(tmp_path):
    root, settings = _tree(tmp_path), {"execute_notebooks": "cache", "timeout": 600}
    base = execute.inputs_hash(settings, root, environ={"OPTIMLAB_BOOK": "1"})
    assert execute.inputs_hash({**settings, "allow_errors": True}, root, environ={"OPTIMLAB_BOOK": "1"}) != base
    assert execute.inputs_hash(settings, root, environ={}) != base
    (root / "book" / "01.md").write_text(HEADER + _cell("1"))     # a chapter is jupyter-cache's own key
    (root / "optimlab" / "__pycache__").mkdir()
    (root / "optimlab" / "__pycache__" / "rules.pyc").write_bytes(b"\0")
    assert execute.inputs_hash(settings, root, environ={"OPTIMLAB_BOOK": "1", "OTHER": "x"}) == base


def test_a_changed_hash_drops_the_cache_and_sphinx_environment(tmp_path):
    cache, doctrees = tmp_path / "cache", tmp_path / "doctrees"
    doctrees.mkdir()
    assert execute.invalidate_if_stale("a", cache, doctrees)          # no cache yet
    assert not doctrees.exists() and (cache / execute.STAMP_NAME).read_text().strip() == "a"
    (cache / "global.db").write_text("records")
    doctrees.mkdir()
    assert not execute.invalidate_if_stale("a", cache, doctrees)      # same inputs: kept
    assert (cache / "global.db").exists() and doctrees.exists()
    assert execute.invalidate_if_stale("b", cache, doctrees)          # changed: dropped
    assert not (cache / "global.db").exists() and not doctrees.exists()


def test_settings_other_than_cache_mode_are_refused(tmp_path):
    (tmp_path / "_config.yml").write_text("execute:\n  execute_notebooks: cache\n  timeout: 600\n")
    assert execute.settings(tmp_path)["timeout"] == 600
    for bad in ("execute_notebooks: force", "execute_notebooks: cache\n  run_in_temp: true"):
        (tmp_path / "_config.yml").write_text(f"execute:\n  {bad}\n")
        with pytest.raises(SystemExit):
            execute.settings(tmp_path)


def test_a_chapter_executed_here_is_found_by_jupyter_books_lookup(tmp_path):
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    folder = tmp_path / "book"
    folder.mkdir()
    page = folder / "page.md"
    page.write_text(HEADER + _cell("import os\nprint(os.getcwd())") + "Some text.\n\n"
                    + _cell("import warnings\nwarnings.warn('a deliberate warning')"))
    out = execute.execute_one(str(page), timeout=600, allow_errors=False)
    assert out["error"] is None and out["seconds"] > 0 and out["cpu"] > 0
    cache = get_cache(str(tmp_path / "cache"))
    execute.store(cache, page, out)
    # Jupyter Book reads the page with the book's Markdown settings, then looks it up by its code.
    config = MdParserConfig(enable_extensions={"amsmath", "dollarmath", "colon_fence", "deflist"})
    notebook = read_myst_markdown_notebook(page.read_text(), config=config, add_source_map=True, path=str(page))
    assert execute.uncached(cache, [page]) == []
    _, merged = cache.merge_match_into_notebook(notebook)
    streams = [(o["name"], o["text"]) for c in merged.cells if c.cell_type == "code" for o in c.outputs]
    assert ("stdout", f"{folder}\n") in streams, "not run in the chapter's folder"
    assert any(name == "stderr" and "a deliberate warning" in text for name, text in streams)


def test_a_failing_chapter_is_reported_and_left_to_the_build(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(HEADER + _cell("raise RuntimeError('a deliberate error')") + _cell("print('not reached')"))
    out = execute.execute_one(str(page), timeout=600, allow_errors=False)
    assert out["error"] and out["error"].startswith("CellExecutionError")
    from jupyter_cache import get_cache

    assert execute.uncached(get_cache(str(tmp_path / "cache")), [page]) == [page]
