"""What the policy leaderboard measures of a policy's generated rows: evasion and diversity.

Definitions in :mod:`benchmarks.policies`' docstring; :mod:`benchmarks.policies` re-exports every name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.policies_report import EVASION_THRESHOLD


def anomaly_proba(detector: Any, X: np.ndarray) -> np.ndarray:
    """The detector's P(anomaly) of each row of ``X`` (its public ``predict_proba``, column 1)."""
    if len(X) == 0:
        return np.zeros(0)
    return np.asarray(detector.predict_proba(np.asarray(X, dtype=np.float64)))[:, 1]


def evasion_rate(detector: Any, X: np.ndarray, threshold: float = EVASION_THRESHOLD) -> float | None:
    """Share of the rows of ``X`` the detector misses (``P(anomaly) < threshold``); ``None`` when empty."""
    return float(np.mean(anomaly_proba(detector, X) < threshold)) if len(X) else None


def evasion_metrics(detector: Any, X: np.ndarray) -> dict[str, float | None]:
    """How well the rows of ``X`` evade ``detector`` (``None`` for every metric when ``X`` is empty).

    Returns:
        ``evasion_rate`` (P(anomaly) < 0.5), ``miss_probability`` (mean 1 - P(anomaly): it keeps ranking
        policies when the rate saturates at 1) and ``threshold_evasion_rate`` (share labeled normal by
        ``detector.predict``, i.e. at its own ``threshold_``, which flags its top labeled-anomaly share
        of training rows).
    """
    if len(X) == 0:
        return {"evasion_rate": None, "miss_probability": None, "threshold_evasion_rate": None}
    proba = anomaly_proba(detector, X)
    return {
        "evasion_rate": float(np.mean(proba < EVASION_THRESHOLD)),
        "miss_probability": float(np.mean(1.0 - proba)),
        "threshold_evasion_rate": float(np.mean(detector.predict(np.asarray(X, dtype=np.float64)) == 0)),
    }


def diversity(X: np.ndarray, anomalies: np.ndarray, k: int = 3) -> dict[str, float | None]:
    """Diversity of generated rows ``X`` (n, d) in the scaled feature space (see the module docstring).

    Returns:
        ``entropy_gain`` (mean k-NN entropy gain against ``anomalies``), ``pairwise_distance`` (mean
        pairwise Euclidean distance / sqrt(d); ``None`` below two rows) and ``distinct_fraction``.
    """
    import torch

    from hydra_env.rewards import KNNEntropyGain

    if len(X) == 0:
        return {"entropy_gain": None, "pairwise_distance": None, "distinct_fraction": None}
    x = torch.as_tensor(np.asarray(X, dtype=np.float32))
    with torch.inference_mode():
        gain = float(KNNEntropyGain(anomalies, k=k)(x).mean())
        pairwise = float(torch.pdist(x).mean()) / math.sqrt(x.shape[1]) if len(x) > 1 else None
    distinct = len(np.unique(np.round(X, 6), axis=0)) / len(X)
    return {"entropy_gain": gain, "pairwise_distance": pairwise, "distinct_fraction": distinct}
