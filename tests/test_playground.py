"""Tests of the in-page trainer (inrlib.book.playground): its page data, and in headless Chromium
its parity with inr.fit, its controls, its divergence message, and its engine from file:// and
from a local server without network."""
import base64
import functools
import http.server
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import inrlib as inr
from inrlib.book import playground as pgm
from inrlib.book.playground import playground

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
KW = dict(width=64, depth=3, seed=0)


def f32(s):
    return np.frombuffer(base64.b64decode(s), dtype="<f4")


@pytest.fixture(scope="module")
def image():
    return inr.load_image("camera", size=64)


# ------------------------------------------------------------------ the page's data (Python)

def test_page_carries_inrlibs_initial_weights_target_and_coordinates(image):
    models = pgm.default_models(2)
    pg = playground(image, models)
    by_label = {m["label"]: m for m in pg.data["models"].values()}
    assert set(by_label) == set(models)
    for label, model in models.items():
        init, state = by_label[label]["init"], model.state_dict()
        for i in range(len(model.linears)):
            w = state[f"linears.{i}.weight"].numpy()
            # the page stores (in, out): the transpose of torch's (out, in)
            assert np.array_equal(f32(init["W"][i]).reshape(w.shape[1], w.shape[0]), w.T)
            assert np.array_equal(f32(init["b"][i]), state[f"linears.{i}.bias"].numpy())
        if "encoding.B" in state:
            B = state["encoding.B"].numpy()
            assert np.array_equal(f32(init["B"]).reshape(B.shape), B)
            sigma = model.config.encoding["sigma"]
            assert np.allclose(f32(init["Bunit"]).reshape(B.shape) * sigma, B, rtol=1e-6)
    assert np.array_equal(f32(pg.data["coords"]).reshape(-1, 2), image.coords.numpy())
    assert np.array_equal(f32(pg.data["target"]), image.values.numpy().ravel())
    assert pg.data["adam_eps"] == torch.optim.Adam([torch.zeros(1)]).defaults["eps"]
    spec = pg.data["models"]["relu_pe"]["spec"]
    assert spec["enc"] == {"name": "posenc", "L": 6, "include_input": True}
    assert pg.data["defaults"]["L"] == 6 and pg.data["defaults"]["omega"] == 30.0


def test_spec_follows_the_models_config():
    sig = inr.load_image("camera", size=16)
    models = [inr.siren(first_omega=17.0, hidden_omega=25.0, width=16, depth=2, seed=3),
              inr.relu_mlp(L=4, include_input=False, width=16, depth=2, seed=3),
              inr.INR(activation="relu", encoding="fourier", sigma=4.0, n_features=8, width=16, depth=2)]
    d = playground(sig, models).data
    s = d["models"]["siren"]["spec"]
    assert (s["first_omega"], s["hidden_omega"], s["width"], s["depth"], s["seed"]) == (17.0, 25.0, 16, 2, 3)
    assert d["models"]["relu_pe"]["spec"]["enc"] == {"name": "posenc", "L": 4, "include_input": False}
    assert d["models"]["relu_ff"]["spec"]["enc"] == {"name": "fourier", "sigma": 4.0, "n_features": 8}
    assert d["defaults"]["omega"] == 17.0 and d["defaults"]["sigma"] == 4.0
    assert d["models"]["siren"]["lr"] == 1e-4 and d["models"]["relu_pe"]["lr"] == 1e-3


@pytest.mark.parametrize("call, words", [
    (lambda s: playground(torch.zeros(4, 2)), "signal must be an inrlib Signal"),
    (lambda s: playground(s, [inr.INR(activation="gelu", width=8, depth=1)]), "'gelu'"),
    (lambda s: playground(s, [inr.siren(width=8, depth=1), inr.siren(width=8, depth=2)]), "both SIREN"),
    (lambda s: playground(s, [inr.siren(out_features=3, width=8, depth=1)]), "1 channel(s)"),
    (lambda s: playground(s, [inr.siren(init="pytorch", width=8, depth=1)]), "init='pytorch'"),
    (lambda s: playground(s, controls=["omega", "colour"]), "['colour'] are unknown"),
    (lambda s: playground(s, lr={"SIRENN": 1e-4}), "['SIRENN']"),
    (lambda s: playground(s, lr=-1.0), "lr must be"),
    (lambda s: playground(s, steps=2.5), "steps must be a whole number"),
    (lambda s: playground(s, engine="cdn"), "engine must be one of"),
    (lambda s: playground(s, view="outside"), "view must be one of"),
    (lambda s: playground(s, freqs=[2]), "freqs applies to 1-D"),
    (lambda s: playground(inr.load_image("camera", size=200)), "at most 16384"),
])
def test_bad_input_is_refused_with_a_message_naming_it(call, words):
    sig = inr.load_image("camera", size=16)
    with pytest.raises(ValueError, match=re.escape(words)):
        call(sig)


