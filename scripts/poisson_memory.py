"""Peak memory of one full-batch training step with derivative losses (Poisson chapter).

    python scripts/poisson_memory.py [size] [width] [depth]

Each loss runs in a fresh subprocess; the peak resident set size comes from
resource.getrusage (ru_maxrss, kB on Linux). "step" is the peak minus the resident size just
before the step (Python, PyTorch, the image and the model).
"""
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, torch
import inrlib as inr
from inrlib.book import poisson
size, width, depth, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
image = inr.load_image("camera", size=size)
t = poisson.derivative_targets(image)
model = inr.siren(width=width, depth=depth, seed=0)
opt = torch.optim.Adam(model.parameters(), 1e-4)
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = rss()
if mode == "recompute":   # gradient, then a Laplacian that differentiates the output again
    x = image.coords.clone().requires_grad_(True)
    y = model(x)
    g = inr.gradient(y, x)
    loss = ((g - t[:, 1:3]) ** 2).sum(1).mean() + ((inr.laplacian(y, x) - t[:, 3:4]) ** 2).mean()
else:
    w = {"values": (1, 0, 0), "grad+lap": (0, 1, 1), "all": (1, 1, 1)}[mode]
    loss = poisson.derivative_loss(t, *w)(model, image.coords, t)
opt.zero_grad(); loss.backward(); opt.step()
print(json.dumps({"mode": mode, "peak_mb": rss(), "step_mb": rss() - before}))
"""


def measure(size=256, width=256, depth=4, modes=("values", "grad+lap", "recompute", "all")):
    out = []
    for mode in modes:
        res = subprocess.run([sys.executable, "-c", CHILD, str(size), str(width), str(depth), mode],
                             capture_output=True, text=True, check=True)
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    for r in measure(*args):
        print(f"{r['mode']:10s} peak {r['peak_mb']:7.0f} MB   step {r['step_mb']:7.0f} MB", flush=True)
