"""Only the theme icons the book shows, instead of the theme's 1.49 MB ``fontawesome.js``.

The theme (pydata-sphinx-theme) writes its icons as ``<i class="fa-solid fa-bars">`` and loads
Font Awesome's script, every icon of every style, to turn them into inline SVG.  After the build,
:func:`replace_script` rewrites ``_static/scripts/fontawesome.js`` into a script of a few kilobytes
that does the same for the icons the built pages use: their outlines are taken from the theme's own
file (no download), with Font Awesome's style sheet for inline icons.  An icon a page uses that the
theme's file does not have stops the build.

The theme's style sheet also draws a few icons as characters of Font Awesome's 156 kB solid web font
(the admonition titles: a pencil on every exercise).  :func:`subset_font` writes a web font of only
the characters the style sheet names (``--pst-icon-*``), a few kilobytes, declared after the theme's
for those characters only (``unicode-range``): the browser takes it, and never downloads the
theme's font unless a page shows another of its characters.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

# Font Awesome's class names for a style → the prefix it registers the style's icons under.
STYLES = {"fa-solid": "fas", "fas": "fas", "fa-regular": "far", "far": "far", "fa-brands": "fab", "fab": "fab"}
# Font Awesome's modifier classes (size, animation, layout), which name no icon.
_MODIFIER = re.compile(r"(\d+x|2?x[sl]|xxs|sm|lg|fw|ul|li|border|pull-(left|right)|spin(-pulse|-reverse)?|pulse|beat|"
                       r"fade|beat-fade|bounce|flip(-horizontal|-vertical|-both)?|shake|rotate-(\d+|by)|inverse|"
                       r"stack(-[12]x)?|sr-only(-focusable)?|swap-opacity)")
_CLASS = re.compile(r'<(?:i|span)\b[^>]*\bclass="([^"]*)"')
# In the theme's file each style's icons are an object literal ending where it is registered:
# ...(function(){d("fas",p),d("fa-solid",p)}); an icon is name:[width,height,[aliases],"unicode","path"].
_SECTION = re.compile(r'\bd\("(fas|far|fab)",\w+\)')
_ICON = re.compile(r'([\w$]+|"[\w-]+"):\[(\d+),(\d+),\[([^\]]*)\],"([0-9a-f]*)",("(?:[^"\\]|\\.)*")\]')
_CSS = re.compile(r"'(:host,:root\{--fa-font-solid.*?)'")


def icons_used(pages) -> set[tuple[str, str]]:
    """(prefix, name) of every icon in these HTML texts, e.g. ("fas", "bars")."""
    used = set()
    for text in pages:
        for classes in _CLASS.findall(text):
            names = classes.split()
            prefixes = {STYLES[c] for c in names if c in STYLES}
            for prefix in prefixes:
                used |= {(prefix, c[3:]) for c in names
                         if c.startswith("fa-") and c not in STYLES and not _MODIFIER.fullmatch(c[3:])}
    return used


def icon_table(fontawesome_js: str) -> dict[tuple[str, str], list]:
    """Every icon of the theme's script: (prefix, name or alias) → [width, height, path, code point]."""
    table, start = {}, 0
    for section in _SECTION.finditer(fontawesome_js):
        prefix = section.group(1)
        for m in _ICON.finditer(fontawesome_js, start, section.start()):
            entry = [int(m.group(2)), int(m.group(3)), json.loads(m.group(6)), int(m.group(5) or "0", 16)]
            aliases = [a.strip().strip('"') for a in m.group(4).split(",") if a.strip().startswith('"')]
            for name in [m.group(1).strip('"'), *aliases]:
                table.setdefault((prefix, name), entry)
        start = section.end()
    return table


