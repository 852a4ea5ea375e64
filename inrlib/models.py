"""One coordinate MLP for every model the book compares (SIREN, ReLU, ReLU + encodings, ...)."""
import torch
import torch.nn.functional as F
from torch import nn

from .activations import Sine, is_periodic, make_activation
from .encodings import make_encoding
from .init import apply_init


class INR(nn.Module):
    """Phi(x) = W_out . s_D(... s_1(W_1 gamma(x) + b_1) ...) + b_out, with encoding gamma and activation s.

    `depth` is the number of activated (hidden) layers of `width` units: the SIREN colab's
    "hidden_layers=3" network is depth=4. Sine-family activations apply sin(omega (Wx + b)),
    with `first_omega` in the first layer and `hidden_omega` after it; `init=None` picks the
    SIREN paper's scheme for them and PyTorch's default otherwise. `bias=False` builds every
    layer without a bias (the network is then an odd function of its input when the activation is).
    `include_input=False` drops the raw coordinates from a positional encoding (periodic model).
    """

    def __init__(self, in_features=2, out_features=1, width=256, depth=4, activation="sine",
                 first_omega=30.0, hidden_omega=30.0, n_modes=4, encoding=None, L=10,
                 sigma=10.0, n_features=256, init=None, sigmoid_output=False, seed=None, bias=True,
                 include_input=True):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features),
                        ("width", width), ("depth", depth)):
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {v}")
        self.in_features, self.out_features = in_features, out_features
        self.config = dict(in_features=in_features, out_features=out_features, width=width,
                           depth=depth, activation=activation, first_omega=first_omega,
                           hidden_omega=hidden_omega, n_modes=n_modes, encoding=encoding, L=L,
                           sigma=sigma, n_features=n_features, init=init,
                           sigmoid_output=sigmoid_output, bias=bias, include_input=include_input)
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.encoding = make_encoding(encoding, in_features, L, sigma, n_features,
                                          seed=0 if seed is None else seed,
                                          include_input=include_input)
            n_in = self.encoding.out_features if self.encoding is not None else in_features
            sizes = [n_in] + [width] * depth
            self.linears = nn.ModuleList(
                [nn.Linear(a, b, bias=bias) for a, b in zip(sizes[:-1], sizes[1:])]
                + [nn.Linear(width, out_features, bias=bias)])
            self.acts = nn.ModuleList(
                [make_activation(activation, first_omega if i == 0 else hidden_omega, n_modes)
                 for i in range(depth)])
            init = init or ("paper" if is_periodic(activation) else "pytorch")
            self.config["init"] = init
            apply_init(self.linears, init, first_omega, hidden_omega)
        self.sigmoid_output = sigmoid_output

    def check_coords(self, x):
        if x.dim() < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"expected coordinates of shape (N, {self.in_features}), "
                             f"got {tuple(x.shape)}")

    def forward(self, x, return_activations=False):
        """Output (N, out_features); with return_activations also the per-layer
        (pre-activation, activation) pairs, for the activation-statistics figures."""
        self.check_coords(x)
        h = self.encoding(x) if self.encoding is not None else x
        trace = []
        for linear, act in zip(self.linears[:-1], self.acts):
            if isinstance(act, Sine):
                # omega (W h + b) as (omega W) h + omega b: the scaling costs a (width x width)
                # product instead of a pass over all N x width activations, forward and backward.
                b = None if linear.bias is None else act.omega * linear.bias
                pre = F.linear(h, act.omega * linear.weight, b)
                h = act.wave(pre)
            else:
                pre = linear(h)
                # in place when nothing else reads the pre-activation: one N x width buffer less
                inplace = type(act) is nn.ReLU and not return_activations
                h = F.relu(pre, inplace=True) if inplace else act(pre)
            if return_activations:  # for sines, pre is the argument omega (W h + b) of the theory
                trace.append((pre, h))
        y = self.linears[-1](h)
        y = torch.sigmoid(y) if self.sigmoid_output else y
        return (y, trace) if return_activations else y


def siren(**kw) -> INR:
    """SIREN with the paper's defaults (omega_0 = 30, paper init); keywords as for INR."""
    return INR(activation="sine", **kw)


def relu_mlp(L=None, **kw) -> INR:
    """ReLU MLP, with NeRF positional encoding of L frequencies when L is given."""
    if L is None:
        return INR(activation="relu", **kw)
    return INR(activation="relu", encoding="posenc", L=L, **kw)
