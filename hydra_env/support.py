"""Synthetic rows live where real rows can: discrete features are snapped to values the data takes.

The VAE decodes every feature as a continuous number in [0, 1]. Many tabular features are not
continuous: binary flags (all 1555 of InternetAds), categories and small counts. A synthetic row
with 0.37 in a 0/1 column is trivially "synthetic": a tree ensemble separates it from every real row
by that value alone, so it learns nothing about anomalies from it (label leakage), and CatBoost must
quantize a column that had two values into 254 borders (a swift_hydra cell on InternetAds took
25-140 s against 9 s for its control). :class:`FeatureSupport` remembers, for each feature with few
distinct training values, the values it takes, and moves synthetic values to the nearest one.
Continuous features are left alone.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_LEVELS", "FeatureSupport"]

MAX_LEVELS = 32
"""A feature with at most this many distinct training values is treated as discrete."""


class FeatureSupport:
    """The value sets of the discrete features of ``X`` (see the module docstring).

    Args:
        max_levels: Features with at most this many distinct values are discrete.

    Attributes:
        levels_: ``{column: sorted distinct values}`` of the discrete columns, after :meth:`fit`.
        n_features_in_: Number of columns seen in :meth:`fit`.
    """

    def __init__(self, max_levels: int = MAX_LEVELS) -> None:
        if int(max_levels) < 1:
            raise ValueError(f"max_levels must be a positive integer, got {max_levels!r}")
        self.max_levels = int(max_levels)

    def fit(self, X: np.ndarray) -> FeatureSupport:
        """Records the value set of every column of ``X`` with at most ``max_levels`` distinct values."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
        self.n_features_in_ = X.shape[1]
        self.levels_: dict[int, np.ndarray] = {}
        for column in range(X.shape[1]):
            values = np.unique(X[:, column])
            if len(values) <= self.max_levels:
                self.levels_[column] = values
        return self

    def snap(self, X: np.ndarray) -> np.ndarray:
        """A copy of ``X`` (same dtype) with each discrete column moved to its nearest training value."""
        if not hasattr(self, "levels_"):
            raise RuntimeError("FeatureSupport.snap called before fit")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected rows of {self.n_features_in_} features, got shape {X.shape}")
        out = X.copy()
        for column, values in self.levels_.items():
            x = X[:, column].astype(np.float64)
            right = np.clip(np.searchsorted(values, x), 1, max(len(values) - 1, 1))
            left = right - 1
            if len(values) == 1:
                out[:, column] = values[0]
                continue
            nearer_left = np.abs(x - values[left]) <= np.abs(values[right] - x)
            out[:, column] = np.where(nearer_left, values[left], values[right])
        return out

    @property
    def n_discrete(self) -> int:
        """Number of discrete columns."""
        return len(self.levels_)
