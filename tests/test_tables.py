import pytest

from inrlib.book import tables


def test_markdown_table():
    t = tables.markdown_table(["a", "b"], [[1, 2], ["x", "y"]])
    assert t.splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |", "| x | y |"]
    with pytest.raises(ValueError):
        tables.markdown_table(["a"], [[1, 2]])
