"""Training objectives as objects with named terms (`Loss`), the value MSE, and the checks of
their weights and targets shared by every loss."""
import torch


class Loss:
    """A training objective made of named terms, which `fit` logs one by one.

    `terms(net, coords, target)` returns {name: tensor}, each () for one model or (K,) for K
    batched models (reduce over samples only); the loss is the weighted sum of the terms, with
    `weights` {name: () or (K,) tensor} (None: a single term, taken as it is). `History.terms`
    records every term at every step, as vsitzmann/siren's training loop logs its loss dicts.

    `differentiates = True` declares that the loss differentiates the network with respect to its
    coordinates. Then `fit_many` gives each of its K models its own copy of the coordinates (a
    shared input would sum the K models' derivatives), and a GPU keeps float32 (no TF32: the
    derivatives lose precision with a 10-bit mantissa).
    """

    differentiates = False
    weights = None

    def terms(self, net, coords, target) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define terms(net, coords, target)")

    def total(self, terms: dict) -> torch.Tensor:
        """The weighted sum of `terms` (in their order)."""
        if self.weights is None:
            (value,) = terms.values()
            return value
        return sum(self.weights[k].to(v.device) * v for k, v in terms.items())

    def __call__(self, net, coords, target) -> torch.Tensor:
        return self.total(self.terms(net, coords, target))


class MSE(Loss):
    """The default loss: the mean squared error of the values, one term "mse" per model."""

    def terms(self, net, coords, target) -> dict:
        return {"mse": ((net(coords) - target) ** 2).mean(dim=(-2, -1))}


class FunctionLoss(Loss):
    """A plain function `loss(net, coords, target)` returning one loss per model, as one term
    "loss" (it may not differentiate the network: write a Loss with `differentiates = True`)."""

    def __init__(self, fn):
        self.fn = fn

    def terms(self, net, coords, target) -> dict:
        value = self.fn(net, coords, target)
        if not torch.is_tensor(value):
            raise TypeError(f"the loss function must return a tensor (one value per model), got "
                            f"{type(value).__name__}: return e.g. ((net(x) - y) ** 2).mean(dim=(-2, -1))")
        return {"loss": value}


def as_loss(loss) -> Loss:
    """None -> MSE(), a Loss as it is, a plain function wrapped in FunctionLoss."""
    if loss is None:
        return MSE()
    if isinstance(loss, Loss):
        return loss
    if callable(loss):
        return FunctionLoss(loss)
    raise TypeError(f"loss must be an inrlib Loss or a function loss(net, coords, target), got "
                    f"{type(loss).__name__}")


def check_weights(weights: dict, terms, what: str = "loss") -> dict:
    """Each term's weight as a float tensor, () for one model or (K,) for one per model.

    `weights` maps term names to numbers or to equally long lists; a term left out weighs 0.
    Weights must be finite and >= 0, and not all zero. The one validator of every loss's weights.
    """
    if not isinstance(weights, dict):
        raise TypeError(f"{what} weights must be a dict {{term: weight}}, got {type(weights).__name__}")
    unknown = set(weights) - set(terms)
    if unknown:
        raise ValueError(f"unknown {what} terms {sorted(unknown)}; the terms are {list(terms)}")
    w = {}
    for t in terms:
        v = weights.get(t, 0.0)
        try:
            w[t] = torch.as_tensor(v, dtype=torch.float32)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{what} weight {t!r} must be a number or a list of numbers, got {v!r}") from err
    shown = {t: v.tolist() for t, v in w.items()}
    sizes = {v.numel() for v in w.values() if v.dim() > 0}
    if any(v.dim() > 1 for v in w.values()) or len(sizes) > 1:
        raise ValueError(f"{what} weights must be numbers or equally long lists (one per model), "
                         f"got {shown}")
    total = sum(w.values())
    if any(not torch.isfinite(v).all() or (v < 0).any() for v in w.values()) or (total == 0).any():
        raise ValueError(f"{what} weights must be finite, >= 0 and not all zero, got {shown}")
    return w


def check_finite(values: torch.Tensor, what: str = "targets") -> torch.Tensor:
    """`values` unchanged, or a ValueError counting its NaN or infinite entries."""
    if not torch.isfinite(values).all():
        bad = int((~torch.isfinite(values)).sum())
        raise ValueError(f"{what} contain {bad} NaN or infinite values; clean the signal first")
    return values

