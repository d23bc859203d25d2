"""Probe: do plain Gaussian perturbations of the normal rows, as synthetic anomalies, lift CatBoost+scores?

    python -m research.probes.perturbation.probe SHARD N_SHARDS out.jsonl

The most generic off-manifold negatives there are: a random row labeled normal plus Gaussian noise of
``s`` times each feature's standard deviation (over the rows labeled normal), for s in {0.5, 1, 2};
96 rows per cell, weighing together as much as the labeled anomalies, each at most 1
(``agents.deploy.synthetic_weights``). CatBoost (defaults, one thread) on the features plus IForest,
ECOD and k-NN score columns fitted on the real training rows; ``ctrl`` has no synthetic row.

Cells (those of ``probes/outlier_exposure``), la = 0.1:
  unseen    vertebral, wbc, cardio, thyroid x the four held-out types x seeds 1-2
            (``benchmarks.unseen.unseen_split``);
  adbench   Hepatitis, vertebral, cardio, Cardiotocography, Waveform, WPBC, fault, smtp x seeds 1-2.
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.deploy import synthetic_weights  # noqa: E402
from benchmarks.unseen import unseen_split  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from hydra_env import datasets  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

DD = "/work/shared/datasets/adbench/Classical"
UNSEEN = ["vertebral", "wbc", "cardio", "thyroid"]
TYPES = ["local", "global", "dependency", "clustered"]
ADB = ["Hepatitis", "vertebral", "cardio", "Cardiotocography", "Waveform", "WPBC", "fault", "smtp"]
SEEDS = [1, 2]
SCALES = [0.5, 1.0, 2.0]
N_ROWS = 96


def cells():
    out = [("unseen", d, t, s) for s in SEEDS for d in UNSEEN for t in TYPES]
    return out + [("adbench", d, "-", s) for s in SEEDS for d in ADB]


def split(protocol, name, kind, seed):
    if protocol == "unseen":
        sp = unseen_split(name, DD, kind, 0.1, seed)
    else:
        X, y = datasets.load(name, data_dir=DD)
        sp = datasets.adbench_split(X, y, 0.1, seed)
    return sp.X_train, sp.y_train, sp.X_test, sp.y_test


def fit_auc(X, y, Xt, yt, rows, seed):
    """CatBoost + score columns (scorers fitted on the real rows) with ``rows`` added as anomalies."""
    det = BoostedDetector(booster="catboost", random_state=seed, n_jobs=1)
    det.fit_scorers(X)
    Xa = np.vstack([X, rows]) if len(rows) else X
    ya = np.r_[y, np.ones(len(rows), int)]
    sw = synthetic_weights(y, len(rows), 1.0) if len(rows) else None
    booster = det._make_booster()
    booster.fit(det.widen(Xa), ya, sample_weight=sw)
    return roc_auc_score(yt, booster.predict_proba(det.widen(Xt))[:, 1])


def perturbed(normal, scale, seed):
    rs = np.random.RandomState(seed)
    centres = normal[rs.randint(0, len(normal), N_ROWS)]
    return centres + rs.standard_normal(centres.shape) * scale * normal.std(axis=0)


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    normal = X[y == 0]
    auc = {"ctrl": fit_auc(X, y, Xt, yt, X[:0], seed)}
    for s in SCALES:
        auc[f"noise{s:g}"] = fit_auc(X, y, Xt, yt, perturbed(normal, s, seed), seed)
    return {"auc": auc}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