def test_one_d_signal_with_frequencies():
    from inrlib.book import dynamics

    wave = dynamics.sum_of_sines(128, [2, 4, 6], seed=0)
    pg = playground(wave)
    assert pg.data["freqs"] == [2, 4, 6] and pg.data["shape"] == [128]
    assert set(pg.data["models"]) == {"siren", "relu_pe", "relu_ff", "relu"}
    with pytest.raises(ValueError, match=r"freqs must be whole numbers in \[1, n/2\)"):
        playground(wave, freqs=[64])


def test_sizes_engine_once_and_page_data_small(image):
    """The site carries the engine once (under 3 MB); a page's own output stays under 1 MB."""
    assert pgm.engine_bytes() < 3_000_000
    page = playground(image, engine="site").html()
    assert len(page.encode()) < 1_000_000
    assert "tf-core" in page and "Google LLC" not in page  # a reference to the engine, not the engine
    inline = playground(image).html(engine="inline")
    assert "Google LLC" in inline and len(inline.encode()) > pgm.engine_bytes() // 2
    assert (pgm.ASSETS / "LICENSE-tfjs.txt").read_text().count("Apache License") >= 1


def test_engine_auto_is_the_site_while_the_book_executes(monkeypatch, image):
    monkeypatch.setenv("INR_PROFILE", "quick")
    assert '"site"' in playground(image).html()
    monkeypatch.delenv("INR_PROFILE")
    assert '"inline"' in playground(image).html()


def test_the_built_site_and_the_package_carry_the_engine():
    cfg = (ROOT / "_config.yml").read_text()
    assert 'html_extra_path: ["inrlib/book/playground_assets"]' in cfg
    assert "playground_assets/inr_playground/*" in (ROOT / "pyproject.toml").read_text()
    for name in pgm.ENGINE_FILES:
        assert (pgm.ASSETS / name).is_file(), name
    assert (pgm.ASSETS / "TFJS_VERSION").read_text().strip() == "4.22.0"


# ------------------------------------------------------------------ in the browser

def _site_page(folder: Path, pg, name="page.html") -> Path:
    """A page laid out as the built book has it: Sphinx's content-root attribute on <html>, the
    engine once at the root in inr_playground/."""
    pgm.copy_engine(folder)
    path = folder / name
    path.write_text('<!DOCTYPE html><html data-content_root="./"><head><meta charset="utf-8"></head>'
                    f"<body>{pg.html('site')}</body></html>", encoding="utf-8")
    return path


def _open(browser, url, offline_host=None):
    page = browser.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.wait_for_function("() => { const r = document.querySelector('.inr-playground');"
                           " return r && ['ready', 'error'].includes(r.dataset.status); }", timeout=120_000)
    status = page.evaluate("document.querySelector('.inr-playground').dataset.status")
    assert status == "ready", page.evaluate("document.querySelector('.inr-playground').textContent")
    return page, errors, requests


def _train(page, settings, steps):
    return page.evaluate(
        """async ([settings, steps]) => {
            const a = document.querySelector('.inr-playground').inrPlayground;
            a.reset();
            for (const k in settings) a.set(k, settings[k]);
            a.set('steps', steps);
            const s = await a.train();
            return {status: s.status, message: s.message, step: s.step, psnr: s.psnr,
                    pred: Array.from(a.prediction() || []), backend: s.backend.name,
                    weights: s.weightsSource,
                    text: document.querySelector('.inr-pg-status').textContent};
        }""", [settings, steps])


def _roughness(img):
    """Mean absolute difference between neighbouring pixels: fine detail."""
    return float(np.abs(np.diff(img, axis=0)).mean() + np.abs(np.diff(img, axis=1)).mean())


