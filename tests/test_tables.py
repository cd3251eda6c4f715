"""optimlab.tables: the chapters' one Markdown table helper."""
import pytest

import optimlab as ol


def test_a_table_has_a_header_an_alignment_row_and_one_line_per_row():
    text = ol.tables.markdown(["a", "b"], [[1, 2.5], ["x", None]])
    assert text.splitlines() == ["| a | b |", "|---:|---:|", "| 1 | 2.5 |", "| x | None |"]


def test_alignment_and_escaped_bars():
    text = ol.tables.markdown(["h"], [["1 | 2"]], align="left")
    assert text.splitlines()[1:] == ["|---|", r"| 1 \| 2 |"]


@pytest.mark.parametrize("kwargs, match", [({"align": "middle"}, "align must be one of"),
                                           ({"rows": [[1]]}, "row 0 has 1 cells, the header has 2")])
def test_bad_input_is_refused_with_the_reason(kwargs, match):
    args = {"header": ["a", "b"], "rows": [[1, 2]], **kwargs}
    with pytest.raises(ValueError, match=match):
        ol.tables.markdown(**args)


def test_the_notebook_form_renders_the_same_text():
    assert ol.tables.table(["a"], [[1]]).data == ol.tables.markdown(["a"], [[1]])
