"""The deployment detectors Swift Hydra can ship, by name, and how the kept anomalies join their training.

``deploy="catboost"`` (the default), ``"lightgbm"`` or ``"mome"``. Whatever the choice, Swift Hydra
and its paired no-augmentation control fit the *same* detector with the same seed; only the kept
synthetic anomalies differ, so the gain from the synthetic data is measured for every family.

Synthetic anomalies are label noise unless they earn their place (ADGym measured GAN-made anomalies
costing 1.5-4.6 AUC points on ADBench, and our own quick subset agrees for CatBoost), so they join the
deployment fit only when held-out evidence says they help (:func:`choose_synthetic_weight`): a fast
proxy (LightGBM on the same widened rows) is fitted on the loop's fit part with and without them and
scored on its validation part; the kept rows are used only if that validation AUC-ROC improves by at
least ``GATE_MARGIN``. When they are used, together they weigh ``synthetic_weight`` times the labeled
anomalies (each at most as much as one real row). Boosters take the weights directly; MoME has no
per-row weights, so it sees each kept row once (its own class re-weighting applies).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "DEPLOY_CHOICES",
    "GATE_MARGIN",
    "MIN_GATE_ANOMALIES",
    "FEW_LABELS_JOIN_BELOW",
    "choose_synthetic_weight",
    "joins_without_gate",
    "fit_deployment",
    "make_deploy_detector",
    "synthetic_weights",
]

GATE_MARGIN = 0.02
"""Validation AUC-ROC gain the kept synthetic anomalies must bring before they join the deployment fit.

Large on purpose: at la = 0.1 the validation part holds a handful of labeled anomalies, so its AUC is
noisy (on cardio, seed 1, the proxy gained 4 points on validation while the test AUC fell 1 point).
"""
MIN_GATE_ANOMALIES = 2
FEW_LABELS_JOIN_BELOW: dict[str, int] = {}
"""Deployment family -> below this many labeled anomalies the kept rows join without the gate.

Empty: no family qualifies. With one to three labeled anomalies no gate can judge (the validation part
holds at most one). The generators table (``benchmarks/results/generators/``: 8 shared sets x seeds
1-3, gate off, ``tiny``) found the loop's rows raising MoME with Wilcoxon p < 0.05 at K = 1 and 3, so
``{"mome": 4}`` was tried; on 8 other shared sets at the ``small`` budget the check did not confirm
it (``research/probes/mome_few_labels``), so it was withdrawn. The mechanism stays for a family that
passes such a check.
"""


def joins_without_gate(deploy: str, y_train: np.ndarray) -> bool:
    """Whether the few-labels rule lets the kept rows into ``deploy``'s fit without the gate."""
    below = FEW_LABELS_JOIN_BELOW.get(deploy)
    return below is not None and int(np.sum(np.asarray(y_train) == 1)) < below


def _boosted(booster: str) -> Callable[[Any, int, str], Any]:
    def make(budget: Any, seed: int, device: str) -> Any:
        from detectors.boosted import BoostedDetector

        return BoostedDetector(booster=booster, random_state=seed)

    return make


