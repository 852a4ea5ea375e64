"""The launch paths (Binder, Colab, a clone) name what they need: static checks of the files."""
import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"

# The distribution that provides each module a chapter imports (beyond the standard library).
DISTRIBUTIONS = {"IPython": "ipython", "ipywidgets": "ipywidgets", "matplotlib": "matplotlib",
                 "numpy": "numpy", "scipy": "scipy", "skimage": "scikit-image", "torch": "torch",
                 "tqdm": "tqdm"}


def requirement_lines(path) -> list:
    """The requirements of a pip requirements file, comments and blank lines dropped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def chapter_imports() -> set:
    """The top-level modules the chapters' code cells import."""
    modules = set()
    for nb in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            # IPython magics and shell lines are not Python: each becomes a `pass` in its place
            source = "\n".join(l[:len(l) - len(l.lstrip())] + "pass"
                               if l.lstrip().startswith(("%", "!")) else l
                               for l in source.splitlines())
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    modules.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules


def test_binder_installs_cpu_torch_and_the_package_with_the_book_extra():
    # repo2docker reads binder/ (and then only binder/) when it exists; both folders are an error
    assert BINDER.is_dir() and not (ROOT / ".binder").exists()
    reqs = requirement_lines(BINDER / "requirements.txt")
    torch = [r for r in reqs if re.match(r"torch\s*[=<>~!]", r)]
    assert torch == ["torch==2.13.0+cpu"], reqs
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in reqs, reqs
    # the package itself, from the repository root, with the extra the chapters need
    package = [r for r in reqs if re.fullmatch(r"(-e\s+)?\.(\[[\w,\s-]+\])?", r)]
    assert len(package) == 1, f"binder/requirements.txt does not install the package: {reqs}"
    extras = re.findall(r"[\w-]+", package[0].partition("[")[2])
    assert "book" in extras, package
    # no build or test tools: Binder only runs the notebooks
    for tool in ("jupyter-book", "pytest", "nbval", "playwright", "ray", "jupyterlab"):
        assert not any(r.lower().startswith(tool) for r in reqs), f"{tool} in binder/requirements.txt"
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime


def test_the_package_and_its_book_extra_provide_every_chapter_import():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["book"]
    names = {re.split(r"[\s<>=~!\[;]", d, maxsplit=1)[0].lower() for d in declared}
    third_party = {m for m in chapter_imports()
                   if m not in sys.stdlib_module_names and m != "inrlib"}
    unknown = third_party - set(DISTRIBUTIONS)
    assert not unknown, f"chapters import modules this test does not know: {sorted(unknown)}"
    missing = {DISTRIBUTIONS[m] for m in third_party} - names
    assert not missing, f"chapters need {sorted(missing)}, not in inrlib's dependencies or [book]"


def test_intro_names_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    intro = (ROOT / "intro.md").read_text()
    assert "<repository URL>" not in intro
    named = re.findall(r"(?:git\+|git clone )(https://\S+?)(?=[\s`;)]|$)", intro)
    assert len(named) >= 2 and set(named) == {url}, named
