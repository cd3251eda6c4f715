"""Accessibility fixes to the theme's markup, applied to the built pages (checked by axe-core in
tests/browser/test_pages.py).

Each fix is an exact piece of the theme's (or myst-nb's, or docutils') HTML and its replacement;
a fix that no page needs any more stops the build, so a theme upgrade that changes the markup is
noticed instead of silently undoing the fix.
"""
from __future__ import annotations

from pathlib import Path

#: (what the theme writes, what the book serves instead, why)
FIXES = [
    ('class="btn search-button-field search-button__button pst-js-only" title="Search" aria-label="Search"',
     'class="btn search-button-field search-button__button pst-js-only" title="Search"',
     "the search button's name must contain what it shows ('Search Ctrl + K'): its text is its name"),
    ('<summary aria-label="Toggle hidden content">',
     "<summary>",
     "a folded cell's name must contain what it shows ('Show code cell source')"),
    ('<div role="list" class="citation-list">',
     '<div class="citation-list">',
     "a list may hold only list items, and the bibliography's entries are doc-biblioentry"),
    ('<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">',
     '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" role="complementary" aria-label="The book">',
     "the logo and the search button in the sidebar were outside every landmark"),
]


def fix(text: str) -> tuple[str, set[int]]:
    """The page with every fix applied, and the indices of the fixes that apply to it (found to
    do, or already done by an earlier build of an unchanged page)."""
    used = set()
    for i, (old, new, _) in enumerate(FIXES):
        if old in text:
            text = text.replace(old, new)
        if new in text:
            used.add(i)
    return text, used


def fix_pages(outdir: Path) -> None:
    """Apply the fixes to every built page (the JupyterLite site aside)."""
    outdir, used = Path(outdir), set()
    for page in outdir.rglob("*.html"):
        if page.relative_to(outdir).parts[0] == "lite":
            continue
        before = page.read_text(encoding="utf-8")
        text, applies = fix(before)
        if text != before:
            page.write_text(text, encoding="utf-8")
        used |= applies
    stale = [FIXES[i][0] for i in range(len(FIXES)) if i not in used]
    if stale:
        raise RuntimeError(f"accessibility fixes that no page needs (has the theme changed?): {stale}")
