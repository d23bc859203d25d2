"""PCA pictures of where the synthetic anomalies lie: the loop's kept rows against the exposure rows.

    python -m research.probes.perturbation.projection research/probes/perturbation/projection.png

Two folds of the unseen protocol (la = 0.1, seed 1, budget ``small``), fitted as ``swift_hydra_exposure``
fits them. Each panel: the PCA (fitted on the training rows) of the training rows labeled normal, the
labeled anomalies, the held-out type's test anomalies, the loop's kept rows and the exposure rows; the
title gives each synthetic group's coverage (``benchmarks.unseen.coverage``).
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

torch.set_num_threads(1)
from agents.config import LoopOptions  # noqa: E402
from agents.loop import fit_swift_hydra  # noqa: E402
from benchmarks.unseen import coverage, unseen_split  # noqa: E402

DD = "/work/shared/datasets/adbench/Classical"
FOLDS = [("thyroid", "dependency"), ("vertebral", "local")]


def panel(ax, name, held_out):
    sp = unseen_split(name, DD, held_out, 0.1, 1)
    det = fit_swift_hydra(
        sp.X_train, sp.y_train, budget="small", seed=1, options=LoopOptions(exposure_weight=1.0)
    )
    kept, exposure = det.synthetic_anomalies_, det.exposure_anomalies_
    pca = PCA(n_components=2, random_state=0).fit(sp.X_train)
    groups = [
        (sp.X_train[sp.y_train == 0], "training rows labeled normal", "tab:blue", 6, 0.25),
        (sp.X_train[sp.y_train == 1], "labeled anomalies (seen types)", "tab:red", 30, 0.9),
        (sp.X_test[sp.y_test == 1], f"test anomalies ({held_out}, never seen)", "black", 14, 0.6),
        (kept, "loop's kept rows", "tab:orange", 14, 0.8),
        (exposure, "exposure rows", "tab:green", 14, 0.8),
    ]
    for X, label, color, size, alpha in groups:
        if len(X):
            P = pca.transform(np.asarray(X, dtype=np.float64))
            ax.scatter(P[:, 0], P[:, 1], s=size, c=color, alpha=alpha, label=f"{label} ({len(X)})")
    cov = [coverage(rows, sp.X_train, sp.y_train, sp.X_test, sp.y_test) for rows in (kept, exposure)]
    fmt = ["–" if c is None else f"{100 * c:.0f}%" for c in cov]
    ax.set_title(f"{name}, held-out {held_out}: coverage loop {fmt[0]}, exposure {fmt[1]}", fontsize=9)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize=6)
    print(name, held_out, "coverage loop, exposure:", fmt, flush=True)


def main():
    fig, axes = plt.subplots(1, len(FOLDS), figsize=(6 * len(FOLDS), 4.5))
    for ax, (name, held_out) in zip(axes, FOLDS):
        panel(ax, name, held_out)
    fig.tight_layout()
    fig.savefig(sys.argv[1], dpi=110)


if __name__ == "__main__":
    main()
