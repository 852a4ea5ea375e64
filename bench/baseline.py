"""The plain-PyTorch baselines of the benchmark: the code a user would write from the SIREN colab.

Nothing here is tuned: nn.Linear layers, torch.sin, Adam, MSE, a Python training loop with one
loss.item() per step (the colab prints the loss). inrlib's models compute the same functions,
so the benchmark copies inrlib's initial weights into these modules and both runs start from
the same point (see `copy_weights`).
"""
import math

import numpy as np
import torch
from torch import nn


class SineLayer(nn.Module):
    """sin(omega_0 * (W x + b)) with the SIREN paper's initialisation."""

    def __init__(self, in_features, out_features, is_first=False, omega_0=30.0):
        super().__init__()
        self.omega_0, self.is_first = omega_0, is_first
        self.linear = nn.Linear(in_features, out_features)
        with torch.no_grad():
            bound = 1 / in_features if is_first else math.sqrt(6 / in_features) / omega_0
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x):
        return torch.sin(self.omega_0 * self.linear(x))


class Siren(nn.Module):
    """The colab's Siren(in_features=2, hidden_features=256, hidden_layers=3, out_features=1,
    outermost_linear=True): 4 sine layers of 256, then a linear output layer."""

    def __init__(self, in_features=2, hidden_features=256, hidden_layers=3, out_features=1,
                 first_omega_0=30.0, hidden_omega_0=30.0):
        super().__init__()
        layers = [SineLayer(in_features, hidden_features, is_first=True, omega_0=first_omega_0)]
        for _ in range(hidden_layers):
            layers.append(SineLayer(hidden_features, hidden_features, omega_0=hidden_omega_0))
        final = nn.Linear(hidden_features, out_features)
        with torch.no_grad():
            bound = math.sqrt(6 / hidden_features) / hidden_omega_0
            final.weight.uniform_(-bound, bound)
        layers.append(final)
        self.net = nn.Sequential(*layers)

    def forward(self, coords):
        return self.net(coords)


def positional_encoding(x, L=10):
    """NeRF's gamma(x) = [x, sin(2^k pi x) (all k, all axes), cos(2^k pi x) (all k, all axes)]."""
    freqs = math.pi * 2.0 ** torch.arange(L, dtype=x.dtype, device=x.device)
    angles = (x[:, None, :] * freqs[:, None]).reshape(x.shape[0], -1)
    return torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=-1)


class ReluPE(nn.Module):
    """ReLU MLP of 4 hidden layers of 256 on a positional encoding with L frequencies."""

    def __init__(self, in_features=2, hidden=256, layers=4, out_features=1, L=10):
        super().__init__()
        self.L = L
        sizes = [in_features * (2 * L + 1)] + [hidden] * layers
        mods = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            mods += [nn.Linear(a, b), nn.ReLU()]
        mods.append(nn.Linear(hidden, out_features))
        self.net = nn.Sequential(*mods)

    def forward(self, coords):
        return self.net(positional_encoding(coords, self.L))


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def copy_weights(src_linears, dst_model):
    """Give dst_model the weights of another network's linear layers (same order and shapes)."""
    dst = linears(dst_model)
    if len(dst) != len(src_linears):
        raise ValueError(f"{len(src_linears)} linear layers to copy into {len(dst)}")
    with torch.no_grad():
        for s, d in zip(src_linears, dst):
            d.weight.copy_(s.weight)
            d.bias.copy_(s.bias)


def train(model, coords, target, steps, lr=1e-4, on_step=None, batch_size=None, seed=0):
    """The colab's loop: Adam, MSE, full batch unless `batch_size` (shuffled epochs, drawn as
    inrlib's fit draws them, so both see the same batches). Returns the per-step losses."""
    optim = torch.optim.Adam(lr=lr, params=model.parameters())
    losses = []
    n = coords.shape[0]
    gen = torch.Generator().manual_seed(seed)
    order, pos = None, n
    for step in range(steps):
        x, y = coords, target
        if batch_size and batch_size < n:
            if pos + batch_size > n:
                order, pos = torch.randperm(n, generator=gen).to(coords.device), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            x, y = coords[idx], target[idx]
        model_output = model(x)
        loss = ((model_output - y) ** 2).mean()
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
        if on_step:
            on_step(step)
    return np.array(losses)


def train_graphed(model, coords, target, steps, lr=1e-4, on_step=None):
    """The same loop with the whole step (forward, backward, Adam) captured once as a CUDA
    graph and replayed: the recipe of PyTorch's CUDA-graphs notes (capturable Adam, warm-up on
    a side stream, static input and loss tensors). One loss.item() per step, as in `train`."""
    optim = torch.optim.Adam(lr=lr, params=model.parameters(), capturable=True)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up: cuBLAS handles, Adam state (three steps)
        saved = {k: v.clone() for k, v in model.state_dict().items()}
        for _ in range(3):
            optim.zero_grad(set_to_none=True)
            ((model(coords) - target) ** 2).mean().backward()
            optim.step()
    torch.cuda.current_stream().wait_stream(side)
    with torch.no_grad():  # undo the warm-up steps: start from the same weights as `train`
        model.load_state_dict(saved)
        for st in optim.state.values():
            for key in ("exp_avg", "exp_avg_sq"):
                st[key].zero_()
            st["step"].zero_()
    graph = torch.cuda.CUDAGraph()
    optim.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        loss = ((model(coords) - target) ** 2).mean()
        loss.backward()
        optim.step()
    losses = []
    for step in range(steps):
        graph.replay()
        losses.append(loss.item())
        if on_step:
            on_step(step)
    return np.array(losses)
