"""Results as Markdown tables (displayed with IPython's Markdown, rendered by the book)."""


def markdown_table(header, rows) -> str:
    """A Markdown table from a header list and rows of already formatted cells."""
    if any(len(r) != len(header) for r in rows):
        raise ValueError("every row needs one cell per header column")
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])
