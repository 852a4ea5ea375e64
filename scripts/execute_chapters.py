"""Re-execute chapter notebooks in place, so committed outputs come from the committed code.

    python scripts/execute_chapters.py [--profile quick|full] [--jobs N] [chapters/NN_x.ipynb ...]

Each chapter runs in its own kernel (N at a time, each with its share of the CPU threads), in the
quick profile unless --profile or INR_PROFILE says otherwise; progress bars are off (they are
widgets) and no widget state is stored, so the static site never loads widget JavaScript.
Each executed notebook records under metadata.inrbook: profile, device, torch, seconds and
code_sha256 (a hash of its code cells, which tests/test_chapters.py checks). A failing chapter
keeps its committed file; its first error is reported and the script exits with status 1.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def code_sha256(nb) -> str:
    """Hash of a notebook's code cells' sources (a dict from json or an nbformat node)."""
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in nb["cells"] if c["cell_type"] == "code"]
    return hashlib.sha256("\n\0".join(sources).encode()).hexdigest()


def execute(path: Path) -> dict:
    """Execute one notebook in this process's environment and write it back (the worker)."""
    import nbformat
    import torch
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    import inrlib as inr

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        # store_widget_state=True only so that nbclient can route output captured by an Output
        # widget (LiveControls.click()); it raises KeyError otherwise. The state is dropped below.
        NotebookClient(nb, timeout=1800, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as err:
        lines = [l for l in str(err).splitlines() if l.strip()]
        return {"error": lines[-1] if lines else repr(err)}
    seconds = time.perf_counter() - start
    dev = inr.device()
    nb.metadata.pop("widgets", None)
    nb.metadata["inrbook"] = {
        "profile": inr.get_profile().name,
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type,
        "torch": torch.__version__,
        "seconds": round(seconds, 1),
        "code_sha256": code_sha256(nb),
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps would make every run a diff
    nbformat.write(nb, path)
    return nb.metadata["inrbook"]


def run_one(path: Path, profile: str, threads: int | None) -> dict:
    """Execute `path` in a fresh worker process with its own environment."""
    env = dict(os.environ, INR_PROFILE=profile, INR_PROGRESS="0")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, __file__, "--worker", str(path)], env=env,
                         capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (out.stderr.strip().splitlines() or ["worker failed"])[-1]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Re-execute chapter notebooks in place.")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--profile", choices=("quick", "full"),
                        default=os.environ.get("INR_PROFILE", "quick"))
    parser.add_argument("--jobs", type=int, default=1, help="chapters executed at once")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(execute(args.worker)))
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    paths = args.notebooks or sorted(Path("chapters").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    threads = None if "OMP_NUM_THREADS" in os.environ or args.jobs == 1 else \
        max(1, (os.cpu_count() or 1) // args.jobs)
    print(f"executing {len(paths)} chapter(s), {args.profile} profile, {args.jobs} at a time",
          flush=True)
    failed = []

    def one(p):
        print(f"{p}: started", flush=True)
        r = run_one(p, args.profile, threads)
        if "error" in r:
            failed.append(p)
            print(f"{p}: FAILED (committed file kept): {r['error']}", flush=True)
        else:
            print(f"{p}: done in {r['seconds']:.0f} s on {r['device']}", flush=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, paths))
    print(f"all done in {time.perf_counter() - start:.0f} s; "
          f"{len(failed)} failed{': ' + ', '.join(map(str, failed)) if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
