"""The working copies `make lab` opens: chapters/*.ipynb copied to lab/ (git ignores it), with
the roles that only the book's build resolves written out as the site shows them.

jupyterlab-myst renders MyST in JupyterLab, but it has no bibliography, no glue store and no
figure numbers: `{cite:p}` would show a key, `{glue:text}` a name and `{numref}` a label. In
the copies they become "(Sitzmann et al., 2020)", the number the committed run glued, and
"Fig. 2.3" (the chapter's number, then the figure's place among its numbered figures), and
`{doc}` a link to the other copy, named by its title.
A copy that exists is left alone (it holds the reader's work); delete it to get a fresh one.

    python scripts/lab_copies.py [DEST]       # default lab/
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLE = re.compile(r"\{(cite|cite:p|cite:t|glue:text|glue|numref|doc)\}`([^`]*)`")


def _citations() -> dict:
    """key -> (authors as cited, year) from references.bib."""
    from pybtex.database import parse_file

    found = {}
    for key, e in parse_file(str(ROOT / "references.bib")).entries.items():
        people = [p.last_names[0] if p.last_names else str(p) for p in e.persons.get("author", [])]
        names = (people[0] if len(people) == 1 else " and ".join(people) if len(people) == 2
                 else f"{people[0]} et al." if people else e.fields.get("organization", key))
        found[key] = (re.sub(r"[{}]", "", names), e.fields.get("year", "n.d."))
    return found


def _glued(nb) -> dict:
    """name -> text of every value the notebook's run glued (myst-nb's scrapbook outputs)."""
    found = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            book = out.get("metadata", {}).get("scrapbook")
            if book:
                text = out["data"].get(book["mime_prefix"] + "text/plain", "")
                text = "".join(text) if isinstance(text, list) else text
                found[book["name"]] = text[1:-1] if text[:1] in "'\"" and text[-1:] == text[:1] else text
    return found


def _figures(nb, chapter: int) -> dict:
    names = [c["metadata"]["mystnb"]["figure"].get("name") for c in nb["cells"]
             if c.get("metadata", {}).get("mystnb", {}).get("figure")]
    return {name: f"Fig. {chapter}.{i}" for i, name in enumerate(names, 1) if name}


def _title(path: Path) -> str:
    for cell in json.loads(path.read_text())["cells"]:
        heading = re.search(r"^# (.+)$", "".join(cell["source"]), re.M)
        if cell["cell_type"] == "markdown" and heading:
            return heading.group(1).strip()
    return path.stem


def resolve(text: str, cites: dict, glued: dict, figures: dict) -> str:
    """`text` with each role replaced as the site shows it; an unknown target is left as is."""
    def one(m):
        role, target = m.groups()
        if role.startswith("cite"):
            keys = [k.strip() for k in target.split(",")]
            if not all(k in cites for k in keys):
                return m.group(0)
            if role == "cite:t":
                return "; ".join(f"{cites[k][0]} ({cites[k][1]})" for k in keys)
            return "(" + "; ".join(f"{cites[k][0]}, {cites[k][1]}" for k in keys) + ")"
        if role == "doc":
            named = re.fullmatch(r"(.*?)\s*<([^>]+)>", target)
            text, path = named.groups() if named else (None, target)
            nb = ROOT / "chapters" / f"{Path(path).name}.ipynb"
            if not nb.exists():
                return m.group(0)
            return f"[{text or _title(nb)}]({nb.name})"
        if role.startswith("glue"):
            return glued.get(target.split(":")[0], m.group(0))
        label = re.search(r"<([^>]+)>\s*$", target)
        return figures.get(label.group(1) if label else target, m.group(0))

    return ROLE.sub(one, text)


def copy(src: Path, dest: Path, cites: dict | None = None) -> None:
    nb = json.loads(src.read_text())
    chapter = int(re.match(r"\d+", src.stem).group(0)) if re.match(r"\d+", src.stem) else 0
    cites = _citations() if cites is None else cites
    glued, figures = _glued(nb), _figures(nb, chapter)
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = resolve("".join(cell["source"]), cites, glued, figures)
            cell["source"] = text.splitlines(keepends=True)
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv) -> int:
    dest = Path(argv[0]) if argv else ROOT / "lab"
    dest.mkdir(exist_ok=True)
    cites = _citations()
    for src in sorted((ROOT / "chapters").glob("*.ipynb")):
        if not (dest / src.name).exists():
            copy(src, dest / src.name, cites)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
