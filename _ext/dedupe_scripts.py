"""Drop repeated inline <script> lines from the built pages.

jupyter-book 1.0.4 (Sphinx 7.4, sphinx-book-theme) writes sphinx-thebe's and
sphinx-togglebutton's inline scripts twice into every page's <head>, and the second
`const THEBE_JS_URL` declaration raises a JavaScript error on every page. After the build,
keep the first copy of each identical script line.
"""
from pathlib import Path


def _dedupe(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        lines = page.read_text(encoding="utf-8").split("\n")
        seen, kept = set(), []
        for line in lines:
            key = line.strip()
            if key.startswith("<script>") and key.endswith("</script>"):
                if key in seen:
                    continue
                seen.add(key)
            kept.append(line)
        if len(kept) != len(lines):
            page.write_text("\n".join(kept), encoding="utf-8")


def setup(app):
    app.connect("build-finished", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
