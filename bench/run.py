"""Speed benchmark: inrlib's default training path against plain PyTorch, and batched sweeps.

    python bench/run.py            # default (~10 min on 2 quiet CPU cores)
    python bench/run.py --quick    # a few minutes: fewer steps and sizes, one repeat
    python bench/run.py --full     # PSNR trajectories at 256^2 too (for a GPU or a patient CPU)

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
    if job["variant"].startswith("baseline"):
        train = B.train_graphed if job["variant"] == "baseline_graph" else B.train
        losses = train(model, x, y, job["steps"], lr=1e-4, on_step=on_step).tolist()
    else:
        losses = inr.fit(model, x, y, steps=job["steps"], lr=1e-4, data_range=2.0, progress=False,
                         callback=on_step, callback_every=1,
                         tf32=job["variant"] == "inrlib_tf32").loss
    seconds = [s for s, _ in stamps]
    cpu = [c for _, c in stamps]
    d = [b - a for a, b in zip([0.0] + seconds[:-1], seconds)][1:] or seconds
    dc = [b - a for a, b in zip([0.0] + cpu[:-1], cpu)][1:] or cpu
    out = dict(job, losses=losses, seconds=seconds, step_s=statistics.median(d),
               cpu_step_s=statistics.median(dc), peak_mb=_maxrss_mb() - rss0,
               first_s=seconds[0])  # the first step pays for compilation / graph capture
    if dev.type == "cuda":
        out["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


# ----------------------------------------------------------------------------- parent side

def run_job(job):
    env = dict(os.environ, INR_PROGRESS="0")
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
                    help="which tables to measure (comma-separated; default all three)")
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
    parts = set(a.parts.split(","))
    if parts - {"timing", "trajectories", "sweep"}:
        ap.error(f"unknown parts {sorted(parts - {'timing', 'trajectories', 'sweep'})}")
    start = time.perf_counter()
    if "timing" in parts:
        res = timing(models, sizes, variants, steps, repeats, a.device)
        print_timing(res, models, sizes, variants)
    if "trajectories" in parts:
        tr = trajectories(models, traj[0], traj[1], a.device, traj_variants)
        print_trajectories(tr, models, *traj, traj_variants)
    if "sweep" in parts:
        sweep_bench(device=a.device, **sweep)
    print(f"\nbenchmark took {time.perf_counter() - start:.0f} s; load average now "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
