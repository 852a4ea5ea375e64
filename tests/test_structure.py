"""The package's shape: a light core that never imports the book layer, and data that travels
with the package (wheel or editable install)."""
import ast
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import inrlib

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted(p for p in (ROOT / "inrlib").glob("*.py"))
HEAVY = ("matplotlib", "scipy.stats", "ipywidgets", "IPython", "inrlib.book")


def imported_modules(path: Path, package="inrlib") -> set:
    """Absolute names of the modules a file of `package` imports (relative imports resolved)."""
    tree, names = ast.parse(path.read_text()), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            mod = f"{base}.{node.module}" if node.level and node.module else (node.module or base)
            names.add(mod)
            names |= {f"{mod}.{a.name}" for a in node.names}  # `from . import book`
    return names


def test_the_core_never_imports_the_book_layer_or_display_libraries():
    assert CORE, "no core modules found"
    for path in CORE:
        bad = {m for m in imported_modules(path) for h in HEAVY if m == h or m.startswith(h + ".")}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_import_direction_check_can_fail(tmp_path):
    fake = tmp_path / "probe.py"
    fake.write_text("from .book import widgets\nimport matplotlib.pyplot as plt\n"
                    "from .training import fit\n")
    found = imported_modules(fake)
    assert {"inrlib.book.widgets", "matplotlib.pyplot", "inrlib.training"} <= found
    assert imported_modules(ROOT / "inrlib" / "book" / "poisson.py", "inrlib.book") >= {
        "inrlib.losses", "inrlib.diffops"}


def _core_graph() -> dict:
    """Each core module's name -> the core modules it imports."""
    names = {p.stem for p in CORE}
    return {p.stem: {m.split(".")[1] for m in imported_modules(p)
                     if m.startswith("inrlib.") and m.split(".")[1] in names} - {p.stem}
            for p in CORE}


def test_the_core_has_no_import_cycle():
    graph, done = _core_graph(), []
    while graph:  # peel off modules whose imports are all peeled off already
        ready = [m for m, deps in graph.items() if deps <= set(done)]
        assert ready, f"import cycle among {sorted(graph)}"
        done += ready
        graph = {m: d for m, d in graph.items() if m not in ready}


def test_modules_stay_small():
    """One concern a module: the core's at most 350 lines, the book layer's at most 300."""
    for path, limit in [(p, 350) for p in CORE] + [(p, 300) for p in (ROOT / "inrlib" / "book").glob("*.py")]:
        n = len(path.read_text().splitlines())
        assert n <= limit, f"{path.relative_to(ROOT)} has {n} lines (limit {limit}): split it by concern"


def test_no_function_carries_protocol_in_attributes():
    """Losses are objects (inrlib.losses.Loss): nothing sets attributes on a function."""
    for path in sorted((ROOT / "inrlib").rglob("*.py")):
        tree = ast.parse(path.read_text())
        funcs = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for a in ast.walk(t):
                        if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) \
                                and a.value.id in funcs:
                            raise AssertionError(f"{path.name}:{node.lineno} sets {a.value.id}.{a.attr}")


def test_import_inrlib_is_light_and_its_api_small():
    code = ("import sys, inrlib\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    assert len(inrlib.__all__) <= 40
    assert all(hasattr(inrlib, name) for name in inrlib.__all__)
    assert len(set(inrlib.__all__)) == len(inrlib.__all__)


def test_data_travels_in_the_wheel(tmp_path):
    """Build a wheel, install it (no network, no dependencies) into a scratch venv that borrows
    torch & co. from this environment, and load the book's music through the installed copy."""
    src, dist = tmp_path / "src", tmp_path / "dist"  # a copy: setuptools builds in its source tree
    shutil.copytree(ROOT / "inrlib", src / "inrlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "data", src / "data")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(dist), str(src)], check=True,
                   capture_output=True)
    (wheel,) = dist.glob("inrlib-*.whl")
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # A path added by a .pth file is not scanned for .pth files itself, so this environment's
    # editable inrlib stays invisible while its torch, numpy and scipy are found.
    ours = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "borrowed.pth").write_text(ours + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    code = ("import inrlib as inr\n"
            "print(inr.__file__)\n"
            "clip = inr.load_audio(inr.data_file('music.wav'), seconds=0.5)\n"
            "print(clip.values.shape[0], clip.sample_rate)\n")
    out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True,
                         cwd=tmp_path).stdout.split("\n")
    assert out[0].startswith(str(env)), f"imported {out[0]}, not the installed wheel"
    n, rate = out[1].split()
    assert int(n) == int(0.5 * float(rate)) > 0
