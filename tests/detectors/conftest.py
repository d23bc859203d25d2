"""Small data sets and tiny detector settings shared by the detector tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from detectors.persistence import LEGACY_FORMAT
from hydra_env.datasets import adbench_split, load

# Tiny models keep every test file well under a minute on one core.
TINY_SINGLE = {"d_model": 8, "n_layers": 1, "d_state": 2, "max_tokens": 8, "epochs": 6, "device": "cpu"}
TINY_MOE = {"d_model": 8, "n_layers": 1, "d_state": 2, "max_tokens": 8, "epochs": 6, "device": "cpu"}


def save_legacy(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` as swift-hydra did before files carried a checksum (format 1: the dict itself)."""
    torch.save({**state, "format": LEGACY_FORMAT}, path)


@pytest.fixture(scope="session")
def wdbc_split():
    """Embedded WDBC, ADBench split with every training anomaly labeled (la = 1)."""
    X, y = load("wdbc")
    return adbench_split(X, y, la=1.0, seed=1)


@pytest.fixture(scope="session")
def blobs():
    """Four well separated clusters of normal rows plus scattered labeled anomalies."""
    rng = np.random.RandomState(0)
    X, _ = make_blobs(
        n_samples=400, centers=4, n_features=6, cluster_std=0.5, center_box=(-20, 20), random_state=0
    )
    anomalies = rng.uniform(-25, 25, size=(30, 6))
    X = np.vstack([X, anomalies])
    y = np.r_[np.zeros(400, dtype=int), np.ones(30, dtype=int)]
    return X, y
