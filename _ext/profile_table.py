"""`{profile-table}`: the book's profiles as a table, generated from inrlib's definitions
(inrlib/book/profiles.py), so the intro never states sizes the code does not use."""
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from inrlib.book.profiles import PROFILES

ROWS = [("meant for", None), ("default training image", "image_size"), ("width", "width"),
        ("depth", "depth"), ("steps of one fit", "steps"), ("steps per sweep setting", "sweep_steps"),
        ("audio fitted", "audio_seconds"), ("repetitions", "seeds")]
MEANT_FOR = {"quick": "a laptop CPU, CI", "full": "a GPU (paper size)"}


def _cell(profile, field):
    if field is None:
        return MEANT_FOR.get(profile.name, "")
    value = getattr(profile, field)
    if field == "image_size":
        return f"{value}×{value} px"
    if field == "audio_seconds":
        return f"{value:g} s"
    return str(value)


class ProfileTable(SphinxDirective):
    def run(self):
        names = list(PROFILES)
        lines = ["| | " + " | ".join(f"`{n}`" for n in names) + " |",
                 "|---|" + "---|" * len(names)]
        lines += ["| " + label + " | " + " | ".join(_cell(PROFILES[n], f) for n in names) + " |"
                  for label, f in ROWS]
        holder = nodes.Element()
        self.state.nested_parse(StringList(lines, source="profile-table"), self.content_offset,
                                holder)
        return holder.children


def setup(app):
    app.add_directive("profile-table", ProfileTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
