"""Re-execute chapter notebooks in place, so committed outputs come from the committed code.

    python scripts/execute_chapters.py [--profile quick|full] [--jobs N] [chapters/NN_x.ipynb ...]

Each chapter runs in its own kernel (N at a time, each with its share of the CPU threads), in the
quick profile unless --profile or INR_PROFILE says otherwise; progress bars are off (they are
widgets) and no widget state is stored, so the static site never loads widget JavaScript.
Each executed notebook records under metadata.inrbook: profile, device, torch, seconds and
code_sha256 (a hash of its code cells, which tests/test_chapters.py checks) and jobs (how many
chapters shared the machine while it ran, so `seconds` is an upper bound when jobs > 1) and the
date. The page checks of `inrlib.book.pagecheck` run on what a reader will see: every figure at
the end of its cell (overlaps, text under 9 px on the page), every printed output (raw tables,
raw dicts, run-log remarks) and the prose (API names that do not exist); a chapter that trips
one fails, with the list. Each chapter's slowest cells are printed. A failing chapter keeps its committed file; its first error
is reported, the part that ran is written to --failed-dir if given, and the script exits with
status 1.
"""
import argparse
import hashlib
import json
import os
import signal
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


def cell_seconds(nb) -> list:
    """(cell index, seconds) of each executed code cell, from nbclient's timing metadata."""
    from datetime import datetime

    out = []
    for i, cell in enumerate(nb.cells):
        t = cell.metadata.get("execution", {})
        a, b = t.get("iopub.execute_input"), t.get("shell.execute_reply")
        if a and b:
            parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
            out.append((i, round((parse(b) - parse(a)).total_seconds(), 1)))
    return out


def _sliced(get_msg):
    """A channel's get_msg that waits in slices of a second.

    Seen here: after a burst of widget messages, the asyncio poll of the shell socket can miss
    its wake-up, and the cell's reply, sent in time, is read only when the whole timeout runs
    out (the chapter then passes, that much later). Short slices find it within a second."""
    from queue import Empty

    async def get(timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 1.0 if end is None else min(1.0, max(0.0, end - time.monotonic()))
            try:
                return await get_msg(timeout=left)
            except Empty:
                if end is not None and time.monotonic() >= end:
                    raise

    return get


def execute(path: Path, timeout: int, jobs: int, failed_dir: Path | None,
            deadline: float | None = None, allow_page_problems: bool = False) -> dict:
    """Execute one notebook in this process's environment and write it back (the worker).
    Past `deadline` seconds the kernel is interrupted, so the chapter fails with what it ran."""
    import threading

    import nbformat
    import torch
    from nbclient import NotebookClient

    import inrlib as inr
    from inrlib.book import profiles

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # store_widget_state=True only so that nbclient can route output captured by an Output
    # widget (LiveControls.click()); it raises KeyError otherwise. The state is dropped below.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})

    def patient_channels(**_):
        for channel in (client.kc.shell_channel, client.kc.iopub_channel):
            channel.get_msg = _sliced(channel.get_msg)

    client.on_notebook_start = patient_channels
    def interrupt():  # SIGINT, as Kernel > Interrupt sends it (the manager's own call is async)
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        if process is not None:
            process.send_signal(signal.SIGINT)

    timer = None
    if deadline:
        timer = threading.Timer(deadline, interrupt)
        timer.daemon = True
        timer.start()
    problems = []
    try:
        client.execute()
        problems = page_problems(nb)
        if problems and not allow_page_problems:
            raise RuntimeError(f"{len(problems)} page check(s) failed:\n" + "\n".join(problems))
    except Exception as err:  # a failing cell, a cell past the timeout, a dead kernel
        lines = [l for l in str(err).splitlines() if l.strip()]
        if failed_dir:
            failed_dir.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, failed_dir / path.name)
        slow = sorted(cell_seconds(nb), key=lambda c: -c[1])[:6]
        return {"error": f"{type(err).__name__}: {lines[-1] if lines else repr(err)}", "slow": slow,
                "problems": problems}
    finally:
        if timer:
            timer.cancel()
    seconds = time.perf_counter() - start
    slow = sorted(cell_seconds(nb), key=lambda c: -c[1])[:6]
    dev = inr.device()
    nb.metadata.pop("widgets", None)
    nb.metadata["inrbook"] = {
        "profile": profiles.get_profile().name,
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type,
        "torch": torch.__version__,
        "seconds": round(seconds, 1),
        "code_sha256": code_sha256(nb),
        "jobs": jobs,
        "executed": time.strftime("%Y-%m-%d"),
        "page_checks": "passed" if not problems else f"{len(problems)} problems",
    }
    drop_page_check_lines(nb)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps would make every run a diff
    nbformat.write(nb, path)
    return {**nb.metadata["inrbook"], "slow": slow, "problems": problems}


