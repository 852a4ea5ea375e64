"""The compiled training step (inrlib.compiled) on the CPU: the same losses and weights as eager to
float tolerance, and each fallback to eager firing when it should, with its reason. Compiling takes
seconds on a CPU (more with a cold inductor cache), so the models are tiny and few."""
import warnings

import pytest
import torch

import inrlib as inr
from inrlib import compiled
from inrlib.book import poisson
from inrlib.history import Recorder
from inrlib.losses import MSE

STEPS = 20


@pytest.fixture(scope="module")
def image():
    return inr.load_image("camera", size=16)


def siren(i=0):
    return inr.siren(width=16, depth=2, seed=i, first_omega=10.0 * (i + 1))


def relu_pe(i=0):
    return inr.relu_mlp(L=4, width=16, depth=2, seed=i)


def weights(models):
    return [p.detach().clone() for m in models for p in m.parameters()]


def assert_close(hists_a, hists_b, models_a, models_b, rtol=1e-4):
    for a, b in zip(hists_a, hists_b):
        assert a.loss == pytest.approx(b.loss, rel=rtol)
        assert a.terms["mse"] == pytest.approx(b.terms["mse"], rel=rtol)
    for a, b in zip(weights(models_a), weights(models_b)):
        torch.testing.assert_close(a, b, rtol=rtol, atol=1e-5)


@pytest.mark.parametrize("make,batch", [(siren, None), (relu_pe, 100)], ids=["siren", "relu_pe-minibatch"])
def test_compiled_fit_equals_eager(image, make, batch):
    a, b = make(), make()
    ha = inr.fit(a, image, steps=STEPS, lr=1e-3, batch_size=batch, compile=True)
    hb = inr.fit(b, image, steps=STEPS, lr=1e-3, batch_size=batch, compile=False)
    assert ha.compiled and ha.compile_seconds > 0 and ha.eager_reason is None
    assert not hb.compiled and hb.eager_reason == "compile=False"
    assert ha.loss[-1] < 0.9 * ha.loss[0]  # it trained
    assert_close([ha], [hb], [a], [b])


@pytest.mark.parametrize("make", [siren, relu_pe], ids=["siren", "relu_pe"])
def test_compiled_fit_many_equals_eager(image, make):
    a, b = [make(i) for i in range(2)], [make(i) for i in range(2)]
    ha = inr.fit_many(a, image, steps=STEPS, lr=1e-3, compile=True)
    hb = inr.fit_many(b, image, steps=STEPS, lr=1e-3, compile=False)
    assert all(h.compiled for h in ha) and not any(h.compiled for h in hb)
    assert_close(ha, hb, a, b)


def test_the_compiled_function_is_the_forward_and_loss_and_runs_every_step(image, monkeypatch):
    real, seen, calls = torch.compile, [], []

    def spy(fn, **kw):
        seen.append(fn)
        out = real(fn, **kw)
        return lambda *a: calls.append(1) or out(*a)

    monkeypatch.setattr(torch, "compile", spy)
    h = inr.fit(siren(), image, steps=5, lr=1e-3, compile=True)
    assert h.compiled and len(seen) == 1 and len(calls) == 5
    assert seen[0].__func__ is compiled.Step.forward  # forward + loss, so the backward compiles too


def test_a_derivative_loss_trains_eagerly_with_the_reason(image):
    t = poisson.derivative_targets(image)
    loss = poisson.derivative_loss(t, value=0.0, grad=1.0, lap=0.1)
    a, b = inr.siren(width=16, depth=2, seed=2), inr.siren(width=16, depth=2, seed=2)
    with pytest.warns(RuntimeWarning, match="training eagerly: the loss differentiates the network"):
        ha = inr.fit(a, image.coords, t, steps=4, lr=1e-3, loss=loss, compile=True)
    hb = inr.fit(b, image.coords, t, steps=4, lr=1e-3, loss=loss, compile=False)
    assert not ha.compiled and "double backward" in ha.eager_reason
    assert ha.loss == hb.loss and all(torch.equal(x, y) for x, y in zip(weights([a]), weights([b])))


def _broken(*_, **__):
    def fn(*a):
        raise RuntimeError("inductor broke\nsecond line")
    return fn


class _FailingBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("backward compiler broke")


def _broken_backward(fn, **__):
    def run(c, t):
        terms, total = fn(c, t)
        return terms, _FailingBackward.apply(total)
    return run


@pytest.mark.parametrize("patch,reason", [
    (_broken, r"torch.compile failed \(RuntimeError: inductor broke\)"),
    (_broken_backward, r"torch.compile failed \(RuntimeError: backward compiler broke\)"),
    (lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no dynamo here")),
     r"torch.compile is unavailable \(RuntimeError: no dynamo here\)"),
], ids=["forward", "backward", "unavailable"])
@pytest.mark.parametrize("many", [False, True], ids=["fit", "fit_many"])
def test_a_compile_failure_trains_eagerly_with_the_same_result(image, monkeypatch, patch, reason, many):
    a, b = [siren(i) for i in range(2)], [siren(i) for i in range(2)]

    def train(models, compile):
        if many:
            return inr.fit_many(models, image, steps=5, lr=1e-3, compile=compile)
        return [inr.fit(models[0], image, steps=5, lr=1e-3, compile=compile)]

    hb = train(b, False)
    monkeypatch.setattr(torch, "compile", patch)
    with pytest.warns(RuntimeWarning, match="training eagerly: " + reason):
        ha = train(a, True)
    assert not ha[0].compiled and ha[0].eager_reason.startswith("torch.compile")
    assert [h.loss for h in ha] == [h.loss for h in hb]
    assert all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))


