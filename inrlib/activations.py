"""Activations the book compares. The sine family carries its frequency omega as a buffer.

`is_sine` is the one test for "does this layer compute sin(omega (W h + b))"; `fold_omega` and
`activate` are the one implementation of such a layer, shared by `INR.forward` and the batched
network of `fit_many`.
"""
import math

import torch
from torch import nn


class Sine(nn.Module):
    """sin(omega * x)."""

    def __init__(self, omega: float = 30.0):
        super().__init__()
        if not float(omega) > 0:
            raise ValueError(f"omega must be > 0, got {omega}")
        # A buffer (not a float) so that sweeps can stack networks with different omegas.
        self.register_buffer("omega", torch.tensor(float(omega)))

    def forward(self, x):
        return self.wave(self.omega * x)

    def wave(self, u):
        """The activation of the already scaled argument u = omega * x."""
        return torch.sin(u)

    def extra_repr(self):
        return f"omega={self.omega.item():g}"


class SquareWave(Sine):
    """Fourier series of a square wave: (4/pi) sum_k sin((2k+1) omega x) / (2k+1), k < n_modes."""

    def __init__(self, omega: float = 30.0, n_modes: int = 4):
        super().__init__(omega)
        if int(n_modes) != n_modes or n_modes < 1:
            raise ValueError(f"n_modes must be a whole number >= 1, got {n_modes}")
        self.n_modes = int(n_modes)
        k = torch.arange(self.n_modes, dtype=torch.float32)
        self.register_buffer("harmonics", 2 * k + 1)
        self.register_buffer("coeffs", self._coeffs(k))

    @staticmethod
    def _coeffs(k):
        return 4 / math.pi / (2 * k + 1)

    def wave(self, u):
        return (torch.sin(u[..., None] * self.harmonics) * self.coeffs).sum(-1)

    def extra_repr(self):
        return f"omega={self.omega.item():g}, n_modes={self.n_modes}"


class TriangleWave(SquareWave):
    """Fourier series of a triangle wave: (8/pi^2) sum_k (-1)^k sin((2k+1) omega x) / (2k+1)^2."""

    @staticmethod
    def _coeffs(k):
        return 8 / math.pi**2 * (-1) ** k / (2 * k + 1) ** 2


ACTIVATIONS = {
    "sine": Sine, "square": SquareWave, "triangle": TriangleWave,
    "relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh,
}


def _check_name(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")


def is_sine(activation) -> bool:
    """True for the sine family (sine, square, triangle), given a name or a module."""
    if isinstance(activation, str):
        _check_name(activation)
        return issubclass(ACTIVATIONS[activation], Sine)
    return isinstance(activation, Sine)


def activation_options(name) -> dict:
    """The options an activation takes, with their defaults."""
    _check_name(name)
    if not is_sine(name):
        return {}
    opts = {"first_omega": 30.0, "hidden_omega": 30.0}
    return {**opts, "n_modes": 4} if ACTIVATIONS[name] is not Sine else opts


def make_activations(name, depth, first_omega=30.0, hidden_omega=30.0, n_modes=None) -> list:
    """One activation module per hidden layer: the first layer's sine runs at first_omega, the
    others at hidden_omega (SIREN's omega_0 and its hidden omega)."""
    _check_name(name)
    cls = ACTIVATIONS[name]
    if cls is Sine:
        return [Sine(first_omega if i == 0 else hidden_omega) for i in range(depth)]
    if is_sine(name):
        return [cls(first_omega if i == 0 else hidden_omega, n_modes) for i in range(depth)]
    return [cls() for _ in range(depth)]


def fold_omega(act, weight, bias):
    """(omega W, omega b) for a sine layer, else (W, b): sin(omega (W h + b)) = sin((omega W) h
    + omega b), and scaling W costs a width x width product where scaling the pre-activation
    costs a pass over all N x width values, forward and backward. omega broadcasts: a scalar,
    or (K, 1, 1) for K stacked models with weights (K, in, out) and biases (K, 1, out)."""
    if not is_sine(act):
        return weight, bias
    return act.omega * weight, None if bias is None else act.omega * bias


def activate(act, pre, inplace=False):
    """The activation of a pre-activation computed with `fold_omega`'s weights. `inplace` lets
    a ReLU overwrite `pre` (one N x width buffer less) when nothing else reads it."""
    if is_sine(act):
        return act.wave(pre)
    if inplace and type(act) is nn.ReLU:
        return torch.relu_(pre)
    return act(pre)
