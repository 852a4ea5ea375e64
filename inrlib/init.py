"""Weight initialisation schemes, selectable by name and extensible with `register_init`.

A scheme is a function `scheme(linear, is_first, is_last, omega)` that re-initialises one
nn.Linear in place; `omega` is the frequency of the sine that follows the layer (the hidden
omega for the output layer, as in the SIREN paper's code).
"""
import math
import numbers
from typing import Callable

import torch
from torch import nn

from .checks import flag, real

INITS = {}


def register_init(name: str) -> Callable:
    """Decorator adding a scheme to INITS under `name` (registering a name again replaces it,
    so a notebook cell can be re-run)."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"register_init takes the scheme's name (a non-empty str), got {name!r}: "
                        "use @register_init(\"my_scheme\")")

    def add(fn):
        if not callable(fn):
            raise TypeError(f"register_init({name!r}) decorates a function "
                            f"scheme(linear, is_first, is_last, omega), got {fn!r}")
        INITS[name] = fn
        return fn
    return add


@register_init("pytorch")
def pytorch_default(linear: nn.Linear, is_first, is_last, omega) -> None:
    """nn.Linear's own: weights and biases U(+-1/sqrt(fan_in)) (Kaiming uniform, a=sqrt(5))."""
    linear.reset_parameters()


@register_init("paper")
def siren_paper(linear: nn.Linear, is_first, is_last, omega) -> None:
    """SIREN: first layer U(+-1/n), later layers U(+-sqrt(6/n)/omega); biases PyTorch's default."""
    n = linear.in_features
    bound = 1 / n if is_first else math.sqrt(6 / n) / omega
    with torch.no_grad():
        linear.weight.uniform_(-bound, bound)


def apply_init(layers, scheme: str, first_omega: float, hidden_omega: float) -> None:
    """Initialise the Linear `layers` (input to output) with the named scheme."""
    if not isinstance(scheme, str) or scheme not in INITS:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {sorted(INITS)} "
                         f"or add one with inrlib.register_init")
    real("first_omega", first_omega, low=0.0)
    real("hidden_omega", hidden_omega, low=0.0)
    for i, linear in enumerate(layers):
        is_first, is_last = i == 0, i == len(layers) - 1
        INITS[scheme](linear, is_first, is_last, first_omega if is_first else hidden_omega)


# --- Variants of the SIREN scheme (built with siren_scheme; the book's study: inrlib.book.init_study)
#
# Every variant below draws its weights like "paper" and then changes one thing, so that with the
# same model seed two schemes differ only in what the scheme changes (paired comparisons).
# Biases: the network computes sin(omega (W x + b)), so a bias b shifts the sine's phase by
# omega * b; nn.Linear's default draws b ~ U(+-1/sqrt(fan_in)).

_LAWS = ("uniform", "normal")


def siren_scheme(first: str = "uniform", first_scale: float = 1.0, hidden: str = "uniform",
                 hidden_scale: float = 1.0, divide_by_omega: bool = True, bias_scale: float = 1.0,
                 bias_phase: float | None = None, first_bias_scale: float | None = None) -> Callable:
    """Build a SIREN-style init scheme (a function for `register_init`).

    first: law of the first layer's weights, "uniform" U(+-first_scale/n) or "normal"
        N(0, (first_scale/n)^2), n = fan_in (the paper: uniform, 1).
    hidden: law of later layers' weights, "uniform" U(+-s) or "normal" N(0, s^2) with
        s = hidden_scale * sqrt(6/n) / omega (without the "/ omega" if divide_by_omega=False).
    bias_scale: multiplies PyTorch's default biases U(+-1/sqrt(n)) (0 sets them to zero);
        first_bias_scale, when given, applies to the first layer instead.
    bias_phase: if given, every bias is redrawn U(+-bias_phase/omega): a phase omega*b uniform in
        +-bias_phase (pi: every phase of the sine equally likely). Excludes bias_scale.
    """
    if not isinstance(first, str) or not isinstance(hidden, str) or first not in _LAWS \
            or hidden not in _LAWS:
        raise ValueError(f"first and hidden must be one of {_LAWS}, got {first!r}, {hidden!r}")
    first_scale, hidden_scale = real("first_scale", first_scale, 0.0), real("hidden_scale", hidden_scale, 0.0)
    divide_by_omega = flag("divide_by_omega", divide_by_omega)
    for name, v in (("bias_scale", bias_scale), ("first_bias_scale", first_bias_scale)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise TypeError(f"{name} must be a number, got {v!r} ({type(v).__name__})")
        if v is not None and not (math.isfinite(v) and v >= 0):
            raise ValueError(f"bias scales must be >= 0 and finite, got {name}={v!r}")
    if bias_phase is not None:
        bias_phase = real("bias_phase", bias_phase)
        if not bias_phase > 0 or bias_scale != 1.0 or first_bias_scale is not None:
            raise ValueError("bias_phase must be > 0 and cannot be combined with bias scales, "
                             f"got bias_phase={bias_phase!r}, bias_scale={bias_scale!r}, "
                             f"first_bias_scale={first_bias_scale!r}")

    def scheme(linear: nn.Linear, is_first, is_last, omega):
        n = linear.in_features
        with torch.no_grad():
            if is_first:
                law, s = first, first_scale / n
            else:
                law, s = hidden, hidden_scale * math.sqrt(6 / n) / (omega if divide_by_omega else 1.0)
            if law == "uniform":
                linear.weight.uniform_(-s, s)
            else:
                linear.weight.normal_(0.0, s)
            if linear.bias is None:
                return
            if bias_phase is not None:
                linear.bias.uniform_(-bias_phase / omega, bias_phase / omega)
            else:
                k = first_bias_scale if (is_first and first_bias_scale is not None) else bias_scale
                linear.bias.mul_(k)

    return scheme
