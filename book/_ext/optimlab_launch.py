"""Launch buttons that lead somewhere: one repository setting, and "Run in your browser".

The repository URL is set once, in ``_config.yml`` (``repository: url:``). From it:

- the repository button, Binder and Colab appear only when it is a real repository (not empty,
  not the old placeholder); otherwise nothing is shown that would lead nowhere;
- Colab opens the chapter's *executed* notebook from the published site's branch
  (:data:`PAGES_BRANCH`, written by ``.github/workflows/pages.yml``): Colab cannot open the ``.md``
  sources, and the executed notebook shows every output at once;
- the notebooks the site offers for download (``_sources/…ipynb``, which Colab opens) get the
  install cell (:func:`optimlab.notebook.install_cell`) in place of the chapters' one-line setup
  cell: it installs optimlab from the repository when one is set, else from the wheel the
  published site serves (``repository: site:``, the site's URL, read by :func:`settings`), else
  it prints how to run the chapter locally; and their explorers carry their script;
- the text that speaks of launching or cloning (the introduction) reads the same setting through
  MyST substitutions (:func:`substitutions`): ``{{ launch_services }}`` and ``{{ get_the_sources }}``.

Every notebook page also gets "Run in your browser": the chapter opened in the JupyterLite site
that ``make lite`` builds into ``lite/`` beside the book (Pyodide, no server, no repository),
and the download button for its executed ``.ipynb``, whatever the repository setting.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat

#: Repository URLs that do not lead to a repository: empty, and the address this project used
#: before it had one.
PLACEHOLDERS = {"", "https://github.com/optimlab/optimlab-book"}
#: The branch the publishing workflow pushes the built site to (Colab reads notebooks from it).
PAGES_BRANCH = "gh-pages"
#: The JupyterLite app a chapter opens in, relative to the HTML root (built by `make lite`).
LITE_APP = "lite/notebooks/index.html"
#: Where the published site serves optimlab's wheel (built by `make lite`), relative to its root.
WHEEL = "lite/pypi/optimlab-{version}-py3-none-any.whl"


def repository(theme_options: dict) -> str | None:
    """The configured repository URL, or None while it is empty or a placeholder."""
    url = (theme_options.get("repository_url") or "").strip().rstrip("/")
    if url in PLACEHOLDERS:
        return None
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"repository url must be https://github.com/ORG/REPO (or empty), got {url!r}")
    return url


def settings(book_root) -> dict:
    """The publishing settings of ``_config.yml`` (``repository:``): ``url``, ``branch``, ``site``.

    ``site`` is the published book's address (e.g. ``https://org.github.io/repo``, or empty): a
    downloaded notebook installs optimlab from the wheel that site serves when no repository is set.
    """
    import yaml

    path = Path(book_root) / "_config.yml"
    found = (yaml.safe_load(path.read_text()) or {}).get("repository") or {} if path.exists() else {}
    site = (found.get("site") or "").strip().rstrip("/")
    if site and not re.fullmatch(r"https?://[^\s\"']+", site):
        raise ValueError(f"repository site must be the site's http(s) URL (or empty), got {site!r}")
    return {"url": (found.get("url") or "").strip(), "branch": found.get("branch") or "main", "site": site}


def configure(app, config) -> None:
    """``config-inited``: give the theme only the buttons the repository setting supports.

    Without a repository the theme gets no launch provider at all (it would fail looking for one);
    Colab and "Run in your browser" are added by :func:`add_buttons`, the download by
    :func:`offer_notebook`.
    """
    theme = config.html_theme_options
    url = repository(theme)
    launch = dict(theme.get("launch_buttons") or {})
    app.optimlab_colab = launch.pop("colab_url", "").rstrip("/") if url else ""
    launch.pop("jupyterlite_url", None)
    if url is None:
        theme.pop("repository_url", None)
        launch = {}
    else:
        theme["repository_url"] = url
    theme["launch_buttons"] = launch
    theme["use_repository_button"] = url is not None
    app.optimlab_repository = url
    app.optimlab_site = settings(app.confdir)["site"]
    config.myst_substitutions = {**(getattr(config, "myst_substitutions", None) or {}),
                                 **substitutions(url)}


def substitutions(url: str | None) -> dict:
    """The MyST substitutions the text uses where it speaks of launching or cloning.

    ``launch_services``: what the chapter buttons open besides the download and the browser run
    (Binder and Colab, only with a repository). ``get_the_sources``: how a reader gets the sources
    (a clone command with a repository; without one, the book cannot name an address).
    """
    if url is None:
        return {"launch_services": "",
                "get_the_sources": "In a copy of the book's sources (the site names no public "
                                   "repository yet):"}
    name = url.rsplit("/", 1)[1]
    return {"launch_services": ", or open it on Binder or Colab",
            "get_the_sources": f"Clone the book's repository, `git clone {url} && cd {name}`, and:"}


def _is_notebook(app, pagename) -> bool:
    return "kernelspec" in app.env.metadata.get(pagename, {})


def _with_outputs(app, executed: Path) -> None:
    """Make sure ``jupyter_execute/<page>.ipynb`` holds its outputs.

    myst-nb writes that file without outputs when the chapter came from the execution cache (it
    merges the cached outputs into a copy); the outputs are merged back here from the same cache.
    ``make lab`` and the ``.ipynb`` download both read this file.
    """
    nb = nbformat.read(executed, as_version=4)
    if any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"):
        return
    from jupyter_cache import get_cache

    cache_path = getattr(app.config, "nb_execution_cache_path", "") or ""
    cache = get_cache(cache_path or Path(app.outdir).parent / ".jupyter_cache")
    try:
        _, nb = cache.merge_match_into_notebook(nb)
    except KeyError:  # not executed (e.g. execution off): nothing to merge
        return
    nbformat.write(nb, executed)


def offer_notebook(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` (before the theme's buttons): offer the executed ``.ipynb`` for download.

    The theme does this only when a launch provider is configured; the notebook is what Colab
    opens and what a reader downloads, so it is offered whatever the repository setting.
    """
    if not _is_notebook(app, pagename) or not context.get("sourcename", "").endswith((".md", ".md.txt")):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / (pagename + ".ipynb")
    if executed.exists():
        _with_outputs(app, executed)
        target = Path(app.outdir) / "_sources" / (pagename + ".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(executed, target)
        download(target, install_source(getattr(app, "optimlab_repository", None),
                                        app.config.html_theme_options.get("repository_branch", "main"),
                                        getattr(app, "optimlab_site", "")))
        context["ipynb_source"] = pagename + ".ipynb"


def lite_notebook(pagename: str) -> str:
    """The path of a page's notebook inside the JupyterLite site (chapters sit at its root)."""
    return Path(pagename).name + ".ipynb"


def _launch_group(context) -> dict:
    for button in context["header_buttons"]:
        if button.get("label") == "launch-buttons":
            return button
    group = {"type": "group", "tooltip": "Run this chapter", "icon": "fas fa-rocket",
             "buttons": [], "label": "launch-buttons"}
    context["header_buttons"].append(group)
    return group


def add_buttons(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` (after the theme's): "Run in your browser", and Colab when it can work."""
    if not _is_notebook(app, pagename) or "header_buttons" not in context:
        return
    group = _launch_group(context)
    buttons = [b for b in group["buttons"] if b.get("text") != "Colab"]
    lite = context["pathto"](LITE_APP, 1) + "?path=" + lite_notebook(pagename)
    buttons.insert(0, {"type": "link", "text": "Run in your browser", "url": lite,
                       "tooltip": "Run this chapter in your browser (JupyterLite: no install, no server)",
                       "icon": "fas fa-play", "label": "run-in-browser-button"})
    url = getattr(app, "optimlab_repository", None)
    colab = getattr(app, "optimlab_colab", "")
    if url and colab:
        org_repo = url.split("github.com/", 1)[1]
        buttons.append({"type": "link", "text": "Colab", "tooltip": "Launch on Colab",
                        "icon": "_static/images/logo_colab.png",
                        "url": f"{colab}/github/{org_repo}/blob/{PAGES_BRANCH}/_sources/{pagename}.ipynb"})
    group["buttons"] = buttons


def install_source(url: str | None, branch: str = "main", site: str = "") -> str | None:
    """Where a downloaded notebook pip-installs optimlab: the repository (``git+URL@branch``), else
    the wheel the published site serves, else None (the cell then says how to run it locally)."""
    import optimlab

    if url:
        return f"git+{url}@{branch or 'main'}"
    if site:
        return f"{site.rstrip('/')}/" + WHEEL.format(version=optimlab.__version__)
    return None


def download(path: Path, source: str | None) -> None:
    """Make the notebook at ``path`` one a reader can run anywhere: the install cell, and explorers
    that carry their script (they draw once the notebook is trusted)."""
    from optimlab import explorers, notebook

    nb = json.loads(path.read_text())
    notebook.with_install_cell(nb, source)
    explorers.live_notebook(nb)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def setup(app):
    app.connect("config-inited", configure)
    app.connect("html-page-context", offer_notebook, priority=500)
    app.connect("html-page-context", add_buttons, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
