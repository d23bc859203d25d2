"""The Mamba block: pure-PyTorch selective scan vs a plain loop, gradients, parameter layout, backends."""

from __future__ import annotations

import pytest
import torch

from detectors.mamba import BidirectionalMamba, MambaBlock, mamba_ssm_available, selective_scan
from detectors.tokens import FeatureTokenizer, patch_layout


def loop_scan(u, delta, A, B, C, D):
    """Reference: the recurrence written one time step at a time."""
    batch, length, d_inner = u.shape
    h = torch.zeros(batch, d_inner, A.shape[1], dtype=u.dtype)
    ys = []
    for t in range(length):
        h = (
            torch.exp(delta[:, t, :, None] * A) * h
            + delta[:, t, :, None] * B[:, t, None, :] * u[:, t, :, None]
        )
        ys.append((h * C[:, t, None, :]).sum(-1) + D * u[:, t])
    return torch.stack(ys, dim=1)


def random_inputs(length, batch=3, d_inner=6, d_state=4, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, length, d_inner, generator=g, dtype=dtype),
        torch.rand(batch, length, d_inner, generator=g, dtype=dtype) * 0.5,
        -torch.rand(d_inner, d_state, generator=g, dtype=dtype) * 4,
        torch.randn(batch, length, d_state, generator=g, dtype=dtype),
        torch.randn(batch, length, d_state, generator=g, dtype=dtype),
        torch.randn(d_inner, generator=g, dtype=dtype),
    ]


@pytest.mark.parametrize("length", [1, 3, 7, 16, 33])
def test_selective_scan_matches_sequential_loop(length):
    args = random_inputs(length)
    expected = loop_scan(*args)
    with torch.no_grad():  # vectorised inference path
        torch.testing.assert_close(selective_scan(*args), expected, atol=1e-5, rtol=1e-5)
    grad_args = [a.clone().requires_grad_(True) for a in args]  # custom autograd path
    torch.testing.assert_close(selective_scan(*grad_args), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("length", [1, 2, 5])
def test_selective_scan_gradients_match_autograd(length):
    args = [
        a.requires_grad_(True)
        for a in random_inputs(length, batch=2, d_inner=3, d_state=2, dtype=torch.float64)
    ]
    assert torch.autograd.gradcheck(selective_scan, args)


def test_state_dict_matches_mamba_ssm_layout():
    block = MambaBlock(d_model=32, d_state=16, d_conv=4, expand=2)
    d_inner, dt_rank = 64, 2  # expand * d_model, ceil(d_model / 16)
    expected = {
        "in_proj.weight": (2 * d_inner, 32),
        "conv1d.weight": (d_inner, 1, 4),
        "conv1d.bias": (d_inner,),
        "x_proj.weight": (dt_rank + 2 * 16, d_inner),
        "dt_proj.weight": (d_inner, dt_rank),
        "dt_proj.bias": (d_inner,),
        "A_log": (d_inner, 16),
        "D": (d_inner,),
        "out_proj.weight": (32, d_inner),
    }
    assert {k: tuple(v.shape) for k, v in block.state_dict().items()} == expected


def test_causal_conv_equals_conv1d_module():
    block = MambaBlock(d_model=8, d_state=4)
    u = torch.randn(2, 5, block.d_inner)
    reference = block.conv1d(u.transpose(1, 2))[..., :5].transpose(1, 2)
    torch.testing.assert_close(block._causal_conv(u, 5), reference, atol=1e-6, rtol=1e-5)


def test_bidirectional_is_symmetric_in_feature_order():
    layer = BidirectionalMamba(d_model=8, d_state=4)
    x = torch.randn(2, 6, 8)
    with torch.no_grad():
        torch.testing.assert_close(layer(x.flip(1)), layer(x).flip(1), atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(not mamba_ssm_available(), reason="needs mamba-ssm and CUDA")
def test_cuda_backend_matches_pytorch_backend():
    torch.manual_seed(0)
    block = MambaBlock(d_model=32, d_state=16).eval()
    x = torch.randn(4, 11, 32)
    with torch.no_grad():
        cpu_out = block(x)
        gpu_out = block.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(gpu_out, cpu_out, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize(
    ("n_features", "max_tokens", "expected"),
    [(30, 32, (1, 30)), (30, 12, (3, 10)), (166, 16, (11, 16)), (1555, 32, (49, 32)), (1, 8, (1, 1))],
)
def test_patch_layout_bounds_sequence_length(n_features, max_tokens, expected):
    assert patch_layout(n_features, max_tokens) == expected


def test_tokenizer_shapes_with_padding():
    tok = FeatureTokenizer(n_features=31, d_model=8, max_tokens=8)  # p = 4, 8 tokens, 1 padded feature
    assert tok(torch.randn(5, 31)).shape == (5, 8, 8)
    with pytest.raises(ValueError, match="max_tokens"):
        patch_layout(10, 0)
