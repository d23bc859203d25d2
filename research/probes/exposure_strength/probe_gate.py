"""Probe, step 2: heavier exposure rows behind the package's exposure gate.

    PYTHONPATH=. python benchmarks/results/probes/exposure_strength/probe_gate.py SHARD N_SHARDS out.jsonl

Same cells, detector and control as ``probe.py``. For each total weight W in 1, 2, 4 (96 rows, as the
package draws), the package's gate (``agents.exposure.holdout_exposure_auc`` at that weight, margin
``EXPOSURE_GATE_MARGIN``) is run on the training split; ``n96_w4`` is also fitted always-added (step 1
has W = 1 and 2). The gated effect of a cell is then the always-added effect where the gate accepts
and 0 where it refuses (``analyze.py`` composes it).
"""

import importlib.util
import json
import os
import sys
import time

import torch

torch.set_num_threads(1)
from agents.exposure import EXPOSURE_GATE_MARGIN, holdout_exposure_auc, perturbed_normals  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "perturbation"))
from probe import cells, split  # noqa: E402  (the perturbation probe's cells)

# This folder's probe.py, loaded under its own name (it imports the perturbation probe as ``probe``).
_spec = importlib.util.spec_from_file_location(
    "strength_probe", os.path.join(os.path.dirname(__file__), "probe.py")
)
strength_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(strength_probe)
fit_auc = strength_probe.fit_auc

WEIGHTS = [1.0, 2.0, 4.0]


def main():
    shard, n_shards, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    done = set()
    if os.path.exists(out):
        done = {tuple(json.loads(line)["cell"]) for line in open(out)}
    for i, cell in enumerate(cells()):
        if i % n_shards != shard or tuple(cell) in done:
            continue
        t0 = time.time()
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
        rec = {"cell": list(cell), "auc": {"n96_w4": fit_auc(X, y, Xt, yt, rows, 4.0, seed)}, "gate": gate,
               "s": round(time.time() - t0, 1)}  # fmt: skip
        with open(out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(cell, rec["auc"], {k: v and v["accepts"] for k, v in gate.items()}, rec["s"], flush=True)


if __name__ == "__main__":
    main()
