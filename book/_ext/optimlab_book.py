"""The book's Sphinx extension: the explorers' scripts, served offline, lighter pages, page fixes.

1. Pages whose HTML contains an optimlab explorer get ``engine.js`` and ``explorer.js`` (from
   optimlab, :data:`optimlab.explorers.ASSETS`) as two ``<script>`` tags and ``explorer.css`` as a
   style sheet; other pages get nothing.
   The files are copied once into ``_static/optimlab/`` — not a Sphinx static path, so Jupyter
   Book does not add them to every page.  No plotting library, no CDN, no request leaving the site.
2. sphinx-thebe registers its inline configuration script twice, which makes every page log
   "Identifier 'THEBE_JS_URL' has already been declared": repeated inline scripts are dropped.
3. The book's own style sheet and script (``static/optimlab-book.css``, ``.js``): nothing on a phone
   scrolls sideways (a wide formula scrolls in its own box, which then takes the keyboard focus).
4. The theme's colour mode is empty unless configured, which makes every page log "Got invalid
   theme mode": it defaults to light, where the figures were designed.
5. Bytes: MathJax (served offline by sphinx-mathjax-offline) is loaded as the components the book
   needs — TeX input (other TeX packages load on demand), HTML output, the hidden MathML that
   screen readers read — 0.76 MB instead of the 1.16 MB ``tex-chtml.js``, whose context menu also
   put every formula in the tab order; and the theme's 1.49 MB ``fontawesome.js`` is rewritten for
   the icons the pages use (``optimlab_icons``).
6. Every figure a cell drew is a link to its image: a tap or click opens it full size (on a phone,
   where the page shows it 343 px wide, it can then be zoomed).
7. Accessibility fixes to the theme's markup (``optimlab_a11y``), and in the style sheet: links
   in exercise and note boxes dark enough for their tinted background (4.5:1).

The launch buttons and the repository setting are in ``optimlab_launch``, the API page's table of
torch switches in ``optimlab_api`` (both loaded from here).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from optimlab.explorers import ASSETS, NETWORK_SCRIPTS
from optimlab_a11y import fix_pages
from optimlab_icons import replace_script

# MathJax's components for the book (paths under sphinx-mathjax-offline's copy, _static/mathjax/).
MATHJAX_PATH = "mathjax/startup.js"
MATHJAX_LOAD = ["input/tex", "output/chtml", "a11y/assistive-mml"]

MARKER = 'class="optimlab-explorer"'  # the markup itself, not a mention of it in the API docs
NETWORK_MARKER = 'data-kind="network"'
STATIC = Path(__file__).resolve().parent / "static"


# A figure (a PNG a cell drew) inside a link to itself: a tap or click opens it full size.
_FIGURE = re.compile(r'(<img [^>]*src="([^"]*_images/[^"]+\.png)"[^>]*>)')


def _page_context(app, pagename, templatename, context, doctree):
    if "body" in context:
        context["body"] = _FIGURE.sub(r'<a class="ol-figure-link" href="\2" title="Open the figure full size">\1</a>',
                                      context["body"])
    body = context.get("body", "")
    if MARKER in body:
        for name in ASSETS:
            if name in NETWORK_SCRIPTS and NETWORK_MARKER not in body:
                continue  # the network explorer's scripts (55 KB) only where one is
            if name.endswith(".css"):
                app.add_css_file(f"optimlab/{name}")
            else:
                app.add_js_file(f"optimlab/{name}")
    scripts, seen = [], set()
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", str(script)) or None, getattr(script, "attributes", {}).get("body"))
        if key not in seen:
            seen.add(key)
            scripts.append(script)
    context["script_files"] = scripts
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def _copy_assets(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "optimlab"
        target.mkdir(parents=True, exist_ok=True)
        for name, source in ASSETS.items():
            shutil.copyfile(source, target / name)
        replace_script(app.outdir)
        fix_pages(app.outdir)


def _mathjax(app, config):
    config.mathjax_path = MATHJAX_PATH
    mj = dict(config.mathjax3_config or {})
    mj["loader"] = {**mj.get("loader", {}), "load": MATHJAX_LOAD}
    config.mathjax3_config = mj


def _static_path(app):
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    app.setup_extension("optimlab_launch")  # launch buttons and the repository setting (same folder)
    app.setup_extension("optimlab_api")     # the API page's table of torch switches
    app.connect("config-inited", _mathjax, priority=900)  # after sphinx-mathjax-offline's setting
    app.connect("builder-inited", _static_path)
    app.add_css_file("optimlab-book.css")
    app.add_css_file("optimlab/icons.css")  # written after the build (optimlab_icons)
    app.add_js_file("optimlab-book.js")
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
