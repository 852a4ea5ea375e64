"""Speed benchmark: inrlib's default training path against plain PyTorch, and batched sweeps.

    python bench/run.py            # default (~10 min on 2 quiet CPU cores)
    python bench/run.py --quick    # a few minutes: fewer steps and sizes, one repeat
    python bench/run.py --full     # PSNR trajectories at 256^2 too (for a GPU or a patient CPU)
    python bench/run.py --targets --device cuda   # the GPU targets in one run, JSON in results/
    python bench/run.py --parts compiled          # eager against compiled steps, and break-even

Every measurement runs in its own subprocess (a fresh process: glibc malloc settings and peak
resident memory are per process), and the repeats of the variants are interleaved (A B C A B C)
so that load from other programs hits them alike; the table reports medians. See README.md.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

MODELS = {"siren": "SIREN 4x256 sine, omega0 30", "relu_pe": "ReLU 4x256 + posenc L=10"}
VARIANTS = {
    "baseline": "plain PyTorch (bench/baseline.py)",
    "baseline_medium": "plain PyTorch + matmul precision 'medium'",
    "baseline_tf32": "plain PyTorch + TF32 (precision 'high')",
    "baseline_compile": "plain PyTorch + torch.compile",
    "baseline_graph": "plain PyTorch + CUDA graph of the step",
    "inrlib": "inrlib fit(), default",
    "inrlib_nofast": "inrlib fit(), INR_FAST=0",
    "inrlib_tf32": "inrlib fit() + TF32 (precision 'high')",
    "inrlib_compile": "inrlib fit(compile=True)",
    "inrlib_tf32_compile": "inrlib fit(compile=True) + TF32",
}
CPU_VARIANTS = ["baseline", "baseline_medium", "inrlib", "inrlib_nofast"]
CUDA_VARIANTS = ["baseline", "baseline_tf32", "baseline_compile", "baseline_graph", "inrlib",
                 "inrlib_tf32"]


# ----------------------------------------------------------------------------- child side

def _maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _build(job):
    import torch

    import inrlib as inr
    import baseline as B

    img = inr.load_image("camera", size=job["size"])
    if job["model"] == "siren":
        ref = inr.siren(width=256, depth=4, first_omega=30.0, hidden_omega=30.0, seed=0)
    else:
        ref = inr.relu_mlp(L=10, width=256, depth=4, seed=0)
    precision = {"baseline_medium": "medium", "baseline_tf32": "high"}  # inrlib: fit(tf32=True)
    torch.set_float32_matmul_precision(precision.get(job["variant"], "highest"))
    if job["variant"].startswith("baseline"):
        model = B.Siren() if job["model"] == "siren" else B.ReluPE()
        B.copy_weights(list(ref.linears), model)  # the same starting point as inrlib's model
        return img, model
    return img, ref


def child(job):
    import torch

    import inrlib as inr
    import baseline as B

    dev = torch.device(job.get("device", "cpu"))
    img, model = _build(job)
    model = model.to(dev)
    x, y = img.coords.to(dev), img.values.to(dev)
    if job["variant"] == "baseline_compile":
        model = torch.compile(model)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rss0 = _maxrss_mb()
    stamps = []  # both paths are timed from t0: their own set-up counts in the first step

    def on_step(*_):
        stamps.append((time.perf_counter() - t0, time.process_time() - c0))

    t0, c0 = time.perf_counter(), time.process_time()
    batch, compiled = job.get("batch_size"), {}
    if job["variant"] == "baseline_graph":
        losses = B.train_graphed(model, x, y, job["steps"], lr=1e-4, on_step=on_step).tolist()
    elif job["variant"].startswith("baseline"):
        losses = B.train(model, x, y, job["steps"], lr=1e-4, on_step=on_step,
                         batch_size=batch).tolist()
    else:
        # every=1 reads the loss back at each step as the baseline does; the targets table
        # (every > 1) times inrlib's own loop, which reads the losses back in blocks on a GPU
        hist = inr.fit(model, x, y, steps=job["steps"], lr=1e-4, data_range=2.0, progress=False,
                       callback=on_step, callback_every=job.get("every", 1), batch_size=batch,
                       tf32="tf32" in job["variant"],
                       compile=True if job["variant"].endswith("_compile") else None)
        losses = hist.loss
        compiled = dict(compiled=hist.compiled, compile_s=hist.compile_seconds,
                        eager_reason=hist.eager_reason)
    seconds = [s for s, _ in stamps]
    cpu = [c for _, c in stamps]
    d = [b - a for a, b in zip([0.0] + seconds[:-1], seconds)][1:] or seconds
    dc = [b - a for a, b in zip([0.0] + cpu[:-1], cpu)][1:] or cpu
    out = dict(job, losses=losses, seconds=seconds, step_s=statistics.median(d),
               cpu_step_s=statistics.median(dc), peak_mb=_maxrss_mb() - rss0,
               first_s=seconds[0], **compiled)  # the first step pays for compilation / capture
    if dev.type == "cuda":
        out["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


# ----------------------------------------------------------------------------- parent side

def run_job(job):
    env = dict(os.environ, INR_PROGRESS="0")
    if job.get("cache_dir"):  # a cold inductor cache: compilation from scratch
        env["TORCHINDUCTOR_CACHE_DIR"] = job["cache_dir"]
    if job["variant"] == "inrlib_nofast":
        env["INR_FAST"] = "0"
    else:
        env.pop("INR_FAST", None)
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(job)], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:  # report it and go on: one broken variant should not cost the rest
        print(f"\nbenchmark job {job} failed:\n{proc.stderr[-2000:]}", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def psnr(mse):
    import math
    return 10 * math.log10(4.0 / max(mse, 1e-20))  # values in [-1, 1]: data range 2


def timing(models, sizes, variants, steps, repeats, device):
    """Per-step time of each variant; repeats interleaved. Returns {(model, size, variant): [results]}."""
    res = {}
    for model in models:
        for size in sizes:
            for _ in range(repeats):
                for v in variants:
                    job = dict(model=model, size=size, variant=v, steps=steps[size], device=device)
                    r = run_job(job)
                    if r is not None:
                        res.setdefault((model, size, v), []).append(r)
                    print(".", end="", flush=True)
    print()
    return res


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def print_timing(res, models, sizes, variants):
    print("\nPer-step time (median over steps and interleaved repeats), full batch, Adam lr 1e-4, MSE")
    print("(speed-up = baseline / variant, from wall-clock time and from this process's CPU time; "
          "on a busy machine the CPU-time ratio is the steadier one)")
    print(f"{'model':28s} {'size':>5s}  {'variant':42s} {'ms/step':>8s} {'CPU ms':>8s} "
          f"{'speed-up':>8s} {'CPU s-up':>8s} {'peak MB':>8s} {'1st step':>8s}")
    for model in models:
        for size in sizes:
            if not res.get((model, size, "baseline")):
                print(f"{MODELS[model]:28s} {size:5d}  baseline failed: no ratios")
                continue
            base = med(res[(model, size, "baseline")], "step_s")
            base_cpu = med(res[(model, size, "baseline")], "cpu_step_s")
            for v in variants:
                rs = res.get((model, size, v))
                if not rs:
                    print(f"{MODELS[model]:28s} {size:5d}  {VARIANTS[v]:42s}   failed (see above)")
                    continue
                t, c = med(rs, "step_s"), med(rs, "cpu_step_s")
                print(f"{MODELS[model]:28s} {size:5d}  {VARIANTS[v]:42s} {1e3 * t:8.1f} "
                      f"{1e3 * c:8.1f} {base / t:7.2f}x {base_cpu / c:7.2f}x "
                      f"{med(rs, 'peak_mb'):8.0f} {med(rs, 'first_s'):7.2f}s")


def trajectories(models, size, steps, device, variants):
    res = {}
    for model in models:
        for v in variants:
            r = run_job(dict(model=model, size=size, variant=v, steps=steps, device=device))
            if r is not None:
                res[(model, v)] = r
            print(".", end="", flush=True)
    print()
    return res


def print_trajectories(res, models, size, steps, variants):
    marks = [s for s in (100, 250, 500, 1000, 2000) if s <= steps]
    print(f"\nPSNR trajectory at {size}x{size} (PSNR of the training loss, dB; time = wall clock "
          f"since the end of the first step)")
    head = " ".join(f"{'@' + str(s):>7s}" for s in marks)
    print(f"{'model':28s} {'variant':30s} {head} {'t->30dB':>8s} {'t->35dB':>8s} {'max |dPSNR|':>11s}")
    for model in models:
        if (model, "baseline") not in res:
            print(f"{MODELS[model]:28s} baseline failed: no comparison")
            continue
        base = res[(model, "baseline")]
        for v in variants:
            r = res.get((model, v))
            if r is None:
                continue
            p = [psnr(l) for l in r["losses"]]
            pb = [psnr(l) for l in base["losses"]]

            def t_to(db):  # from the end of step 1: one-time costs (CUDA start-up, capture) excluded
                i = next((i for i, q in enumerate(p) if q >= db), None)
                return f"{r['seconds'][i] - r['seconds'][0]:7.1f}s" if i is not None else "   never"

            at = " ".join(f"{p[s - 1]:7.2f}" for s in marks)
            dmax = max(abs(p[s - 1] - pb[s - 1]) for s in marks)
            print(f"{MODELS[model]:28s} {VARIANTS[v][:30]:30s} {at} {t_to(30):>8s} {t_to(35):>8s} "
                  f"{dmax:10.3f}")


# The GPU targets (issue: >= 3x for SIREN, >= 2x for ReLU + PE per step against plain fp32
# PyTorch, same PSNR within 0.2 dB at 2000 steps): name, model, image side, minibatch.
TARGET_CONFIGS = [
    ("siren 256", "siren", 256, None), ("siren 512", "siren", 512, None),
    ("siren 1024 minibatch", "siren", 1024, 65536),
    ("relu_pe 256", "relu_pe", 256, None), ("relu_pe 512", "relu_pe", 512, None),
    ("relu_pe 1024 minibatch", "relu_pe", 1024, 65536),
]


def targets(steps, device, configs=None, on_row=None, warmup=20):
    """Each TARGET_CONFIG named in `configs` (all by default) in fp32 and TF32: the plain loop
    against inrlib's, ms/step after `warmup` steps, PSNR of the training loss at 500 and 2000
    steps, peak memory; in TF32 also inrlib with compile=True (whether it ran compiled, and the
    seconds of its first step). `on_row(rows)` is called after each row (to save partial results)."""
    rows = []
    for name, model, size, batch in TARGET_CONFIGS:
        if configs is not None and name not in configs:
            continue
        for precision in ("fp32", "tf32"):
            suffix = "_tf32" if precision == "tf32" else ""
            out = {}
            # the compiled step (compile=True) at inrlib's default precision on a GPU, TF32
            sides = ("baseline", "inrlib") + (("inrlib_compile",) if precision == "tf32" else ())
            for side in sides:
                variant = side.replace("inrlib", "inrlib" + suffix) if side != "baseline" else side + suffix
                job = dict(model=model, size=size, variant=variant, steps=steps, device=device,
                           batch_size=batch, every=1 if side == "baseline" else warmup)
                out[side] = run_job(job)
                print(".", end="", flush=True)
            if out["baseline"] is None or out["inrlib"] is None:
                continue
            row = dict(name=name, precision=precision, size=size, batch_size=batch, steps=steps)
            for side, r in out.items():
                if r is None:  # the compiled side failed: say so in the JSON, keep the row
                    row[f"{side}_ms"] = None
                    continue
                # time stamps: every step (baseline) or every `warmup` steps and the last (inrlib)
                first = r["seconds"][0 if side != "baseline" else min(warmup, steps) - 1]
                row[f"{side}_ms"] = 1e3 * (r["seconds"][-1] - first) / max(steps - warmup, 1)
                row[f"psnr_{side}"] = {s: round(psnr(r["losses"][s - 1]), 3)
                                       for s in (500, 2000) if s <= len(r["losses"])}
                row[f"peak_mb_{side}"] = round(r["peak_mb"], 1)
            row["ratio"] = row["baseline_ms"] / row["inrlib_ms"]
            c = out.get("inrlib_compile")
            if c is not None:  # did the compiled path run, and what did compiling cost
                row.update(compiled=c["compiled"], compile_s=c["compile_s"],
                           eager_reason=c["eager_reason"],
                           ratio_compile=row["baseline_ms"] / row["inrlib_compile_ms"])
            rows.append(row)
            extra = (f"; compiled {row['inrlib_compile_ms']:.2f} ms ({row['ratio_compile']:.2f}x, "
                     f"compiled={row['compiled']}, compile {row['compile_s'] or 0:.1f} s)" if c else "")
            print(f"\n{name} {precision}: plain {row['baseline_ms']:.2f} ms, inrlib "
                  f"{row['inrlib_ms']:.2f} ms ({row['ratio']:.2f}x){extra}; PSNR {row['psnr_baseline']} "
                  f"vs {row['psnr_inrlib']}", flush=True)
            if on_row:
                on_row(rows)
    print()
    print(f"{'config':24s} {'prec.':5s} {'plain ms':>9s} {'inrlib ms':>10s} {'ratio':>6s} "
          f"{'PSNR plain':>16s} {'PSNR inrlib':>16s} {'peak MB':>15s} {'compiled ms':>12s} "
          f"{'ratio':>6s} {'compile s':>9s}")
    for r in rows:
        ps = lambda d: "/".join(f"{v:.2f}" for v in d.values()) or "-"
        comp = (f"{r['inrlib_compile_ms']:12.2f} {r['ratio_compile']:5.2f}x {r['compile_s'] or 0:9.1f}"
                + ("" if r["compiled"] else f" (eager: {r['eager_reason']})")
                if r.get("inrlib_compile_ms") is not None else f"{'-':>12s}")
        print(f"{r['name']:24s} {r['precision']:5s} {r['baseline_ms']:9.2f} {r['inrlib_ms']:10.2f} "
              f"{r['ratio']:5.2f}x {ps(r['psnr_baseline']):>16s} {ps(r['psnr_inrlib']):>16s} "
              f"{r['peak_mb_baseline']:7.0f}/{r['peak_mb_inrlib']:<7.0f} {comp}")
    return rows


def compiled_bench(models, sizes, steps, repeats, device, cold=False):
    """inrlib's eager step against its compiled one (fit(compile=True)), interleaved repeats:
    per-step times, the first step (compilation included) and the break-even step count, the N
    at which both fits take equally long: e1 + (N - 1) e = c1 + (N - 1) c. With `cold`, one more
    compiled run per size with an empty inductor cache (the cost on a fresh machine)."""
    import tempfile

    tf32 = "_tf32" if device.startswith("cuda") else ""
    eager, comp = "inrlib" + tf32, f"inrlib{tf32}_compile"
    print(f"\nCompiled step: {steps} steps, full batch, Adam lr 1e-4, median of {repeats} "
          f"interleaved runs (warm inductor cache{'; plus one cold' if cold else ''})")
    print(f"{'model':28s} {'size':>5s} {'eager ms':>9s} {'CPU ms':>7s} {'compiled ms':>12s} "
          f"{'CPU ms':>7s} {'speed-up':>8s} {'1st eager':>9s} {'1st comp.':>9s} {'break-even':>10s}")
    out = {}
    for model in models:
        for size in sizes:
            res = {eager: [], comp: []}
            for _ in range(repeats):
                for v in (eager, comp):
                    r = run_job(dict(model=model, size=size, variant=v, steps=steps, device=device))
                    if r is not None:
                        res[v].append(r)
            if not res[eager] or not res[comp]:
                print(f"{MODELS[model]:28s} {size:5d} failed (see above)")
                continue
            if not all(r["compiled"] for r in res[comp]):
                print(f"{MODELS[model]:28s} {size:5d} ran eagerly: {res[comp][0]['eager_reason']}")
                continue
            e, c = med(res[eager], "step_s"), med(res[comp], "step_s")
            e1, c1 = med(res[eager], "first_s"), med(res[comp], "first_s")
            even = 1 + (c1 - e1) / (e - c) if e > c else float("inf")
            line = (f"{MODELS[model]:28s} {size:5d} {1e3 * e:9.1f} {1e3 * med(res[eager], 'cpu_step_s'):7.1f} "
                    f"{1e3 * c:12.1f} {1e3 * med(res[comp], 'cpu_step_s'):7.1f} {e / c:7.2f}x "
                    f"{e1:8.2f}s {c1:8.2f}s {even:10.0f}")
            if cold:
                with tempfile.TemporaryDirectory() as tmp:
                    r = run_job(dict(model=model, size=size, variant=comp, steps=steps,
                                     device=device, cache_dir=tmp))
                if r is not None:
                    even_cold = 1 + (r["first_s"] - e1) / (e - c) if e > c else float("inf")
                    line += f"; cold cache: 1st step {r['first_s']:.1f}s, break-even {even_cold:.0f}"
            print(line, flush=True)
            out[(model, size)] = dict(eager_ms=1e3 * e, compiled_ms=1e3 * c, first_eager_s=e1,
                                      first_compiled_s=c1, break_even=even)
    return out


def write_results(rows, sweep_ratios, device):
    """bench/results/<machine>-<date>.json: one file per machine and day."""
    import re

    import torch

    name = torch.cuda.get_device_name() if device.startswith("cuda") else (
        platform.processor() or platform.machine())
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    path = HERE / "results" / f"{slug}-{time.strftime('%Y-%m-%d', time.gmtime())}.json"
    path.parent.mkdir(exist_ok=True)
    data = dict(device=name, torch=torch.__version__, date=time.strftime("%Y-%m-%d %H:%M UTC",
                                                                          time.gmtime()),
                configs=rows, sweep={f"{fam} {size}": ratio
                                     for (fam, size), ratio in (sweep_ratios or {}).items()})
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"\nwrote {path.relative_to(HERE.parent)}")
    return path


SWEEP_FAMILIES = {
    "siren": ("SIRENs, omega0 10..80", lambda i: dict(activation="sine", first_omega=10.0 + 10 * i)),
    "relu_pe": ("ReLU + posenc L=6", lambda i: dict(activation="relu", encoding="posenc", L=6)),
}


def sweep_bench(k, width, sizes, steps, repeats, device, families=("siren", "relu_pe")):
    """K networks of `width` (depth 3, seeds 0..K-1): fit_many vs K fits one after another.

    Both paths run once untimed first (first-call costs: lazy initialisation, kernel selection)."""
    import torch

    import inrlib as inr

    dev = torch.device(device)

    def timed(f):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = f()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t, out

    print(f"\nSweep: K={k} networks of width {width} (depth 3, seeds 0..{k - 1}), {steps} steps, "
          f"full batch, Adam; median of {repeats} (both paths warmed up once)")
    print(f"{'networks':24s} {'image':>9s} {'K x fit()':>10s} {'fit_many()':>11s} {'speed-up':>9s} "
          f"{'max rel. d(loss)':>17s} {'max |dW|':>9s}")
    ratios = {}
    for fam in families:
        label, kw = SWEEP_FAMILIES[fam]

        def make():
            return [inr.INR(width=width, depth=3, seed=i, **kw(i)).to(dev) for i in range(k)]

        for size in sizes:
            img = inr.load_image("camera", size=size).to(dev)
            inr.fit(make()[0], img, steps=3, progress=False)
            inr.fit_many(make(), img.coords, img.values, steps=3, progress=False)
            seq_t, bat_t, diffs, wdiffs = [], [], [], []
            for _ in range(repeats):
                ms, mb = make(), make()
                t, hs = timed(lambda: [inr.fit(m, img, steps=steps, lr=1e-4, progress=False)
                                       for m in ms])
                seq_t.append(t)
                t, hb = timed(lambda: inr.fit_many(mb, img.coords, img.values, steps=steps,
                                                   lr=1e-4, data_range=2.0, progress=False))
                bat_t.append(t)
                diffs.append(max(abs(a.loss[-1] - b.loss[-1]) / b.loss[-1] for a, b in zip(hb, hs)))
                wdiffs.append(max(float((a.linears[1].weight - b.linears[1].weight).detach().abs().max())
                                  for a, b in zip(mb, ms)))
            sq, bt = statistics.median(seq_t), statistics.median(bat_t)
            ratios[(fam, size)] = sq / bt
            print(f"{label:24s} {size:4d}x{size:<4d} {sq:9.2f}s {bt:10.2f}s {sq / bt:8.2f}x "
                  f"{max(diffs):17.1e} {max(wdiffs):9.1e}")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer sizes, steps and repeats (a few minutes)")
    ap.add_argument("--full", action="store_true", help="PSNR trajectories at 256^2 over 500 steps")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--models", default=",".join(MODELS), help=f"which of {','.join(MODELS)}")
    ap.add_argument("--parts", default="timing,trajectories,sweep",
                    help="which tables to measure (comma-separated; default the first three; "
                         "'compiled': eager against compiled steps and the break-even)")
    ap.add_argument("--targets", action="store_true",
                    help="the GPU targets in one run (plain vs inrlib, fp32 and TF32, 256/512/1024, "
                         "and a K=16 sweep of width 128 at 128^2); writes bench/results/*.json")
    ap.add_argument("--steps", type=int, default=2000, help="steps per fit for --targets")
    ap.add_argument("--configs", help="for --targets: comma-separated names, of "
                    + ", ".join(repr(c[0]) for c in TARGET_CONFIGS) + " (default all)")
    ap.add_argument("--compiled-steps", type=int, default=15,
                    help="steps per fit for --parts compiled on a CPU (default 15)")
    ap.add_argument("--cold", action="store_true",
                    help="--parts compiled: also one compiled run with an empty inductor cache")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(json.loads(a.child))))
        return
    import torch

    if a.device.startswith("cuda") and not torch.cuda.is_available():
        ap.error(f"--device {a.device}: this torch ({torch.__version__}) sees no CUDA GPU")
    gpu = f"{torch.cuda.get_device_name()}, " if a.device.startswith("cuda") else ""
    print(f"INR Book benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch "
          f"{torch.__version__}; {gpu}{platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads; device {a.device}; "
          f"load average {os.getloadavg()[0]:.1f}")
    models = a.models.split(",")
    if set(models) - set(MODELS):
        ap.error(f"unknown models {sorted(set(models) - set(MODELS))}; choose from {list(MODELS)}")
    cuda = a.device.startswith("cuda")
    variants = CUDA_VARIANTS if cuda else CPU_VARIANTS
    traj_variants = ["baseline", "inrlib"] + (["inrlib_tf32", "baseline_graph"] if cuda else [])
    if a.quick:
        sizes, steps, repeats, traj = [256], {256: 7}, 1, (48, 250)
        variants = [v for v in variants if v != "baseline_medium"]
        sweep = dict(k=8, width=64, sizes=[64], steps=30, repeats=1)
    elif cuda:  # GPU timings are steady: more steps, one repeat, and the paper's 512^2 too
        sizes, steps, repeats = [256, 512], {256: 60, 512: 40}, 1
        traj = (256, 500)
        sweep = dict(k=8, width=64, sizes=[64, 256], steps=200, repeats=2)
    else:
        sizes, steps, repeats = [256, 128], {256: 6, 128: 12}, 2
        traj = (256, 500) if a.full else (64, 500)
        sweep = dict(k=8, width=64, sizes=[32, 64], steps=100, repeats=3)
    if a.targets:
        start = time.perf_counter()
        configs = a.configs.split(",") if a.configs else None
        unknown = set(configs or ()) - {c[0] for c in TARGET_CONFIGS}
        if unknown:
            ap.error(f"unknown configs {sorted(unknown)}; choose from {[c[0] for c in TARGET_CONFIGS]}")
        # the sweep first: it is short, and the JSON is rewritten after every config
        sweep = sweep_bench(k=16, width=128, sizes=[128], steps=min(a.steps, 500), repeats=1,
                            device=a.device, families=("siren",))
        rows = targets(a.steps, a.device, configs, on_row=lambda r: write_results(r, sweep, a.device))
        write_results(rows, sweep, a.device)
        print(f"benchmark took {time.perf_counter() - start:.0f} s")
        return
    parts = set(a.parts.split(","))
    if parts - {"timing", "trajectories", "sweep", "compiled"}:
        ap.error(f"unknown parts {sorted(parts - {'timing', 'trajectories', 'sweep', 'compiled'})}")
    start = time.perf_counter()
    if "timing" in parts:
        res = timing(models, sizes, variants, steps, repeats, a.device)
        print_timing(res, models, sizes, variants)
    if "trajectories" in parts:
        tr = trajectories(models, traj[0], traj[1], a.device, traj_variants)
        print_trajectories(tr, models, *traj, traj_variants)
    if "sweep" in parts:
        sweep_bench(device=a.device, **sweep)
    if "compiled" in parts:  # on a CPU 64^2 and 128^2 (256^2 is minutes per compiled fit here)
        compiled_bench(models, [256, 512] if cuda else [64, 128], 500 if cuda else a.compiled_steps,
                       1 if cuda else 2, a.device, cold=a.cold)
    print(f"\nbenchmark took {time.perf_counter() - start:.0f} s; load average now "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
