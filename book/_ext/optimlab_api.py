"""The API page's table of ``optimlab.torch``'s implementation switches, read from the signatures.

``torch.optim`` classes differ in which of ``foreach``, ``fused``, ``differentiable`` and
``capturable`` they accept (SGD has no ``capturable``, RMSprop no ``fused``, …), and each
``optimlab.torch`` class takes its twin's signature.  The directive ``optimlab-torch-switches``
renders one row per class from ``inspect.signature``, so the page cannot drift from the code.
"""
from __future__ import annotations

import inspect

from docutils import nodes
from docutils.parsers.rst import Directive

SWITCHES = ("foreach", "fused", "differentiable", "capturable")


def switch_rows() -> list[tuple[str, tuple[bool, ...]]]:
    """``(class name, accepted?)`` per ``optimlab.torch`` class, one flag per :data:`SWITCHES`."""
    import optimlab.torch as olt

    rows = []
    for name in olt.__all__:
        cls = getattr(olt, name)
        if isinstance(cls, type):
            parameters = inspect.signature(cls).parameters
            rows.append((name, tuple(switch in parameters for switch in SWITCHES)))
    return rows


class TorchSwitches(Directive):
    """A table: which implementation switches each ``optimlab.torch`` class accepts."""

    def run(self):
        table = nodes.table()
        group = nodes.tgroup(cols=1 + len(SWITCHES))
        table += group
        for _ in range(1 + len(SWITCHES)):
            group += nodes.colspec(colwidth=1)

        def row(cells, literal):
            r = nodes.row()
            for i, text in enumerate(cells):
                entry = nodes.entry()
                entry += nodes.paragraph("", "", nodes.literal(text, text) if literal[i] else nodes.Text(text))
                r += entry
            return r

        head = nodes.thead()
        head += row(("class",) + SWITCHES, (False,) + (True,) * len(SWITCHES))
        group += head
        body = nodes.tbody()
        for name, flags in switch_rows():
            body += row((f"optimlab.torch.{name}",) + tuple("✓" if f else "—" for f in flags),
                        (True,) + (False,) * len(SWITCHES))
        group += body
        return [table]


def setup(app):
    app.add_directive("optimlab-torch-switches", TorchSwitches)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
