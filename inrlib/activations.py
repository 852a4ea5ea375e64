"""Activations the book compares; the periodic ones carry their frequency omega as a buffer."""
import math

import torch
from torch import nn


class Sine(nn.Module):
    """sin(omega * x)."""

    periodic = True

    def __init__(self, omega: float = 30.0):
        super().__init__()
        # A buffer (not a float) so that sweeps can stack networks with different omegas.
        self.register_buffer("omega", torch.tensor(float(omega)))

    def forward(self, x):
        return self.wave(self.omega * x)

    def wave(self, u):
        """The activation of the already scaled argument u = omega * x (INR folds omega into W, b)."""
        return torch.sin(u)

    def extra_repr(self):
        return f"omega={self.omega.item():g}"


class SquareWave(Sine):
    """Fourier series of a square wave: (4/pi) sum_k sin((2k+1) omega x) / (2k+1), k < n_modes."""

    def __init__(self, omega: float = 30.0, n_modes: int = 4):
        super().__init__(omega)
        if int(n_modes) != n_modes or n_modes < 1:
            raise ValueError(f"n_modes must be a whole number >= 1, got {n_modes}")
        k = torch.arange(int(n_modes), dtype=torch.float32)
        self.register_buffer("harmonics", 2 * k + 1)
        self.register_buffer("coeffs", self._coeffs(k))

    @staticmethod
    def _coeffs(k):
        return 4 / math.pi / (2 * k + 1)

    def wave(self, u):
        return (torch.sin(u[..., None] * self.harmonics) * self.coeffs).sum(-1)


class TriangleWave(SquareWave):
    """Fourier series of a triangle wave: (8/pi^2) sum_k (-1)^k sin((2k+1) omega x) / (2k+1)^2."""

    @staticmethod
    def _coeffs(k):
        return 8 / math.pi**2 * (-1) ** k / (2 * k + 1) ** 2


ACTIVATIONS = {
    "sine": Sine, "square": SquareWave, "triangle": TriangleWave,
    "relu": nn.ReLU, "gelu": nn.GELU, "elu": nn.ELU, "tanh": nn.Tanh,
}


def make_activation(name: str, omega: float = 30.0, n_modes: int = 4) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    cls = ACTIVATIONS[name]
    if cls is Sine:
        return Sine(omega)
    if issubclass(cls, Sine):
        return cls(omega, n_modes)
    return cls()


def is_periodic(name: str) -> bool:
    return getattr(ACTIVATIONS.get(name), "periodic", False)
