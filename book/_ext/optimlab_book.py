"""The book's Sphinx extension: the explorers' scripts, served offline, and two page fixes.

1. Pages whose HTML contains an optimlab explorer get ``engine.js`` and ``explorer.js`` (from
   optimlab, :data:`optimlab.explorers.ASSETS`) as two ``<script>`` tags; other pages get nothing.
   The files are copied once into ``_static/optimlab/`` — not a Sphinx static path, so Jupyter
   Book does not add them to every page.  No plotting library, no CDN, no request leaving the site.
2. sphinx-thebe registers its inline configuration script twice, which makes every page log
   "Identifier 'THEBE_JS_URL' has already been declared": repeated inline scripts are dropped.
3. The theme's colour mode is empty unless configured, which makes every page log "Got invalid
   theme mode": it defaults to light, where the figures were designed.

The launch buttons and the repository setting are in ``optimlab_launch``, the API page's table of
torch switches in ``optimlab_api`` (both loaded from here).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from optimlab.explorers import ASSETS

MARKER = 'class="optimlab-explorer"'  # the markup itself, not a mention of it in the API docs


def _page_context(app, pagename, templatename, context, doctree):
    if MARKER in context.get("body", ""):
        for name in ASSETS:
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


def setup(app):
    app.setup_extension("optimlab_launch")  # launch buttons and the repository setting (same folder)
    app.setup_extension("optimlab_api")     # the API page's table of torch switches
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
