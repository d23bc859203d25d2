"""How much a MoME fit's test AUC moves with its own seed, before and after weight averaging.

    python -m research.probes.mome.seed_noise > research/probes/mome/seed_noise.md

One split (seed 1, la = 0.1) of four sets; five fits per setting that differ only in ``random_state``
(initialisation and shuffles): the tables' MoME before this session (``e10_nv_ens4_s25``) and with
weight averaging at lr 2e-2 (``TABLE_SETTINGS`` now). Why it matters: the policy leaderboard's
`auc_gain` is a difference of deployment fits, and their seed noise caps how well any reward can
rank it (`research/probes/deploy_noise`).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from detectors import MambaMoEDetector
from detectors.moe import TABLE_EPOCHS, TABLE_SETTINGS
from hydra_env.datasets import adbench_split, load
from research.probes.mome.quick import DD, ENS4_S25

SETS = ("6_cardio", "39_vertebral", "41_Waveform", "46_WPBC")
FIT_SEEDS = (0, 1, 2, 3, 4)
SETTINGS = {
    "before (e10_nv_ens4_s25)": ENS4_S25,
    "weight averaging, lr 2e-2 (TABLE_SETTINGS)": {"epochs": TABLE_EPOCHS, **TABLE_SETTINGS},
}


def main() -> None:
    torch.set_num_threads(1)
    print(__doc__.split("\n\n")[2].replace("\n", " "))
    print()
    print("| set | " + " | ".join(f"{name}: mean (sd)" for name in SETTINGS) + " |")
    print("|---|" + "---|" * len(SETTINGS))
    sds = {name: [] for name in SETTINGS}
    for name_set in SETS:
        X, y = load(f"{name_set}.npz", data_dir=DD)
        split = adbench_split(X, y, 0.1, 1)
        cols = []
        for name, settings in SETTINGS.items():
            aucs = []
            for seed in FIT_SEEDS:
                det = MambaMoEDetector(random_state=seed, device="cpu", **settings).fit(
                    split.X_train, split.y_train
                )
                aucs.append(100 * roc_auc_score(split.y_test, det.decision_function(split.X_test)))
            sds[name].append(np.std(aucs, ddof=1))
            cols.append(f"{np.mean(aucs):.2f} ({np.std(aucs, ddof=1):.2f})")
        print(f"| {name_set} | " + " | ".join(cols) + " |", flush=True)
    print()
    for name, values in sds.items():
        print(f"- {name}: mean seed sd {np.mean(values):.2f} AUC points")


if __name__ == "__main__":
    main()
