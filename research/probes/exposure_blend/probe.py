"""Probe: the outlier-exposure detector blended with the control, instead of gated or always added.

    python -m research.probes.exposure_blend.probe SHARD N_SHARDS out.jsonl

Cells, detector and rows of ``probes/exposure_strength`` (CatBoost + IForest/ECOD/k-NN score columns;
unseen: vertebral, wbc, cardio, thyroid x 4 held-out types x seeds 1-2; adbench: its 8 quick sets x
seeds 1-2; la = 0.1; ``agents.exposure.perturbed_normals``, 96 rows weighing as much as the labeled
anomalies: what ``swift_hydra_exposure`` adds). Two boosters per cell, the control and the one trained
with the exposure rows, and blends of their test scores that a deployed detector can compute row by
row: the mean probability, the mean log-odds, and the mean of each score's empirical CDF over the
training rows (a rank blend), at weights 0.25 / 0.5 / 0.75 on the exposure booster.
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)
from scipy.special import logit  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.deploy import synthetic_weights  # noqa: E402
from agents.exposure import perturbed_normals  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from research.probes.perturbation.probe import cells, split  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

WEIGHTS = (0.25, 0.5, 0.75)


def fit_scores(X, y, Xt, rows, seed):
    """Training-row and test-row P(anomaly) of CatBoost + score columns, ``rows`` added as anomalies."""
    det = BoostedDetector(booster="catboost", random_state=seed, n_jobs=1)
    det.fit_scorers(X)
    booster = det._make_booster()
    if len(rows):
        sw = synthetic_weights(y, 0, 0.0, len(rows), 1.0)
        booster.fit(det.widen(np.vstack([X, rows])), np.r_[y, np.ones(len(rows), int)], sample_weight=sw)
    else:
        booster.fit(det.widen(X), y)
    return booster.predict_proba(det.widen(X))[:, 1], booster.predict_proba(det.widen(Xt))[:, 1]


def cdf(train, test):
    return np.searchsorted(np.sort(train), test, side="right") / len(train)


def blends(ctrl, expo):
    (c_tr, c_te), (e_tr, e_te) = ctrl, expo
    eps = 1e-6
    out = {"ctrl": c_te, "expo": e_te}
    for w in WEIGHTS:
        out[f"prob{w:g}"] = (1 - w) * c_te + w * e_te
        out[f"logit{w:g}"] = (1 - w) * logit(np.clip(c_te, eps, 1 - eps)) + w * logit(
            np.clip(e_te, eps, 1 - eps)
        )
        out[f"rank{w:g}"] = (1 - w) * cdf(c_tr, c_te) + w * cdf(e_tr, e_te)
    return out


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    rows = perturbed_normals(X, y, n_rows=96, seed=seed)
    scores = blends(fit_scores(X, y, Xt, X[:0], seed), fit_scores(X, y, Xt, rows, seed))
    return {"auc": {k: roc_auc_score(yt, v) for k, v in scores.items()}}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
