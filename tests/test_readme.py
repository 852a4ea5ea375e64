"""Every ```python block of README.md runs: the calls, names and attributes as written.

Only the sizes shrink, so that the example runs in seconds on a CPU: `size=`, `width=` and
`steps=` literals above a small cap are lowered to it (the README's 256-pixel, width-256,
500-step fit would take about ten minutes on one CPU core). A renamed function, a changed
signature or a missing attribute still fails here, which is what this test is for.
"""
import re
from pathlib import Path

import pytest
import torch

import inrlib as inr

README = Path(__file__).resolve().parents[1] / "README.md"
CAPS = {"size": 32, "width": 32, "steps": 20}


def _blocks() -> list:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def _small(code: str) -> str:
    def cap(m):
        return f"{m.group(1)}={min(int(m.group(2)), CAPS[m.group(1)])}"
    return re.sub(r"\b(size|width|steps)=(\d+)\b", cap, code)


def test_readme_has_python_examples():
    assert _blocks(), "README.md has no ```python block"


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_block_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    monkeypatch.setenv("INR_PROGRESS", "0")
    code = _small(_blocks()[index])
    namespace = {"__name__": f"readme_block_{index}"}
    exec(compile(code, f"README.md python block {index + 1}", "exec"), namespace)  # noqa: S102
    model = namespace.get("model")
    if isinstance(model, inr.INR):
        # what the block's comment promises: the printed JSON rebuilds the model
        rebuilt = inr.INR.from_config(model.config.to_json())
        assert rebuilt.config == model.config
        if model.config.seed is not None:
            assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                          rebuilt.state_dict().values()))
        x = inr.grid((4, 4)).to(next(model.parameters()).device)
        assert rebuilt.to(x.device)(x).shape == model(x).shape
    assert capsys.readouterr().out.strip(), "the example prints nothing"


def test_the_shrinking_only_touches_sizes():
    code = "inr.load_image('camera', size=256)\ninr.siren(width=256, depth=4)\nfit(m, steps=500, lr=1e-4)"
    assert _small(code) == ("inr.load_image('camera', size=32)\ninr.siren(width=32, depth=4)\n"
                            "fit(m, steps=20, lr=1e-4)")
