"""The committed chapters are executed notebooks: outputs present, in order, no errors, light."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def test_every_chapter_is_in_the_table_of_contents():
    toc = (ROOT / "_toc.yml").read_text()
    assert CHAPTERS
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is missing from _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_cleanly_executed(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    assert all(n is not None for n in counts), f"{path.name}: cells without outputs; run `make chapters`"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), f"{path.name}: run out of order"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error outputs {[e.get('ename') for e in errors]}"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: stored widget state (needs a CDN)"
    assert path.stat().st_size < 6e6, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    assert images > 0, f"{path.name} shows no figure"