@pytest.fixture(scope="module")
def pw(playwright_session):
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    return playwright_session  # the run's one Playwright (tests/conftest.py)


@pytest.fixture(scope="module")
def browser(pw):
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield b
    b.close()


@pytest.fixture(scope="module")
def site_page(tmp_path_factory, browser, image):
    """The cameraman trainer from file://, as on the built site; with its inrlib models."""
    models = {"SIREN": inr.siren(**KW), "ReLU + PE (L=6)": inr.relu_mlp(L=6, **KW)}
    pg = playground(image, models, steps=200)
    path = _site_page(tmp_path_factory.mktemp("site"), pg)
    page, errors, requests = _open(browser, path.as_uri())
    yield page, pg, errors
    page.close()


@pytest.mark.parametrize("kind, label, lr", [("siren", "SIREN", 1e-4), ("relu_pe", "ReLU + PE (L=6)", 1e-3)])
def test_browser_parity_with_inr_fit(site_page, image, kind, label, lr):
    """200 full-batch Adam steps in the page end within 0.1 dB of inr.fit from the same weights."""
    page, pg, errors = site_page
    got = _train(page, {"model": kind, "lr": lr}, 200)
    assert got["status"] == "done", got["message"]
    # from file:// the WASM binary is a data URI: the page must get the WASM backend and say so
    assert got["backend"] == "wasm" and "backend wasm" in got["text"]
    assert "inrlib's (seed 0)" in got["weights"]
    model = inr.INR.from_config(pg.models[label].config)
    model.load_state_dict(pg.initial_state(label))
    hist = inr.fit(model, image, steps=200, lr=lr, progress=False)
    assert len(got["psnr"]) == 200
    assert abs(got["psnr"][0] - hist.psnr[0]) < 1e-3  # the same forward pass at the start
    assert abs(got["psnr"][-1] - hist.psnr[-1]) < 0.1, (got["psnr"][-1], hist.psnr[-1])
    assert not errors


def test_browser_controls_change_the_fit_as_the_chapter_says(site_page, image):
    """Higher omega0 fits finer detail; L = 0 stays blurry."""
    page, pg, errors = site_page
    rough_target = _roughness(image.array())
    low = _train(page, {"model": "siren", "lr": 1e-4, "omega": 3}, 200)
    high = _train(page, {"model": "siren", "lr": 1e-4, "omega": 30}, 200)
    assert low["status"] == high["status"] == "done"
    r_low, r_high = (_roughness(np.array(r["pred"]).reshape(64, 64)) for r in (low, high))
    assert high["psnr"][-1] > low["psnr"][-1] + 5, (high["psnr"][-1], low["psnr"][-1])
    assert r_high > 1.5 * r_low and r_high > 0.5 * rough_target, (r_low, r_high, rough_target)

    pe = _train(page, {"model": "relu_pe", "lr": 1e-3, "L": 6}, 200)
    flat = _train(page, {"model": "relu_pe", "lr": 1e-3, "L": 0}, 200)
    assert "drawn in the page" in flat["weights"]  # L = 0 changes the first layer's size
    r_pe, r_flat = (_roughness(np.array(r["pred"]).reshape(64, 64)) for r in (pe, flat))
    assert pe["psnr"][-1] > flat["psnr"][-1] + 3, (pe["psnr"][-1], flat["psnr"][-1])
    assert r_flat < 0.5 * r_pe, (r_flat, r_pe)
    assert not errors


def test_browser_webgl_backend_trains_like_inr_fit(tmp_path, pw, image):
    """The backend a reader with a GPU gets: WebGL (here SwiftShader's software GL), 10 steps of
    SIREN and of ReLU + PE against inr.fit."""
    models = {"SIREN": inr.siren(**KW), "ReLU + PE (L=6)": inr.relu_mlp(L=6, **KW)}
    pg = playground(image, models, steps=10, backend="webgl")
    path = pg.save(tmp_path / "webgl.html", engine="inline")
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
        "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"])
    try:
        page, errors, _ = _open(b, path.as_uri())
        for kind, label, lr in (("siren", "SIREN", 1e-4), ("relu_pe", "ReLU + PE (L=6)", 1e-3)):
            got = _train(page, {"model": kind, "lr": lr}, 10)
            if got["backend"] != "webgl":
                pytest.skip(f"no WebGL in this Chromium (got {got['backend']})")
            assert got["status"] == "done" and "backend webgl (WebGL" in got["text"], got
            model = inr.INR.from_config(pg.models[label].config)
            model.load_state_dict(pg.initial_state(label))
            hist = inr.fit(model, image, steps=10, lr=lr, progress=False)
            assert abs(got["psnr"][-1] - hist.psnr[-1]) < 0.01, (label, got["psnr"][-1], hist.psnr[-1])
        assert not errors
    finally:
        b.close()


