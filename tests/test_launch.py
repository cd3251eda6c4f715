"""The book's launch buttons (book/_ext/optimlab_launch.py): one repository setting decides them.

The built pages are checked by tests/browser/test_pages.py for the repository configured now; these
tests cover both states of the setting without building the book twice.
"""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import optimlab_launch as launch  # noqa: E402
from optimlab import notebook  # noqa: E402

PROVIDERS = {"notebook_interface": "jupyterlab", "binderhub_url": "https://mybinder.org",
             "colab_url": "https://colab.research.google.com"}


def _app(url):
    theme = {"repository_url": url, "repository_branch": "main", "launch_buttons": dict(PROVIDERS)}
    app = SimpleNamespace(config=SimpleNamespace(html_theme_options=theme), confdir=str(ROOT),
                          env=SimpleNamespace(metadata={"book/01_x": {"kernelspec": {}}, "book/intro": {}}))
    launch.configure(app, app.config)
    return app


def _buttons(app, pagename="book/01_x"):
    context = {"header_buttons": [], "pathto": lambda target, resource: "../" + target}
    launch.add_buttons(app, pagename, "page.html", context, None)
    return {b["text"]: b["url"] for group in context["header_buttons"] for b in group["buttons"]}


@pytest.mark.parametrize("url", ["", None, "https://github.com/optimlab/optimlab-book"])
def test_without_a_repository_only_the_browser_button(url):
    app = _app(url)
    theme = app.config.html_theme_options
    assert launch.repository({"repository_url": url}) is None
    assert "repository_url" not in theme and theme["use_repository_button"] is False
    assert theme["launch_buttons"] == {}          # the theme adds no Binder (nor fails looking for a repo)
    assert _buttons(app) == {"Run in your browser": "../lite/notebooks/index.html?path=01_x.ipynb"}


def test_with_a_repository_binder_colab_and_the_repository_button():
    app = _app("https://github.com/someone/the-book/")
    theme = app.config.html_theme_options
    assert theme["repository_url"] == "https://github.com/someone/the-book"
    assert theme["use_repository_button"] is True
    assert theme["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert "colab_url" not in theme["launch_buttons"]    # ours opens the executed notebook instead
    buttons = _buttons(app)
    assert buttons["Colab"] == ("https://colab.research.google.com/github/someone/the-book/blob/"
                                f"{launch.PAGES_BRANCH}/_sources/book/01_x.ipynb")
    assert list(buttons)[0] == "Run in your browser"


def test_pages_that_are_not_notebooks_get_no_launch_buttons():
    assert _buttons(_app(""), "book/intro") == {}


@pytest.mark.parametrize("url", ["github.com/a/b", "https://gitlab.com/a/b", "https://github.com/a"])
def test_a_repository_that_is_not_a_github_repository_is_refused(url):
    with pytest.raises(ValueError, match="repository url"):
        launch.repository({"repository_url": url})


@pytest.mark.parametrize("chapter", sorted((ROOT / "book").glob("[0-9][0-9]*.md")), ids=lambda p: p.stem)
def test_every_chapter_setup_cell_is_one_call_and_every_copy_gets_the_one_install_cell(chapter):
    nb = jupytext.read(chapter)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "remove-cell" in first.metadata.get("tags", [])
    assert notebook.SETUP_CALL in first.source and "%pip" not in first.source and len(first.source.splitlines()) == 2
    assert "%pip" not in chapter.read_text(), f"{chapter.name}: install logic outside optimlab.notebook.install_cell"
    source = launch.install_source("https://github.com/someone/the-book", "main")
    assert notebook.with_install_cell(nb, source)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    assert cell.source == notebook.install_cell("git+https://github.com/someone/the-book@main")
    assert "remove-cell" in cell.metadata.get("tags", [])


def test_the_install_source_is_the_repository_else_the_site_wheel_else_none():
    import optimlab

    assert launch.install_source("https://github.com/a/b", "dev", "https://x.org/b") == "git+https://github.com/a/b@dev"
    assert launch.install_source(None, "main", "https://a.github.io/b/") == \
        f"https://a.github.io/b/lite/pypi/optimlab-{optimlab.__version__}-py3-none-any.whl"
    assert launch.install_source(None, "main", "") is None


def test_the_site_setting_sits_beside_the_repository_in_config(tmp_path):
    assert set(launch.settings(ROOT)) == {"url", "branch", "site"}
    assert "site:" in (ROOT / "_config.yml").read_text().split("repository:", 1)[1].split("\n\n", 1)[0]
    (tmp_path / "_config.yml").write_text("repository:\n  url: ''\n  site: https://a.github.io/b/\n")
    assert launch.settings(tmp_path)["site"] == "https://a.github.io/b"
    (tmp_path / "_config.yml").write_text("repository:\n  site: a.github.io/b\n")
    with pytest.raises(ValueError, match="repository site"):
        launch.settings(tmp_path)


def test_without_any_source_the_install_cell_names_the_local_route_and_no_pip_line():
    text = notebook.install_cell(None)
    pip_lines = [line for line in text.splitlines() if "%pip" in line]
    assert pip_lines == ['        %pip install -q "optimlab[widgets]"']       # the browser's branch only
    assert "git clone" in text and "make lab" in text
    with pytest.raises(ValueError, match="source"):
        notebook.install_cell('x" ; rm')


def test_the_text_about_launching_and_cloning_follows_the_setting():
    without = _app("").config.myst_substitutions
    assert without["launch_services"] == "" and "git clone" not in without["get_the_sources"]
    with_repo = _app("https://github.com/someone/the-book").config.myst_substitutions
    assert "Binder" in with_repo["launch_services"] and "Colab" in with_repo["launch_services"]
    assert "git clone https://github.com/someone/the-book && cd the-book" in with_repo["get_the_sources"]


def test_the_introduction_names_no_repository_of_its_own():
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "github.com" not in intro and "Binder" not in intro and "Colab" not in intro
    assert "{{ launch_services }}" in intro and "{{ get_the_sources }}" in intro
