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


def test_a_bar_in_a_cell_stays_in_its_cell():
    from markdown_it import MarkdownIt

    t = tables.markdown_table(["setting", "PSNR"], [["|x| < 1", "30.1"], ["a | b", "28.0"]])
    page = MarkdownIt("commonmark").enable("table").render(t)
    rows = page.split("<tr>")[1:]
    assert [r.count("<td>") + r.count("<th>") for r in rows] == [2, 2, 2], page
    assert "<td>|x| &lt; 1</td>" in page and "<td>a | b</td>" in page
    with pytest.raises(ValueError, match="row 1 has 1 cells for 2"):
        tables.markdown_table(["a", "b"], [[1, 2], [3]])

