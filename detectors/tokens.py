"""Rows to token sequences: per-feature (or per-patch) value embeddings plus position embeddings."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = [
    "NUMERIC_EMBEDDINGS",
    "FeatureTokenizer",
    "PeriodicTokenizer",
    "PiecewiseLinearTokenizer",
    "Standardize",
    "fit_tokenizers",
    "make_tokenizer",
    "patch_layout",
]


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
    """Fixed per-feature affine map ``(x - mean) / scale`` with an out-of-range guard, learned on the first fit.

    Kept inside the network (as buffers) so `anomaly_proba_torch` takes raw rows and gradients
    flow back to them.

    Out-of-range guard (a row far outside the training data must look anomalous, not like whatever
    the network extrapolates to): in standardised units, let ``[low, high]`` be the training
    range widened by ``margin`` on each side. Then

    - `forward` clips standardised rows to ``[low, high]`` before the backbone, so the network only
      ever sees values like those it was trained on (and a row of 1e30 cannot overflow it);
    - `range_score` is ``weight * sum_f min(excess_f, EXCESS_CAP)``, where ``excess_f`` is how far
      feature ``f`` lies outside ``[low, high]`` in training standard deviations. The networks add
      it to their logit, so the score grows monotonically with the distance outside the range.

    Rows within the widened training range are untouched: the clip is the identity there and the
    range score is exactly 0, so their scores (and training itself) are bit-for-bit those of a
    network without the guard. Everything is elementwise torch (cheap, differentiable, finite for
    every finite float32 input: an overflowing ``excess`` is capped, and its gradient is 0 there).

    Args:
        n_features: Number of input features.
        margin: Widening of the training range on each side, in training standard deviations.
        weight: Logit added per standard deviation outside the widened range.
    """

    RANGE_BUFFERS = ("low", "high", "range_weight")
    EXCESS_CAP = 1e4

    def __init__(self, n_features: int, margin: float = 0.5, weight: float = 1.0) -> None:
        super().__init__()
        self.margin, self.weight = float(margin), float(weight)
        big = float(np.finfo(np.float32).max)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.register_buffer("low", torch.full((n_features,), -big))
        self.register_buffer("high", torch.full((n_features,), big))
        self.register_buffer("range_weight", torch.zeros(()))

    @torch.no_grad()
    def fit(self, X: np.ndarray) -> Standardize:
        """Set mean, standard deviation (constant features get scale 1) and the guarded range."""
        std = X.std(axis=0)
        self.mean.copy_(torch.as_tensor(X.mean(axis=0), dtype=torch.float32))
        self.scale.copy_(torch.as_tensor(np.where(std > 1e-8, std, 1.0), dtype=torch.float32))
        z = self._standardize(torch.from_numpy(np.array(X, dtype=np.float32)).to(self.mean.device))
        self.low.copy_(z.min(dim=0).values - self.margin)
        self.high.copy_(z.max(dim=0).values + self.margin)
        self.range_weight.fill_(self.weight)
        return self

    @torch.no_grad()
    def disable_range_guard(self) -> None:
        """No clipping and no range score (checkpoints saved before the guard existed)."""
        big = float(np.finfo(np.float32).max)
        self.low.fill_(-big)
        self.high.fill_(big)
        self.range_weight.zero_()

    def _standardize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d)`` raw rows -> ``(n, d)`` standardised rows, clipped to the guarded range."""
        return torch.clamp(self._standardize(x), self.low, self.high)

    def range_score(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d)`` raw rows -> ``(n,)`` logit increment, 0 inside the guarded range (see the class doc)."""
        return self.guarded(x)[1]

    def guarded(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``forward(x)`` and ``range_score(x)`` from one standardisation (the networks' hot path).

        The excess outside the range is ``|z - clip(z)|``: the clip is already computed, and this is
        exactly ``relu(z - high) + relu(low - z)`` (one term is always 0), values and gradients alike.
        """
        z = self._standardize(x)
        clipped = torch.clamp(z, self.low, self.high)
        excess = (z - clipped).abs().clamp(max=self.EXCESS_CAP)
        return clipped, self.range_weight * excess.sum(dim=-1)


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
        # One batched matmul per token (l, n, p) @ (l, p, d), position added in the same call: at
        # batch 1 this costs half of the equivalent einsum's permutes and reshapes.
        return torch.baddbmm(self.position[:, None, :], patches.transpose(0, 1), self.value_weight).transpose(
            0, 1
        )


