"""The book's Sphinx extension helpers that rewrite the built site (book/_ext/): the theme's icons
only, and the accessibility fixes to the theme's markup.  Their effect on the pages is checked in
the browser (tests/browser/test_pages.py: axe-core, bytes of a first visit, icons drawn)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import optimlab_a11y  # noqa: E402
import optimlab_icons  # noqa: E402


def test_icons_used_are_named_by_style_and_name_not_modifier():
    html = ('<i class="fa-solid fa-magnifying-glass fa-lg"></i><span class="fa-brands fa-github"></span>'
            '<i class="theme-switch fas fa-moon fa-fw" data-mode="dark"></i><i class="fa-lg"></i>')
    assert optimlab_icons.icons_used([html]) == {("fas", "magnifying-glass"), ("fab", "github"), ("fas", "moon")}


def test_icon_table_reads_the_themes_script():
    table = optimlab_icons.icon_table(optimlab_icons.theme_script().read_text(encoding="utf-8"))
    width, height, path, code = table[("fas", "bars")]
    assert (width, height, code) == (448, 512, 0xF0C9) and path.startswith("M")
    assert table[("fas", "navicon")] == table[("fas", "bars")]  # an alias
    assert ("fab", "github") in table and ("fas", "github") not in table  # styles kept apart


def test_icon_script_draws_only_what_it_is_given():
    table = optimlab_icons.icon_table(optimlab_icons.theme_script().read_text(encoding="utf-8"))
    script = optimlab_icons.icon_script({("fas", "bars"): table[("fas", "bars")]}, ".svg-inline--fa{}")
    assert '"fas bars"' in script and '"fas moon"' not in script
    assert len(script) < 5_000


def test_accessibility_fixes_apply_once_and_stay_applied():
    old, new, _ = optimlab_a11y.FIXES[1]
    page = f"<div>{old}<p>Show code cell source</p></summary></div>"
    fixed, used = optimlab_a11y.fix(page)
    assert old not in fixed and new in fixed and used == {1}
    assert optimlab_a11y.fix(fixed) == (fixed, {1})  # an unchanged page of a later build


def test_a_fix_no_page_needs_stops_the_build(tmp_path):
    (tmp_path / "index.html").write_text("<html>" + "".join(o for o, _, _ in optimlab_a11y.FIXES[:-1]) + "</html>")
    with pytest.raises(RuntimeError, match="has the theme changed"):
        optimlab_a11y.fix_pages(tmp_path)
