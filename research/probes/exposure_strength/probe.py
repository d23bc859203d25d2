"""Probe: more outlier-exposure rows, or more weight on them, on held-out types and on ADBench.

    python -m research.probes.exposure_strength.probe SHARD N_SHARDS out.jsonl

The cells, detector and control of ``probes/perturbation`` (CatBoost + IForest/ECOD/k-NN score
columns fitted on the real training rows; unseen: vertebral, wbc, cardio, thyroid x 4 held-out types x
seeds 1-2; adbench: its 8 quick sets x seeds 1-2; la = 0.1). The rows are the package's
(``agents.exposure.perturbed_normals``: scales 0.5, 1, 2, discrete features snapped), always added.
``nN_wW``: N rows that together weigh W times the labeled anomalies (each row at most 1, as
``agents.deploy.synthetic_weights``); ``n96_w1`` is what ``swift_hydra_exposure`` adds today.
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.deploy import synthetic_weights  # noqa: E402
from agents.exposure import perturbed_normals  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from research.probes.perturbation.probe import cells, split  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

VARIANTS = [(96, 1.0), (384, 1.0), (96, 2.0), (384, 2.0), (384, 4.0)]


def fit_auc(X, y, Xt, yt, rows, weight, seed):
    det = BoostedDetector(booster="catboost", random_state=seed, n_jobs=1)
    det.fit_scorers(X)
    booster = det._make_booster()
    if len(rows):
        sw = synthetic_weights(y, 0, 0.0, len(rows), weight)
        booster.fit(det.widen(np.vstack([X, rows])), np.r_[y, np.ones(len(rows), int)], sample_weight=sw)
    else:
        booster.fit(det.widen(X), y)
    return roc_auc_score(yt, booster.predict_proba(det.widen(Xt))[:, 1])


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    auc = {"ctrl": fit_auc(X, y, Xt, yt, X[:0], 0.0, seed)}
    for n_rows, weight in VARIANTS:
        rows = perturbed_normals(X, y, n_rows=n_rows, seed=seed)
        auc[f"n{n_rows}_w{weight:g}"] = fit_auc(X, y, Xt, yt, rows, weight, seed)
    return {"auc": auc}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
