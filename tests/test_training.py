import pytest
import torch

import inrlib as inr
import inrlib


@pytest.fixture(scope="module")
def image():
    return inr.load_image("camera", size=24)


def test_fit_learns_and_records_history(image):
    m = inr.siren(width=32, depth=2, seed=0)
    h = inr.fit(m, image, steps=150, lr=1e-3)
    assert len(h.loss) == len(h.psnr) == len(h.seconds) == 150
    assert h.loss[-1] < 0.2 * h.loss[0]
    assert h.final_psnr == pytest.approx(inr.psnr(inr.predict(m, image.coords), image.values,
                                                  data_range=2.0), abs=1.5)
    assert h.steps_to(psnr=h.psnr[10]) <= 11
    assert h.steps_to(psnr=1e3) is None
    assert h.seconds == sorted(h.seconds) and h.seconds_per_step > 0
    with pytest.raises(ValueError, match="exactly one"):
        h.steps_to()


def test_fit_is_deterministic_on_cpu(image):
    runs = [inr.fit(inr.relu_mlp(L=3, width=16, depth=2, seed=1), image, steps=30, lr=1e-3,
                    batch_size=100, seed=5).loss for _ in range(2)]
    assert runs[0] == runs[1]


def test_minibatch_lr_decay_and_adamw(image):
    m = inr.relu_mlp(width=16, depth=2, seed=0)
    h = inr.fit(m, image, steps=60, lr=1e-2, batch_size=128, optimizer="adamw",
                weight_decay=1e-4, lr_decay=(20, 0.5))
    assert h.loss[-1] < h.loss[0]


def test_custom_loss_has_no_psnr(image):
    m = inr.siren(width=16, depth=1)
    h = inr.fit(m, image, steps=5, loss=lambda model, x, y: (model(x) - y).abs().mean())
    assert h.psnr == [None] * 5


def nan_from_step(n):
    """A loss that becomes NaN at its n-th call (its own counter: no state shared by tests)."""
    calls = []

    def loss(model, x, y):
        calls.append(1)
        return model(x).mean() * (float("nan") if len(calls) >= n else 1.0)
    return loss


@pytest.mark.parametrize("n", [1, 3, 7])
def test_nan_loss_stops_with_a_clear_error(image, n):
    m = inr.siren(width=16, depth=2)
    with pytest.raises(FloatingPointError, match=f"at step {n}:"):
        inr.fit(m, image, steps=10, loss=nan_from_step(n))


def test_nan_is_caught_within_a_block_of_steps_and_named(image, monkeypatch):
    # On a GPU the losses are read back in blocks; the step is still the one that diverged.
    monkeypatch.setattr(inrlib.training, "_sync_every", lambda dev: 4)
    steps_run = []
    with pytest.raises(FloatingPointError, match="at step 6:"):
        inr.fit(inr.siren(width=8, depth=1), image, steps=20, loss=nan_from_step(6),
                callback=lambda step, *a: steps_run.append(step), callback_every=1)
    assert max(steps_run) < 6 + 4


