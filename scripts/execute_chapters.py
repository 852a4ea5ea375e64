"""Re-execute chapter notebooks in place, so committed outputs come from the committed code.

    python scripts/execute_chapters.py chapters/*.ipynb

Runs in the quick profile unless INR_PROFILE is set; progress bars are off (they are widgets)
and no widget state is stored, so the static site never loads widget JavaScript.
"""
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # store_widget_state=True only so that nbclient can route output captured by an Output
    # widget (LiveControls.click()); it raises KeyError otherwise. The state is dropped below.
    NotebookClient(nb, timeout=1800, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps would make every run a diff
    nbformat.write(nb, path)
    return time.perf_counter() - start


if __name__ == "__main__":
    os.environ.setdefault("INR_PROFILE", "quick")
    os.environ.setdefault("INR_PROGRESS", "0")
    paths = [Path(p) for p in sys.argv[1:]] or sorted(Path("chapters").glob("*.ipynb"))
    for p in paths:
        print(f"{p}: executing ({os.environ['INR_PROFILE']} profile) ...", flush=True)
        print(f"{p}: done in {execute(p):.0f} s", flush=True)