def test_automatic_mode_is_eager_on_the_cpu_and_for_short_fits(image, monkeypatch):
    cpu, cuda, n = torch.device("cpu"), torch.device("cuda"), compiled.BREAK_EVEN_STEPS
    assert "CUDA only" in compiled.plan(None, cpu, False, 10 * n)
    assert "too few" in compiled.plan(None, cuda, False, n - 1)
    assert compiled.plan(None, cuda, False, n) is None
    assert compiled.plan(True, cpu, False, 1) is None  # asked for: obeyed
    assert "double backward" in compiled.plan(True, cuda, True, n)
    monkeypatch.setattr(torch, "compile", _broken)  # never reached by default on a CPU
    a, b = siren(), siren()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the automatic choice is silent
        ha = inr.fit(a, image, steps=3, lr=1e-3)
    hb = inr.fit(b, image, steps=3, lr=1e-3, compile=False)
    assert not ha.compiled and "CUDA only" in ha.eager_reason and ha.loss == hb.loss


def test_changed_batch_shapes_fall_back_to_eager(image, monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: lambda *a: calls.append(1) or fn(*a))
    net = siren()
    step = compiled.Step(net, MSE(), 1, True, torch.device("cpu"), 10)
    x, y = image.coords, image.values
    step(x, y, lambda v: v)
    with pytest.warns(RuntimeWarning, match=r"batch shapes changed from \(\(256, 2\), \(256, 1\)\) "
                                             r"to \(\(100, 2\), \(100, 1\)\)"):
        step(x[:100], y[:100], lambda v: v)
    step(x, y, lambda v: v)
    assert len(calls) == 1 and not step.compiled


def test_kept_outputs_survive_the_next_graph_replay(image, monkeypatch):
    """A CUDA graph writes each replay's outputs into the same memory: what the loop keeps of a
    step must be a copy. Simulated on the CPU by a 'compiled' function that does the same."""
    buf = {}

    def graph_like(fn, **kw):
        def run(c, t):
            terms, total = fn(c, t)
            for n, v in terms.items():  # the same tensor every replay, overwritten in place
                buf.setdefault(n, torch.empty_like(v)).copy_(v.detach())
            return dict(buf), total
        return run

    monkeypatch.setattr(torch, "compile", graph_like)
    step = compiled.Step(siren(), MSE(), 1, True, torch.device("cpu"), 10)
    step.graphs = True  # as on CUDA
    first, _ = step(image.coords, image.values, lambda v: v)
    kept = float(first["mse"])
    step(image.coords, 2 * image.values, lambda v: v)
    assert float(first["mse"]) == kept


def test_the_recorder_copies_what_it_keeps():
    rec = Recorder(1, 2, torch.device("cpu"), "t", False, None)
    total, terms = torch.tensor([1.0]), {"mse": torch.tensor([1.0])}
    rec.record(1, total, terms, torch.tensor([True]))
    total.fill_(5.0), terms["mse"].fill_(5.0)  # as the next replay of a CUDA graph would
    rec.read_back(1)
    assert rec.hists[0].loss == [1.0] and rec.hists[0].terms["mse"] == [1.0]


def test_the_compile_option_is_checked():
    with pytest.raises(ValueError, match="compile must be True, False or None"):
        inr.fit(siren(), torch.zeros(4, 2), torch.zeros(4, 1), steps=1, compile="yes")
    with pytest.raises(ValueError, match="compile must be True, False or None"):
        inr.fit_many([siren()], torch.zeros(4, 2), torch.zeros(4, 1), steps=1, compile=1)


def test_the_first_call_may_add_a_dynamo_variant_beyond_its_default_limit(image, monkeypatch):
    """Dynamo runs a function eagerly, silently here, once it has `recompile_limit` (8) variants;
    the step's one function serves every architecture, so each fit's first call gets room."""
    import torch._dynamo

    limits = []

    def record(fn, **kw):
        return lambda *a: limits.append(torch._dynamo.config.recompile_limit) or fn(*a)

    monkeypatch.setattr(torch, "compile", record)
    default = torch._dynamo.config.recompile_limit
    inr.fit(siren(), image, steps=3, lr=1e-3, compile=True)
    assert limits[0] >= 64 and limits[1:] == [default, default]
    assert torch._dynamo.config.recompile_limit == default


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA GPU")
def test_on_cuda_the_graphed_step_equals_eager(image):
    """The real CUDA-graph path (mode "reduce-overhead"): every step's recorded loss is its own,
    not a later replay's, and the weights match an eager fit's. float32 on both sides (no TF32)."""
    img = image.to("cuda")
    for many, batch in ((False, None), (True, 100)):
        a, b = [[siren(i).cuda() for i in range(2 if many else 1)] for _ in range(2)]
        kw = dict(steps=STEPS, lr=1e-3, batch_size=batch, tf32=False)
        fit = (lambda ms, **k: inr.fit_many(ms, img, **k)) if many else (
            lambda ms, **k: [inr.fit(ms[0], img, **k)])
        ha, hb = fit(a, compile=True, **kw), fit(b, compile=False, **kw)
        assert all(h.compiled for h in ha), ha[0].eager_reason
        assert_close(ha, hb, a, b, rtol=1e-3)