def test_nan_targets_are_rejected(image):
    bad = image.values.clone()
    bad[3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        inr.fit(inr.siren(width=8, depth=1), image.coords, bad, steps=2)


def test_bad_arguments(image):
    m = inr.siren(width=8, depth=1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        inr.fit(m, image, steps=2, optimizer="sgd9")
    with pytest.raises(ValueError, match="coordinates but"):
        inr.fit(m, image.coords, image.values[:10], steps=2)


def test_predict_in_chunks_matches_full(image):
    m = inr.siren(width=16, depth=2)
    full = m(image.coords).detach()
    assert torch.allclose(inr.predict(m, image.coords, chunk=37), full, atol=1e-6)


def test_fit_many_equals_sequential_fits(image):
    omegas = [10.0, 30.0, 60.0]
    batch = [inr.siren(width=16, depth=2, first_omega=w, seed=i) for i, w in enumerate(omegas)]
    alone = [inr.siren(width=16, depth=2, first_omega=w, seed=i) for i, w in enumerate(omegas)]
    hb = inr.fit_many(batch, image.coords, image.values, steps=40, lr=1e-3, data_range=2.0)
    hs = [inr.fit(m, image, steps=40, lr=1e-3) for m in alone]
    for a, b, ma, mb in zip(hb, hs, batch, alone):
        assert a.loss[-1] == pytest.approx(b.loss[-1], rel=1e-3)
        assert torch.allclose(ma.linears[1].weight, mb.linears[1].weight, atol=1e-5)


@pytest.mark.parametrize("a, b, what", [
    (dict(width=8), dict(width=16), "width"),
    (dict(depth=1), dict(depth=2), "depth"),
    (dict(activation="square", n_modes=2), dict(activation="square", n_modes=3), "n_modes"),
    (dict(activation="sine"), dict(activation="tanh"), "activation"),
    (dict(encoding="posenc", L=2), dict(encoding="posenc", L=3), "encoding size"),
    (dict(encoding="posenc", L=2), dict(), "encoding"),
    (dict(bias=True), dict(bias=False), "bias"),
])
def test_fit_many_names_what_differs(image, a, b, what):
    base = dict(width=8, depth=1)
    with pytest.raises(ValueError, match=f"model 1 has {what} "):
        inr.fit_many([inr.INR(**{**base, **a}), inr.INR(**{**base, **b})],
                     image.coords, image.values, steps=1)


def test_fit_many_takes_a_signal_and_checks_its_arguments(image):
    models = [inr.siren(width=8, depth=1, seed=i) for i in range(2)]
    hs = inr.fit_many(models, image, steps=3)
    assert len(hs) == 2 and all(h.psnr[-1] is not None for h in hs)  # the Signal's data range
    with pytest.raises(ValueError, match="steps must be"):
        inr.fit_many(models, image, steps=0)
    with pytest.raises(ValueError, match="3 targets for 2 models"):
        inr.fit_many(models, image.coords, torch.stack([image.values] * 3), steps=1)
    with pytest.raises(ValueError, match="one value per model"):
        inr.fit_many(models, image, steps=1, loss=lambda net, x, y: net(x).pow(2).mean())


# --- fast paths (issue 6) ---------------------------------------------------------------------

from inrlib import allocator as A  # noqa: E402


def test_predict_handles_a_last_partial_chunk_and_never_exceeds_chunk():
    m = inr.siren(width=16, depth=2, seed=3)
    coords = torch.rand(1000, 2) * 2 - 1
    sizes = []
    m.register_forward_pre_hook(lambda mod, args: sizes.append(args[0].shape[0]))
    out = inr.predict(m, coords, chunk=300)
    assert sizes == [300, 300, 300, 100]
    direct = torch.cat([m(coords[i:i + 1]) for i in (0, 299, 300, 999)]).detach()
    assert torch.allclose(out[[0, 299, 300, 999]], direct, atol=1e-6)
    assert m.training  # mode restored
    for bad in (0, -5, 2.5):
        with pytest.raises(ValueError, match="chunk"):
            inr.predict(m, coords, chunk=bad)


def test_predict_of_a_1024_grid_runs_in_bounded_memory(tmp_path):
    # In a fresh process: peak RSS growth while predicting 1024^2 points with a width-32 network
    # stays far below one full-grid activation (1024^2 x 32 floats = 128 MiB).
    import subprocess
    import sys
    code = (
        "import resource, torch, inrlib as inr\n"
        "m = inr.siren(width=32, depth=1, seed=0)\n"
        "x = inr.grid((1024, 1024))\n"
        "y0 = inr.predict(m, x[:10])\n"
        "r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "y = inr.predict(m, x, chunk=16384)\n"
        "r1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "assert y.shape == (1024 * 1024, 1) and torch.allclose(y[:10], y0, atol=1e-6)\n"
        "print((r1 - r0) / 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grew_mb = float(out.stdout.strip().splitlines()[-1])
    assert grew_mb < 60, f"predict grew the peak RSS by {grew_mb:.0f} MB"


@pytest.mark.parametrize("kw", [
    dict(activation="relu", encoding="posenc", L=3),
    dict(activation="sine", encoding="fourier", sigma=3.0, n_features=8),
    dict(activation="square", n_modes=3),
    dict(activation="tanh", output="sigmoid", out_features=3),
    dict(activation="sine", bias=False),
])
def test_batched_network_computes_each_models_own_function(image, kw):
    omega = {"first_omega": 10.0} if kw["activation"] in ("sine", "square") else {}
    models = [inr.INR(width=12, depth=2, seed=i, **{**kw, **{k: v * (i + 1) for k, v in omega.items()}})
              for i in range(3)]
    net = inr.INR.stack(models)
    want = torch.stack([m(image.coords) for m in models]).detach()
    assert torch.allclose(net(image.coords).detach(), want, atol=1e-5)
    own = torch.stack([image.coords, -image.coords, image.coords * 0.5])  # one input per model
    want = torch.stack([m(x) for m, x in zip(models, own)]).detach()
    assert torch.allclose(net(own).detach(), want, atol=1e-5)


def test_fit_many_minibatches_like_fit(image):
    batch = [inr.relu_mlp(L=2, width=16, depth=2, seed=i) for i in range(2)]
    alone = [inr.relu_mlp(L=2, width=16, depth=2, seed=i) for i in range(2)]
    hb = inr.fit_many(batch, image, steps=12, lr=1e-3, batch_size=100, seed=3)
    hs = [inr.fit(m, image, steps=12, lr=1e-3, batch_size=100, seed=3) for m in alone]
    for a, b in zip(hb, hs):
        assert a.loss == pytest.approx(b.loss, rel=1e-4)


def test_fit_many_with_encodings_equals_sequential_fits(image):
    make = lambda: [inr.INR(activation="relu", encoding="fourier", sigma=2.0, n_features=8,
                            width=16, depth=2, seed=i) for i in range(2)]
    batch, alone = make(), make()
    target = torch.stack([image.values, -image.values])  # one target per model
    hb = inr.fit_many(batch, image.coords, target, steps=25, lr=1e-3)
    hs = [inr.fit(m, image.coords, t, steps=25, lr=1e-3) for m, t in zip(alone, target)]
    for a, b, ma, mb in zip(hb, hs, batch, alone):
        assert a.loss == pytest.approx(b.loss, rel=1e-4)
        assert torch.allclose(ma.linears[0].weight, mb.linears[0].weight, atol=1e-5)


def test_fit_many_warns_and_fits_other_modules_one_by_one(image):
    def make(seed):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    batch, alone = [make(0), make(1)], [make(0), make(1)]
    with pytest.warns(UserWarning, match="Sequential is not one"):
        hb = inr.fit_many(batch, image.coords, image.values, steps=10, lr=1e-2)
    hs = [inr.fit(m, image.coords, image.values, steps=10, lr=1e-2) for m in alone]
    for a, b in zip(hb, hs):
        assert a.loss[-1] == pytest.approx(b.loss[-1], rel=1e-4)


def test_fit_many_trains_the_healthy_models_on_when_one_diverges(image):
    models = [inr.siren(width=8, depth=1, seed=i) for i in range(2)]
    alone = inr.siren(width=8, depth=1, seed=0)
    bad = torch.stack([image.values, image.values * 1e20 + 1e20])  # finite, but its MSE overflows
    start = [p.detach().clone() for p in models[1].parameters()]
    with pytest.warns(RuntimeWarning, match="model 1: loss became inf at step 1"):
        hs = inr.fit_many(models, image.coords, bad, steps=3, lr=1e-3)
    assert hs[1].diverged_at == 1 and hs[1].loss == [] and hs[0].diverged_at is None
    assert all(torch.equal(p, q) for p, q in zip(models[1].parameters(), start))  # untouched
    h = inr.fit(alone, image, steps=3, lr=1e-3)  # the healthy model trained as if alone
    assert hs[0].loss == pytest.approx(h.loss, rel=1e-5)
    assert torch.allclose(models[0].linears[0].weight, alone.linears[0].weight, atol=1e-6)


def test_a_diverged_fit_keeps_its_last_finite_weights_and_history(image):
    m = inr.siren(width=8, depth=1, seed=0)
    seen = []
    with pytest.raises(FloatingPointError, match="at step 5:") as info:
        inr.fit(m, image, steps=10, loss=nan_from_step(5), callback_every=1,
                callback=lambda step, model, h: seen.append([p.detach().clone() for p in model.parameters()]))
    assert info.value.step == 5 and info.value.history.step == [1, 2, 3, 4]
    assert all(torch.isfinite(p).all() for p in m.parameters())
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), seen[-1]))  # as after step 4


