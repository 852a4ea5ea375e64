import pytest

from inrlib.book import tables


def test_markdown_table():
    t = tables.markdown_table(["a", "b"], [[1, 2], ["x", "y"]])
    assert t.splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |", "| x | y |"]
    with pytest.raises(ValueError):
        tables.markdown_table(["a"], [[1, 2]])


def _displayed(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    return shown


def test_glue_writes_what_myst_nb_reads(monkeypatch):
    shown = _displayed(monkeypatch)
    tables.glue(steps=2000, seconds="7")
    (bundle,), meta = shown[0]
    assert bundle == {"application/papermill.record/text/plain": "2000"}
    assert meta == {"raw": True, "metadata": {"scrapbook": {
        "name": "steps", "mime_prefix": "application/papermill.record/"}}}
    assert shown[1][0][0] == {"application/papermill.record/text/plain": "7"}


def test_show_displays_a_markdown_table(monkeypatch):
    shown = _displayed(monkeypatch)
    tables.show(["a", "b"], [[1, 2]])
    (md,), _ = shown[0]
    assert md.data.splitlines()[-1] == "| 1 | 2 |"
