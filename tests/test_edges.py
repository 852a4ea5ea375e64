"""Bad and unusual input across the public API (core `inrlib` and `inrlib.book`): every call must
raise the documented error type with inrlib's own message naming the argument; nothing may pass
silently, and no raw torch/numpy/Python error may reach the user.

Each case is (call, error type, a regex of inrlib's own words). The calls take `ctx`, a few
small objects made once (files, models, signals). A case that fails here is a bug: a silent
result (no error), a raw error without inrlib's words, or the wrong type.
"""
import math
import os
import struct
import types

import numpy as np
import pytest
import torch
from scipy.io import wavfile
from torch import nn

import inrlib as inr
from inrlib import diffops, encodings, init
from inrlib.book import (audio, comparison, images, meshes, periodicity, poisson, profiles,
                         regions, render, sdf, stats)
from inrlib.evaluation import predict

NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------------------------ context

@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    d = tmp_path_factory.mktemp("edges")
    c = types.SimpleNamespace(dir=d)
    t = np.arange(800) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 100 * t) * 32767).astype(np.int16)
    wavfile.write(d / "tone.wav", 8000, tone)
    raw = (d / "tone.wav").read_bytes()
    (d / "quarter.wav").write_bytes(raw[:44 + 400])  # 200 of the header's 800 samples
    (d / "odd.wav").write_bytes(raw[:-1])  # cut inside the last sample
    wavfile.write(d / "silent.wav", 8000, np.zeros(100, np.int16))
    (d / "song.mp3").write_bytes(b"ID3\x03\x00" + bytes(100))
    (d / "notes.png").write_text("not an image")
    from skimage.io import imsave
    imsave(d / "pic.png", (np.random.default_rng(0).random((32, 32)) * 255).astype(np.uint8),
           check_contrast=False)
    png = (d / "pic.png").read_bytes()
    (d / "cut.png").write_bytes(png[:len(png) // 2])
    (d / "folder").mkdir()
    c.x = torch.linspace(-1, 1, 16)[:, None].repeat(1, 2).contiguous()
    c.c2 = inr.grid((8, 8))
    c.t1 = torch.rand(64, 1)
    c.siren = inr.siren(width=8, depth=1, seed=0)
    c.siren1d = inr.siren(in_features=1, width=8, depth=1, seed=0)
    c.relu = inr.relu_mlp(width=8, depth=1, seed=0)
    c.posenc = inr.relu_mlp(L=2, width=8, depth=1, seed=0)
    c.two_out = inr.siren(width=8, depth=1, out_features=2, seed=0)
    c.img = inr.load_image("camera", size=16)
    c.rgb = inr.load_image("astronaut", size=16, grey=False)
    c.packed = poisson.derivative_targets(c.img)
    c.patterns = torch.tensor([[True, False, True, False], [False, False, True, True]])
    c.vol = np.random.default_rng(0).standard_normal((6, 6, 6)).astype(np.float32)
    c.hist = inr.History(step=[1, 2], loss=[0.5, 0.1], psnr=[None, None])
    return c


def _json(**changes) -> str:
    base = {"in_features": 2, "out_features": 1, "width": 8, "depth": 1,
            "activation": {"name": "sine", "first_omega": 30.0, "hidden_omega": 30.0},
            "encoding": None, "init": "paper", "output": "linear", "bias": True, "seed": 0}
    import json
    return json.dumps({**base, **changes})


def _env(name, value, fn):
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        return fn()
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


def _fit(c, **kw):
    args = dict(steps=1, progress=False)
    args.update(kw)
    model = args.pop("model", None) or inr.siren(width=8, depth=1, seed=0)
    coords = args.pop("coords", c.c2)
    target = args.pop("target", c.t1)
    return inr.fit(model, coords, target, **args)


def _y2(c):
    x = c.c2.clone().requires_grad_(True)
    return x, c.two_out(x)


def _jac(c):
    x, y = _y2(c)
    return diffops.divergence(diffops.gradient(y, x), x)


def _lap_bad_grad(c):
    x = c.c2.clone().requires_grad_(True)
    y = c.siren(x)
    return diffops.laplacian(y, x, grad=torch.zeros(3, 2))


def _grad_of_other_points(c):
    x = c.c2.clone().requires_grad_(True)
    return diffops.gradient(c.siren(x)[:10], x)


def _grad_unrelated(c):
    x = c.c2.clone().requires_grad_(True)
    other = torch.rand(64, 2, requires_grad=True)
    return diffops.gradient(other.sum(1, keepdim=True), x)


def _wav24():
    """A hand-written 24-bit PCM WAV (scipy cannot write one)."""
    x = np.round(np.sin(np.arange(400) / 7) * 0.5 * 2**23).astype(np.int32)
    data = b"".join(int(v).to_bytes(3, "little", signed=True) for v in x)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000 * 3, 3, 24)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body, x / 2**23


E, T, F = ValueError, TypeError, FileNotFoundError

CASES = [
    # --- grids
    ("grid float size", lambda c: inr.grid((2.5, 3)), T, "grid shape"),
    ("grid str size", lambda c: inr.grid("64"), T, "grid shape"),
    ("grid bool size", lambda c: inr.grid((True, 2)), T, "grid shape"),
    ("grid zero size", lambda c: inr.grid((0, 4)), E, "grid shape"),
    ("grid empty", lambda c: inr.grid(()), E, "grid shape"),
    ("grid negative", lambda c: inr.grid((-1,)), E, "grid shape"),
    ("grid reversed range", lambda c: inr.grid(4, (1, 0)), E, "coord_range"),
    ("grid nan range", lambda c: inr.grid(4, (0, NAN)), E, "coord_range"),
    ("grid str range", lambda c: inr.grid(4, "ab"), T, "coord_range"),
    ("grid 3-number range", lambda c: inr.grid(4, (0, 1, 2)), T, "coord_range"),
    ("to_flat wrong ndim", lambda c: inr.to_flat(torch.zeros(3, 4, 5, 6), 2), E, "signal"),
    ("to_flat ndim 0", lambda c: inr.to_flat(torch.zeros(3), 0), E, "ndim"),
    ("to_signal count", lambda c: inr.to_signal(torch.zeros(10, 1), (5, 5)), E, "do not fill"),
    ("to_signal 1-d values", lambda c: inr.to_signal(torch.zeros(25), (5, 5)), E, r"\(N, C\)"),
    ("to_signal float shape", lambda c: inr.to_signal(torch.zeros(25, 1), (5.0, 5)), T, "shape"),
    # --- images
    ("image size 0", lambda c: inr.load_image("camera", size=0), E, "size"),
    ("image size negative", lambda c: inr.load_image("camera", size=-3), E, "size"),
    ("image size float", lambda c: inr.load_image("camera", size=2.5), T, "size"),
    ("image size str", lambda c: inr.load_image("camera", size="64"), T, "size"),
    ("image size bool", lambda c: inr.load_image("camera", size=True), T, "size"),
    ("image size pair 0", lambda c: inr.load_image("camera", size=(0, 4)), E, r"size\[0\]"),
    ("image grey str", lambda c: inr.load_image("camera", grey="no"), T, "grey"),
    ("image value_range reversed", lambda c: inr.load_image("camera", value_range=(1, 0)), E, "value_range"),
    ("image value_range inf", lambda c: inr.load_image("camera", value_range=(0, INF)), E, "value_range"),
    ("image coord_range empty", lambda c: inr.load_image("camera", size=8, coord_range=(0, 0)), E, "coord_range"),
    ("image unknown name", lambda c: inr.load_image("cameraa"), F, "no image file"),
    ("image source int", lambda c: inr.load_image(12), T, "image source"),
    ("image array above 1", lambda c: inr.load_image(np.full((8, 8), 2.0)), E, r"\[0, 1\]"),
    ("image array nan", lambda c: inr.load_image(np.full((8, 8), NAN)), E, "finite"),
    ("image array int64", lambda c: inr.load_image(np.zeros((8, 8), np.int64)), T, "uint8"),
    ("image array 5 channels", lambda c: inr.load_image(np.zeros((8, 8, 5))), E, "grey"),
    ("image folder", lambda c: inr.load_image(c.dir / "folder"), E, "folder"),
    ("image text file", lambda c: inr.load_image(c.dir / "notes.png"), E, "could not read"),
    ("image truncated png", lambda c: inr.load_image(c.dir / "cut.png"), E, "truncated"),
    ("gradient of rgb", lambda c: inr.image_gradient(np.zeros((4, 4, 3))), E, "grey"),
    ("gradient zero spacing", lambda c: inr.image_gradient(np.zeros((4, 4)), (0, 1)), E, "spacing"),
    ("gradient scalar spacing", lambda c: inr.image_gradient(np.zeros((4, 4)), 1.0), T, "spacing"),
    ("laplacian unequal spacing", lambda c: inr.image_laplacian(np.zeros((4, 4)), (1, 2)), E, "equal spacing"),
    ("laplacian nan image", lambda c: inr.image_laplacian(np.full((4, 4), NAN)), E, "finite"),
    # --- shipped data and audio
    ("data_file escapes", lambda c: inr.data_file("../../etc/passwd"), E, "shipped files.*music.wav"),
    ("data_file absolute", lambda c: inr.data_file("/etc/passwd"), E, "shipped files"),
    ("data_file dotdot", lambda c: inr.data_file(".."), E, "shipped files"),
    ("data_file empty", lambda c: inr.data_file(""), E, "shipped files"),
    ("data_file missing", lambda c: inr.data_file("nope.wav"), F, "music.wav"),
    ("data_file int", lambda c: inr.data_file(3), T, "file name"),
    ("audio unknown name", lambda c: inr.load_audio("musik"), F, "shipped names"),
    ("audio int path", lambda c: inr.load_audio(5), T, "WAV file path"),
    ("audio truncated", lambda c: inr.load_audio(c.dir / "quarter.wav"), E, "truncated"),
    ("audio cut mid-sample", lambda c: inr.load_audio(c.dir / "odd.wav"), E, "truncated"),
    ("audio folder", lambda c: inr.load_audio(c.dir / "folder"), E, "folder"),
    ("audio mp3", lambda c: inr.load_audio(c.dir / "song.mp3"), E, "WAV"),
    ("audio silent", lambda c: inr.load_audio(c.dir / "silent.wav"), E, "silent"),
    ("audio seconds 0", lambda c: inr.load_audio(c.dir / "tone.wav", seconds=0), E, "seconds"),
    ("audio seconds negative", lambda c: inr.load_audio(c.dir / "tone.wav", seconds=-1), E, "seconds"),
    ("audio seconds str", lambda c: inr.load_audio(c.dir / "tone.wav", seconds="1"), T, "seconds"),
    ("audio seconds nan", lambda c: inr.load_audio(c.dir / "tone.wav", seconds=NAN), E, "seconds"),
    ("audio seconds too long", lambda c: inr.load_audio(c.dir / "tone.wav", seconds=100), E, "seconds"),
    ("audio rate 0", lambda c: inr.load_audio(c.dir / "tone.wav", rate=0), E, "rate"),
    ("audio rate fractional", lambda c: inr.load_audio(c.dir / "tone.wav", rate=44.1), E, "rate"),
    ("audio rate str", lambda c: inr.load_audio(c.dir / "tone.wav", rate="8000"), T, "rate"),
    ("audio rate bool", lambda c: inr.load_audio(c.dir / "tone.wav", rate=True), T, "rate"),
    ("audio coord_range", lambda c: inr.load_audio(c.dir / "tone.wav", coord_range=(1, -1)), E, "coord_range"),
    # --- metrics
    ("psnr data_range 0", lambda c: inr.psnr(c.t1, c.t1 * 0.5, data_range=0), E, "data_range"),
    ("psnr data_range negative", lambda c: inr.psnr(c.t1, c.t1 * 0.5, data_range=-1), E, "data_range"),
    ("psnr data_range nan", lambda c: inr.psnr(c.t1, c.t1 * 0.5, data_range=NAN), E, "data_range"),
    ("psnr data_range inf", lambda c: inr.psnr(c.t1, c.t1 * 0.5, data_range=INF), E, "data_range"),
    ("psnr data_range str", lambda c: inr.psnr(c.t1, c.t1, data_range="2"), T, "data_range"),
    ("psnr data_range bool", lambda c: inr.psnr(c.t1, c.t1, data_range=True), T, "data_range"),
    ("psnr broadcast", lambda c: inr.psnr(c.t1, c.t1[:, 0], data_range=2), E, "shapes differ"),
    ("mse broadcast", lambda c: inr.mse(torch.zeros(4, 1), torch.zeros(1, 4)), E, "broadcast"),
    ("mse nan", lambda c: inr.mse(torch.tensor([NAN]), torch.tensor([0.0])), E, "NaN"),
    ("mse empty", lambda c: inr.mse(np.zeros(0), np.zeros(0)), E, "empty"),
    ("mse text", lambda c: inr.mse("abc", "abd"), T, "real numbers"),
    ("snr silent target", lambda c: inr.snr(np.ones(4), np.zeros(4)), E, "all zero"),
    ("snr broadcast", lambda c: inr.snr(np.ones((4, 1)), np.ones(4)), E, "shapes differ"),
    ("ssim data_range 0", lambda c: inr.ssim(np.zeros((8, 8)), np.zeros((8, 8)), data_range=0), E, "data_range"),
    ("ssim flat values", lambda c: inr.ssim(c.img.values, c.img.values, data_range=2), E, r"7 x 7.*signal.array"),
    ("ssim tiny", lambda c: inr.ssim(np.zeros((4, 4)), np.zeros((4, 4)), data_range=1), E, "7 x 7"),
    ("psnr_from_mse range 0", lambda c: inr.psnr_from_mse(0.1, 0), E, "data_range"),
    ("psnr_from_mse negative", lambda c: inr.psnr_from_mse(-0.1, 2), E, "mse_value"),
    ("psnr_from_mse nan", lambda c: inr.psnr_from_mse(NAN, 2), E, "mse_value"),
    ("psnr_from_mse str", lambda c: inr.psnr_from_mse("0.1", 2), T, "mse_value"),
    ("psnr_from_mse tensor", lambda c: inr.psnr_from_mse(torch.zeros(3), 2), E, "mse_value"),
    # --- differential operators
    ("gradient without grad", lambda c: inr.gradient(c.siren(c.c2), c.c2), E, "requires_grad"),
    ("gradient detached", lambda c: inr.gradient(
        c.siren(c.c2.clone().requires_grad_(True)).detach(), c.c2.clone().requires_grad_(True)),
     E, "one value per point|detached"),
    ("gradient other points", _grad_of_other_points, E, "one value per point"),
    ("gradient unrelated", _grad_unrelated, E, "does not depend on coords"),
    ("gradient numpy", lambda c: inr.gradient(np.zeros((4, 1)), c.c2.clone().requires_grad_(True)), T, "torch tensors"),
    ("divergence of a jacobian", _jac, E, "per channel"),
    ("laplacian wrong grad", _lap_bad_grad, E, "grad must be gradient"),
    ("derivatives chunk 0", lambda c: inr.derivatives(c.siren, c.c2, chunk=0), E, "chunk"),
    ("derivatives 2 outputs", lambda c: inr.derivatives(c.two_out, c.c2), E, "scalar"),
    ("derivatives numpy", lambda c: inr.derivatives(c.siren, np.zeros((4, 2))), E, r"\(N, d\)"),
    # --- init schemes
    ("register_init int name", lambda c: inr.register_init(5), T, "name"),
    ("register_init non-function", lambda c: inr.register_init("x_edge")(5), T, "decorates"),
    ("siren_scheme law", lambda c: init.siren_scheme(first="cauchy"), E, "first and hidden"),
    ("siren_scheme str scale", lambda c: init.siren_scheme(first_scale="1"), T, "first_scale"),
    ("siren_scheme inf scale", lambda c: init.siren_scheme(hidden_scale=INF), E, "hidden_scale"),
    ("siren_scheme flag str", lambda c: init.siren_scheme(divide_by_omega="no"), T, "divide_by_omega"),
    ("siren_scheme bias negative", lambda c: init.siren_scheme(bias_scale=-1), E, "bias"),
    ("siren_scheme bias nan", lambda c: init.siren_scheme(first_bias_scale=NAN), E, "bias"),
    ("siren_scheme phase negative", lambda c: init.siren_scheme(bias_phase=-1), E, "bias_phase"),
    ("apply_init unknown", lambda c: init.apply_init([nn.Linear(2, 2)], "nope", 30, 30), E, "unknown init"),
    ("apply_init omega 0", lambda c: init.apply_init([nn.Linear(2, 2)], "paper", 0, 30), E, "first_omega"),
    # --- encodings
    ("posenc L 0", lambda c: inr.PositionalEncoding(2, L=0), E, "L >= 1"),
    ("posenc L str", lambda c: inr.PositionalEncoding(2, L="3"), T, "L >= 1"),
    ("posenc L float", lambda c: inr.PositionalEncoding(2, L=2.5), E, "L >= 1"),
    ("posenc include_input str", lambda c: inr.PositionalEncoding(2, include_input="no"), T, "include_input"),
    ("posenc in_features str", lambda c: inr.PositionalEncoding("2"), T, "in_features"),
    ("fourier sigma nan", lambda c: inr.FourierFeatures(2, sigma=NAN), E, "sigma"),
    ("fourier sigma negative", lambda c: inr.FourierFeatures(2, sigma=-1), E, "sigma"),
    ("fourier n_features 0", lambda c: inr.FourierFeatures(2, n_features=0), E, "n_features"),
    ("fourier n_features str", lambda c: inr.FourierFeatures(2, n_features="8"), T, "n_features"),
    ("fourier seed negative", lambda c: inr.FourierFeatures(2, seed=-1), E, "seed"),
    ("hash 4-d", lambda c: inr.HashGrid(4), E, "1 to 3 dimensions"),
    ("hash levels str", lambda c: inr.HashGrid(2, levels="8"), T, "levels"),
    ("hash levels float", lambda c: inr.HashGrid(2, levels=2.5), E, "levels"),
    ("hash table_size 1", lambda c: inr.HashGrid(2, table_size=1), E, "table_size"),
    ("hash features bool", lambda c: inr.HashGrid(2, features=True), T, "features"),
    ("hash res order", lambda c: inr.HashGrid(2, min_res=32, max_res=8), E, "max_res"),
    ("hash table too big", lambda c: inr.HashGrid(3, table_size=2**36, max_res=4096), E, "GiB.*table_size"),
    ("hash res past int64", lambda c: inr.HashGrid(2, max_res=2**40), E, "max_res"),
    ("spatial_hash float cells", lambda c: encodings.spatial_hash(torch.rand(3, 2), 16), T, "integer cells"),
    ("spatial_hash table 0", lambda c: encodings.spatial_hash(torch.zeros(3, 2, dtype=torch.long), 0), E, "table_size"),
    ("spatial_hash 4-d", lambda c: encodings.spatial_hash(torch.zeros(2, 4, dtype=torch.long), 16), E, "1 to 3"),
    ("make_encoding unknown", lambda c: encodings.make_encoding("nope", 2), E, "unknown encoding"),
    ("make_encoding options of none", lambda c: encodings.make_encoding(None, 2, L=3), E, "encoding is None"),
    ("make_encoding foreign option", lambda c: encodings.make_encoding("posenc", 2, sigma=3), E, "takes"),
    ("encoding_options dict", lambda c: encodings.encoding_options({"name": "posenc"}), E, "unknown encoding"),
    # --- predict
    ("predict chunk 0", lambda c: predict(c.siren, c.c2, chunk=0), E, "chunk"),
    ("predict numpy", lambda c: predict(c.siren, np.zeros((4, 2))), E, "tensor"),
    # --- models and configs (models.py: the lead's)
    ("siren width str", lambda c: inr.siren(width="64"), T, r"width.*'64'"),
    ("siren width float", lambda c: inr.siren(width=8.0), T, "width"),
    ("siren width 0", lambda c: inr.siren(width=0), E, "width"),
    ("siren depth bool", lambda c: inr.siren(depth=True), T, "depth"),
    ("siren width 10^9", lambda c: inr.siren(width=10**9), E, "GiB"),
    ("INR unknown activation", lambda c: inr.INR(activation="nope"), E, "activation"),
    ("INR unknown init", lambda c: inr.INR(init="nope"), E, "init"),
    ("INR unknown output", lambda c: inr.INR(output="softmax"), E, "output"),
    ("INR bias str", lambda c: inr.INR(bias="no"), T, "bias"),
    ("INR seed float", lambda c: inr.INR(seed=1.5), T, "seed"),
    ("INR seed negative", lambda c: inr.INR(seed=-1), E, "seed"),
    ("INR posenc L 0", lambda c: inr.INR(activation="relu", encoding="posenc", L=0), E, "L"),
    ("INR unknown option", lambda c: inr.INR(foo=3), E, "foo"),
    ("config bias 'no'", lambda c: inr.ModelConfig.from_json(_json(bias="no")), T, "bias"),
    ("config width 8.0", lambda c: inr.ModelConfig.from_json(_json(width=8.0)), T, "width"),
    ("config seed 1.5", lambda c: inr.ModelConfig.from_json(_json(seed=1.5)), T, "seed"),
    ("config unknown init", lambda c: inr.ModelConfig.from_json(_json(init="nope")), E, "init"),
    ("config width 10^9", lambda c: inr.ModelConfig.from_json(_json(width=10**9, depth=4)), E, "GiB"),
    ("config unknown key", lambda c: inr.ModelConfig.from_json(_json(colour=1)), E, "unknown ModelConfig keys"),
    ("config not json", lambda c: inr.ModelConfig.from_json("width=8"), E, "ModelConfig JSON"),
    ("config json list", lambda c: inr.ModelConfig.from_json("[1, 2]"), E, "ModelConfig JSON"),
    ("config activation without name", lambda c: inr.ModelConfig.from_json(_json(activation={})), E, "activation"),
    ("config activation option str", lambda c: inr.ModelConfig.from_json(
        _json(activation={"name": "sine", "first_omega": "30", "hidden_omega": 30.0})), T, "first_omega"),
    ("from_config int", lambda c: inr.INR.from_config(5), T, "from_config"),
    ("coords float64", lambda c: c.siren(c.c2.double()), T, "float64"),
    ("coords int64", lambda c: c.siren(torch.zeros(4, 2, dtype=torch.long)), T, "int64"),
    ("coords numpy", lambda c: c.siren(np.zeros((4, 2), np.float32)), T, "torch tensor"),
    ("coords width", lambda c: c.siren(torch.rand(10, 3)), E, r"\(N, 2\)"),
    ("coords 1-d", lambda c: c.siren(torch.rand(2)), E, r"\(N, 2\)"),
    # --- training (training.py: the lead's)
    ("fit batch_size 0", lambda c: _fit(c, batch_size=0), E, "batch_size"),
    ("fit batch_size 2.7", lambda c: _fit(c, batch_size=2.7), T, "batch_size"),
    ("fit lr 0", lambda c: _fit(c, lr=0), E, "lr"),
    ("fit lr negative", lambda c: _fit(c, lr=-1e-3), E, "lr"),
    ("fit lr str", lambda c: _fit(c, lr="1e-3"), T, "lr"),
    ("fit clip_grad_norm 0", lambda c: _fit(c, clip_grad_norm=0), E, "clip_grad_norm"),
    ("fit clip_grad_norm nan", lambda c: _fit(c, clip_grad_norm=float("nan")), E, "clip_grad_norm"),
    ("fit clip_grad_norm str", lambda c: _fit(c, clip_grad_norm="1"), T, "clip_grad_norm"),
    ("fit lr_decay gamma", lambda c: _fit(c, lr_decay=(1, -1)), E, "lr_decay"),
    ("fit lr_decay shape", lambda c: _fit(c, lr_decay=0.5), E, "lr_decay"),
    ("fit weight_decay negative", lambda c: _fit(c, weight_decay=-1), E, "weight_decay"),
    ("fit unknown optimizer", lambda c: _fit(c, optimizer="lbfgs2"), E, "optimizer"),
    ("fit callback alone", lambda c: _fit(c, callback=lambda *a: None), E, "callback_every"),
    ("fit callback_every alone", lambda c: _fit(c, callback_every=5), E, "callback"),
    ("fit callback not callable", lambda c: _fit(c, callback=3, callback_every=1), T, "callback"),
    ("fit steps 0", lambda c: _fit(c, steps=0), E, "steps"),
    ("fit steps float", lambda c: _fit(c, steps=2.5), T, "steps"),
    ("fit seed negative", lambda c: _fit(c, seed=-1), E, "seed"),
    ("fit data_range 0", lambda c: _fit(c, data_range=0), E, "data_range"),
    ("fit 3 channels into 1 output", lambda c: _fit(c, target=torch.rand(64, 3)), E, "out_features=3"),
    ("fit 1-d target", lambda c: _fit(c, target=torch.rand(64)), E, "target"),
    ("fit target count", lambda c: _fit(c, target=torch.rand(60, 1)), E, "target"),
    ("fit nan target", lambda c: _fit(c, target=torch.full((64, 1), NAN)), E, "NaN"),
    ("fit float64 coords", lambda c: _fit(c, coords=c.c2.double()), T, "float64"),
    ("fit int64 coords", lambda c: _fit(c, coords=c.c2.long()), T, "int64"),
    ("fit numpy coords", lambda c: _fit(c, coords=c.c2.numpy()), T, "torch tensor"),
    ("fit loss returns float", lambda c: _fit(c, loss=lambda net, x, y: 0.5), T, "loss"),
    ("fit loss not callable", lambda c: _fit(c, loss="mse"), T, "loss"),
    ("fit no target", lambda c: inr.fit(c.siren, c.c2, steps=1), E, "target"),
    ("fit signal and target", lambda c: inr.fit(c.siren, c.img, c.t1, steps=1), E, "Signal"),
    ("fit_many none", lambda c: inr.fit_many([], c.c2, c.t1, steps=1), E, "at least one model"),
    ("fit_many target count", lambda c: inr.fit_many(
        [inr.siren(width=8, depth=1, seed=s) for s in (0, 1)], c.c2, torch.rand(3, 64, 1), steps=1,
        progress=False), E, "targets"),
    ("sweep empty", lambda c: inr.sweep([], c.c2, c.t1, steps=1), E, "at least one config"),
    ("sweep not configs", lambda c: inr.sweep([c.siren], c.c2, c.t1, steps=1), T, "ModelConfig"),
    ("sweep batch 0", lambda c: inr.sweep([c.siren.config], c.c2, c.t1, steps=1, batch=0), E, "batch"),
    ("sweep backend", lambda c: inr.sweep([c.siren.config], c.c2, c.t1, steps=1, backend="dask"), E, "backend"),
    ("INR_DEVICE gpu0", lambda c: _env("INR_DEVICE", "gpu0", inr.device), E, "INR_DEVICE"),
    # --- book: audio
    ("wav_bytes rate 0", lambda c: audio.wav_bytes(np.zeros(8), 0), E, "sample rate"),
    ("wav_bytes rate str", lambda c: audio.wav_bytes(np.zeros(8), "8000"), T, "sample rate"),
    ("wav_bytes rate nan", lambda c: audio.wav_bytes(np.zeros(8), NAN), E, "sample rate"),
    ("wav_bytes stereo", lambda c: audio.wav_bytes(np.zeros((10, 2)), 8000), E, "mono"),
    ("wav_bytes nan", lambda c: audio.wav_bytes(np.array([0.0, NAN]), 8000), E, "NaN"),
    ("spectrogram nperseg 1", lambda c: audio.spectrogram(np.zeros(64), 8000, nperseg=1), E, "nperseg"),
    ("spectrogram nperseg float", lambda c: audio.spectrogram(np.zeros(64), 8000, nperseg=2.5), T, "nperseg"),
    ("spectrogram floor 0", lambda c: audio.spectrogram(np.ones(64), 8000, floor_db=0), E, "floor_db"),
    ("frequency_reach duration 0", lambda c: audio.frequency_reach(30, 0), E, "duration"),
    ("frequency_reach duration str", lambda c: audio.frequency_reach(30, "1"), T, "duration"),
    ("frequency_reach omega negative", lambda c: audio.frequency_reach(-30, 1), E, "omega"),
    ("first_layer_hz encoded", lambda c: audio.first_layer_hz(c.posenc, 1.0), E, "raw 1-D"),
    ("first_layer_hz duration", lambda c: audio.first_layer_hz(c.siren1d, -1.0), E, "duration"),
    ("plot_waveforms no clips", lambda c: audio.plot_waveforms({}, 8000, (0, 0.001)), E, "clips"),
    ("plot_waveforms zoom order", lambda c: audio.plot_waveforms({"a": np.zeros(80)}, 8000, (0.005, 0.001)), E, "zoom"),
    ("plot_waveforms zoom scalar", lambda c: audio.plot_waveforms({"a": np.zeros(80)}, 8000, 0.1), T, "zoom"),
    ("audio_table empty", lambda c: audio.audio_table({}, 8000), E, "at least one clip"),
    ("audio_table captions", lambda c: audio.audio_table({"a": np.zeros(8)}, 8000, captions=["x", "y"]), E, "captions"),
    # --- book: comparison
    ("match_budget no candidates", lambda c: comparison.match_budget(lambda w: None, 10, []), E, "at least one"),
    ("match_budget build int", lambda c: comparison.match_budget(5, 10, [1]), T, "build"),
    ("match_budget float budget", lambda c: comparison.match_budget(lambda w: c.siren, 10.5, [1]), T, "budget"),
    ("correlation shapes", lambda c: comparison.correlation(np.zeros((4, 4)), np.zeros((3, 3))), E, "one shape"),
    ("correlation nan", lambda c: comparison.correlation(np.array([1.0, NAN]), np.array([1.0, 2.0])), E, "NaN"),
    ("noisy_copy sigma 0", lambda c: comparison.noisy_copy(c.img, 0), E, "sigma"),
    ("noisy_copy seed negative", lambda c: comparison.noisy_copy(c.img, 0.1, seed=-1), E, "seed"),
    ("winners nan", lambda c: comparison.winners({"a": NAN, "b": 1.0}), E, "NaN"),
    ("winners list", lambda c: comparison.winners([1, 2]), T, "scores"),
    # --- book: meshes
    ("evaluate_grid n 1", lambda c: meshes.evaluate_grid(lambda x: x[:, :1], 1), E, "n"),
    ("evaluate_grid n float", lambda c: meshes.evaluate_grid(lambda x: x[:, :1], 2.5), T, "n"),
    ("evaluate_grid bound 0", lambda c: meshes.evaluate_grid(lambda x: x[:, :1], 4, bound=0), E, "bound"),
    ("extract_mesh 2-d", lambda c: meshes.extract_mesh(np.zeros((4, 4))), E, "3-D"),
    ("extract_mesh no surface", lambda c: meshes.extract_mesh(np.ones((4, 4, 4))), E, "no surface"),
    ("extract_mesh nan", lambda c: meshes.extract_mesh(np.full((4, 4, 4), NAN)), E, "NaN"),
    ("extract_mesh bound", lambda c: meshes.extract_mesh(c.vol, bound=-1), E, "bound"),
    ("slice_field axis 3", lambda c: meshes.slice_field(lambda x: x[:, :1], axis=3), E, "axis"),
    ("slice_field n 1", lambda c: meshes.slice_field(lambda x: x[:, :1], n=1), E, "n"),
    ("mesh sample 0", lambda c: meshes.Mesh(np.eye(3), np.array([[0, 1, 2]])).sample(0), E, "n"),
    # --- book: periodicity
    ("rational_gcd empty", lambda c: periodicity.rational_gcd([]), E, "at least one"),
    ("common_period nan", lambda c: periodicity.common_period([NAN]), E, "finite"),
    ("siren_period relu", lambda c: periodicity.siren_period(c.relu), E, "sine"),
    ("siren_period axis 5", lambda c: periodicity.siren_period(c.siren, axis=5), E, "axis"),
    ("siren_period axis float", lambda c: periodicity.siren_period(c.siren, axis=0.5), E, "axis"),
    ("render_window extent 0", lambda c: periodicity.render_window(c.siren, 0, 8), E, "extent"),
    ("render_window n 1", lambda c: periodicity.render_window(c.siren, 1, 1), E, "n"),
    ("render_window centre nan", lambda c: periodicity.render_window(c.siren, 1, 4, center=(0, NAN)), E, "center"),
    ("autocorrelation tiny", lambda c: periodicity.autocorrelation(np.zeros((2, 2))), E, "3 x 3"),
    ("autocorrelation constant", lambda c: periodicity.autocorrelation(np.ones((8, 8))), E, "constant"),
    ("autocorrelation max_lag float", lambda c: periodicity.autocorrelation(np.eye(8), max_lag=2.5), T, "max_lag"),
    ("central_lobe even", lambda c: periodicity.central_lobe_radius(np.zeros((4, 4))), E, "odd shape"),
    ("off_centre_peak even", lambda c: periodicity.off_centre_peak(np.zeros((4, 5))), E, "odd shape"),
    ("shift_error 1-d coords", lambda c: periodicity.shift_error(c.siren, torch.zeros(4), 1.0), E, "coords"),
    ("shift_error shift size", lambda c: periodicity.shift_error(c.siren, c.c2, [1, 2, 3]), E, "shift"),
    ("shift_error shift nan", lambda c: periodicity.shift_error(c.siren, c.c2, NAN), E, "shift"),
    ("linear_fit_residual short", lambda c: periodicity.linear_fit_residual([1, 2], [1, 2]), E, ">= 3"),
    ("ray_linearity radii", lambda c: periodicity.ray_linearity(c.relu, radii=(5, 1)), E, "r0"),
    ("ray_linearity rays 0", lambda c: periodicity.ray_linearity(c.relu, n_rays=0), E, "n_rays"),
    # --- book: poisson
    ("derivative_targets rgb", lambda c: poisson.derivative_targets(c.rgb), E, "grey"),
    ("derivative_targets weight length", lambda c: poisson.derivative_targets(c.img, np.ones(5)), E, "value_weight"),
    ("derivative_targets weight negative", lambda c: poisson.derivative_targets(c.img, -np.ones(256)), E, "value_weight"),
    ("target_scales unpacked", lambda c: poisson.target_scales(torch.zeros(5, 3)), E, "packed"),
    ("target_scales numpy", lambda c: poisson.target_scales(np.zeros((5, 4))), T, "tensor"),
    ("DerivativeLoss normalise str", lambda c: poisson.DerivativeLoss(c.packed, normalise="yes"), T, "normalise"),
    ("DerivativeLoss weight negative", lambda c: poisson.DerivativeLoss(c.packed, grad=-1), E, "weights"),
    ("DerivativeLoss unknown term", lambda c: poisson.DerivativeLoss(c.packed, value={"a": 1}), T, "weight"),
    ("harmonic_basis degree -1", lambda c: poisson.harmonic_basis(c.c2, -1), E, "degree"),
    ("harmonic_basis degree float", lambda c: poisson.harmonic_basis(c.c2, 1.5), T, "degree"),
    ("harmonic_basis 3-d", lambda c: poisson.harmonic_basis(torch.zeros(5, 3), 1), E, r"\(N, 2\)"),
    ("align lengths", lambda c: poisson.align(torch.zeros(5), torch.zeros(4), c.c2), E, "values"),
    ("clone_targets shapes", lambda c: poisson.clone_targets(c.img, c.img, np.ones((4, 4), bool)), E, "same shape"),
    ("clone_targets all mask", lambda c: poisson.clone_targets(c.img, c.img, np.ones((16, 16), bool)), E, "mask"),
    ("blend shapes", lambda c: poisson.poisson_blend_reference(np.zeros((4, 4)), np.zeros((4, 5)), np.ones((4, 4))), E, "shapes"),
    ("near_zero_fraction empty", lambda c: poisson.near_zero_fraction([]), E, "no values"),
    ("near_zero_fraction threshold", lambda c: poisson.near_zero_fraction([1.0], threshold=-1), E, "threshold"),
    # --- book: regions
    ("patterns of a siren", lambda c: regions.activation_patterns(c.siren, c.c2), E, "ReLU"),
    ("pattern_ids floats", lambda c: regions.pattern_ids(np.zeros((3, 3))), E, "bool"),
    ("region_image count", lambda c: regions.region_image(c.patterns, (5, 5)), E, "do not fill"),
    ("region_image float shape", lambda c: regions.region_image(c.patterns, (2.0, 1)), T, "shape"),
    ("dead_neurons split", lambda c: regions.dead_neurons(c.patterns, per_layer=3), E, "split"),
    ("dead_neurons floats", lambda c: regions.dead_neurons(torch.zeros(2, 4)), E, "bool"),
    ("sample_pairs kind", lambda c: regions.sample_pairs((10, 10), 5, "near"), E, "kind"),
    ("sample_pairs none", lambda c: regions.sample_pairs((10, 10), 0, "local"), E, "n_pairs"),
    ("sample_pairs patch", lambda c: regions.sample_pairs((10, 10), 5, "local", patch=20), E, "patch"),
    ("sample_pairs too small", lambda c: regions.sample_pairs((2, 2), 5, "distant"), E, "too small"),
    ("hamming lengths", lambda c: regions.hamming_distances(c.patterns, [0, 1], [0]), E, "idx_a"),
    ("encoding_slice none", lambda c: regions.encoding_slice(c.relu, [0, 0], (0, 1)), E, "no input encoding"),
    ("encoding_slice dims", lambda c: regions.encoding_slice(c.posenc, [0, 0], (0, 0)), E, "dims"),
    ("encoding_slice point", lambda c: regions.encoding_slice(c.posenc, [0, 0, 0], (0, 1)), E, "point"),
    ("per_sample_gradients rows", lambda c: regions.per_sample_gradients(c.relu, c.c2, c.t1[:5]), E, "coords"),
    ("gradient_confusion idx", lambda c: regions.gradient_confusion(c.relu, c.c2, c.t1, [0, 1], [0]), E, "idx_a"),
    ("spectral_norms no layers", lambda c: regions.spectral_norms(nn.Sequential(nn.ReLU())), E, "nn.Linear"),
    # --- book: render
    ("render 2-d", lambda c: render.render(np.zeros((4, 4))), E, "3-D"),
    ("render not cubic", lambda c: render.render(np.zeros((4, 4, 5))), E, "cubic"),
    ("render nan", lambda c: render.render(np.full((4, 4, 4), NAN)), E, "NaN"),
    ("render size 1", lambda c: render.render(c.vol, size=1), E, "size"),
    ("render elev 90", lambda c: render.render(c.vol, elev=90), E, "elev"),
    ("render step 0", lambda c: render.render(c.vol, step=0), E, "step"),
    ("render dark light", lambda c: render.render(c.vol, light=(0, 0, 0)), E, "light"),
    # --- book: sdf
    ("SDFLoss alpha 0", lambda c: sdf.SDFLoss(alpha=0), E, "alpha"),
    ("SDFLoss alpha str", lambda c: sdf.SDFLoss(alpha="100"), T, "alpha"),
    ("SDFLoss n_off float", lambda c: sdf.SDFLoss(n_off=2.5), T, "n_off"),
    ("SDFLoss bound negative", lambda c: sdf.SDFLoss(bound=-1), E, "bound"),
    ("SDFLoss unknown term", lambda c: sdf.SDFLoss(weights={"nope": 1}), E, "nope"),
    # --- book: stats
    ("ks_normal std 0", lambda c: stats.ks_normal(np.zeros(8), std=0), E, "std"),
    ("ks_normal empty", lambda c: stats.ks_normal([]), E, "no values"),
    ("ks_normal nan", lambda c: stats.ks_normal([NAN, 1.0]), E, "NaN"),
    ("ks_distance cdf", lambda c: stats.ks_distance(np.zeros(4), 5), T, "cdf"),
    ("spectrum short", lambda c: stats.spectrum(np.zeros(3), 1.0), E, "N >= 4"),
    ("spectrum spacing inf", lambda c: stats.spectrum(np.zeros(8), INF), E, "spacing"),
    ("steps_to_thresholds none", lambda c: stats.steps_to_thresholds([c.hist], []), E, "threshold"),
    ("steps_to_thresholds negative", lambda c: stats.steps_to_thresholds([c.hist], [-1]), E, "threshold"),
    ("summarize no runs", lambda c: stats.summarize_thresholds({"a": []}, [0.1]), E, "no runs"),
    ("median_frequency silent", lambda c: stats.median_frequency(np.arange(4.0), np.zeros(4)), E, "spectrum"),
    ("median_frequency lengths", lambda c: stats.median_frequency(np.arange(4.0), np.ones(3)), E, "one length"),
    ("layer_stats relu", lambda c: stats.layer_stats(c.relu, c.c2), E, "sine"),
    # --- book: images, profiles
    ("every_other_pixel 1 row", lambda c: images.every_other_pixel((1, 4)), E, "sides >= 2"),
    ("pixel_centres 1-d", lambda c: images.pixel_centres((4,), (4, 4)), E, "2-d"),
    ("get_profile unknown", lambda c: profiles.get_profile("huge"), E, "unknown profile"),
]


@pytest.mark.parametrize("call, error, words", [pytest.param(f, e, w, id=i) for i, f, e, w in CASES])
def test_bad_input_gets_a_clear_error(ctx, call, error, words):
    with pytest.raises(error, match=words):
        call(ctx)


def test_the_sweep_is_wide():
    """At least 150 distinct calls, over the core and at least ten book modules."""
    assert len(CASES) >= 150 and len({i for i, *_ in CASES}) == len(CASES)
    book = {f.__code__.co_names for _, f, _, _ in CASES if isinstance(f, types.FunctionType)}
    used = {m for names in book for m in names} & {
        "audio", "comparison", "images", "meshes", "periodicity", "poisson", "profiles",
        "regions", "render", "sdf", "stats"}
    assert len(used) >= 10, used


# ------------------------------------------------------- unusual input that must give right values

def test_laplacian_of_two_channels_is_per_channel():
    """Not the sum of the channels: each channel's own Laplacian (the issue's finding 3)."""
    x = torch.rand(20, 2, requires_grad=True)
    y = torch.stack([x[:, 0] ** 2, x[:, 0] * x[:, 1] ** 3], dim=1)
    lap = inr.laplacian(y, x)
    assert lap.shape == (20, 2)
    assert torch.allclose(lap[:, 0], torch.full((20,), 2.0))
    assert torch.allclose(lap[:, 1], 6 * x[:, 0] * x[:, 1], atol=1e-5)
    g = inr.gradient(y, x)
    assert g.shape == (20, 2, 2) and torch.allclose(inr.laplacian(y, x, grad=g), lap)


def test_gradient_of_a_stacked_field_keeps_models_apart():
    """(K, N, C) outputs of K models on (K, N, d) coordinates: one Jacobian per model."""
    x = torch.rand(3, 10, 2, requires_grad=True)
    k = torch.arange(1.0, 4.0)[:, None]
    y = torch.stack([k * x[..., 0], k * x[..., 1] ** 2], dim=-1)  # model i scales by i + 1
    g = inr.gradient(y, x)
    assert g.shape == (3, 10, 2, 2)
    assert torch.allclose(g[:, :, 0, 0], k.expand(3, 10))
    assert torch.allclose(inr.laplacian(y, x)[..., 1], 2 * k.expand(3, 10))


@pytest.mark.parametrize("kind", ["uint8", "int16", "int24", "int32", "float32"])
def test_every_wav_sample_format_is_centred_and_full_scale(tmp_path, kind):
    """A half-scale sine comes back centred (no DC offset: 8-bit WAV is unsigned around 128) and
    with its full-scale peak 0.5 in meta, whatever the sample format."""
    t = np.arange(800) / 8000
    x = 0.5 * np.sin(2 * np.pi * 100 * t)
    path = tmp_path / f"{kind}.wav"
    if kind == "int24":
        raw, x = _wav24()
        path.write_bytes(raw)
    else:
        scale = {"uint8": 127, "int16": 32767, "int32": 2**31 - 1, "float32": 1}[kind]
        data = np.round(x * scale + (128 if kind == "uint8" else 0)) if kind != "float32" else x
        wavfile.write(path, 8000, data.astype(kind))
    clip = inr.load_audio(path)
    v = clip.values[:, 0].double().numpy()
    assert abs(v.mean()) < 0.01, f"{kind}: DC offset {v.mean():.3f}"
    assert clip.meta["peak"] == pytest.approx(0.5, abs=0.01), kind
    assert np.abs(v - x / np.abs(x).max()).max() < 0.02, kind


def test_shipped_clips_load_by_name_and_path():
    by_name = inr.load_audio("music", seconds=0.25)
    by_path = inr.load_audio(inr.data_file("music.wav"), seconds=0.25)
    assert torch.equal(by_name.values, by_path.values) and by_name.sample_rate == 16000
    assert inr.data_file("README.md").read_text().startswith("# Data")
    assert inr.wav.audio_names() == ("music", "speech")


def test_psnr_of_a_perfect_fit_is_infinite_and_valid_calls_still_work():
    t = torch.rand(10, 1)
    assert inr.psnr(t, t, data_range=1) == math.inf and inr.psnr_from_mse(0.01, 2) == pytest.approx(26.0206, abs=1e-4)
    assert inr.psnr(t, t + 0.1, data_range=np.float32(1.0)) == pytest.approx(20.0, abs=1e-4)
