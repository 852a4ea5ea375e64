"""Results as Markdown tables (displayed with IPython's Markdown, rendered by the book)."""


def markdown_table(header, rows) -> str:
    """A Markdown table from a header list and rows of already formatted cells; a `|` inside a
    cell is escaped (`\\|`), so it stays in its cell instead of splitting the row."""
    for i, r in enumerate(rows):
        if len(r) != len(header):
            raise ValueError(f"row {i} has {len(r)} cells for {len(header)} header columns: "
                             "give every row one cell per column")

    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header)] + [line(r) for r in rows])


GLUE_PREFIX = "application/papermill.record/"  # where myst-nb's {glue} roles look


def glue(**values) -> None:
    """Store values for the page's prose: after `glue(steps=2000)` the Markdown can say
    {glue:text}`steps`, and the built page shows the number of the run that made it.

    The hidden output is the one `myst_nb.glue(name, value, display=False)` writes, made here so
    that a kernel without myst-nb (Colab) runs the chapter too. Each value is stored as str().
    """
    from IPython.display import display

    for name, value in values.items():
        display({GLUE_PREFIX + "text/plain": str(value)}, raw=True,
                metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})


def show(header, rows) -> None:
    """Display rows of already formatted cells as a Markdown table (the book renders it)."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(header, rows)))
