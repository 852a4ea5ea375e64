"""Fetch the wheels that executing chapters on the lent GPU machine needs into .whl/ (ignored).

That machine has python3 3.12 with torch and the scientific stack but nothing that executes
notebooks, and no network. This takes the closure of nbclient, ipykernel and ipywidgets in this
.venv (the same versions the chapters are tested with), leaves out what the GPU image already
holds, and downloads cp312 manylinux wheels of the rest (scripts/paper_size.sh installs them).

    .venv/bin/python scripts/gpu_wheels.py        # about 18 MB, once per session

GPU_PY (default 3.12) and WHEELS (default .whl) change the Python the wheels are for and where they
go: a rehearsal on this machine's Python takes GPU_PY=3.11 WHEELS=/tmp/whl311.
"""
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOTS = ["nbclient", "nbformat", "ipykernel", "ipywidgets"]
# On the GPU image already (device README, KINDS.md): carrying them again gains nothing.
ON_IMAGE = {"numpy", "torch", "scipy", "matplotlib", "pillow", "packaging", "pyyaml",
            "python-dateutil", "six", "attrs", "jinja2", "markupsafe", "pygments", "tqdm",
            "typing-extensions", "setuptools", "scikit-image", "platformdirs", "filelock"}
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64", "manylinux_2_5_x86_64"]


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots) -> dict:
    """{name: version} of roots and everything they require (extras left out), as installed."""
    found, todo = {}, list(roots)
    while todo:
        name = norm(todo.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python (markers not evaluated)
        found[name] = dist.version
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            marker = req.split(";", 1)[1] if ";" in req else ""
            if "python_version < \"3.1" in marker or "sys_platform == \"win32\"" in marker:
                continue
            todo.append(re.match(r"[A-Za-z0-9_.-]+", req).group(0))
    return found


def main() -> int:
    out = Path(os.environ.get("WHEELS", Path(__file__).resolve().parents[1] / ".whl"))
    out.mkdir(exist_ok=True)
    wanted = {n: v for n, v in closure(ROOTS).items() if n not in ON_IMAGE}
    for old in out.glob("*.whl"):
        old.unlink()  # one version of each: two stop the install there
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
           "--python-version", os.environ.get("GPU_PY", "3.12"), "--implementation", "cp", "-d", str(out)]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    subprocess.run(cmd + [f"{n}=={v}" for n, v in sorted(wanted.items())], check=True)
    size = sum(f.stat().st_size for f in out.glob("*.whl")) / 1e6
    print(f"{len(list(out.glob('*.whl')))} wheels, {size:.1f} MB in {out}: "
          + ", ".join(f"{n} {v}" for n, v in sorted(wanted.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