def test_browser_divergence_ends_with_a_message_and_a_live_page(tmp_path, browser):
    """An exploding learning rate stops training with the issue's message; the tab still answers.
    (Inline engine: the page a notebook shows.)"""
    sig = inr.load_image("camera", size=32)
    pg = playground(sig, [inr.relu_mlp(L=6, width=32, depth=3, seed=0)], steps=400)
    path = pg.save(tmp_path / "inline.html", engine="inline")
    page, errors, _ = _open(browser, path.as_uri())
    got = _train(page, {"lr": 1e4}, 400)
    assert got["status"] == "diverged", got
    m = re.fullmatch(r"diverged at step (\d+): lower the learning rate \(loss .*\)", got["message"])
    assert m and 1 <= int(m.group(1)) < 400, got["message"]
    assert page.evaluate("document.querySelector('.inr-pg-note').textContent") == got["message"]
    assert page.evaluate("1 + 1") == 2
    # and a reader can recover: a sane learning rate trains
    again = _train(page, {"lr": 1e-3}, 20)
    assert again["status"] == "done" and np.isfinite(again["psnr"][-1])
    assert not errors
    page.close()


def test_browser_one_d_trainer_follows_each_frequency(tmp_path, browser):
    from inrlib.book import dynamics

    wave = dynamics.sum_of_sines(128, [2, 4, 6], seed=0)
    pg = playground(wave, [inr.siren(in_features=1, width=32, depth=2, seed=0)], steps=150)
    path = _site_page(tmp_path, pg)
    page, errors, _ = _open(browser, path.as_uri())
    got = _train(page, {"lr": 1e-3}, 150)
    assert got["status"] == "done", got["message"]
    amps = page.evaluate("document.querySelector('.inr-playground').inrPlayground.state.freqAmps")
    assert len(amps) >= 2 and all(len(a) == 3 for a in amps)
    assert max(amps[-1]) < 0.5 * max(amps[0]), amps  # the residual falls as it trains
    page.evaluate("() => { const a = document.querySelector('.inr-playground').inrPlayground;"
                  " a.set('view', 'wide'); }")  # evaluating outside [-1, 1] draws without error
    assert not errors
    page.close()


def test_browser_colour_image_and_the_finer_view(tmp_path, browser):
    sig = inr.load_image("astronaut", size=16, grey=False)
    pg = playground(sig, [inr.siren(out_features=3, width=16, depth=2, seed=0)], steps=10)
    page, errors, _ = _open(browser, _site_page(tmp_path, pg).as_uri())
    got = _train(page, {}, 10)
    assert got["status"] == "done" and len(got["pred"]) == 16 * 16 * 3
    size = page.evaluate("""() => { const a = document.querySelector('.inr-playground').inrPlayground;
        a.set('view', 'fine'); return document.querySelectorAll('.inr-pg-panel canvas')[1].width; }""")
    assert size == 16 * pg.data["finer"]
    assert not errors
    page.close()


def test_browser_site_over_a_local_server_without_network(tmp_path, browser, image):
    """Served from 127.0.0.1, the page asks nothing of any other host and trains."""
    pg = playground(image, [inr.siren(**KW)], steps=20)
    _site_page(tmp_path, pg, "index.html")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        page, errors, requests = _open(browser, url)
        got = _train(page, {}, 20)
        assert got["status"] == "done" and got["backend"] == "wasm"
        assert requests and all(u.startswith(f"http://127.0.0.1:{server.server_address[1]}/")
                                or u.startswith("data:") for u in requests), requests
        assert any(u.endswith("inr_playground/tf-core.min.js") for u in requests)
        assert not errors
        page.close()
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
