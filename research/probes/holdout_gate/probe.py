"""Probe: a gate for the outlier-exposure rows that holds out *labeled anomalies*, not random rows.

    python -m research.probes.holdout_gate.probe SHARD N_SHARDS out.jsonl [cells]

The package's gate (``agents.deploy.choose_synthetic_weight``) asks whether synthetic rows raise a
proxy's AUC on a random validation carve. Its validation anomalies are of the kinds the fit part
already holds, so it cannot see what outlier exposure is for: anomalies of a kind never labeled. This
gate asks that question of the training split itself:

- the labeled anomalies are grouped by k-means (k = min(4, count)): each group stands in for a
  "kind" the detector has not seen; the rows labeled normal are cut into k random chunks;
- fold g fits a proxy (CatBoost, 200 trees, on the features plus IForest/ECOD/k-NN score columns
  fitted once on all training rows) on everything but group g and chunk g, without and with
  perturbed rows drawn from the fold's own normal rows (``agents.exposure.perturbed_normals``, weight
  1 as in the deployment fit), and scores group g against chunk g;
- ``gain`` = mean over folds of AUC(with) - AUC(without); ``oof_gain`` the same on the pooled
  out-of-fold scores.

No test row is read. Fewer than 2 distinct labeled anomalies: no evidence (``gain`` None). (Added
after the first run of the full cells: k was min(4, count), and on cells whose labeled anomalies repeat
a row a fold could hold every anomaly; the cells where this changes k were recomputed.)

Cells: ``probe`` (default) = those of ``probes/perturbation`` (unseen: vertebral, wbc, cardio,
thyroid x 4 types x seeds 1-2; adbench: 8 sets x seeds 1-2), so the gate's decisions can be read
against that probe's ``ctrl`` and ``mix`` AUCs; ``full`` = every cell of the full ADBench (la 0.1)
and unseen tables, to be read against their ``swift_hydra`` and ``swift_hydra_exposure`` rows.
"""

import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.deploy import synthetic_weights  # noqa: E402
from agents.exposure import perturbed_normals  # noqa: E402
from benchmarks.unseen import unseen_split  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from hydra_env import datasets  # noqa: E402

DD = "/work/shared/datasets/adbench/Classical"
TYPES = ["local", "global", "dependency", "clustered"]
MAX_FOLDS = 4
PROXY_TREES = 200


def cells(which):
    if which == "probe":
        unseen = [("unseen", d, t, s) for s in (1, 2) for d in ("vertebral", "wbc", "cardio", "thyroid") for t in TYPES]
        adb = ["Hepatitis", "vertebral", "cardio", "Cardiotocography", "Waveform", "WPBC", "fault", "smtp"]
        return unseen + [("adbench", d, "-", s) for s in (1, 2) for d in adb]
    names = sorted(p[:-4] for p in os.listdir(DD) if p.endswith(".npz"))
    unseen_sets = ["breastw", "cardio", "pendigits", "satimage-2", "thyroid", "vertebral", "wbc", "wdbc"]
    out = [("adbench", d, "-", s) for s in (1, 2, 3) for d in names]
    return out + [("unseen", d, t, s) for s in (1, 2, 3) for d in unseen_sets for t in TYPES]


def train_split(protocol, name, kind, seed):
    if protocol == "unseen":
        sp = unseen_split(name, DD, kind, 0.1, seed)
    else:
        X, y = datasets.load(name, data_dir=DD)
        sp = datasets.adbench_split(X, y, 0.1, seed)
    return np.asarray(sp.X_train, np.float64), np.asarray(sp.y_train, int)


def holdout_gain(X, y, seed):
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(anomalies) < 2:
        return None
    # As many groups as distinct anomaly rows allow (duplicates would leave a group empty, or one
    # group holding every anomaly and a fold with no anomaly to fit).
    k = min(MAX_FOLDS, len(np.unique(X[anomalies], axis=0)))
    if k < 2:
        return None
    groups = KMeans(k, n_init=10, random_state=seed).fit_predict(X[anomalies])
    chunk_of = np.empty(len(normals), int)
    chunk_of[np.random.RandomState(seed).permutation(len(normals))] = np.arange(len(normals)) % k
    scorer = BoostedDetector(booster="catboost", random_state=seed).fit_scorers(X)
    W = scorer.widen(X)
    per_fold, oof = [], {"without": [], "with": [], "y": []}
    for g in range(k):
        test = np.r_[anomalies[groups == g], normals[chunk_of == g]]
        fit = np.setdiff1d(np.arange(len(y)), test)
        y_test = y[test]
        rows = perturbed_normals(X[fit], y[fit], seed=seed + g)
        aucs = {}
        for variant, extra in (("without", rows[:0]), ("with", rows)):
            from catboost import CatBoostClassifier

            Wx = np.vstack([W[fit], scorer.widen(extra)]) if len(extra) else W[fit]
            yx = np.r_[y[fit], np.ones(len(extra), int)]
            sw = synthetic_weights(y[fit], 0, 0.0, len(extra), 1.0) if len(extra) else None
            proxy = CatBoostClassifier(iterations=PROXY_TREES, verbose=0, random_seed=seed, thread_count=1,
                                       allow_writing_files=False).fit(Wx, yx, sample_weight=sw)
            p = proxy.predict_proba(W[test])[:, 1]
            aucs[variant] = roc_auc_score(y_test, p)
            oof[variant].append(p)
        oof["y"].append(y_test)
        per_fold.append(aucs)
    yy = np.concatenate(oof["y"])
    oof_gain = roc_auc_score(yy, np.concatenate(oof["with"])) - roc_auc_score(yy, np.concatenate(oof["without"]))
    gain = float(np.mean([f["with"] - f["without"] for f in per_fold]))
    return {"gain": gain, "oof_gain": float(oof_gain), "folds": per_fold, "n_labeled": int(len(anomalies))}


def main():
    shard, n_shards, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    which = sys.argv[4] if len(sys.argv) > 4 else "probe"
    done = set()
    if os.path.exists(out):
        done = {tuple(json.loads(line)["cell"]) for line in open(out)}
    for i, cell in enumerate(cells(which)):
        if i % n_shards != shard or tuple(cell) in done:
            continue
        t0 = time.time()
        X, y = train_split(*cell)
        res = holdout_gain(X, y, cell[3])
        rec = {"cell": list(cell), "gate": res, "s": round(time.time() - t0, 1)}
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(cell, None if res is None else (round(res["gain"], 4), round(res["oof_gain"], 4), res["n_labeled"]),
              rec["s"], flush=True)


if __name__ == "__main__":
    main()
