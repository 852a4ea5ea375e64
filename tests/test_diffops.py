import pytest
import torch

import inrlib as inr
import inrlib


def _field(x):
    # f = sin(2 x0) * x1^2, grad = (2 cos(2 x0) x1^2, 2 x1 sin(2 x0)), lap = -4 sin(2 x0) x1^2 + 2 sin(2 x0)
    return (torch.sin(2 * x[:, 0]) * x[:, 1] ** 2)[:, None]


def test_gradient_divergence_laplacian_match_closed_forms():
    x = (torch.rand(200, 2, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    y = _field(x)
    g = inr.gradient(y, x)
    x0, x1 = x[:, 0], x[:, 1]
    assert torch.allclose(g[:, 0], 2 * torch.cos(2 * x0) * x1**2)
    assert torch.allclose(g[:, 1], 2 * x1 * torch.sin(2 * x0))
    lap = inr.laplacian(y, x)
    assert torch.allclose(lap[:, 0], -4 * torch.sin(2 * x0) * x1**2 + 2 * torch.sin(2 * x0))
    g2, lap2 = inrlib.diffops.gradient_and_laplacian(y, x)
    assert torch.allclose(g2, g) and torch.allclose(lap2, lap)
    div = inr.divergence(torch.stack([x0**3, x0 * x1], dim=1), x)  # 3 x0^2 + x0
    assert torch.allclose(div[:, 0], 3 * x0**2 + x0)


def test_vector_output_gradient_is_a_jacobian():
    x = torch.rand(10, 2, dtype=torch.float64).requires_grad_(True)
    y = torch.stack([x[:, 0] * 2, x[:, 1] * x[:, 0]], dim=1)
    j = inr.gradient(y, x)
    assert j.shape == (10, 2, 2)
    assert torch.allclose(j[:, 1, 0], x[:, 1])


def test_siren_derivatives_are_trainable_and_match_finite_differences():
    m = inr.siren(width=32, depth=2, seed=0).double()
    x = (torch.rand(50, 2, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    lap = inr.laplacian(m(x), x)
    h = 1e-4
    fd = sum((m(x + h * e) - 2 * m(x) + m(x - h * e)) / h**2
             for e in torch.eye(2, dtype=torch.float64))
    assert torch.allclose(lap, fd, rtol=1e-3, atol=1e-2 * fd.abs().mean().item())
    lap.pow(2).mean().backward()  # a loss on the Laplacian reaches the weights
    assert m.linears[0].weight.grad.abs().sum() > 0


def test_relu_laplacian_is_zero():
    m = inr.relu_mlp(width=32, depth=3, seed=0)
    x = torch.rand(100, 2).requires_grad_(True)
    assert inr.laplacian(m(x), x).abs().max() == 0


def test_coords_must_require_grad():
    m = inr.siren(width=8, depth=1)
    x = torch.rand(4, 2)
    with pytest.raises(ValueError, match="requires_grad_"):
        inr.gradient(m(x), x)
