"""Per-model safety of a training step, for `fit` and `fit_many`: the divergence guard (a model
whose loss or weights stop being finite keeps its last good weights) and gradient-norm clipping.
With K stacked models every parameter's leading dimension is the model, so both act per model."""
import torch


class Guard:
    """Each model's last good weights: a model whose loss or updated weights are not finite stops
    there (its later updates are undone) while the others train on. All on the device: no sync."""

    def __init__(self, params, k, dev):
        self.params, self.k = params, k
        self.backup = [p.detach().clone() for p in params]
        self.alive = torch.ones(k, dtype=torch.bool, device=dev)

    def _per_model(self, p):
        return self.alive.reshape(-1, *[1] * (p.dim() - 1)) if self.k > 1 else self.alive.reshape(())

    def masked(self, per_model):
        """The losses to differentiate: a model no longer alive contributes nothing."""
        self.alive &= torch.isfinite(per_model.detach()).reshape(-1)
        return torch.where(self.alive, per_model, torch.zeros_like(per_model))

    @torch.no_grad()
    def keep(self):
        """After an update: models whose new weights are not finite stop too; the weights of the
        stopped ones go back to their last good values; the rest become the new backup."""
        for p in self.params:
            ok = torch.isfinite(p).flatten(1).all(1) if self.k > 1 else torch.isfinite(p).all().reshape(1)
            self.alive &= ok
        for p, b in zip(self.params, self.backup):
            p.copy_(torch.where(self._per_model(p), p, b))
        self.save()

    @torch.no_grad()
    def save(self):
        for p, b in zip(self.params, self.backup):
            b.copy_(p)

    @torch.no_grad()
    def restore(self):
        for p, b in zip(self.params, self.backup):
            p.copy_(b)


@torch.no_grad()
def clip_grads(params, k: int, max_norm: float) -> None:
    """Scale each model's gradient down to norm `max_norm` where it is larger (one norm over all
    of a model's parameters, as torch.nn.utils.clip_grad_norm_ takes it for a single model)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    if k == 1:
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        return
    norm = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads]).sum(0).sqrt()  # (K,)
    scale = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.reshape(-1, *[1] * (g.dim() - 1)))