class PeriodicTokenizer(nn.Module):
    """``(n, n_features) -> (n, n_tokens, d_model)`` through periodic numeric embeddings (PLR).

    Gorishniy, Rubachev & Babenko (NeurIPS 2022): each value ``x_f`` becomes
    ``[sin(2 pi c_f x_f), cos(2 pi c_f x_f)]`` with ``n_frequencies`` learned frequencies ``c_f``
    (initialised from ``N(0, sigma^2)``); a token is ``ReLU(periodic features of its patch @ W_l + b_l)
    + pos_l``. A linear map of a scalar can only say "more is more anomalous"; these let a token
    respond to a band of values. Same patching rule as :class:`FeatureTokenizer`.

    Args:
        n_features: Number of input features.
        d_model: Token width.
        max_tokens: Upper bound on the number of tokens.
        n_frequencies: Learned frequencies per feature.
        sigma: Scale of the initial frequencies, in cycles per standard deviation.
    """

    def __init__(
        self, n_features: int, d_model: int, max_tokens: int, n_frequencies: int = 8, sigma: float = 0.1
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.patch_size, self.n_tokens = patch_layout(n_features, max_tokens)
        self.n_padding = self.patch_size * self.n_tokens - n_features
        width = 2 * n_frequencies * self.patch_size
        self.frequencies = nn.Parameter(torch.randn(self.n_tokens, self.patch_size, n_frequencies) * sigma)
        self.value_weight = nn.Parameter(torch.randn(self.n_tokens, width, d_model) / math.sqrt(width))
        self.value_bias = nn.Parameter(torch.zeros(self.n_tokens, d_model))
        self.position = nn.Parameter(torch.randn(self.n_tokens, d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed standardised rows as a token sequence."""
        if self.n_padding:
            x = nn.functional.pad(x, (0, self.n_padding))
        patches = x.view(x.shape[0], self.n_tokens, self.patch_size)
        angles = (2 * math.pi) * patches[..., None] * self.frequencies  # (n, L, p, k)
        periodic = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1).flatten(2)  # (n, L, 2kp)
        tokens = torch.einsum("nlf,lfd->nld", periodic, self.value_weight) + self.value_bias
        return torch.relu(tokens) + self.position


class PiecewiseLinearTokenizer(nn.Module):
    """``(n, n_features) -> (n, n_tokens, d_model)`` through piecewise-linear encodings (PLE).

    Gorishniy, Rubachev & Babenko (NeurIPS 2022): feature ``f`` is cut at quantiles of the training
    rows into ``n_bins`` bins, and bin ``b`` with edges ``[e_b, e_b+1)`` encodes a value as
    ``clip((x_f - e_b) / (e_b+1 - e_b), 0, 1)`` (1 below the value's bin, 0 above, the fraction
    inside). A token is a linear map of its patch's encodings plus a position embedding, so it is a
    learned piecewise-linear function of its features: it can respond to a band of values, as a tree
    does, where a linear token can only say "more is more anomalous". Each encoding column is
    standardised on the training rows, folded into one ``addcmul`` and a ``clamp`` with per-column
    bounds. A feature with fewer distinct quantiles (a binary one) uses fewer bins; the rest are 0.
    Same patching rule as :class:`FeatureTokenizer`. The bins are fitted by :meth:`fit` (the detector
    calls it on the standardised training rows of a fresh fit) and saved with the weights.

    Args:
        n_features: Number of input features.
        d_model: Token width.
        max_tokens: Upper bound on the number of tokens.
        n_bins: Bins per feature.
    """

    BIN_BUFFERS = ("bin_slope", "bin_offset", "bin_low", "bin_high")

    def __init__(self, n_features: int, d_model: int, max_tokens: int, n_bins: int = 16) -> None:
        super().__init__()
        self.n_features, self.n_bins = n_features, int(n_bins)
        self.patch_size, self.n_tokens = patch_layout(n_features, max_tokens)
        self.n_padding = self.patch_size * self.n_tokens - n_features
        width = self.patch_size * self.n_bins
        for name in self.BIN_BUFFERS:  # 0 until fitted: every column is 0
            self.register_buffer(name, torch.zeros(n_features, self.n_bins))
        self.value_weight = nn.Parameter(torch.randn(self.n_tokens, width, d_model) / math.sqrt(width))
        self.position = nn.Parameter(torch.randn(self.n_tokens, d_model) * 0.02)

    @torch.no_grad()
    def fit(self, z: np.ndarray) -> PiecewiseLinearTokenizer:
        """Fit the bins and each encoding column's mean and scale on the rows ``z`` ``(n, n_features)``."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.n_features or len(z) == 0:
            raise ValueError(
                f"PiecewiseLinearTokenizer.fit needs rows of {self.n_features} features, got {z.shape}"
            )
        slope, offset, low, high = (np.zeros((self.n_features, self.n_bins)) for _ in range(4))
        quantiles = np.quantile(z, np.linspace(0.0, 1.0, self.n_bins + 1), axis=0)  # (bins + 1, features)
        for f in range(self.n_features):
            edges = np.unique(quantiles[:, f])
            if len(edges) < 2:  # a constant feature: no bins
                continue
            left, width = edges[:-1], np.diff(edges)
            encoded = np.clip((z[:, [f]] - left) / width, 0.0, 1.0)
            mean, std = encoded.mean(axis=0), encoded.std(axis=0)
            std = np.where(std > 1e-8, std, 1.0)
            used = slice(0, len(left))
            # standardised clip((z - left) / width, 0, 1) == clip(z * slope + offset, low, high)
            slope[f, used], offset[f, used] = 1.0 / (width * std), -(left / width + mean) / std
            low[f, used], high[f, used] = -mean / std, (1.0 - mean) / std
        for name, value in zip(self.BIN_BUFFERS, (slope, offset, low, high), strict=True):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed standardised rows as a token sequence."""
        n = x.shape[0]
        encoded = torch.clamp(
            torch.addcmul(self.bin_offset, x[:, :, None], self.bin_slope), self.bin_low, self.bin_high
        )
        encoded = encoded.view(n, self.n_features * self.n_bins)
        if self.n_padding:
            encoded = nn.functional.pad(encoded, (0, self.n_padding * self.n_bins))
        patches = encoded.view(n, self.n_tokens, self.patch_size * self.n_bins)
        # One batched matmul per token, position added in the same call (see FeatureTokenizer).
        return torch.baddbmm(self.position[:, None, :], patches.transpose(0, 1), self.value_weight).transpose(
            0, 1
        )


def fit_tokenizers(network: nn.Module, X: np.ndarray) -> None:
    """Fit every tokenizer of ``network`` that learns from the training rows (bins) on raw rows ``X``.

    The tokenizers see ``network.standardize(X)`` (fitted first), as they do at inference.
    """
    tokenizers = [m for m in network.modules() if isinstance(m, PiecewiseLinearTokenizer)]
    if not tokenizers:
        return
    with torch.no_grad():
        z = network.standardize(
            torch.as_tensor(X, dtype=torch.float32, device=network.standardize.mean.device)
        )
    first = tokenizers[0].fit(z.cpu().numpy())
    for tokenizer in tokenizers[1:]:  # the experts' bins are the same: fit once, copy
        if (tokenizer.n_features, tokenizer.n_bins) != (first.n_features, first.n_bins):
            raise ValueError("fit_tokenizers: piecewise-linear tokenizers of different shapes in one network")
        for name in PiecewiseLinearTokenizer.BIN_BUFFERS:
            getattr(tokenizer, name).copy_(getattr(first, name))


NUMERIC_EMBEDDINGS = {
    "linear": FeatureTokenizer,
    "periodic": PeriodicTokenizer,
    "piecewise_linear": PiecewiseLinearTokenizer,
}
"""Feature-token embeddings by name (``MambaMoEDetector(numeric_embedding=...)``)."""


def make_tokenizer(name: str, n_features: int, d_model: int, max_tokens: int) -> nn.Module:
    """The tokenizer ``name`` of :data:`NUMERIC_EMBEDDINGS` (``ValueError`` naming the choices)."""
    if name not in NUMERIC_EMBEDDINGS:
        raise ValueError(f"numeric_embedding must be one of {sorted(NUMERIC_EMBEDDINGS)}, got {name!r}")
    return NUMERIC_EMBEDDINGS[name](n_features, d_model, max_tokens)
