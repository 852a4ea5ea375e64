"""Activations the book compares, and the one implementation of a layer that uses them.

inrlib's own activations (the sine family, FINER, WIRE's Gabor wavelet, the Gaussian) are
modules whose parameters are scalar buffers, so that sweeps can stack networks that differ in
them. Each class declares what a model needs to know about it:

- its options are its constructor's keywords; those named in `per_layer` come in a first and a
  hidden variant (`first_omega`, `hidden_omega`), the others are shared by every layer;
- `default_init`: the weight initialisation its paper uses (a name in `inrlib.INITS`);
- `complex_valued`: True when the layer outputs complex numbers (the layers after it then
  have complex weights and the network's output is the real part).

`is_sine` is the one test for "does this layer compute wave(omega (W h + b))"; `layer` (with
`fold_omega` and `activate`) is the one implementation of a layer, shared by `INR.forward` and
`StackedINR`, the batched network of `fit_many`. PyTorch's own activations (ReLU, GELU, ...) take no options here.
"""
import inspect
import math

import torch
import torch.nn.functional as F
from torch import nn

from .checks import real, whole


def _positive(name, value):
    return real(name, value, low=0.0)


class Sine(nn.Module):
    """sin(omega * x) (SIREN, Sitzmann et al. 2020)."""

    per_layer = ("omega",)
    default_init = "paper"
    complex_valued = False

    def __init__(self, omega: float = 30.0):
        super().__init__()
        # A buffer (not a float) so that sweeps can stack networks with different omegas.
        self.register_buffer("omega", torch.tensor(_positive("omega", omega)))

    def forward(self, x):
        return self.wave(self.omega * x)

    def wave(self, u: torch.Tensor) -> torch.Tensor:
        """The activation of the already scaled argument u = omega * x."""
        return torch.sin(u)

    def extra_repr(self) -> str:
        return f"omega={self.omega.item():g}"


class SquareWave(Sine):
    """Fourier series of a square wave: (4/pi) sum_k sin((2k+1) omega x) / (2k+1), k < n_modes."""

    def __init__(self, omega: float = 30.0, n_modes: int = 4):
        super().__init__(omega)
        self.n_modes = whole("n_modes", n_modes)
        k = torch.arange(self.n_modes, dtype=torch.float32)
        self.register_buffer("harmonics", 2 * k + 1)
        self.register_buffer("coeffs", self._coeffs(k))

    @staticmethod
    def _coeffs(k):
        return 4 / math.pi / (2 * k + 1)

    def wave(self, u: torch.Tensor) -> torch.Tensor:
        return (torch.sin(u[..., None] * self.harmonics) * self.coeffs).sum(-1)

    def extra_repr(self) -> str:
        return f"omega={self.omega.item():g}, n_modes={self.n_modes}"


class TriangleWave(SquareWave):
    """Fourier series of a triangle wave: (8/pi^2) sum_k (-1)^k sin((2k+1) omega x) / (2k+1)^2."""

    @staticmethod
    def _coeffs(k):
        return 8 / math.pi**2 * (-1) ** k / (2 * k + 1) ** 2


class Finer(Sine):
    """FINER's variable-periodic activation (Liu et al. 2024): sin(omega (|x| + 1) x).

    Its local frequency omega (2|x| + 1) grows with |x|, so a layer whose pre-activations spread
    wider reaches higher frequencies. Written in the folded argument u = omega x it is
    sin(u + u |u| / omega), so it shares the sine family's folding of omega into the weights.

    Choices, and why:
    - Initialisation: SIREN's ("paper": first layer U(+-1/n), later U(+-sqrt(6/n)/omega)),
      as in the paper; the biases keep PyTorch's default U(+-1/sqrt(n)), which is what the
      authors' released image-fitting script does (its first-layer bias scale k is off by
      default). The paper's wider first-layer bias U(+-k) is available as an init scheme:
      `register_init("finer-k")(init.siren_scheme(first_bias_scale=k * sqrt(2)))` for 2-d input.
    - Gradient: autograd differentiates the whole formula, |x| included. The authors' code
      treats the factor (|x| + 1) as a constant in the backward pass by default; that is a
      training shortcut, but it would make `inrlib.gradient` of a FINER network wrong, and the
      book uses those derivatives.
    """

    def wave(self, u: torch.Tensor) -> torch.Tensor:
        return torch.sin(u + u * u.abs() / self.omega)