def _mome(budget: Any, seed: int, device: str) -> Any:
    from detectors.moe import TABLE_SETTINGS, MambaMoEDetector

    # The tables' MoME (every row trains, TABLE_SETTINGS' members per expert); size, epochs and the step cap
    # come from the budget, like the in-loop detector's.
    settings = {k: v for k, v in TABLE_SETTINGS.items() if k != "max_steps_per_epoch"}
    return MambaMoEDetector(
        n_experts=budget.n_experts,
        epochs=budget.deploy_epochs,
        **settings,
        **budget.mamba_kwargs(seed, device),
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


def synthetic_weights(
    y_train: np.ndarray,
    n_kept: int,
    synthetic_weight: float,
    n_exposure: int = 0,
    exposure_weight: float = 0.0,
) -> np.ndarray:
    """Per-row weights: 1 for real rows; each synthetic group shares its weight x ``n_labeled``, each <= 1.

    The kept rows share ``synthetic_weight * n_labeled``, then the outlier-exposure rows (if any) share
    ``exposure_weight * n_labeled``, in the order :func:`fit_deployment` stacks them.
    """
    n_labeled = max(int(np.sum(np.asarray(y_train) == 1)), 1)

    def share(n_rows: int, weight: float) -> np.ndarray:
        return np.full(n_rows, min(1.0, weight * n_labeled / n_rows) if n_rows else 0.0)

    return np.concatenate(
        [np.ones(len(y_train)), share(n_kept, synthetic_weight), share(n_exposure, exposure_weight)]
    )


def fit_deployment(
    name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    kept: np.ndarray,
    *,
    budget: Any,
    seed: int,
    synthetic_weight: float = 1.0,
    exposure: np.ndarray | None = None,
    exposure_weight: float = 0.0,
    reference_column: bool = False,
    blend: float = 0.0,
    device: str = "cpu",
) -> Any:
    """Fits deployment detector ``name`` on the training split plus synthetic anomalies (label 1).

    The synthetic anomalies are the loop's ``kept`` rows (dropped when ``synthetic_weight`` is 0) and
    the outlier-exposure rows ``exposure`` (:func:`agents.exposure.perturbed_normals`; dropped when
    ``exposure_weight`` is 0). With neither, and no ``reference_column``, this is the no-augmentation
    control. Boosters fit their label-free score columns without the exposure rows; with
    ``reference_column`` they gain the column of :class:`agents.reference_score.ReferenceClassifier` (a
    detector without a ``reference`` parameter, MoME, is fitted without it). With ``blend`` > 0 and
    synthetic rows to add, the result is a :class:`detectors.blend.LogOddsBlend` of the fit without
    them and the fit with them, at weight ``blend`` on the latter (``LoopOptions.synthetic_blend``).
    """
    from hydra_env.rounds import stack_training_set

    detector = make_deploy_detector(name, budget, seed, device)
    if reference_column and hasattr(detector, "reference"):
        from agents.reference_score import ReferenceClassifier

        detector.reference = ReferenceClassifier(random_state=seed)
    kept = np.asarray(kept).reshape(-1, np.shape(X_train)[1])[: len(kept) if synthetic_weight else 0]
    exposure = (
        np.zeros((0, kept.shape[1])) if exposure is None or not exposure_weight else np.asarray(exposure)
    )
    X, y = stack_training_set(X_train, y_train, np.concatenate([kept, exposure]).astype(np.float64))
    params = inspect.signature(detector.fit).parameters
    fit_kwargs: dict[str, Any] = {}
    if len(kept) + len(exposure) and "sample_weight" in params:  # else each synthetic row counts once
        fit_kwargs["sample_weight"] = synthetic_weights(
            y_train, len(kept), synthetic_weight, len(exposure), exposure_weight
        )
        if len(exposure) and "scorer_mask" in params:
            fit_kwargs["scorer_mask"] = np.arange(len(y)) < len(y) - len(exposure)
    if blend and len(kept) + len(exposure):
        from detectors.blend import LogOddsBlend

        synthetic = np.arange(len(y)) >= len(y_train)
        return LogOddsBlend(detector, weight=blend).fit(X, y, synthetic_mask=synthetic, **fit_kwargs)
    return detector.fit(X, y, **fit_kwargs)


def choose_synthetic_weight(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    kept: np.ndarray,
    *,
    synthetic_weight: float,
    seed: int,
) -> tuple[float, dict[str, float | None]]:
    """The weight the kept rows get in the deployment fit: ``synthetic_weight`` if they help, else 0.

    The evidence (see the module docstring) is returned too: validation AUC-ROC without and with them.
    Fewer than ``MIN_GATE_ANOMALIES`` labeled anomalies in the validation part means no evidence worth
    the risk, hence weight 0.
    """
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score

    from detectors.boosted import BoostedDetector
    from hydra_env.rounds import stack_training_set

    evidence: dict[str, float | None] = {"val_auc_without": None, "val_auc_with": None}
    y_val = np.asarray(y_val)
    if len(kept) == 0 or synthetic_weight == 0 or int(y_val.sum()) < MIN_GATE_ANOMALIES or y_val.min() == 1:
        return 0.0, evidence

    # The label-free score columns are fitted once on the real fit rows and shared by both proxies,
    # so the two fits differ only in the kept rows (and the gate costs one set of scorers, not two).
    columns = BoostedDetector(booster="lightgbm", random_state=seed).fit_scorers(X_fit)
    W_fit, W_val = columns.widen(X_fit), columns.widen(X_val)
    W_kept = columns.widen(np.asarray(kept, dtype=np.float64).reshape(-1, np.shape(X_fit)[1]))

    def val_auc(n_rows: int) -> float:
        X, y = stack_training_set(W_fit, y_fit, W_kept[:n_rows])
        weights = synthetic_weights(y_fit, n_rows, synthetic_weight) if n_rows else None
        proxy = LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1).fit(X, y, sample_weight=weights)
        return float(roc_auc_score(y_val, proxy.predict_proba(W_val)[:, 1]))

    evidence["val_auc_without"] = val_auc(0)
    evidence["val_auc_with"] = val_auc(len(W_kept))
    helps = evidence["val_auc_with"] >= evidence["val_auc_without"] + GATE_MARGIN
    return (float(synthetic_weight) if helps else 0.0), evidence