def estimate(path: Path, timeout: int, log: Path) -> dict:
    """Run one notebook with every fit cut to one counted step (scripts/work_count.py, installed
    by the kernel's startup file) and nothing written back: its logged fits, the seconds it took
    here, and the cells that raised something other than a failed claim (work after them may be
    missing from the count)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                   store_widget_state=True, resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [f"[{i}] {o['ename']}: {o['evalue'][:80]}" for i, c in enumerate(nb.cells)
              for o in c.get("outputs", [])
              if o.get("output_type") == "error" and o["ename"] != "AssertionError"]
    fits = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {"fits": fits, "seconds": round(time.perf_counter() - start, 1), "errors": errors}


def page_problems(nb) -> list:
    """What the page checks found in an executed notebook: the figure problems its kernel
    printed, and the outputs and prose a reader should not see."""
    from inrlib.book import pagecheck

    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found += [f"[{i}] {p}" for p in pagecheck.prose_problems(cell.source)]
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out.get("text", "")
                found += [f"[{i}] {line[len(pagecheck.MARK):].strip()}"
                          for line in text.splitlines() if line.startswith(pagecheck.MARK)]
                if out.get("name") == "stdout":
                    found += [f"[{i}] {p}" for p in pagecheck.output_problems(text)]
                else:  # a warning a reader would see under the cell
                    found += [f"[{i}] stderr on the page: {line[:100]!r}" for line in text.splitlines()
                              if line.strip() and not line.startswith(pagecheck.MARK)][:1]
            elif "text/plain" in out.get("data", {}) and not {"text/html", "text/markdown",
                                                              "image/png"} & set(out["data"]):
                found += [f"[{i}] {p}" for p in pagecheck.output_problems(out["data"]["text/plain"])]
    return found


def drop_page_check_lines(nb) -> None:
    """Remove the page checks' own lines from the stderr outputs (they go to the log and the
    metadata's count, not onto the page)."""
    from inrlib.book import pagecheck

    for cell in nb.cells:
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = [l for l in out["text"].splitlines(keepends=True)
                         if not l.startswith(pagecheck.MARK)]
                if not lines:
                    continue
                out["text"] = "".join(lines)
            kept.append(out)
        if cell.cell_type == "code":
            cell.outputs = kept