class Gabor(nn.Module):
    """WIRE's complex Gabor wavelet (Saragadam et al. 2023): exp(j omega x - |scale x|^2).

    A complex sinusoid of frequency omega under a Gaussian window of width 1/scale: the
    output is complex, so every layer after the first has complex weights and biases, and the
    network returns the real part of its (complex) output layer, as the paper does.

    Defaults omega = 20 (`first_omega` and `hidden_omega`) and scale = 10: the setting of the
    image-fitting comparisons in the WIRE and FINER authors' code (WIRE's authors suggest
    omega, scale around 20 and 10-30 to represent an image, and about 4 and 4 to denoise
    one). Initialisation: PyTorch's default for real and complex linear layers (the paper
    gives no special scheme and its code uses the default). With complex weights each
    weight is two real numbers, so WIRE's authors shrink the width by sqrt(2) for equal
    parameter counts; `inrlib.book.comparison.count_parameters` counts them that way.
    """

    per_layer = ("omega",)
    default_init = "pytorch"
    complex_valued = True

    def __init__(self, omega: float = 20.0, scale: float = 10.0):
        super().__init__()
        self.register_buffer("omega", torch.tensor(_positive("omega", omega)))
        self.register_buffer("scale", torch.tensor(_positive("scale", scale)))

    def forward(self, x):
        # x is real in the first layer, complex after it; |x|^2 as re^2 + im^2 stays smooth at 0
        sq = x.real ** 2 + x.imag ** 2 if x.is_complex() else x * x
        return torch.exp(1j * self.omega * x - self.scale ** 2 * sq)

    def extra_repr(self) -> str:
        return f"omega={self.omega.item():g}, scale={self.scale.item():g}"


class Gaussian(nn.Module):
    """Gaussian activation (Ramasinghe & Lucey 2022): exp(-x^2 / (2 sigma^2)).

    Non-periodic, and by the paper's analysis free of the special initialisation sines need:
    PyTorch's default init, as in the paper's and WIRE's comparisons. sigma sets the width of
    the bump, hence the highest frequency a layer can make (smaller: sharper). The WIRE and
    FINER codes write it exp(-(s x)^2), i.e. s = 1 / (sqrt(2) sigma); the default
    sigma = 0.07 is their s = 10 (WIRE's comparison setting).
    """

    per_layer = ()
    default_init = "pytorch"
    complex_valued = False

    def __init__(self, sigma: float = 0.07):
        super().__init__()
        self.register_buffer("sigma", torch.tensor(_positive("sigma", sigma)))

    def forward(self, x):
        return torch.exp(-0.5 * (x / self.sigma) ** 2)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma.item():g}"


ACTIVATIONS = {
    "sine": Sine, "square": SquareWave, "triangle": TriangleWave, "finer": Finer,
    "gabor": Gabor, "gauss": Gaussian,
    "relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh,
}