def test_an_interrupt_keeps_the_last_finished_step_and_its_history(image):
    m = inr.siren(width=8, depth=1, seed=0)
    seen = []

    def stop_at_3(step, model, h):
        seen.append([p.detach().clone() for p in model.parameters()])
        if step == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt) as info:
        inr.fit(m, image, steps=10, callback=stop_at_3, callback_every=1)
    assert info.value.step == 3 and info.value.history.step == [1, 2, 3]
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), seen[-1]))


def test_nan_weights_before_training_are_named(image):
    m = inr.siren(width=8, depth=1)
    with torch.no_grad():
        m.linears[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="weights hold NaN or infinite values before training"):
        inr.fit(m, image, steps=2)


@pytest.mark.parametrize("kw, match", [
    (dict(batch_size=0), "batch_size must be a whole number >= 1"),
    (dict(batch_size=2.7), "batch_size must be a whole number"),
    (dict(lr=0), "lr must be > 0"),
    (dict(lr=float("nan")), "lr must be finite"),
    (dict(lr_decay=(1, -1)), "gamma must be in"),
    (dict(lr_decay=(0, 0.5)), "every must be a whole number"),
    (dict(data_range=0), "data_range must be > 0"),
    (dict(callback=print), "give callback and callback_every together"),
    (dict(weight_decay=-1), "weight_decay must be >= 0"),
    (dict(seed=1.5), "seed must be a whole number"),
])
def test_fit_arguments_are_checked(image, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        inr.fit(inr.siren(width=8, depth=1), image, steps=2, **kw)


def test_shapes_are_checked_not_broadcast(image):
    with pytest.raises(ValueError, match="1 output.*3 channel.*out_features=3"):
        inr.fit(inr.siren(width=8, depth=1), image.coords, image.values.repeat(1, 3), steps=1)
    with pytest.raises(ValueError, match="the target must be \\(N, C\\)"):
        inr.fit(inr.siren(width=8, depth=1), image.coords, image.values[:, 0], steps=1)
    with pytest.raises(TypeError, match="float64.*pass x.to"):
        inr.fit(inr.siren(width=8, depth=1), image.coords.double(), image.values, steps=1)
    with pytest.raises(TypeError, match="torch tensor"):
        inr.fit(inr.siren(width=8, depth=1), image.coords.numpy(), image.values, steps=1)


def test_unseeded_models_differ_and_the_global_seed_reproduces_them():
    a, b = inr.siren(width=8), inr.siren(width=8)
    assert not torch.equal(a.linears[1].weight, b.linears[1].weight)
    torch.manual_seed(3)
    c = inr.INR(activation="relu", encoding="hash", width=8, levels=2, table_size=64, max_res=8)
    torch.manual_seed(3)
    d = inr.INR(activation="relu", encoding="hash", width=8, levels=2, table_size=64, max_res=8)
    assert torch.equal(c.encoding.table, d.encoding.table) and torch.equal(c.linears[0].weight, d.linears[0].weight)
    e, f = inr.siren(width=8, seed=1), inr.siren(width=8, seed=1)  # seeded: always the same
    assert torch.equal(e.linears[1].weight, f.linears[1].weight)


def test_fast_cpu_is_documented_idempotent_and_opt_out(monkeypatch):
    first = A.fast_cpu()
    assert A.fast_cpu() is first  # applied once per process
    assert set(first) <= {"M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD"}
    monkeypatch.setenv("INR_FAST", "0")
    assert not A.fast_enabled() and A.fast_enabled(True)
    monkeypatch.setenv("INR_FAST", "1")
    assert A.fast_enabled() and not A.fast_enabled(False)


def test_fast_cpu_trim_threshold_fits_mallopts_int_and_a_whole_step():
    # mallopt takes a C int: a larger value would wrap around; 256 MiB (the first try) was
    # below the ~1 GB that a 256x256 step frees at its end, so the heap was trimmed every step
    settings = A.fast_cpu()
    if "M_TRIM_THRESHOLD" in settings:
        assert 1 << 30 < settings["M_TRIM_THRESHOLD"] <= 2**31 - 1


def test_fast_cpu_stops_the_page_faults_of_large_activations():
    # Mechanism check (not a timing): in a fresh process, allocating and freeing eight 64 MiB
    # tensors per round page-faults all 512 MiB in again each round under glibc's defaults,
    # and (almost) nothing once fast_cpu() has run.
    import subprocess
    import sys
    code = (
        "import resource, sys, torch, inrlib\n"
        "if sys.argv[1] == 'fast' and not inrlib.allocator.fast_cpu(): print(-1); raise SystemExit\n"
        "flt = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for r in range(4):\n"
        "    f = flt(); ts = [torch.ones(65536, 256) for _ in range(8)]; del ts\n"
        "print(flt() - f)\n")
    faults = {}
    for mode in ("default", "fast"):
        out = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True,
                             check=True)
        faults[mode] = int(out.stdout.split()[-1])
    if faults["fast"] == -1:
        pytest.skip("no glibc malloc to tune on this platform")
    assert faults["default"] > 100_000  # 512 MiB / 4 KiB pages = 131,072
    assert faults["fast"] < 5_000


