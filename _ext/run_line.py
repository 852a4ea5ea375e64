"""The line under each chapter's title that says how the page was made: profile, device, torch
and date, read at build time from the notebook's `metadata.inrbook` (written by
scripts/execute_chapters.py), so no page states a run it did not come from."""
import json
from pathlib import Path

from docutils import nodes

from inrlib.book.profiles import PROFILES

MEANT_FOR = {"quick": "sized for a laptop CPU; CI re-runs it", "full": "a GPU, at the papers' sizes"}


def describe(meta: dict) -> str:
    """One sentence from metadata.inrbook; raises KeyError naming a missing field."""
    missing = [k for k in ("profile", "device", "torch", "executed") if k not in meta]
    if missing:
        raise KeyError(f"metadata.inrbook lacks {missing}: re-execute the chapter with "
                       "scripts/execute_chapters.py")
    profile = meta["profile"]
    device = "a CPU" if meta["device"] == "cpu" else f"one {meta['device']}"
    others = [n for n in PROFILES if n != profile]
    other = (f" The {others[0]} profile ({MEANT_FOR.get(others[0], '')}) runs the same code; the "
             f"line under the setup code gives both profiles' sizes." if others else "")
    return (f"Executed on {meta['executed']} in the {profile} profile "
            f"({MEANT_FOR.get(profile, '')}), on {device} with torch {meta['torch']}.{other}")


def _insert(app, doctree):
    path = Path(app.env.doc2path(app.env.docname))
    if path.suffix != ".ipynb":
        return
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("inrbook")
    if not meta:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    line = nodes.paragraph(classes=["inr-executed"])
    line += nodes.emphasis(text=describe(meta))
    section.insert(1, line)


def setup(app):
    app.connect("doctree-read", _insert)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
