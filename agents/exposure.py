"""Outlier exposure by perturbation: synthetic anomalies around the normal rows, off their manifold.

The loop's synthetic anomalies are decoded by a VAE fitted to the data, so they stay on the data's
manifold: they teach the detector little about rows that break the normal rows' structure, which is
what anomalies of a kind never labeled look like. Rows perturbed off the normal rows at several scales
are the classic generic negative for that ("artificial anomalies", Abe et al. 2006; the reference
distribution of Steinwart et al. 2005). :func:`perturbed_normals` draws them; the deployment fit adds
them as anomalies when ``LoopOptions.exposure_weight`` > 0 (off by default).

Evidence (``benchmarks/results/probes/perturbation``): on anomaly types held out of training they lift
CatBoost + score columns on every type, but on ADBench's real anomalies the same rows cost AUC (real
anomalies often sit close to the normal rows, inside the perturbation shell), so they are opt-in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hydra_env.support import FeatureSupport

__all__ = ["EXPOSURE_ROWS", "EXPOSURE_SCALES", "exposure_rows", "perturbed_normals"]

EXPOSURE_ROWS = 96
"""Perturbed rows drawn per deployment fit (their total weight is set separately)."""
EXPOSURE_SCALES = (0.5, 1.0, 2.0)
"""Noise scales, in standard deviations of each feature over the normal rows; rows cycle through them."""


def perturbed_normals(
    X: np.ndarray,
    y: np.ndarray,
    n_rows: int = EXPOSURE_ROWS,
    scales: tuple[float, ...] = EXPOSURE_SCALES,
    seed: int = 0,
) -> np.ndarray:
    """Rows labeled normal (``y == 0``), resampled, plus Gaussian noise of ``scale`` x each feature's std.

    Discrete features (flags, categories, counts) are then snapped to values the training rows take
    (:class:`hydra_env.support.FeatureSupport`, as the loop's rows are), so no row is anomalous by a
    value no real row can have.

    Args:
        X: Training rows (n, d), finite.
        y: Labels; 0 = normal or unlabeled (the rows perturbed), 1 = labeled anomaly.
        n_rows: Rows to draw (>= 1); row i gets ``scales[i % len(scales)]``.
        scales: Positive noise scales in feature standard deviations.
        seed: Seed of the draw; the same seed gives the same rows.

    Returns:
        Array (n_rows, d), float32.

    Raises:
        ValueError: no normal row, a bad shape, non-finite rows, ``n_rows`` < 1 or a scale <= 0.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or len(X) != len(y) or not np.isfinite(X).all():
        raise ValueError(f"X must be a finite 2-D array with one row per label, got shape {X.shape}")
    normal = X[y == 0]
    if len(normal) == 0:
        raise ValueError("no row labeled normal (y == 0) to perturb")
    if int(n_rows) < 1:
        raise ValueError(f"n_rows must be >= 1, got {n_rows}")
    per_row = np.asarray(scales, dtype=np.float64)
    if per_row.ndim != 1 or len(per_row) == 0 or not (np.isfinite(per_row).all() and (per_row > 0).all()):
        raise ValueError(f"scales must be positive finite numbers, got {scales!r}")
    rs = np.random.RandomState(seed)
    centres = normal[rs.randint(0, len(normal), int(n_rows))]
    per_row = per_row[np.arange(int(n_rows)) % len(per_row)]
    noise = rs.standard_normal(centres.shape) * per_row[:, None] * normal.std(axis=0)
    return FeatureSupport().fit(X).snap((centres + noise).astype(np.float32))


def exposure_rows(options: Any, X_train: np.ndarray, y_train: np.ndarray, seed: int) -> np.ndarray:
    """The rows a deployment fit with ``options`` (``LoopOptions``) adds; ``(0, d)`` when it adds none."""
    if not options.exposure_weight:
        return np.zeros((0, np.shape(X_train)[1]), dtype=np.float32)
    return perturbed_normals(X_train, y_train, seed=seed)
