"""Label-free anomaly scores computed in torch, as extra inputs of the MoME experts (the XGBOD recipe).

XGBOD (Zhao & Hryniewicki, 2018) feeds unsupervised outlier scores to a supervised model with few
labels; `detectors.boosted.BoostedDetector` does it with pyod scorers for CatBoost. MoME's scores
must stay on the env's hot path (``anomaly_proba_torch``: batch 1, in torch, differentiable w.r.t.
the row, one weight layout on CPU and CUDA), so they are re-implemented here as a few tensor ops on
fixed buffers learned from the training rows:

- ``"knn"``: log of the mean squared distance to the ``k`` nearest of (at most ``reference_rows``)
  reference rows, drawn from the training rows labeled 0. A row that coincides with a reference row
  (squared distance below ``SELF_MATCH``) skips that match, so training rows are scored as if they
  were left out (as pyod's ``KNN.decision_scores_``), and a test row equal to a training row gets the
  same score as that row.
- ``"ecod"``: ECOD-style two-sided tail score (Li et al., 2022), ``sum_f -log min(F_f(x), 1 - F_f(x))``
  with ``F_f`` each feature's empirical CDF, stored as ``QUANTILES`` quantiles and interpolated
  linearly; the tail probability is floored at ``1 / (n + 1)``.

Each score is standardised with its mean and standard deviation on the training rows, and clipped to
``[-CLIP, CLIP]``. Inputs are the standardised, range-clipped rows (`detectors.tokens.Standardize`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["LABEL_FREE_SCORES", "LabelFreeScores", "reference_indices"]

LABEL_FREE_SCORES = ("knn", "ecod")
QUANTILES = 129
SELF_MATCH = 1e-6
CLIP = 10.0


class LabelFreeScores(nn.Module):
    """``(n, d)`` standardised rows -> ``(n, S)`` standardised label-free scores (see the module doc).

    Args:
        n_features: Row width ``d``.
        names: Scores to compute, in order, from `LABEL_FREE_SCORES` (empty: ``(n, 0)``).
        reference_rows: Rows kept as the k-NN reference (``"knn"`` only).
        k: Neighbours averaged by ``"knn"`` (at most ``reference_rows - 1``).
    """

    def __init__(
        self, n_features: int, names: tuple[str, ...] | list[str], reference_rows: int, k: int
    ) -> None:
        super().__init__()
        unknown = [name for name in names if name not in LABEL_FREE_SCORES]
        if unknown:
            raise ValueError(f"unknown label-free score(s) {unknown}; choose from {list(LABEL_FREE_SCORES)}")
        self.names = tuple(names)
        self.k = int(max(1, min(k, reference_rows - 1)))
        rows = reference_rows if "knn" in self.names else 0
        self.register_buffer("reference", torch.zeros(rows, n_features))
        n_q = QUANTILES if "ecod" in self.names else 0
        self.register_buffer("quantiles", torch.zeros(n_features, n_q))
        self.register_buffer("tail_floor", torch.ones(()))
        self.register_buffer("score_mean", torch.zeros(len(self.names)))
        self.register_buffer("score_scale", torch.ones(len(self.names)))

    @property
    def n_scores(self) -> int:
        return len(self.names)

    @torch.no_grad()
    def fit(self, z: torch.Tensor, reference_idx: np.ndarray) -> LabelFreeScores:
        """Learn the buffers from standardised training rows ``z`` and the k-NN reference rows' indices."""
        if "knn" in self.names:
            self.reference.copy_(z[torch.as_tensor(reference_idx, dtype=torch.long, device=z.device)])
        if "ecod" in self.names:
            probs = torch.linspace(0, 1, QUANTILES, dtype=torch.float64)
            self.quantiles.copy_(torch.quantile(z.double().T, probs.to(z.device), dim=1).T.float())
            self.tail_floor.fill_(1.0 / (z.shape[0] + 1))
        if self.names:
            raw = self._raw(z)
            self.score_mean.copy_(raw.mean(dim=0))
            std = raw.std(dim=0, unbiased=False)
            self.score_scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))
        return self

    def _knn(self, z: torch.Tensor) -> torch.Tensor:
        # Exact differences (not the |a|^2 - 2ab + |b|^2 expansion): a row equal to a reference row gets
        # exactly 0, whatever the batch, so the self-match rule cannot flip between batch sizes.
        d2 = torch.cdist(z, self.reference, compute_mode="donot_use_mm_for_euclid_dist").pow(2)
        near = torch.topk(d2, min(self.k + 1, d2.shape[1]), dim=1, largest=False).values  # ascending
        if near.shape[1] <= self.k:  # a single reference row: nothing to skip
            return torch.log(near.mean(dim=1) + 1e-6)
        drop = torch.where(near[:, 0] < SELF_MATCH, near[:, 0], near[:, self.k])
        return torch.log((near.sum(dim=1) - drop) / self.k + 1e-6)

    def _ecod(self, z: torch.Tensor) -> torch.Tensor:
        q = self.quantiles
        n_q = q.shape[1]
        zt = z.T.contiguous()
        hi = torch.searchsorted(q, zt).clamp(1, n_q - 1)
        lo = hi - 1
        q_lo, q_hi = q.gather(1, lo), q.gather(1, hi)
        frac = ((zt - q_lo) / (q_hi - q_lo).clamp_min(1e-6)).clamp(0.0, 1.0)
        cdf = (lo + frac) / (n_q - 1)
        tail = torch.minimum(cdf, 1.0 - cdf).clamp_min(self.tail_floor)
        return -torch.log(tail).sum(dim=0)

    def _raw(self, z: torch.Tensor) -> torch.Tensor:
        parts = [self._knn(z) if name == "knn" else self._ecod(z) for name in self.names]
        return torch.stack(parts, dim=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Standardised scores ``(n, S)`` of standardised rows ``z``."""
        if not self.names:
            return z.new_zeros(z.shape[0], 0)
        return ((self._raw(z) - self.score_mean) / self.score_scale).clamp(-CLIP, CLIP)


def reference_indices(y: np.ndarray, reference_rows: int, seed: int) -> np.ndarray:
    """Indices of the k-NN reference: up to ``reference_rows`` rows labeled 0 (all of them if fewer), sorted."""
    normal = np.flatnonzero(y == 0)
    if len(normal) <= reference_rows:
        return normal
    return np.sort(np.random.RandomState(seed).choice(normal, reference_rows, replace=False))
