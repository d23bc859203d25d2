"""Rows to token sequences: per-feature (or per-patch) value embeddings plus position embeddings."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["Standardize", "FeatureTokenizer", "patch_layout"]


def patch_layout(n_features: int, max_tokens: int) -> tuple[int, int]:
    """The patching rule: how many features go into one token, and how many tokens result.

    If ``n_features <= max_tokens`` every feature is its own token (patch size 1). Otherwise the
    patch size is ``p = ceil(n_features / max_tokens)``, features are zero-padded at the end to a
    multiple of ``p`` and each run of ``p`` consecutive features becomes one token, giving
    ``ceil(n_features / p) <= max_tokens`` tokens. E.g. 1555 features (InternetAds) with
    ``max_tokens=16`` -> p = 98, 16 tokens; 166 (musk) -> p = 11, 16 tokens.

    Args:
        n_features: Number of input features.
        max_tokens: Upper bound on the sequence length.

    Returns:
        ``(patch_size, n_tokens)``.
    """
    if n_features < 1 or max_tokens < 1:
        raise ValueError(f"n_features and max_tokens must be >= 1, got {n_features} and {max_tokens}")
    patch_size = math.ceil(n_features / max_tokens)
    return patch_size, math.ceil(n_features / patch_size)


class Standardize(nn.Module):
    """Fixed per-feature affine map ``(x - mean) / scale`` learned from the first fit's rows.

    Kept inside the network (as buffers) so `anomaly_proba_torch` takes raw rows and gradients
    flow back to them.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    @torch.no_grad()
    def fit(self, X: np.ndarray) -> Standardize:
        """Set mean and standard deviation (constant features get scale 1)."""
        std = X.std(axis=0)
        self.mean.copy_(torch.as_tensor(X.mean(axis=0), dtype=torch.float32))
        self.scale.copy_(torch.as_tensor(np.where(std > 1e-8, std, 1.0), dtype=torch.float32))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d) -> (n, d)``."""
        return (x - self.mean) / self.scale


class FeatureTokenizer(nn.Module):
    """``(n, n_features) -> (n, n_tokens, d_model)``.

    Token ``l`` is a learned linear map of its patch of values plus a learned position embedding:
    ``token_l = patch_l @ W_l + pos_l`` with a separate ``W_l`` per token. With patch size 1
    this is exactly ``value_f * w_f + pos_f`` (a per-feature embedding of the value, and
    ``pos_f`` doubles as the feature's bias). See `patch_layout` for the patching rule.

    Args:
        n_features: Number of input features.
        d_model: Token width.
        max_tokens: Upper bound on the number of tokens.
    """

    def __init__(self, n_features: int, d_model: int, max_tokens: int) -> None:
        super().__init__()
        self.n_features = n_features
        self.patch_size, self.n_tokens = patch_layout(n_features, max_tokens)
        self.n_padding = self.patch_size * self.n_tokens - n_features
        self.value_weight = nn.Parameter(
            torch.randn(self.n_tokens, self.patch_size, d_model) / math.sqrt(self.patch_size)
        )
        self.position = nn.Parameter(torch.randn(self.n_tokens, d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed standardised rows as a token sequence."""
        if self.n_padding:
            x = nn.functional.pad(x, (0, self.n_padding))
        patches = x.view(x.shape[0], self.n_tokens, self.patch_size)
        if self.patch_size == 1:
            return patches * self.value_weight[:, 0] + self.position
        return torch.einsum("nlp,lpd->nld", patches, self.value_weight) + self.position
