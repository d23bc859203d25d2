"""Probe, step 2: Gaussian perturbations at mixed scales, with and without the deployment gate.

    python -m research.probes.perturbation.probe_gate SHARD N_SHARDS out.jsonl

Same cells, detector and weighting as ``probe.py``. Variants:
  ctrl        no synthetic row;
  mix         96 perturbed normal rows, scales 0.5, 1 and 2 (32 each), always added;
  mix_gated   the same rows, added only if the deployment gate says so: the loop's validation carve
              (``agents.loop.carve_validation``, 20 %), the gate's LightGBM proxy fitted on the fit part
              with and without rows perturbed from the fit part's normals, validation AUC-ROC up by
              ``GATE_MARGIN`` (``agents.deploy.choose_synthetic_weight``);
  half_gated  as mix_gated with scale 0.5 only.
The gate's decisions are recorded with the AUCs.
"""

import sys

import numpy as np
import torch

torch.set_num_threads(1)

from agents.deploy import choose_synthetic_weight  # noqa: E402
from agents.loop import carve_validation  # noqa: E402
from research.probes.perturbation.probe import cells, fit_auc, split  # noqa: E402
from research.probes.shards import run_shards  # noqa: E402

N_ROWS = 96


def perturbed(normal, scales, seed):
    rs = np.random.RandomState(seed)
    centres = normal[rs.randint(0, len(normal), N_ROWS)]
    per_row = np.asarray(scales, float)[np.arange(N_ROWS) % len(scales)]
    return centres + rs.standard_normal(centres.shape) * per_row[:, None] * normal.std(axis=0)


def gated(X, y, scales, seed):
    """(rows to add, evidence): the gate judges rows perturbed from the fit part's normals."""
    X_fit, y_fit, X_val, y_val = carve_validation(X, y, 0.2, seed)
    trial = perturbed(X_fit[y_fit == 0], scales, seed)
    weight, evidence = choose_synthetic_weight(
        X_fit, y_fit, X_val, y_val, trial, synthetic_weight=1.0, seed=seed
    )
    rows = perturbed(X[y == 0], scales, seed) if weight > 0 else X[:0]
    return rows, {**evidence, "accepted": weight > 0}


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    auc, gate = {"ctrl": fit_auc(X, y, Xt, yt, X[:0], seed)}, {}
    auc["mix"] = fit_auc(X, y, Xt, yt, perturbed(X[y == 0], (0.5, 1.0, 2.0), seed), seed)
    for name, scales in [("mix_gated", (0.5, 1.0, 2.0)), ("half_gated", (0.5,))]:
        rows, gate[name] = gated(X, y, scales, seed)
        auc[name] = fit_auc(X, y, Xt, yt, rows, seed) if len(rows) else auc["ctrl"]
    return {"auc": auc, "gate": gate}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
