"""Tables printed by the chapters: one Markdown table helper instead of a copy per chapter.

The book renders Markdown that a cell displays (``nb_render_markdown_format: myst``), so a table of
results is a Markdown table: ``ol.tables.table(header, rows)`` in a notebook shows it rendered.
:func:`markdown` returns the text itself (for tests, or to print).
"""
from __future__ import annotations

__all__ = ["markdown", "table"]

_ALIGN = {"left": "---|", "right": "---:|", "center": ":---:|"}


def markdown(header, rows, align: str = "right") -> str:
    """A Markdown table: one header row, then one row per item of ``rows`` (cells made ``str``).

    ``align`` is ``"left"``, ``"right"`` or ``"center"`` for every column.  Every row must have as
    many cells as the header; a ``|`` inside a cell is escaped so it cannot split the cell.
    """
    if align not in _ALIGN:
        raise ValueError(f"align must be one of {sorted(_ALIGN)}, got {align!r}")
    header = [str(h) for h in header]
    if not header:
        raise ValueError("header must name at least one column")

    def line(cells):
        return "| " + " | ".join(str(c).replace("|", r"\|") for c in cells) + " |"

    lines = [line(header), "|" + _ALIGN[align] * len(header)]
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells, the header has {len(header)}")
        lines.append(line(row))
    return "\n".join(lines)


def table(header, rows, align: str = "right"):
    """The table of :func:`markdown`, as an ``IPython.display.Markdown`` a notebook renders."""
    from IPython.display import Markdown

    return Markdown(markdown(header, rows, align))
