"""Benchmark of the in-page trainer: steps per second in headless Chromium, by network and backend.

Builds a standalone page from `inrlib.book.playground` (64x64 cameraman, width 64, depth 3), opens
it from file:// and prints, for SIREN and ReLU + PE: the steps per second of the trainer as a
reader runs it (drawing and yielding to the page included) and of the bare training step, with
the browser's version and the TensorFlow.js backend actually obtained. The issue's target is 20
steps/s, the aim 30. Usage: python bench/playground.py [--steps 200] [--backend wasm|webgl|cpu]
"""
import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import inrlib as inr  # noqa: E402
from inrlib.book.playground import playground  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
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
              f"width 64, depth 3, full batch, {a.steps} steps")
        for kind, label in (("siren", "SIREN"), ("relu_pe", "ReLU + PE (L=6)")):
            for mode in (("poly", "tf") if kind == "siren" else ("poly",)):
                r = page.evaluate("""async ([kind, steps, mode]) => {
                    const a = document.querySelector('.inr-playground').inrPlayground;
                    a.sineMode(mode); a.set('model', kind); a.set('steps', steps);
                    const bare = await a.timeSteps(50);
                    a.reset();
                    const s = await a.train();
                    return {page: s.stepsPerSecond, bare, psnr: s.psnr[s.psnr.length - 1], status: s.status};
                }""", [kind, a.steps, mode])
                sine = "" if kind != "siren" else {"poly": " (polynomial sine)",
                                                   "tf": " (tf.sin)"}[mode]
                print(f"  {label + sine:32s} page loop {r['page']:5.1f} steps/s, bare step {r['bare']:5.1f} "
                      f"steps/s; PSNR after {a.steps} steps {r['psnr']:.2f} dB ({r['status']})")
        browser.close()


if __name__ == "__main__":
    main()