def test_tf32_is_scoped_to_the_fit(image):
    before = torch.get_float32_matmul_precision()
    seen = []
    inr.fit(inr.siren(width=8, depth=1), image, steps=2, tf32=True, callback_every=1,
            callback=lambda *a: seen.append(torch.get_float32_matmul_precision()))
    assert seen == ["high", "high"] and torch.get_float32_matmul_precision() == before
    inr.fit_many([inr.siren(width=8, depth=1)], image.coords, image.values, steps=1, tf32=True)
    assert torch.get_float32_matmul_precision() == before


def test_tf32_default_is_value_fits_on_a_gpu_only():
    from inrlib.book import poisson
    from inrlib.losses import MSE
    from inrlib.training import _use_tf32

    cuda, cpu, value = torch.device("cuda"), torch.device("cpu"), MSE()
    deriv = poisson.derivative_loss(torch.zeros(4, 4), value=0, grad=1)
    assert _use_tf32(cuda, value, None) and not _use_tf32(cpu, value, None)
    assert not _use_tf32(cuda, deriv, None)  # derivatives stay in float32
    assert not _use_tf32(cuda, value, False) and _use_tf32(cpu, deriv, True)  # asked for: obeyed
    with pytest.raises(ValueError, match="tf32 must be"):
        inr.fit(inr.siren(width=8, depth=1), torch.zeros(4, 2), torch.zeros(4, 1), steps=1, tf32="yes")


