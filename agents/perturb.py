"""Rows perturbed off the data: the synthetic anomalies of outlier exposure and the reference sample.

Gaussian noise at several scales of each feature's standard deviation around rows of the data, the
classic generic negative for "off the data's structure" ("artificial anomalies", Abe et al. 2006; the
reference distribution of Steinwart et al. 2005). :mod:`agents.exposure` labels them anomalous in the
deployment fit; :mod:`agents.reference_score` trains a classifier to tell the real rows from them.
"""

from __future__ import annotations

import numpy as np

from hydra_env.support import FeatureSupport

__all__ = ["EXPOSURE_ROWS", "EXPOSURE_SCALES", "perturbed_normals"]

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
