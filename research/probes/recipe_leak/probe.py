"""Probe: on anomaly types never seen in training, which synthetic rows lift CatBoost+scores?

    python -m research.probes.recipe_leak.probe out.jsonl

Cells: the unseen protocol (``benchmarks.unseen.unseen_split``) on vertebral, wbc, cardio and thyroid x
the four held-out types x seeds 1-2, la = 0.1 (the cells of ``probes/outlier_exposure``). Per cell, test
AUC-ROC on the held-out type of CatBoost (defaults, one thread) on the features plus IForest, ECOD and
k-NN score columns fitted on the real training rows, trained on:
  ctrl            the training split alone;
  seen_recipes    + 96 rows drawn from the recipes of the three *seen* types
                  (``hydra_env.anomaly_types.generate``, 32 each, from the rows labeled normal);
  all_recipes     + 96 rows, 24 from each of the four recipes, the held-out one included;
  held_out_recipe + 96 rows drawn from the held-out type's own recipe.
The last two know how the test anomalies were made: they are not a method, they measure how much of a
gain on the held-out type is open to rows that copy its recipe. The synthetic rows together weigh as
much as the labeled anomalies, each row at most 1 (``agents.deploy.synthetic_weights``).
"""

import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score  # noqa: E402

from agents.deploy import synthetic_weights  # noqa: E402
from benchmarks.unseen import unseen_split  # noqa: E402
from detectors.boosted import BoostedDetector  # noqa: E402
from hydra_env import anomaly_types  # noqa: E402

DD = "/work/shared/datasets/adbench/Classical"
SETS = ["vertebral", "wbc", "cardio", "thyroid"]
TYPES = ["local", "global", "dependency", "clustered"]
SEEDS = [1, 2]
N_ROWS = 96


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


def recipe_rows(X_normal, kinds, n, seed):
    """``n`` rows split evenly over the ``kinds`` recipes, drawn from ``X_normal``."""
    per = [n // len(kinds) + (i < n % len(kinds)) for i in range(len(kinds))]
    parts = [anomaly_types.generate(k, X_normal, m, rng=seed + 17 * i) for i, (k, m) in enumerate(zip(kinds, per))]
    return np.vstack(parts)


def main():
    out = sys.argv[1]
    done = set()
    if os.path.exists(out):
        done = {tuple(json.loads(line)["cell"]) for line in open(out)}
    for seed in SEEDS:
        for name in SETS:
            for held_out in TYPES:
                cell = (name, held_out, seed)
                if cell in done:
                    continue
                t0 = time.time()
                sp = unseen_split(name, DD, held_out, 0.1, seed)
                X, y, Xt, yt = sp.X_train, sp.y_train, sp.X_test, sp.y_test
                normal = X[y == 0]
                seen = [k for k in TYPES if k != held_out]
                variants = {
                    "ctrl": X[:0],
                    "seen_recipes": recipe_rows(normal, seen, N_ROWS, seed),
                    "all_recipes": recipe_rows(normal, TYPES, N_ROWS, seed),
                    "held_out_recipe": recipe_rows(normal, [held_out], N_ROWS, seed),
                }
                auc = {k: fit_auc(X, y, Xt, yt, rows, seed) for k, rows in variants.items()}
                rec = {"cell": list(cell), "auc": auc, "s": round(time.time() - t0, 1)}
                with open(out, "a") as f:
                    f.write(json.dumps(rec) + "\n")
                print(cell, {k: round(100 * v, 2) for k, v in auc.items()}, rec["s"], flush=True)


if __name__ == "__main__":
    main()
