"""Plots of a Swift Hydra run (matplotlib, Agg backend; written atomically as PNG).

* ``val_auc.png``: validation AUC-ROC / AUC-PR of the in-loop detector per round (test-free).
* ``reward.png``: mean / max candidate reward and mean kept reward per round.
* ``projection.png``: 2-D PCA of real normals, real labeled anomalies and kept synthetic anomalies.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)
    return path


def _series(metrics: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [(m["round"], m[key]) for m in metrics if m.get(key) is not None]
    if not rows:
        return np.zeros(0), np.zeros(0)
    rounds, values = zip(*rows, strict=True)
    return np.asarray(rounds), np.asarray(values, dtype=float)


def _rounds_plot(
    metrics: list[dict[str, Any]],
    series: tuple[tuple[str, str], ...],
    ylabel: str,
    title: str,
    path: str | Path,
) -> Path:
    """One line per ``(metric key, label)`` against the round number."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for key, label in series:
        rounds, values = _series(metrics, key)
        ax.plot(rounds, values, marker="o", label=label)
    ax.set_xlabel("round")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    try:
        return _save(fig, Path(path))
    finally:
        plt.close(fig)


def plot_val_auc(metrics: list[dict[str, Any]], path: str | Path) -> Path:
    """Validation AUC per round (round 0 = the pre-trained detector)."""
    series = (("val_auc_roc", "AUC-ROC"), ("val_auc_pr", "AUC-PR"))
    return _rounds_plot(metrics, series, "validation score", "In-loop detector on the validation split", path)


def plot_rewards(metrics: list[dict[str, Any]], path: str | Path) -> Path:
    """Candidate and kept rewards per round."""
    series = (
        ("reward_mean", "candidates (mean)"),
        ("reward_max", "candidates (max)"),
        ("kept_reward_mean", "kept top-l (mean)"),
    )
    return _rounds_plot(metrics, series, "env reward", "Reward of generated anomalies", path)


def plot_projection(
    X_train: np.ndarray, y_train: np.ndarray, X_synthetic: np.ndarray, path: str | Path, seed: int = 0
) -> Path:
    """2-D PCA (fitted on the real training rows) of normals, labeled anomalies and synthetic anomalies."""
    from sklearn.decomposition import PCA

    plt = _pyplot()
    X_train = np.asarray(X_train, dtype=np.float64)
    y_train = np.asarray(y_train)
    pca = PCA(n_components=min(2, X_train.shape[1]), random_state=seed).fit(X_train)

    def project(X: np.ndarray) -> np.ndarray:
        P = pca.transform(np.asarray(X, dtype=np.float64)) if len(X) else np.zeros((0, pca.n_components_))
        return P if P.shape[1] == 2 else np.c_[P, np.zeros(len(P))]

    fig, ax = plt.subplots(figsize=(5, 4))
    groups = (
        (X_train[y_train == 0], "real normal / unlabeled", "tab:blue", 8, 0.3),
        (X_train[y_train == 1], "real labeled anomaly", "tab:red", 40, 0.9),
        (np.asarray(X_synthetic), "synthetic anomaly (kept)", "tab:orange", 14, 0.7),
    )
    for X, label, color, size, alpha in groups:
        P = project(X)
        ax.scatter(P[:, 0], P[:, 1], s=size, c=color, alpha=alpha, label=f"{label} ({len(P)})")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("PCA of the training split")
    ax.legend(fontsize=7)
    try:
        return _save(fig, Path(path))
    finally:
        plt.close(fig)
