"""Outlier exposure by perturbation: synthetic anomalies around the normal rows, off their manifold.

The loop's synthetic anomalies are decoded by a VAE fitted to the data, so they stay on the data's
manifold: they teach the detector little about rows that break the normal rows' structure, which is
what anomalies of a kind never labeled look like. Rows perturbed off the normal rows at several scales
are the classic generic negative for that ("artificial anomalies", Abe et al. 2006; the reference
distribution of Steinwart et al. 2005). :func:`perturbed_normals` draws them; the deployment fit adds
them as anomalies when ``LoopOptions.exposure_weight`` > 0 (off by default), and, unless
``LoopOptions.exposure_gate`` is off, only when :func:`choose_exposure_weight` finds that they help
the detector on labeled anomalies held out by group, a stand-in for kinds never labeled.

Evidence (``research/probes/perturbation``): on anomaly types held out of training they lift
CatBoost + score columns on every type, but on ADBench's real anomalies the same rows cost AUC (real
anomalies often sit close to the normal rows, inside the perturbation shell), so they are opt-in.
The gate (``research/probes/holdout_gate``) keeps most of the held-out-type gain and sheds
most of the ADBench cost, but it does so by how often it says yes on each kind of training set, not
by picking the right cells within one: the rows stay opt-in, gated when asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.perturb import EXPOSURE_ROWS, EXPOSURE_SCALES, perturbed_normals

__all__ = [
    "EXPOSURE_GATE_MARGIN",
    "EXPOSURE_ROWS",
    "EXPOSURE_SCALES",
    "choose_exposure_weight",
    "exposure_rows",
    "gated_exposure_rows",
    "holdout_exposure_auc",
    "holdout_layout",
    "perturbed_normals",
]


def exposure_rows(options: Any, X_train: np.ndarray, y_train: np.ndarray, seed: int) -> np.ndarray:
    """The rows ``options`` (``LoopOptions``) asks for, before any gate; ``(0, d)`` when none."""
    if not options.exposure_weight:
        return np.zeros((0, np.shape(X_train)[1]), dtype=np.float32)
    return perturbed_normals(X_train, y_train, seed=seed)


def gated_exposure_rows(
    options: Any, X_train: np.ndarray, y_train: np.ndarray, seed: int
) -> tuple[np.ndarray, dict[str, float | None]]:
    """The rows a deployment fit with ``options`` adds, and the gate's record.

    With ``options.exposure_gate`` the rows join only if :func:`choose_exposure_weight` says they
    help on held-out anomaly groups (else ``(0, d)``); a blended deployment
    (``options.synthetic_blend`` > 0) takes them without the gate. The record holds ``exposure_weight_used`` and
    the gate's out-of-fold AUCs (None when it did not run or had too few labeled anomalies).
    """
    rows = exposure_rows(options, X_train, y_train, seed)
    weight = float(options.exposure_weight)
    evidence: dict[str, float | None] = {"exposure_auc_without": None, "exposure_auc_with": None}
    if len(rows) and options.exposure_gate and not options.synthetic_blend:
        weight, evidence = choose_exposure_weight(X_train, y_train, weight, seed)
    if not weight:
        rows = rows[:0]
    return rows, {"exposure_weight_used": weight if len(rows) else 0.0, **evidence}


EXPOSURE_GATE_FOLDS = 4
"""Groups the labeled anomalies are cut into by the exposure gate (fewer when there are fewer anomalies)."""
EXPOSURE_GATE_TREES = 200
"""Trees of the exposure gate's CatBoost proxy (the deployment fit uses the library default, 1000)."""
EXPOSURE_GATE_MARGIN = 0.02
"""Out-of-fold AUC-ROC gain the exposure rows must bring on held-out anomaly groups before they join."""


