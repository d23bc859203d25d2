"""Tokenizers: the piecewise-linear encoding (`detectors.tokens.PiecewiseLinearTokenizer`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detectors.tokens import PiecewiseLinearTokenizer, fit_tokenizers


def _reference_encoding(z_train: np.ndarray, z: np.ndarray, n_bins: int) -> list[np.ndarray]:
    """Per feature, the standardised ``clip((z - left) / width, 0, 1)`` columns, straight from the paper."""
    out = []
    for f in range(z_train.shape[1]):
        edges = np.unique(np.quantile(z_train[:, f], np.linspace(0, 1, n_bins + 1)))
        left, width = edges[:-1], np.diff(edges)
        ramp = lambda v, left=left, width=width: np.clip((v[:, None] - left) / width, 0, 1)  # noqa: E731
        train = ramp(z_train[:, f])
        std = np.where(train.std(axis=0) > 1e-8, train.std(axis=0), 1.0)
        out.append((ramp(z[:, f]) - train.mean(axis=0)) / std)
    return out


def _encoding(tokenizer: PiecewiseLinearTokenizer, z: np.ndarray) -> np.ndarray:
    x = torch.as_tensor(z, dtype=torch.float32)[:, :, None]
    return torch.clamp(
        torch.addcmul(tokenizer.bin_offset, x, tokenizer.bin_slope), tokenizer.bin_low, tokenizer.bin_high
    ).numpy()


def test_the_folded_encoding_is_the_standardised_clipped_ramp_and_unused_bins_are_zero():
    rng = np.random.default_rng(0)
    z_train = rng.normal(size=(300, 4))
    z_train[:, 1] = rng.integers(0, 2, 300)  # binary: one bin
    z_train[:, 2] = 3.0  # constant: no bin
    z = np.concatenate([rng.normal(size=(50, 4)) * 2, z_train[:5]])  # beyond the training range too
    tokenizer = PiecewiseLinearTokenizer(4, d_model=8, max_tokens=12, n_bins=8).fit(z_train)
    encoded = _encoding(tokenizer, z)
    for f, expected in enumerate(_reference_encoding(z_train, z, 8)):
        used = expected.shape[1]
        np.testing.assert_allclose(encoded[:, f, :used], expected, atol=1e-4)
        assert np.all(encoded[:, f, used:] == 0.0)
    assert [len(e.T) for e in _reference_encoding(z_train, z, 8)] == [8, 1, 0, 8]


def test_an_unfitted_tokenizer_gives_positions_and_tokens_follow_the_patching_rule():
    tokenizer = PiecewiseLinearTokenizer(25, d_model=6, max_tokens=12, n_bins=4)  # p = 3, 9 tokens, 2 padded
    x = torch.randn(3, 25)
    tokens = tokenizer(x)
    assert tokens.shape == (3, 9, 6)
    torch.testing.assert_close(tokens, tokenizer.position.expand(3, 9, 6))
    tokenizer.fit(np.random.default_rng(1).normal(size=(100, 25)))
    moved = x.clone()
    moved[:, 24] += 5.0  # the last feature shares its token with the padding only
    changed = (tokenizer(moved) - tokenizer(x)).abs().sum(dim=(0, 2)) > 0
    assert changed.tolist() == [False] * 8 + [True]


def test_fit_tokenizers_fits_each_expert_once_and_bad_rows_are_named():
    from detectors.tokens import Standardize

    net = torch.nn.Module()
    net.standardize = Standardize(3).fit(np.random.default_rng(0).normal(size=(50, 3)))
    net.tokenizers = torch.nn.ModuleList(PiecewiseLinearTokenizer(3, 4, 12) for _ in range(3))
    fit_tokenizers(net, np.random.default_rng(1).normal(size=(50, 3)))
    net = net.tokenizers
    for other in net[1:]:
        for name in PiecewiseLinearTokenizer.BIN_BUFFERS:
            torch.testing.assert_close(getattr(other, name), getattr(net[0], name))
    assert net[0].bin_slope.abs().sum() > 0
    with pytest.raises(ValueError, match="3 features"):
        net[0].fit(np.zeros((5, 4)))
