"""Probe: does the ``value`` reward pay a near-copy of a labeled anomaly for its own twin? (issue 26)

The value terms cross-fit their proxies: fold f's proxy is fitted without fold f's labeled anomalies
and scored on them. A candidate row joins *every* fold's fit in the one-step estimate, so a row next
to a labeled anomaly of fold f makes that held-out anomaly easy and earns fold f's value, whatever it
would do for an anomaly nobody labeled (the leak the value gate closes with its twin rule,
``agents/value_gate.py``). This probe scores, per dataset, three kinds of candidate row with the
term's ``fold_values``: near-copies of the labeled anomalies (N(0, 0.01) noise), the anomalies nobody
labeled (the training split's hidden anomalies, which the labels do not show), and labeled-0 rows.
It prints the mean raw value of each kind twice: over every fold (the reward before the twin rule)
and over only the folds that do not hold out the row's nearest labeled anomaly (the twin rule, which
``ValueTerm.raw_value`` now applies). Both are in the term's unit (``term.scale``, itself computed with
the twin rule since it shipped). Training split only; no test row is read.

    python research/probes/value/twins.py 45_wine 6_cardio 38_thyroid 12_fault 7_Cardiotocography 4_breastw
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from hydra_env import datasets
from hydra_env.core import reference_normals
from hydra_env.rewards import REWARD_TERMS

torch.set_num_threads(1)


def probe(name: str, term_name: str, seed: int = 1, n: int = 40) -> None:
    X, y = datasets.load(name, data_dir="../shared/datasets/adbench/Classical")
    split = datasets.adbench_split(X, y, 0.1, seed, name=name)
    normals = torch.as_tensor(reference_normals(split, seed))
    labeled = split.X_train[split.y_train == 1].astype(np.float32)
    term = REWARD_TERMS[term_name](normals, torch.as_tensor(labeled), 3, torch.device("cpu"))
    if term.theta is None:
        print(f"{name:20s} {term_name:12s} no folds")
        return
    rng = np.random.default_rng(seed)
    hidden = split.X_train[(split.y_train == 0) & (split.y_train_true == 1)]  # analysis only, never a reward input
    zeros = split.X_train[split.y_train == 0]
    kinds = {
        "near-copies": labeled[rng.integers(0, len(labeled), n)] + rng.normal(0, 0.01, (n, X.shape[1])),
        "labeled-0 rows": zeros[rng.choice(len(zeros), n, replace=False)],
    }
    if len(hidden):
        kinds["hidden anomalies"] = hidden[rng.choice(len(hidden), min(n, len(hidden)), replace=False)]
    folds = torch.as_tensor(term.folds)
    out = []
    for kind, rows in kinds.items():
        x = torch.as_tensor(np.asarray(rows, dtype=np.float32))
        values = term.fold_values(x)  # (n, K)
        nearest = torch.cdist(x.double(), term._anomalies).argmin(dim=1)
        keep = (term.anomaly_fold[nearest][:, None] != folds[None, :]).to(values.dtype)
        masked = (values * keep).sum(1) / keep.sum(1).clamp_min(1.0)
        out.append(f"{kind} {float(values.mean(1).mean() / term.scale):+.2f} -> {float(masked.mean() / term.scale):+.2f}")
    print(f"{name:20s} {term_name:12s} labeled={len(labeled):3d} | " + " | ".join(out), flush=True)


if __name__ == "__main__":
    for dataset in sys.argv[1:]:
        for term_name in ("value", "value_unseen"):
            probe(dataset, term_name)