def _check_name(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")


def _own(cls) -> bool:
    """inrlib's activations declare their options; PyTorch's take none here."""
    return hasattr(cls, "per_layer")


def is_sine(activation) -> bool:
    """True for the sine family (sine, square, triangle, finer), given a name or a module."""
    if isinstance(activation, str):
        _check_name(activation)
        return issubclass(ACTIVATIONS[activation], Sine)
    return isinstance(activation, Sine)


def is_complex(activation) -> bool:
    """True when the activation (a name or a module) outputs complex numbers (WIRE)."""
    if isinstance(activation, str):
        _check_name(activation)
        return bool(getattr(ACTIVATIONS[activation], "complex_valued", False))
    return bool(getattr(activation, "complex_valued", False))


def default_init(name) -> str:
    """The initialisation scheme the activation's paper uses ('pytorch' for PyTorch's own)."""
    _check_name(name)
    return getattr(ACTIVATIONS[name], "default_init", "pytorch")


def activation_options(name) -> dict:
    """The options an activation takes, with their defaults: its constructor's keywords, with
    a `first_` and a `hidden_` variant of each one named in its `per_layer`."""
    _check_name(name)
    cls = ACTIVATIONS[name]
    if not _own(cls):
        return {}
    opts = {}
    for p in inspect.signature(cls).parameters.values():
        if p.name in cls.per_layer:
            opts[f"first_{p.name}"] = opts[f"hidden_{p.name}"] = p.default
        else:
            opts[p.name] = p.default
    return opts


def make_activations(name, depth, **options) -> list:
    """One activation module per hidden layer. Options not given take their defaults; a
    per-layer option goes to the first layer as `first_<name>` and to the others as
    `hidden_<name>` (SIREN's omega_0 and its hidden omega)."""
    _check_name(name)
    cls, known = ACTIVATIONS[name], activation_options(name)
    unknown = set(options) - set(known)
    if unknown:
        raise ValueError(f"activation {name!r} takes {sorted(known)}, not {sorted(unknown)}")
    if not _own(cls):
        return [cls() for _ in range(depth)]
    opts = {**known, **options}
    params = list(inspect.signature(cls).parameters)

    def layer(i):
        prefix = "first_" if i == 0 else "hidden_"
        given = {p: prefix + p if p in cls.per_layer else p for p in params}
        try:
            return cls(**{p: opts[o] for p, o in given.items()})
        except (TypeError, ValueError) as err:  # name the option as the user wrote it
            msg = str(err)
            for p, o in given.items():
                if msg.startswith(f"{p} must"):
                    raise type(err)(o + msg[len(p):]) from None
            raise
    return [layer(i) for i in range(depth)]


def fold_omega(act, weight: torch.Tensor, bias) -> tuple:
    """(omega W, omega b) for a sine layer, else (W, b): sin(omega (W h + b)) = sin((omega W) h
    + omega b), and scaling W costs a width x width product where scaling the pre-activation
    costs a pass over all N x width values, forward and backward. omega broadcasts: a scalar,
    or (K, 1, 1) for K stacked models with weights (K, in, out) and biases (K, 1, out)."""
    if not is_sine(act):
        return weight, bias
    return act.omega * weight, None if bias is None else act.omega * bias


def activate(act, pre: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """The activation of a pre-activation computed with `fold_omega`'s weights. `inplace` lets
    a ReLU overwrite `pre` (one N x width buffer less) when nothing else reads it."""
    if is_sine(act):
        return act.wave(pre)
    if inplace and type(act) is nn.ReLU:
        return torch.relu_(pre)
    return act(pre)


def layer(h: torch.Tensor, weight: torch.Tensor, bias, act=None, keep_pre: bool = False) -> tuple:
    """(pre, act(pre)) with pre = W h + b, for one model (weight (out, in), bias (out,)) or for K
    stacked ones (weight (K, out, in), bias (K, out); h (N, in) shared or (K, N, in)). The one
    implementation of a layer: `INR` and `StackedINR` both call it. A sine layer's omega is
    folded into W and b (see `fold_omega`); `keep_pre=False` lets a ReLU overwrite pre in place."""
    if weight.dim() == 2:
        if act is not None:
            weight, bias = fold_omega(act, weight, bias)
        pre = F.linear(h, weight, bias)
    else:
        weight = weight.transpose(1, 2)
        bias = None if bias is None else bias.unsqueeze(1)
        if act is not None:  # omega is (K, 1, 1) here: it broadcasts over (K, in, out)
            weight, bias = fold_omega(act, weight, bias)
        if h.dim() == 2:  # a shared (N, in) input broadcasts over the K models
            pre = torch.matmul(h, weight) if bias is None else torch.matmul(h, weight) + bias
        else:
            pre = torch.bmm(h, weight) if bias is None else torch.baddbmm(bias, h, weight)
    if act is None:
        return pre, pre
    return pre, activate(act, pre, inplace=not keep_pre)


def output_head(y: torch.Tensor, output: str) -> torch.Tensor:
    """The network's output from its last layer's: the real part after complex layers (WIRE),
    squashed to (0, 1) for output="sigmoid"."""
    y = y.real if y.is_complex() else y  # WIRE: the real part of the complex output
    return torch.sigmoid(y) if output == "sigmoid" else y
