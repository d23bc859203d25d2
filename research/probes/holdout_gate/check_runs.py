"""Do the runners' ``swift_hydra_exposure_gated`` rows equal the composition of ``compose_full.py``?

    python -m research.probes.holdout_gate.check_runs

For every cell the runners wrote, the gated AUC-ROC must be the committed ``swift_hydra_exposure``
AUC where the probe's gate accepted and the ``swift_hydra`` AUC where it refused.
"""

import os

import numpy as np
import pandas as pd

from research.probes.holdout_gate.compose_full import RESULTS, accept

for protocol, name, keys in (
    ("adbench", "adbench/adbench_results.csv", ["dataset", "seed"]),
    ("unseen", "unseen/unseen_results.csv", ["dataset", "held_out_type", "seed"]),
):
    df = pd.read_csv(os.path.join(RESULTS, name))
    df = df[(df.la == 0.1) & (df.status == "ok")]
    wide = df.pivot_table(index=keys, columns="method", values="auc_roc")
    if "swift_hydra_exposure_gated" not in wide:
        print(f"{protocol}: no gated row yet")
        continue
    wide = wide.dropna(subset=["swift_hydra_exposure_gated"])
    cell = lambda idx: (protocol, idx[0], idx[1] if protocol == "unseen" else "-", int(idx[-1]))  # noqa: E731
    took = np.array([accept[cell(idx)] for idx in wide.index], dtype=bool)
    expected = np.where(took, wide["swift_hydra_exposure"], wide["swift_hydra"])
    diff = np.abs(wide["swift_hydra_exposure_gated"].to_numpy() - expected)
    print(f"{protocol}: {len(wide)} gated cells, {int((diff < 1e-9).sum())} equal the composition, "
          f"largest difference {100 * diff.max():.4f} points")
    for idx in wide.index[diff >= 1e-9]:
        print("  differs:", idx, "accepted" if accept[cell(idx)] else "refused")