def holdout_layout(
    X: np.ndarray, y: np.ndarray, max_folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """What the held-out gates share: ``(X, y, anomaly index, normal index, chunk of each normal)``.

    ``k = min(max_folds, distinct labeled anomaly rows)`` folds (with repeated rows a fold could hold
    them all); the rows labeled normal are cut into ``k`` random chunks of equal size. None when
    ``k < 2`` or there are fewer normal rows than folds.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64).reshape(-1)
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    k = min(max_folds, len(np.unique(X[anomalies], axis=0)))
    if k < 2 or len(normals) < k:
        return None
    chunk = np.empty(len(normals), dtype=np.int64)
    chunk[np.random.RandomState(seed).permutation(len(normals))] = np.arange(len(normals)) % k
    return X, y, anomalies, normals, chunk


def holdout_exposure_auc(
    X: np.ndarray, y: np.ndarray, seed: int, exposure_weight: float = 1.0
) -> dict[str, float] | None:
    """Out-of-fold AUC-ROC on labeled anomalies held out by group, without and with exposure rows.

    A random validation carve holds anomalies of the kinds the fit part already has, so it cannot
    see what outlier exposure is for. This asks the training split itself: the labeled anomalies are
    grouped by k-means (each group stands in for a kind never labeled) and the rows labeled normal
    are cut into as many random chunks; fold g fits a CatBoost proxy (``EXPOSURE_GATE_TREES`` trees
    on the features plus the IForest/ECOD/k-NN score columns, fitted once on all rows) on everything
    but group g and chunk g, without and with rows perturbed from the fold's own normal rows at the
    deployment fit's weight, and scores group g and chunk g. The scores of all folds are pooled.

    Args:
        X: Training rows (n, d), finite.
        y: 1 = labeled anomaly, 0 = normal or unlabeled.
        seed: Seed of the grouping, the chunks, the perturbations and the proxies.
        exposure_weight: Total weight of the exposure rows in labeled anomalies, as in the deployment
            fit (:func:`agents.deploy.synthetic_weights`); > 0.

    Returns:
        ``{"auc_without": ..., "auc_with": ...}``, or None with fewer than two distinct labeled
        anomalies.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import roc_auc_score

    from agents.deploy import synthetic_weights
    from detectors.adapters import _import_optional
    from detectors.boosted import BoostedDetector

    if not (np.isfinite(exposure_weight) and exposure_weight > 0):
        raise ValueError(f"exposure_weight must be a positive number, got {exposure_weight!r}")
    layout = holdout_layout(X, y, EXPOSURE_GATE_FOLDS, seed)
    if layout is None:
        return None
    X, y, anomalies, normals, chunk = layout
    k = int(chunk.max()) + 1
    group = KMeans(k, n_init=10, random_state=seed).fit_predict(X[anomalies])
    columns = BoostedDetector(booster="catboost", random_state=seed).fit_scorers(X)
    W = columns.widen(X)
    catboost = _import_optional("catboost", "the exposure gate")
    scores: dict[str, list[np.ndarray]] = {"without": [], "with": []}
    held_out_labels = []
    for g in range(k):
        held_out = np.r_[anomalies[group == g], normals[chunk == g]]
        fit = np.setdiff1d(np.arange(len(y)), held_out)
        rows = perturbed_normals(X[fit], y[fit], seed=seed + g)
        for variant, extra in (("without", rows[:0]), ("with", rows)):
            W_fit = np.vstack([W[fit], columns.widen(extra)]) if len(extra) else W[fit]
            weights = synthetic_weights(y[fit], 0, 0.0, len(extra), exposure_weight) if len(extra) else None
            proxy = catboost.CatBoostClassifier(
                iterations=EXPOSURE_GATE_TREES, verbose=0, random_seed=seed, thread_count=1,
                allow_writing_files=False,
            ).fit(W_fit, np.r_[y[fit], np.ones(len(extra), dtype=np.int64)], sample_weight=weights)  # fmt: skip
            scores[variant].append(proxy.predict_proba(W[held_out])[:, 1])
        held_out_labels.append(y[held_out])
    labels = np.concatenate(held_out_labels)
    return {f"auc_{v}": float(roc_auc_score(labels, np.concatenate(s))) for v, s in scores.items()}


def choose_exposure_weight(
    X: np.ndarray, y: np.ndarray, exposure_weight: float, seed: int
) -> tuple[float, dict[str, float | None]]:
    """``exposure_weight`` if the exposure rows help on held-out anomaly groups, else 0; and the evidence.

    They help when :func:`holdout_exposure_auc` rises by at least ``EXPOSURE_GATE_MARGIN``; fewer
    than two labeled anomalies is no evidence, hence 0.
    """
    evidence: dict[str, float | None] = {"exposure_auc_without": None, "exposure_auc_with": None}
    if not exposure_weight:
        return 0.0, evidence
    aucs = holdout_exposure_auc(X, y, seed, exposure_weight=float(exposure_weight))
    if aucs is None:
        return 0.0, evidence
    evidence = {"exposure_auc_without": aucs["auc_without"], "exposure_auc_with": aucs["auc_with"]}
    helps = aucs["auc_with"] >= aucs["auc_without"] + EXPOSURE_GATE_MARGIN
    return (float(exposure_weight) if helps else 0.0), evidence
