"""Weight initialisation schemes, selectable by name and extensible with `register_init`.

A scheme is a function `scheme(linear, is_first, is_last, omega)` that re-initialises one
nn.Linear in place; `omega` is the frequency of the sine that follows the layer (the hidden
omega for the output layer, as in the SIREN paper's code).
"""
import math

import torch
from torch import nn

INITS = {}


def register_init(name: str):
    """Decorator adding a scheme to INITS under `name`."""
    def add(fn):
        INITS[name] = fn
        return fn
    return add


@register_init("pytorch")
def pytorch_default(linear: nn.Linear, is_first, is_last, omega):
    """nn.Linear's own: weights and biases U(+-1/sqrt(fan_in)) (Kaiming uniform, a=sqrt(5))."""
    linear.reset_parameters()


@register_init("paper")
def siren_paper(linear: nn.Linear, is_first, is_last, omega):
    """SIREN: first layer U(+-1/n), later layers U(+-sqrt(6/n)/omega); biases PyTorch's default."""
    n = linear.in_features
    bound = 1 / n if is_first else math.sqrt(6 / n) / omega
    with torch.no_grad():
        linear.weight.uniform_(-bound, bound)


def apply_init(layers, scheme: str, first_omega: float, hidden_omega: float):
    """Initialise the Linear `layers` (input to output) with the named scheme."""
    if scheme not in INITS:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {sorted(INITS)} "
                         f"or add one with inrlib.register_init")
    for i, linear in enumerate(layers):
        is_first, is_last = i == 0, i == len(layers) - 1
        INITS[scheme](linear, is_first, is_last, first_omega if is_first else hidden_omega)