def test_fit_on_a_cpu_keeps_full_precision_by_default(image):
    seen = []
    inr.fit(inr.siren(width=8, depth=1), image, steps=1, callback_every=1,
            callback=lambda *a: seen.append(torch.get_float32_matmul_precision()))
    assert seen == ["highest"]


def test_a_loss_object_logs_its_named_terms_and_may_differentiate(image):
    class Smooth(inr.Loss):
        """MSE plus the squared gradient: two named terms, one of them a derivative."""
        differentiates = True

        def __init__(self, weight):
            self.weights = {"mse": torch.tensor(1.0), "grad": torch.as_tensor(weight)}

        def terms(self, net, coords, target):
            x = coords.detach().clone().requires_grad_(True)
            y = net(x)
            g = inr.gradient(y, x)
            return {"mse": ((y - target) ** 2).mean(dim=(-2, -1)), "grad": (g ** 2).sum(-1).mean(-1)}

    h = inr.fit(inr.siren(width=8, depth=1, seed=0), image, steps=3, loss=Smooth(0.1))
    assert set(h.terms) == {"mse", "grad"} and len(h.terms["grad"]) == 3
    assert h.loss[-1] == pytest.approx(h.terms["mse"][-1] + 0.1 * h.terms["grad"][-1], rel=1e-5)
    assert h.psnr[-1] is None  # not the plain value MSE
    models = [inr.siren(width=8, depth=1, seed=i) for i in range(2)]
    hs = inr.fit_many(models, image, steps=2, loss=Smooth(torch.tensor([0.0, 1.0])))
    assert hs[0].terms["grad"][0] != hs[1].terms["grad"][0]  # each model its own derivatives
    with pytest.raises(TypeError, match="must return a tensor"):
        inr.fit(inr.siren(width=8, depth=1), image, steps=1, loss=lambda net, x, y: 0.5)