def icon_script(icons: dict[tuple[str, str], list], css: str) -> str:
    """The small script: Font Awesome's inline-icon styles, and <i class="fa-solid fa-NAME"> (or a
    span) replaced by the icon's SVG, keeping the element's other classes and attributes.  An icon
    is hidden from screen readers unless it has an aria-label: a title (the theme gives its colour
    mode icons "Light", "Dark") would become text inside a button named otherwise."""
    table = {f"{prefix} {name}": entry[:3] for (prefix, name), entry in sorted(icons.items())}
    return (
        "/* The theme's icons that this book uses (written by book/_ext/optimlab_icons.py from the\n"
        "   theme's Font Awesome script; outlines: Font Awesome Free, CC BY 4.0). */\n"
        "(function () {\n"
        f"  var ICONS = {json.dumps(table, separators=(',', ':'))};\n"
        f"  var STYLES = {json.dumps(STYLES, separators=(',', ':'))};\n"
        f"  var CSS = {json.dumps(css)};\n"
        "  var NS = 'http://www.w3.org/2000/svg';\n"
        "  function swap(el) {\n"
        "    var names = String(el.getAttribute('class') || '').split(/\\s+/), prefix = null, icon = null;\n"
        "    names.forEach(function (c) { if (STYLES[c]) prefix = STYLES[c]; });\n"
        "    names.forEach(function (c) { if (prefix && ICONS[prefix + ' ' + c.slice(3)]) icon = c.slice(3); });\n"
        "    if (!icon) return;\n"
        "    var d = ICONS[prefix + ' ' + icon], svg = document.createElementNS(NS, 'svg');\n"
        "    var path = document.createElementNS(NS, 'path');\n"
        "    for (var i = 0; i < el.attributes.length; i++) {\n"
        "      var a = el.attributes[i];\n"
        "      if (a.name !== 'class' && a.name !== 'title') svg.setAttribute(a.name, a.value);\n"
        "    }\n"
        "    var keep = names.filter(function (c) { return c && !STYLES[c] && c !== 'fa-' + icon; });\n"
        "    svg.setAttribute('class', ['svg-inline--fa', 'fa-' + icon].concat(keep).join(' '));\n"
        "    svg.setAttribute('data-prefix', prefix);\n"
        "    svg.setAttribute('data-icon', icon);\n"
        "    svg.setAttribute('viewBox', '0 0 ' + d[0] + ' ' + d[1]);\n"
        "    svg.setAttribute('focusable', 'false');\n"
        "    if (el.hasAttribute('aria-label')) svg.setAttribute('role', 'img');\n"
        "    else svg.setAttribute('aria-hidden', 'true');  // the control around it carries the name\n"
        "    path.setAttribute('fill', 'currentColor');\n"
        "    path.setAttribute('d', d[2]);\n"
        "    svg.appendChild(path);\n"
        "    el.parentNode.replaceChild(svg, el);\n"
        "  }\n"
        "  function run(root) {\n"
        "    var els = root.querySelectorAll('i[class], span[class]');\n"
        "    for (var i = 0; i < els.length; i++) swap(els[i]);\n"
        "  }\n"
        "  var style = document.createElement('style');\n"
        "  style.textContent = CSS;\n"
        "  document.head.appendChild(style);\n"
        "  function start() {\n"
        "    run(document);\n"
        "    new MutationObserver(function (changes) {\n"
        "      changes.forEach(function (c) {\n"
        "        c.addedNodes.forEach(function (n) {\n"
        "          if (n.nodeType !== 1) return;\n"
        "          if (/^(I|SPAN)$/.test(n.tagName)) swap(n);\n"
        "          if (n.parentNode) run(n);\n"
        "        });\n"
        "      });\n"
        "    }).observe(document.body, { childList: true, subtree: true });\n"
        "  }\n"
        "  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);\n"
        "  else start();\n"
        "})();\n"
    )


def theme_static() -> Path:
    import pydata_sphinx_theme

    return Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static"


def css_icons(theme_css: str) -> list[int]:
    """The characters of the icon font that the theme's style sheet names (--pst-icon-*: "\uf0f3")."""
    chars = re.findall(r'--pst-icon-[\w-]+:"(.)"', theme_css)
    return sorted({ord(c) for c in chars if 0xE000 <= ord(c) <= 0xF8FF})  # Unicode's private use area


def subset_font(outdir: Path, codes=()) -> str:
    """Write _static/optimlab/fa-solid-icons.woff (the theme's icon characters, and ``codes``: those
    of the icons the pages use, which the theme's style sheet draws as characters until the script
    has replaced them) and return the @font-face rule that makes the browser use it for them."""
    from fontTools import subset

    static = theme_static()
    named = css_icons((static / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8"))
    if not named:
        raise RuntimeError("no --pst-icon-* characters found in the theme's style sheet")
    codes = sorted(set(named) | set(codes))
    target = Path(outdir) / "_static" / "optimlab" / "fa-solid-icons.woff"
    target.parent.mkdir(parents=True, exist_ok=True)
    options = subset.Options()
    options.flavor = "woff"
    font = subset.load_font(str(static / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.ttf"), options)
    codes = [c for c in codes if c in font.getBestCmap()]  # a brand icon (GitHub) is not in this font
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codes)
    subsetter.subset(font)
    subset.save_font(font, str(target), options)
    ranges = ",".join(f"U+{c:04X}" for c in codes)
    return ('@font-face{font-family:"Font Awesome 6 Free";font-style:normal;font-weight:900;font-display:block;'
            f'src:url(fa-solid-icons.woff) format("woff");unicode-range:{ranges}}}\n')


def theme_script() -> Path:
    """The theme's own fontawesome.js, as installed."""
    return theme_static() / "scripts" / "fontawesome.js"


def replace_script(outdir: Path) -> int:
    """Rewrite the built site's fontawesome.js for the icons its pages use; returns its size."""
    outdir = Path(outdir)
    target = outdir / "_static" / "scripts" / "fontawesome.js"
    source = theme_script().read_text(encoding="utf-8")
    table = icon_table(source)
    pages = [p.read_text(encoding="utf-8") for p in outdir.rglob("*.html") if p.relative_to(outdir).parts[0] != "lite"]
    wanted = icons_used(pages)
    missing = sorted(f"{p} {n}" for p, n in wanted if (p, n) not in table)
    if missing:
        raise RuntimeError(f"icons used by the pages but not in the theme's fontawesome.js: {missing}")
    css = _CSS.search(source)
    if not css:
        raise RuntimeError("Font Awesome's style sheet was not found in the theme's fontawesome.js")
    text = icon_script({k: table[k] for k in wanted}, css.group(1).replace("\\'", "'"))
    target.write_text(text, encoding="utf-8")
    target.with_suffix(".js.map").unlink(missing_ok=True)
    face = subset_font(outdir, [table[k][3] for k in wanted if k[0] == "fas"])
    (outdir / "_static" / "optimlab" / "icons.css").write_text(face, encoding="utf-8")
    return len(text.encode())
