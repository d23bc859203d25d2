"""Probe, step 3: mixed-scale perturbations, always added, at a lower total weight.

    python -m research.probes.perturbation.probe_weight SHARD N_SHARDS out.jsonl

Same cells, detector and rows as ``probe_gate.py``'s ``mix`` (96 perturbed normal rows, scales 0.5, 1
and 2). ``mix_wX``: the rows together weigh X times the labeled anomalies (``mix`` is X = 1).
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.deploy import synthetic_weights  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from research.probes.perturbation.probe import cells, fit_auc, split  # noqa: E402
from research.probes.perturbation.probe_gate import perturbed  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

WEIGHTS = [0.25, 0.5]


def fit_auc_weighted(X, y, Xt, yt, rows, seed, weight):
    det = BoostedDetector(booster="catboost", random_state=seed, n_jobs=1)
    det.fit_scorers(X)
    booster = det._make_booster()
    sw = synthetic_weights(y, len(rows), weight)
    booster.fit(det.widen(np.vstack([X, rows])), np.r_[y, np.ones(len(rows), int)], sample_weight=sw)
    return roc_auc_score(yt, booster.predict_proba(det.widen(Xt))[:, 1])


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    rows = perturbed(X[y == 0], (0.5, 1.0, 2.0), seed)
    auc = {"ctrl": fit_auc(X, y, Xt, yt, X[:0], seed)}
    for w in WEIGHTS:
        auc[f"mix_w{w:g}"] = fit_auc_weighted(X, y, Xt, yt, rows, seed, w)
    return {"auc": auc}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