def test_stack_and_unstack_round_trip(image):
    models = [inr.siren(width=8, depth=2, seed=i, first_omega=10.0 + i) for i in range(3)]
    net = inr.INR.stack(models)
    want = torch.stack([m(image.coords) for m in models]).detach()
    assert torch.allclose(net(image.coords).detach(), want, atol=1e-6)  # batched products round differently
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(2)
    net.unstack()
    assert torch.equal(models[1].linears[0].weight, net.param("linears.0.weight")[1])
    with pytest.raises(ValueError, match="model 1 has width 16"):
        inr.INR.stack([inr.siren(width=8), inr.siren(width=16)])


def test_clip_grad_norm_is_torchs_clip_before_each_update(image):
    """fit(clip_grad_norm=c) = Adam on the MSE with torch.nn.utils.clip_grad_norm_(c) before
    each step; a norm no gradient reaches changes nothing."""
    ref, clipped, loose, plain = (inr.siren(width=16, depth=2, seed=3) for _ in range(4))
    opt = torch.optim.Adam(ref.parameters(), lr=1e-3)
    for _ in range(10):
        opt.zero_grad()
        (ref(image.coords) - image.values).pow(2).mean().backward()
        torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.01)
        opt.step()
    inr.fit(clipped, image, steps=10, lr=1e-3, clip_grad_norm=0.01)
    inr.fit(loose, image, steps=10, lr=1e-3, clip_grad_norm=1e9)
    inr.fit(plain, image, steps=10, lr=1e-3)
    for a, b in zip(clipped.parameters(), ref.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(loose.parameters(), plain.parameters()))
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in zip(clipped.parameters(), plain.parameters()))


def test_fit_many_clips_each_models_own_gradient(image):
    """One norm per model, not one over the stack: each model moves as it would alone."""
    omegas = [10.0, 60.0]
    batch = [inr.siren(width=16, depth=2, first_omega=w, seed=i) for i, w in enumerate(omegas)]
    alone = [inr.siren(width=16, depth=2, first_omega=w, seed=i) for i, w in enumerate(omegas)]
    inr.fit_many(batch, image.coords, image.values, steps=10, lr=1e-3, clip_grad_norm=0.05)
    for m in alone:
        inr.fit(m, image, steps=10, lr=1e-3, clip_grad_norm=0.05)
    for ma, mb in zip(batch, alone):
        for a, b in zip(ma.parameters(), mb.parameters()):
            assert torch.allclose(a, b, atol=1e-5)
