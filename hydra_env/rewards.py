"""The two reward terms of Swift Hydra: the detector's miss probability and a k-NN entropy gain.

Both work on batches of torch tensors so the single env and the batched vector env share one hot path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

# The matrix-multiplication shortcut of cdist loses exact zeros (duplicates) to cancellation.
_EXACT = "donot_use_mm_for_euclid_dist"


def anomaly_probability(detector: Any, x: torch.Tensor) -> torch.Tensor:
    """P(anomaly) of each row of ``x`` under ``detector``, as a (n,) tensor on ``x``'s device.

    Dispatches to the detector's torch hot path ``anomaly_proba_torch`` when it has one (no
    validation, no device round trip); otherwise calls ``predict_proba`` on numpy and takes column 1.
    """
    fast = getattr(detector, "anomaly_proba_torch", None)
    if fast is not None:
        return fast(x).reshape(-1)
    proba = detector.predict_proba(x.detach().cpu().numpy())
    return torch.as_tensor(np.asarray(proba)[:, 1], dtype=x.dtype, device=x.device)


def miss_probability(detector: Any, x: torch.Tensor) -> torch.Tensor:
    """1 - P(anomaly): how likely the detector is to miss each synthetic anomaly."""
    return 1.0 - anomaly_probability(detector, x)


class KNNEntropyGain:
    """Incremental k-NN (Kozachenko-Leonenko style) entropy gain of an anomaly set.

    The Kozachenko-Leonenko estimator of differential entropy is, up to constants,
    ``(d / n) * sum_i log eps_k(i)``, where ``eps_k(i)`` is the distance from point ``i`` to its k-th
    nearest neighbour. A new point ``x`` therefore raises the estimate by about ``log eps(x)`` relative
    to the set's typical spacing. The gain used here is

        gain(x) = log(1 + eps(x) / rho),   eps(x) = geometric mean of the distances from x to its
                                            k nearest members of the set,
                                            rho    = median of the same quantity over the set's members
                                                     (leave-one-out), the typical spacing.

    Properties: ``gain >= 0``; an exact duplicate of a member has a zero nearest distance, so its
    geometric mean and its gain are exactly 0; a point at the typical spacing earns ``log 2``; the gain
    grows like ``log(distance)`` for far points (diversity pays, but with diminishing returns, so it
    cannot swamp the miss probability). The set itself is not updated per step (that would make the
    reward depend on history); it grows when kept synthetic anomalies are added with :meth:`add`.

    Args:
        anomalies: (m, d) initial anomaly set (labeled training anomalies); may be empty.
        k: Number of neighbours (capped by the set size).
        device: Torch device of the stored set.
    """

    def __init__(self, anomalies: np.ndarray | torch.Tensor, k: int = 3, device: str | torch.device = "cpu"):
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = int(k)
        self.device = torch.device(device)
        self.points = torch.as_tensor(np.asarray(anomalies, dtype=np.float32), device=self.device)
        if self.points.ndim != 2:
            raise ValueError(f"anomalies must be a 2-D array, got shape {tuple(self.points.shape)}")
        self._refresh_scale()

    @property
    def size(self) -> int:
        """Number of points in the anomaly set."""
        return int(self.points.shape[0])

    def add(self, samples: np.ndarray | torch.Tensor) -> None:
        """Adds samples (e.g. kept synthetic anomalies) to the set and re-estimates the spacing."""
        new = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=self.device).reshape(
            -1, self.points.shape[1]
        )
        self.points = torch.cat([self.points, new], dim=0)
        self._refresh_scale()

    def _refresh_scale(self) -> None:
        m = self.size
        if m < 2:
            # One point or none: no spacing to measure; unit scale (features are MinMax-scaled).
            self.rho = 1.0
            return
        dist = torch.cdist(self.points, self.points, compute_mode=_EXACT)
        dist.fill_diagonal_(float("inf"))
        k = min(self.k, m - 1)
        near = dist.topk(k, dim=1, largest=False).values
        geo = torch.exp(torch.log(near.clamp_min(1e-12)).mean(dim=1))
        rho = float(geo.median())
        # Duplicated training anomalies would give rho = 0; fall back to the mean, then to 1.
        self.rho = rho if rho > 1e-9 else (float(geo.mean()) if float(geo.mean()) > 1e-9 else 1.0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Gain of each row of ``x`` (n, d) if it joined the set; (n,) tensor on ``x``'s device."""
        if self.size == 0:
            return torch.full((x.shape[0],), float(np.log(2.0)), dtype=x.dtype, device=x.device)
        k = min(self.k, self.size)
        near = torch.cdist(x, self.points, compute_mode=_EXACT).topk(k, dim=1, largest=False).values
        # log(0) = -inf -> geometric mean 0 for an exact duplicate, gain exactly 0.
        eps = torch.exp(torch.log(near).mean(dim=1))
        return torch.log1p(eps / self.rho)
