"""The API page's table of torch switches (book/_ext/optimlab_api.py) says what the classes accept."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import optimlab.torch as olt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import optimlab_api as api  # noqa: E402

ROWS = dict(api.switch_rows())


def test_every_class_has_a_row():
    assert set(ROWS) == {name for name in olt.__all__ if isinstance(getattr(olt, name), type)}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_table_says_which_switches_the_constructor_takes(name):
    cls = getattr(olt, name)
    for switch, accepted in zip(api.SWITCHES, ROWS[name]):
        params = [torch.zeros(2, requires_grad=True)]
        if accepted:
            cls(params, **{switch: False})
        else:
            with pytest.raises(TypeError):
                cls(params, **{switch: False})


def test_the_torch_twins_differ_as_the_issue_found():
    assert ROWS["SGD"] == (True, True, True, False)       # no capturable
    assert ROWS["RMSprop"] == (True, False, True, True)   # no fused
    assert ROWS["Adam"] == (True, True, True, True)


def test_the_api_page_uses_the_table_and_lists_no_switches_by_hand():
    page = (ROOT / "book" / "api.md").read_text()
    assert "```{optimlab-torch-switches}" in page
    assert "`capturable` switches" not in page
