"""Probe, step 3: the perturbed rows as a reference distribution for a score column, not as labels.

    python -m research.probes.exposure_strength.probe_column SHARD N_SHARDS out.jsonl

"Unsupervised as supervised learning" (Hastie, Tibshirani & Friedman, ESL 14.2.4): a classifier that
tells the real training rows from a reference sample estimates how far each row is from the data's
density. Here the reference sample is ``agents.exposure.perturbed_normals`` (scales 0.5, 1, 2) with as
many rows as the training split (at most 4000), the classifier LightGBM (200 trees, 15 leaves), and
its probability, cross-fitted over 5 folds for the training rows (each row scored by the models that
did not see it) and averaged over the 5 fold models for the test rows, becomes one more standardised
score column beside IForest, ECOD and k-NN. No synthetic row is labeled anomalous: CatBoost learns
from the labeled anomalies how much to trust the column. ``refcol``: that detector; ctrl is step 1's.
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402

from agents.exposure import perturbed_normals  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from research.probes.perturbation.probe import cells, split  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

FOLDS = 5
MAX_REFERENCE = 4000


def reference_column(X, y, Xt, seed):
    """Cross-fitted P(reference) of the training rows, fold-averaged P(reference) of the test rows."""
    import lightgbm

    R = perturbed_normals(X, y, n_rows=min(len(X), MAX_REFERENCE), seed=seed)
    train_col, test_col = np.zeros(len(X)), np.zeros(len(Xt))
    folds_x = KFold(FOLDS, shuffle=True, random_state=seed).split(X)
    folds_r = KFold(FOLDS, shuffle=True, random_state=seed).split(R)
    for (fit_x, held_x), (fit_r, _) in zip(folds_x, folds_r, strict=True):
        model = lightgbm.LGBMClassifier(
            n_estimators=200, num_leaves=15, learning_rate=0.05, random_state=seed, n_jobs=1, verbose=-1
        ).fit(np.vstack([X[fit_x], R[fit_r]]), np.r_[np.zeros(len(fit_x)), np.ones(len(fit_r))])
        train_col[held_x] = model.predict_proba(X[held_x])[:, 1]
        test_col += model.predict_proba(Xt)[:, 1] / FOLDS
    mean, std = train_col.mean(), max(train_col.std(), 1e-12)
    return (train_col - mean) / std, (test_col - mean) / std


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    det = BoostedDetector(booster="catboost", random_state=seed, n_jobs=1).fit_scorers(X)
    col, col_t = reference_column(X, y, Xt, seed)
    booster = det._make_booster().fit(np.column_stack([det.widen(X), col]), y)
    score = booster.predict_proba(np.column_stack([det.widen(Xt), col_t]))[:, 1]
    return {"auc": {"refcol": roc_auc_score(yt, score), "refcol_alone": roc_auc_score(yt, col_t)}}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
