"""The deployment detectors Swift Hydra can ship, by name, and how the kept anomalies join their training.

``deploy="catboost"`` (the default), ``"lightgbm"`` or ``"mome"``. Whatever the choice, Swift Hydra
and its paired no-augmentation control fit the *same* detector with the same seed; only the kept
synthetic anomalies differ, so the gain from the synthetic data is measured for every family.

Synthetic anomalies are weighted, not trusted blindly: together they weigh ``synthetic_weight`` times
the labeled anomalies (each at most as much as one real row). Boosters take the weights directly;
MoME has no per-row weights, so it sees each kept row once (its own class re-weighting applies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["DEPLOY_CHOICES", "fit_deployment", "make_deploy_detector", "synthetic_weights"]


def _boosted(booster: str) -> Callable[[Any, int, str], Any]:
    def make(budget: Any, seed: int, device: str) -> Any:
        from detectors.boosted import BoostedDetector

        return BoostedDetector(booster=booster, random_state=seed)

    return make


def _mome(budget: Any, seed: int, device: str) -> Any:
    from detectors import MambaMoEDetector

    return MambaMoEDetector(
        n_experts=budget.n_experts,
        epochs=budget.deploy_epochs,
        d_model=budget.d_model,
        n_layers=budget.n_layers,
        random_state=seed,
        device=device,
    )


DEPLOY_CHOICES: dict[str, Callable[[Any, int, str], Any]] = {
    "catboost": _boosted("catboost"),
    "lightgbm": _boosted("lightgbm"),
    "mome": _mome,
}
"""Deployment detector name -> factory ``(budget, seed, device) -> unfitted detector``.

``budget`` is an :class:`agents.config.Budget` (not imported here: config validates names against
this table, so the import goes one way).
"""


def check_deploy(name: str) -> str:
    """``name`` if it is a deployment choice, else a ``ValueError`` listing them."""
    if name not in DEPLOY_CHOICES:
        raise ValueError(f"unknown deployment detector {name!r}; choose from {sorted(DEPLOY_CHOICES)}")
    return name


def make_deploy_detector(name: str, budget: Any, seed: int, device: str = "cpu") -> Any:
    """An unfitted deployment detector of family ``name``."""
    return DEPLOY_CHOICES[check_deploy(name)](budget, seed, device)


def synthetic_weights(y_train: np.ndarray, n_kept: int, synthetic_weight: float) -> np.ndarray:
    """Per-row weights: 1 for real rows; the kept rows share ``synthetic_weight * n_labeled``, each <= 1."""
    n_labeled = int(np.sum(np.asarray(y_train) == 1))
    each = min(1.0, synthetic_weight * max(n_labeled, 1) / n_kept) if n_kept else 0.0
    return np.concatenate([np.ones(len(y_train)), np.full(n_kept, each)])


def fit_deployment(
    name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    kept: np.ndarray,
    *,
    budget: Any,
    seed: int,
    synthetic_weight: float = 1.0,
    device: str = "cpu",
) -> Any:
    """Fits deployment detector ``name`` on the training split plus ``kept`` synthetic anomalies (label 1).

    ``kept`` empty gives the no-augmentation control.
    """
    from hydra_env.rounds import stack_training_set

    detector = make_deploy_detector(name, budget, seed, device)
    X, y = stack_training_set(X_train, y_train, kept)
    if name == "mome" or len(kept) == 0:
        return detector.fit(X, y)
    return detector.fit(X, y, sample_weight=synthetic_weights(y_train, len(kept), synthetic_weight))