def _startup_dir(work_log: Path | None = None) -> str:
    """An IPython directory whose startup file turns the figure check on in each kernel (and,
    for --estimate, the work counter)."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="inrbook-ipython-"))
    startup = root / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-pagecheck.py").write_text("from inrlib.book import pagecheck\npagecheck.watch()\n")
    if work_log:
        (startup / "01-work-count.py").write_text(
            f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            f"import work_count\nwork_count.install({str(work_log)!r})\n")
    return str(root)


def run_one(path: Path, profile: str, threads: int | None, args) -> dict:
    """Execute `path` in a fresh worker process with its own environment."""
    import tempfile

    log = Path(tempfile.mkdtemp(prefix="inrbook-work-")) / "fits.jsonl" if args.estimate else None
    env = dict(os.environ, INR_PROFILE=profile, INR_PROGRESS="0", IPYTHONDIR=_startup_dir(log))
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, __file__, "--worker", str(path), "--timeout", str(args.timeout),
           "--jobs", str(args.jobs)] + (["--failed-dir", str(args.failed_dir)] if args.failed_dir else []) \
        + (["--deadline", str(args.deadline)] if args.deadline else []) \
        + (["--allow-page-problems"] if args.allow_page_problems else []) \
        + (["--estimate-log", str(log)] if log else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
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
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    parser.add_argument("--failed-dir", type=Path, help="where to write the part of a failing chapter that ran")
    parser.add_argument("--deadline", type=float,
                        help="seconds after which a chapter's kernel is interrupted (it then fails)")
    parser.add_argument("--allow-page-problems", action="store_true",
                        help="write a chapter whose page checks fail (recorded in its metadata)")
    parser.add_argument("--estimate", action="store_true",
                        help="count each chapter's training work (every fit cut to one step, "
                             "nothing written) and print its estimated seconds on one GPU")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--estimate-log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker and args.estimate_log:
        print(json.dumps(estimate(args.worker, args.timeout, args.estimate_log)))
        return 0
    if args.worker:
        print(json.dumps(execute(args.worker, args.timeout, args.jobs, args.failed_dir, args.deadline,
                                 args.allow_page_problems)))
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

    if args.estimate:
        return print_estimates(paths, args.profile, threads, args)

    def one(p):
        print(f"{p}: started", flush=True)
        r = run_one(p, args.profile, threads, args)
        slow = ", ".join(f"[{i}] {s:.0f} s" for i, s in r.get("slow", []))
        for problem in r.get("problems", []):
            print(f"{p}: page check: cell {problem}", flush=True)
        if "error" in r:
            failed.append(p)
            print(f"{p}: FAILED (committed file kept): {r['error']}; slowest cells: {slow}", flush=True)
        elif r.get("page_checks") != "passed":
            print(f"{p}: page checks: {r['page_checks']} (written anyway: --allow-page-problems)")
        else:
            print(f"{p}: done in {r['seconds']:.0f} s on {r['device']}; slowest cells: {slow}",
                  flush=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, paths))
    print(f"all done in {time.perf_counter() - start:.0f} s; "
          f"{len(failed)} failed{': ' + ', '.join(map(str, failed)) if failed else ''}")
    return 1 if failed else 0


def print_estimates(paths, profile, threads, args) -> int:
    """--estimate: one line per chapter, its fits and estimated GPU seconds (work_count's model)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import work_count

    results = sorted(Path(__file__).parents[1].glob("bench/results/*.json"))
    if not results:
        print("no bench/results/*.json to take a GPU's speed from: run bench/run.py --targets on one")
        return 1
    rate, source = work_count.benchmark_rate(results[-1])
    print(f"estimated seconds on one GPU: {rate / 1e12:.1f} TFLOP/s ({source}), "
          f"{work_count.LAUNCH_S * 1e6:.0f} µs per operator; {profile} profile")
    print(f"{'chapter':32} {'fits':>5} {'models':>6} {'steps':>8} {'TFLOP':>8} {'GPU s':>7} {'here s':>7}")
    total = 0.0
    for p in paths:
        r = run_one(p, profile, threads, args)
        if "fits" not in r:
            print(f"{str(p):32} failed: {r.get('error')}")
            continue
        fits = r["fits"]
        gpu = work_count.seconds(fits, rate)
        total += gpu
        print(f"{str(p):32} {len(fits):5d} {sum(f['models'] for f in fits):6d} "
              f"{sum(f['steps'] * f['models'] for f in fits):8d} "
              f"{sum(f['steps'] * f['flops'] for f in fits) / 1e12:8.1f} {gpu:7.1f} {r['seconds']:7.0f}"
              + (f"  (cells that raised: {', '.join(r['errors'][:4])}: work after them may be missing)"
                 if r["errors"] else ""), flush=True)
        top = sorted(fits, key=lambda f: -work_count.seconds([f], rate))[:3]
        print("    largest: " + "; ".join(f"{f['desc']} ({f['models']} x {f['steps']} steps, "
                                          f"{f['points']} points): {work_count.seconds([f], rate):.1f} s"
                                          for f in top), flush=True)
    print(f"{'all':32} {'':5} {'':6} {'':8} {'':8} {total:7.1f}")
    print("'here s' is the run with each fit cut to one step: the chapter's other work (data, "
          "evaluation, plots) on this machine, an upper bound for it on a GPU.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
