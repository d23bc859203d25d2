"""Probe, step 2: heavier exposure rows behind the package's exposure gate.

    python -m research.probes.exposure_strength.probe_gate SHARD N_SHARDS out.jsonl

Same cells, detector and control as ``probe.py``. For each total weight W in 1, 2, 4 (96 rows, as the
package draws), the package's gate (``agents.exposure.holdout_exposure_auc`` at that weight, margin
``EXPOSURE_GATE_MARGIN``) is run on the training split; ``n96_w4`` is also fitted always-added (step 1
has W = 1 and 2). The gated effect of a cell is then the always-added effect where the gate accepts
and 0 where it refuses (``analyze.py`` composes it).
"""

import sys

import torch

torch.set_num_threads(1)
from agents.exposure import EXPOSURE_GATE_MARGIN, holdout_exposure_auc, perturbed_normals  # noqa: E402
from research.probes.exposure_strength.probe import fit_auc  # noqa: E402
from research.probes.perturbation.probe import cells, split  # noqa: E402  (the perturbation probe's cells)
from research.probes.shards import run_shards  # noqa: E402

WEIGHTS = [1.0, 2.0, 4.0]


def measure(cell) -> dict:
    X, y, Xt, yt = split(*cell)
    seed = cell[3]
    rows = perturbed_normals(X, y, n_rows=96, seed=seed)
    gate = {}
    for w in WEIGHTS:
        aucs = holdout_exposure_auc(X, y, seed, exposure_weight=w)
        gate[f"w{w:g}"] = (
            None
            if aucs is None
            else {**aucs, "accepts": aucs["auc_with"] >= aucs["auc_without"] + EXPOSURE_GATE_MARGIN}
        )
    return {"auc": {"n96_w4": fit_auc(X, y, Xt, yt, rows, 4.0, seed)}, "gate": gate}


def main():
    run_shards(cells(), measure, sys.argv)


if __name__ == "__main__":
    main()
