"""Benchmark of the in-page trainer: steps per second in headless Chromium, by network and backend.

Builds a standalone page from `inrlib.book.playground` (64x64 cameraman, width 64, depth 3), opens
it from file:// and prints, for SIREN and ReLU + PE: the steps per second of the trainer as a
reader runs it (drawing and yielding to the page included) and of the bare training step, with
the browser's version and the TensorFlow.js backend actually obtained (the bare step: best of
three runs of 30 steps; the page loop: one run, as the page shows it). The issue's target is 20
steps/s, the aim 30. Usage: python bench/playground.py [--steps 200] [--backend wasm|webgl|cpu]
"""
import argparse
import os
import time
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import inrlib as inr  # noqa: E402
from inrlib.book.playground import playground  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def browser_cpu_seconds() -> float:
    """CPU time used so far by the Chromium processes this script started (psutil), so that the
    steps per CPU-second can be printed beside the steps per second: on a shared machine the
    wall clock also counts other people's work."""
    try:
        import psutil
    except ImportError:
        return float("nan")
    total = 0.0
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
    return total
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--backend", default=None, choices=[None, "wasm", "webgl", "cpu"])
    ap.add_argument("--size", type=int, default=64)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    sig = inr.load_image("camera", size=a.size)
    kw = dict(width=64, depth=3, seed=0)
    models = {"SIREN": inr.siren(**kw), "ReLU + PE (L=6)": inr.relu_mlp(L=6, **kw)}
    page_path = Path(tempfile.mkdtemp()) / "bench.html"
    playground(sig, models, steps=a.steps, backend=a.backend).save(page_path, engine="inline")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_function("['ready','error'].includes(document.querySelector('.inr-playground')"
                               ".dataset.status)", timeout=120_000)
        backend = page.evaluate("document.querySelector('.inr-playground').inrPlayground.state.backend.name")
        print(f"Chromium {browser.version}, TensorFlow.js backend {backend}, {a.size}x{a.size} image, "
              f"width 64, depth 3, full batch, {a.steps} steps; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f} at the start")
        for kind, label in (("siren", "SIREN"), ("relu_pe", "ReLU + PE (L=6)")):
            for mode in (("poly", "tf") if kind == "siren" else ("poly",)):
                cpu0, t0 = browser_cpu_seconds(), time.perf_counter()
                r = page.evaluate("""async ([kind, steps, mode]) => {
                    const a = document.querySelector('.inr-playground').inrPlayground;
                    a.sineMode(mode); a.set('model', kind); a.set('steps', steps);
                    // best of three: the machine may be shared (see the load average printed)
                    let bare = 0;
                    for (let i = 0; i < 3; i++) { a.reset(); bare = Math.max(bare, await a.timeSteps(30)); }
                    a.reset();
                    const s = await a.train();
                    return {page: s.stepsPerSecond, bare, psnr: s.psnr[s.psnr.length - 1], status: s.status};
                }""", [kind, a.steps, mode])
                cpu = browser_cpu_seconds() - cpu0
                wall = time.perf_counter() - t0
                sine = "" if kind != "siren" else {"poly": " (polynomial sine)", "tf": " (tf.sin)"}[mode]
                print(f"  {label + sine:32s} page loop {r['page']:5.1f} steps/s, bare step {r['bare']:5.1f} "
                      f"steps/s, {(90 + a.steps) / cpu:5.1f} steps per CPU-second (browser busy "
                      f"{cpu / wall:.0%} of the wall time); PSNR after {a.steps} steps {r['psnr']:.2f} dB "
                      f"({r['status']})")
        browser.close()


if __name__ == "__main__":
    main()
