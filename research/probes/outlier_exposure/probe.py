"""Probe: which synthetic anomalies help CatBoost+scores, and does fitting the score columns on them hurt?

    python -m research.probes.outlier_exposure.probe SHARD N_SHARDS out.jsonl

Cells: unseen protocol (4 sets x 4 held-out types x seeds 1-2) and ADBench (8 quick sets x seeds 1-2),
la = 0.1. Per cell, test AUC-ROC of CatBoost + IForest/ECOD/k-NN score columns fitted on:
  ctrl          the training split alone;
  loop_mix      + the default loop's kept rows (weight 1), score columns fitted on real + kept rows
                (what fit_deployment does today);
  loop_real     the same rows, score columns fitted on the real rows only;
  far_real      + kept rows of a loop rewarded for novelty (miss 0.5, novelty 2, entropy 1,
                action_scale 1), score columns on real rows;
  unif_real     + as many rows drawn uniformly from the [0, 1] box (plain outlier exposure), score
                columns on real rows.
Gate off everywhere: this asks what the rows do, not what the gate lets through.
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.config import LoopOptions  # noqa: E402
from agents.deploy import synthetic_weights  # noqa: E402
from agents.loop import swift_hydra_loop  # noqa: E402
from benchmarks.unseen import unseen_split  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from hydra_env import datasets  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

DD = "/work/shared/datasets/adbench/Classical"
UNSEEN = ["vertebral", "wbc", "cardio", "thyroid"]
TYPES = ["local", "global", "dependency", "clustered"]
ADB = ["Hepatitis", "vertebral", "cardio", "Cardiotocography", "Waveform", "WPBC", "fault", "smtp"]
SEEDS = [1, 2]
FAR = {"reward_weights": {"miss": 0.5, "novelty": 2.0, "entropy": 1.0}, "action_scale": 1.0}


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


def fit_auc(X, y, Xt, yt, kept, seed, scorers_on_real):
    det = BoostedDetector(booster="catboost", random_state=seed, n_jobs=1)
    Xa = np.vstack([X, kept]) if len(kept) else X
    ya = np.r_[y, np.ones(len(kept), int)]
    sw = synthetic_weights(y, len(kept), 1.0) if len(kept) else None
    if not scorers_on_real:
        det.fit(Xa, ya, sample_weight=sw)
        return roc_auc_score(yt, det.decision_function(Xt))
    det.fit_scorers(X)
    booster = det._make_booster()
    booster.fit(det.widen(Xa), ya, sample_weight=sw)
    return roc_auc_score(yt, booster.predict_proba(det.widen(Xt))[:, 1])


def kept_rows(X, y, seed, env_kwargs):
    opts = LoopOptions(deploy="lightgbm", synthetic_gate=False, env_kwargs=env_kwargs)
    return np.asarray(swift_hydra_loop(X, y, budget="small", seed=seed, options=opts).kept_X, float)


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    loop = kept_rows(X, y, seed, {})
    far = kept_rows(X, y, seed, FAR)
    unif = np.random.RandomState(seed).uniform(0, 1, size=(max(len(loop), 1), X.shape[1]))
    auc = {
        "ctrl": fit_auc(X, y, Xt, yt, X[:0], seed, True),
        "loop_mix": fit_auc(X, y, Xt, yt, loop, seed, False),
        "loop_real": fit_auc(X, y, Xt, yt, loop, seed, True),
        "far_real": fit_auc(X, y, Xt, yt, far, seed, True),
        "unif_real": fit_auc(X, y, Xt, yt, unif, seed, True),
    }
    return {"auc": auc, "n_loop": len(loop), "n_far": len(far)}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
