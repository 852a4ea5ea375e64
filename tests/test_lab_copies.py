"""`make lab`'s working copies (scripts/lab_copies.py): the roles only the book's build resolves
are written out as the site shows them, and a reader's existing copy is never overwritten."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import lab_copies  # noqa: E402

CITES = {"a2020": ("Ames et al.", "2020"), "b2019": ("Bo and Cy", "2019")}


def test_roles_are_written_out_as_on_the_site():
    text = ("{cite:p}`a2020` and {cite:t}`b2019`, {cite:p}`a2020,b2019`; {glue:text}`lead:.1f` dB;"
            " {numref}`fig-02-grid`; {numref}`the grid <fig-02-grid>`; {doc}`03_audio`")
    out = lab_copies.resolve(text, CITES, {"lead": "7.4"}, {"fig-02-grid": "Fig. 2.1"})
    assert out == ("(Ames et al., 2020) and Bo and Cy (2019), (Ames et al., 2020; Bo and Cy, 2019);"
                   " 7.4 dB; Fig. 2.1; Fig. 2.1; [Fitting audio](03_audio.ipynb)")


def test_an_unknown_target_stays_visible_rather_than_vanishing():
    text = "{cite:p}`nobody` {glue:text}`missing` {numref}`fig-99-x` {doc}`no_such`"
    assert lab_copies.resolve(text, CITES, {}, {}) == text


def test_a_chapter_copy_resolves_its_own_glue_and_figures_and_keeps_a_readers_copy(tmp_path):
    src = Path(__file__).resolve().parents[1] / "chapters" / "03_audio.ipynb"
    lab_copies.copy(src, tmp_path / src.name)
    nb = json.loads((tmp_path / src.name).read_text())
    prose = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "{glue" not in prose and "{cite" not in prose
    assert len(nb["cells"]) == len(json.loads(src.read_text())["cells"])
    (tmp_path / src.name).write_text("a reader's work")
    lab_copies.main([str(tmp_path)])
    assert (tmp_path / src.name).read_text() == "a reader's work"
    assert len(list(tmp_path.glob("*.ipynb"))) == len(list(src.parent.glob("*.ipynb")))
