"""The committed chapters as a reader gets them: the page checks passed when they were executed,
no visible code cell holds an `assert`, the page says what it shows, key figures are numbered,
captioned and referred to, and every chapter from 02 on ends with exercises that have hidden
solutions."""
import json
import sys
import re
from pathlib import Path

import pytest

from inrlib.book import pagecheck

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
HIDDEN = {"remove-input", "remove-cell", "hide-input", "hide-cell"}


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell) -> str:
    return "".join(cell["source"])


def _visible_code(cells):
    return [c for c in cells if c["cell_type"] == "code"
            and not HIDDEN & set(c.get("metadata", {}).get("tags", []))]


def _figures(cells) -> dict:
    """name -> caption of every numbered figure (myst-nb's cell metadata mystnb.figure)."""
    found = {}
    for c in cells:
        fig = c.get("metadata", {}).get("mystnb", {}).get("figure")
        if fig:
            found[fig.get("name", "")] = fig.get("caption", "")
    return found


def _prose(cells) -> str:
    return "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")


def _exercises(cells) -> str:
    prose = _prose(cells)
    at = prose.find("## Exercises")
    return prose[at:] if at >= 0 else ""


def _outputs_text(cells) -> str:
    parts = []
    for c in cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            parts += ["".join(data.get(k, "")) for k in ("text/markdown", "text/html")]
            parts.append("".join(o.get("text", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_page_checks_passed_when_executed(path):
    meta = json.loads(path.read_text())["metadata"].get("inrbook", {})
    assert meta.get("page_checks") == "passed", (
        f"{path.name}: {meta.get('page_checks')!r}; re-execute it with scripts/execute_chapters.py, "
        "which prints each problem")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_visible_code_cell_holds_an_assert(path):
    found = [_source(c).splitlines()[0] for c in _visible_code(_cells(path))
             if re.search(r"^\s*assert\b", _source(c), re.M)]
    assert not found, f"{path.name}: visible cells with an assert (use claims.check in a " \
                      f"remove-input cell): {found}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_page_says_what_it_shows(path):
    assert 'class="inr-run"' in _outputs_text(_cells(path)), \
        f"{path.name}: no profiles.sizes(...) line saying the profile and sizes of this page"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_key_figures_are_numbered_captioned_and_referred_to(path):
    cells = _cells(path)
    figures = _figures(cells)
    needed = 1 if path.stem.startswith("01") else 3
    assert len(figures) >= needed, f"{path.name}: {len(figures)} numbered figures, needs {needed}"
    prose = _prose(cells)
    for c in cells:  # myst-nb makes a figure of every output of the cell: one image, nothing else
        name = c.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
        if name:
            kinds = [o["output_type"] for o in c.get("outputs", [])]
            images = [o for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
            assert len(images) == 1 and kinds == ["display_data"], \
                f"{path.name}: {name}'s cell has outputs {kinds} (end its last line with ';')"
    for name, caption in figures.items():
        assert re.fullmatch(r"fig-\d\d-[a-z0-9-]+", name), f"{path.name}: figure name {name!r}"
        assert len(caption.split()) >= 6, f"{path.name}: {name}'s caption is too short: {caption!r}"
        assert f"{{numref}}`{name}`" in prose, f"{path.name}: the text never refers to {name}"


@pytest.mark.parametrize("path", [p for p in CHAPTERS if not p.stem.startswith("01")],
                         ids=lambda p: p.stem)
def test_chapter_ends_with_exercises_with_hidden_solutions(path):
    text = _exercises(_cells(path))
    assert text, f"{path.name}: no '## Exercises' section"
    items = re.findall(r"^\d+\. ", text, re.M)
    assert 3 <= len(items) <= 6, f"{path.name}: {len(items)} exercises, needs 3-6"
    assert text.count(":class: dropdown") >= len(items), \
        f"{path.name}: every exercise needs a solution or hint in a dropdown"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_warning_or_error_text_reaches_the_page(path):
    found = [f"[{i}] {''.join(o.get('text', ''))[:120]!r}" for i, c in enumerate(_cells(path))
             for o in c.get("outputs", []) if o.get("name") == "stderr" or o["output_type"] == "error"]
    assert not found, f"{path.name}: stderr or error outputs a reader would see: {found}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_prose_and_outputs_pass_the_page_checks(path):
    """The committed text itself, whatever the execution recorded: API names in prose exist,
    no run-log remarks or raw tables in outputs."""
    cells = _cells(path)
    problems = pagecheck.prose_problems(_prose(cells))
    for c in cells:
        for o in c.get("outputs", []):
            text = "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
            if "text/html" not in o.get("data", {}) and "text/markdown" not in o.get("data", {}):
                problems += pagecheck.output_problems(text)
    assert not problems, f"{path.name}: " + "\n".join(problems)


def test_checks_catch_what_they_look_for(tmp_path):
    """Each test above fails on a notebook that breaks it."""
    bad = [{"cell_type": "code", "metadata": {}, "source": ["assert x > 1\n"], "outputs": []},
           {"cell_type": "code", "metadata": {"mystnb": {"figure": {"name": "fig-02-a",
                                                                     "caption": "short"}}},
            "source": ["plot()\n"], "outputs": []},
           {"cell_type": "markdown", "metadata": {}, "source": ["## Exercises\n1. one\n"]}]
    assert _visible_code(bad)
    assert _figures(bad) == {"fig-02-a": "short"}
    assert "{numref}`fig-02-a`" not in _prose(bad)
    assert len(re.findall(r"^\d+\. ", _exercises(bad), re.M)) == 1
    assert 'class="inr-run"' not in _outputs_text(bad)
    bad[0]["metadata"]["tags"] = ["remove-input"]
    assert not _visible_code(bad[:1])


def test_references_hold_only_attributed_works_the_book_cites():
    """Every cited key exists and names its author (or organisation) and a URL or venue; the
    bibliography lists only cited works (references.md has no :all:)."""
    from pybtex.database import parse_file
    entries = parse_file(str(ROOT / "references.bib")).entries
    texts = [p.read_text() for p in [*CHAPTERS, ROOT / "intro.md"]]
    cited = set()
    for text in texts:
        for keys in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
            cited |= {k.strip() for k in keys.split(",")}
    assert cited, "no citations found: the pattern is wrong"
    assert cited <= set(entries), f"cited but not in references.bib: {cited - set(entries)}"
    for key in sorted(cited):
        e = entries[key]
        assert e.persons.get("author") or "organization" in e.fields, f"{key}: no author"
        assert {"url", "booktitle", "journal", "howpublished"} & {f.lower() for f in e.fields}, \
            f"{key}: no URL or venue"
    assert ":all:" not in (ROOT / "references.md").read_text()


def test_the_line_under_each_title_comes_from_the_notebooks_metadata():
    """_ext/run_line.py writes it at build time: the profile, device, torch and date of the run
    that made the page, never typed; a notebook without them fails the build with the fix."""
    sys.path.insert(0, str(ROOT / "_ext"))
    import run_line

    meta = {"profile": "full", "device": "NVIDIA H200", "torch": "2.9.0", "executed": "2026-12-01"}
    line = run_line.describe(meta)
    assert "2026-12-01" in line and "full profile" in line and "one NVIDIA H200" in line
    assert "2.9.0" in line and "quick profile" in line
    with pytest.raises(KeyError, match="execute_chapters"):
        run_line.describe({"profile": "quick"})
