"""The committed chapters are executed notebooks: outputs present, in order, no errors, light,
and executed from the code they hold now (metadata.inrbook, written by scripts/execute_chapters.py)."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("execute_chapters", ROOT / "scripts" / "execute_chapters.py")
execute_chapters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_chapters)


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


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_was_executed_from_its_current_code(path):
    nb = json.loads(path.read_text())
    meta = nb.get("metadata", {}).get("inrbook")
    assert meta, f"{path.name}: no metadata.inrbook; run `make chapters NB={path.relative_to(ROOT)}`"
    assert {"profile", "device", "torch", "seconds", "code_sha256"} <= set(meta), meta
    assert meta["profile"] in ("quick", "full")
    assert meta["code_sha256"] == execute_chapters.code_sha256(nb), (
        f"{path.name}: its code changed since it was executed; re-execute it "
        f"(`make chapters NB={path.relative_to(ROOT)}`, or in the full profile on a GPU)")


def test_code_hash_sees_a_changed_cell(tmp_path):
    nb = json.loads(CHAPTERS[0].read_text())
    before = execute_chapters.code_sha256(nb)
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["source"] = list(code["source"]) + ["\n# changed"]
    assert execute_chapters.code_sha256(nb) != before


def _repository_url():
    import re

    m = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (ROOT / "_config.yml").read_text(), re.M)
    assert m, "_config.yml has no repository.url"
    return m.group(1)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_installs_inrlib_where_it_is_missing(path):
    """Colab has no inrlib: the first code cell installs it from the repository named in
    _config.yml, and is removed from the site (tag remove-cell)."""
    nb = json.loads(path.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    src = "".join(first["source"])
    assert "import inrlib" in src and "except ImportError" in src, f"{path.name}: {src[:80]!r}"
    assert f"@ git+{_repository_url()}" in src, f"{path.name}: installs from elsewhere: {src!r}"
    assert "remove-cell" in first["metadata"].get("tags", []), f"{path.name}: install cell shown"


def test_execute_chapters_stops_at_the_deadline_and_keeps_what_ran(tmp_path):
    """--deadline interrupts the kernel; the failing chapter keeps its file and the part that ran
    goes to --failed-dir, with per-cell timings (what a GPU run needs to see its slow cells)."""
    import subprocess
    import sys

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('ran')"), nbformat.v4.new_code_cell("import time; time.sleep(60)"),
                nbformat.v4.new_code_cell("print('never')")]
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    before = path.read_text()
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "execute_chapters.py"), "--deadline", "6",
                          "--failed-dir", str(tmp_path / "failed"), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "KeyboardInterrupt" in out.stdout, out.stdout + out.stderr
    assert path.read_text() == before
    partial = nbformat.read(tmp_path / "failed" / "slow.ipynb", as_version=4)
    assert partial.cells[0].outputs[0]["text"] == "ran\n"
    assert partial.cells[1].outputs[-1]["output_type"] == "error" and not partial.cells[2].outputs


def test_sliced_get_msg_finds_a_late_message_and_still_times_out():
    """The patched channel read waits in slices of at most a second: a message that appears
    while a long wait is under way is returned, and the caller's timeout still raises Empty."""
    import asyncio
    import time
    from queue import Empty

    calls = []

    async def get_msg(timeout=None):  # a channel whose message shows up 1.5 s from now
        calls.append(timeout)
        await asyncio.sleep(timeout)
        if ready_at is not None and time.monotonic() >= ready_at:
            return "reply"
        raise Empty

    def run(coro):  # in a thread of its own: an earlier test may leave this thread's loop running
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coro).result()

    get = execute_chapters._sliced(get_msg)
    ready_at = time.monotonic() + 1.5
    assert run(get(timeout=600)) == "reply" and max(calls) <= 1.0 and len(calls) == 2
    ready_at = None
    start = time.monotonic()
    with pytest.raises(Empty):
        run(get(timeout=1.2))
    assert time.monotonic() - start < 2.0
