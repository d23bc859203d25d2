"""Probe: does the one-step ``value`` agree with an exact refit of its proxy? (issue 26)

For candidate rows of the training split (labeled-0 rows, hidden anomalies among them, and mixes),
compares the term's one-step value with the exact decrease of the held-out pairwise loss when the
proxies are refitted with the row added (``add_anomalies`` on a copy). Prints Spearman correlations.

    python research/probes/value/first_order.py wdbc 6_cardio 38_thyroid
"""

from __future__ import annotations

import copy
import sys
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from hydra_env import datasets
from hydra_env.core import reference_normals
from hydra_env.rewards import REWARD_TERMS

torch.set_num_threads(1)


def probe(name: str, term_name: str, n_candidates: int = 40, seed: int = 0) -> None:
    data_dir = "../shared/datasets/adbench/Classical"
    X, y = datasets.load(name, data_dir=data_dir)
    split = datasets.adbench_split(X, y, 0.1, seed, name=name)
    normals = torch.as_tensor(reference_normals(split, seed))
    anomalies = torch.as_tensor(split.X_train[split.y_train == 1], dtype=torch.float32)
    started = time.perf_counter()
    term = REWARD_TERMS[term_name](normals, anomalies, 3, torch.device("cpu"))
    built = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    unl = split.X_train[split.y_train == 0]
    pick = unl[rng.choice(len(unl), n_candidates // 2, replace=False)]
    mix = 0.5 * (
        pick[: n_candidates // 4] + anomalies.numpy()[rng.integers(0, len(anomalies), n_candidates // 4)]
    )
    far = anomalies.numpy()[rng.integers(0, len(anomalies), n_candidates // 4)] + rng.normal(
        0, 0.05, (n_candidates // 4, X.shape[1])
    )
    cand = np.concatenate([pick, mix, far]).astype(np.float32)
    x = torch.as_tensor(cand)
    first = term.raw_value(x).numpy()
    base = term.held_out_loss()
    exact = []
    for row in cand:
        other = copy.deepcopy(term)
        other.add_anomalies(torch.as_tensor(row[None]))
        exact.append(base - other.held_out_loss())
    started = time.perf_counter()
    copy.deepcopy(term).add_anomalies(x[:8])
    refit = time.perf_counter() - started
    rho = spearmanr(first, exact).statistic
    print(
        f"{name:12s} {term_name:12s} d={X.shape[1]:4d} labeled={len(anomalies):3d} folds={len(term.folds)} "
        f"build={built:.3f}s refit={refit:.3f}s spearman(one-step value, exact refit)={rho:.3f} "
        f"sign agreement={np.mean(np.sign(first) == np.sign(exact)):.2f}"
    )


if __name__ == "__main__":
    for dataset in sys.argv[1:] or ["wdbc"]:
        for term_name in ("value", "value_unseen"):
            probe(dataset, term_name)
