"""Quick MoME probe: fit variants on 8 ADBench sets x seeds 1-3 at la = 0.1, record test AUC-ROC and fit seconds.

    python -m research.probes.mome.quick VARIANT [VARIANT ...]     # runs the cells not yet in results/VARIANT.jsonl
    python -m research.probes.mome.quick --list

One process, one torch thread (the runner's n_jobs=1). Resumable: a (dataset, seed) already in a
variant's JSONL is skipped. ``catboost`` is the ADBench runner's own method (library defaults,
n_jobs=1); ``base`` is exactly what the runner's ``mome`` method fitted at ``--budget tiny`` before
this probe (``MambaMoEDetector(random_state=seed, epochs=3)``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from hydra_env.datasets import adbench_split, load
from research.probes.mome.data import DD  # re-exported: the other probes import it from here

OUT = Path(__file__).resolve().parent / "results"
DATASETS = (
    "4_breastw", "6_cardio", "12_fault", "23_mammography",
    "35_SpamBase", "38_thyroid", "41_Waveform", "46_WPBC",
)  # fmt: skip
SEEDS = (1, 2, 3)
LA = 0.1

# name -> MambaMoEDetector kwargs (random_state=seed, device="cpu" added); "catboost" is special.
# label_free_scores=() pins the variants that ran before the scores became the default.
ENS4_S25 = {
    "epochs": 10,
    "validation_fraction": 0.0,
    "label_free_scores": (),
    "ensemble_size": 4,
    "max_steps_per_epoch": 25,
}  # the tables' MoME (detectors.moe.TABLE_SETTINGS at 10 epochs)
VARIANTS: dict[str, dict] = {
    "base": {"epochs": 3, "label_free_scores": ()},
    "e10": {"epochs": 10, "label_free_scores": ()},
    "e30s10": {"epochs": 30, "max_steps_per_epoch": 10, "label_free_scores": ()},
    "s_tok": {"epochs": 3, "label_free_scores": ("knn", "ecod"), "score_inputs": "tokens"},
    "s_skip": {"epochs": 3, "label_free_scores": ("knn", "ecod"), "score_inputs": "skip"},
    "s_both": {"epochs": 3, "label_free_scores": ("knn", "ecod"), "score_inputs": "both"},
    "e10_nv": {"epochs": 10, "validation_fraction": 0.0, "label_free_scores": ()},
    "sk_e10": {"epochs": 10, "label_free_scores": ("knn", "ecod"), "score_inputs": "skip"},
    "e10_nv_per": {
        "epochs": 10,
        "validation_fraction": 0.0,
        "label_free_scores": (),
        "numeric_embedding": "periodic",
    },
    "e10_nv_ens4": {"epochs": 10, "validation_fraction": 0.0, "label_free_scores": (), "ensemble_size": 4},
    "e10_nv_ens8": {"epochs": 10, "validation_fraction": 0.0, "label_free_scores": (), "ensemble_size": 8},
    "e4_nv_ens4": {"epochs": 4, "validation_fraction": 0.0, "label_free_scores": (), "ensemble_size": 4},
    # Step caps (a cell's cost stops growing with its rows past 25 x 128 rows per epoch), then one change each.
    "e10_nv_ens4_s25": ENS4_S25,
    "e16_nv_ens4_s25": ENS4_S25 | {"epochs": 16},
    "e10_nv_ens4_s25_d32": ENS4_S25 | {"d_model": 32},
    # Twice the epochs with half the cap: small sets get twice the steps, large ones the same.
    "e20_nv_ens4_s12": ENS4_S25 | {"epochs": 20, "max_steps_per_epoch": 12},
    "e10_nv_ens2_s25": ENS4_S25 | {"ensemble_size": 2},
    # Two members (for batch-1 latency) with twice the epochs at half the cap (the steps saved on small sets).
    "e20_nv_ens2_s12": ENS4_S25 | {"ensemble_size": 2, "epochs": 20, "max_steps_per_epoch": 12},
    "e10_nv_loaded": {
        "epochs": 10,
        "validation_fraction": 0.0,
        "label_free_scores": (),
    },  # e10_nv, timed beside the ens runs
    # Input transforms before the network (fitted on the training rows; `_pre` names one of PRE below).
    "t_qt": ENS4_S25 | {"_pre": "quantile"},
    # Soft bootstrapping of the rows labeled 0 (unlabeled anomalies sit among them at la = 0.1).
    "t_boot2": ENS4_S25 | {"unlabeled_bootstrap": 0.2},
    "t_boot5": ENS4_S25 | {"unlabeled_bootstrap": 0.5},
    # Best epoch on validation AUC-ROC (a 20% stratified validation split where it holds >= 3 anomalies).
    "t_vauc": ENS4_S25 | {"validation_fraction": 0.2, "selection_metric": "auc"},
    "t_rc": ENS4_S25 | {"_pre": "robust_clip"},
    # k-NN distance alone (ECOD's batch-1 cost broke the latency target) on the tables' MoME, as a skip term.
    "t_knn": ENS4_S25 | {"label_free_scores": ("knn",), "score_inputs": "skip"},
    "t_knn_tok": ENS4_S25 | {"label_free_scores": ("knn",), "score_inputs": "tokens"},
    # Optimiser and token layout (session of 2026-12-06, late): one change each on the tables' MoME.
    "t_lr1e2": ENS4_S25 | {"lr": 1e-2},
    "t_lr2e3": ENS4_S25 | {"lr": 2e-3},
    "t_tok32": ENS4_S25 | {"max_tokens": 32},
    # Distillation from the runner's CatBoost (in-sample logits as soft targets; the teacher's fit counts).
    "t_distill": ENS4_S25 | {"_teacher": "catboost"},
    # Training-loop levers (session of 2026-12-07; `train_levers.LeverMoME`): the class weight's power, a
    # cosine learning-rate decay, weight averaging over the last epochs, stronger weight decay.
    "t_same": ENS4_S25 | {"_levers": True},  # LeverMoME with no lever set: must reproduce e10_nv_ens4_s25
    "t_pw0": ENS4_S25 | {"_levers": True, "pos_weight_power": 0.0},
    "t_pw05": ENS4_S25 | {"_levers": True, "pos_weight_power": 0.5},
    "t_cos": ENS4_S25 | {"_levers": True, "cosine": True},
    "t_swa": ENS4_S25 | {"_levers": True, "average_from": 0.5},
    "t_wd1e1": ENS4_S25 | {"weight_decay": 0.1},
    "t_swa3": ENS4_S25 | {"_levers": True, "average_from": 0.3},
    "t_swa_lr1e2": ENS4_S25 | {"_levers": True, "average_from": 0.5, "lr": 1e-2},
    "t_swa_pw07": ENS4_S25 | {"_levers": True, "average_from": 0.5, "pos_weight_power": 0.75},
    "t_swa_m2": ENS4_S25 | {"_levers": True, "average_from": 0.5, "ensemble_size": 2},
    "t_swa7": ENS4_S25 | {"_levers": True, "average_from": 0.7},
    "t_swa_lr2e2": ENS4_S25 | {"_levers": True, "average_from": 0.5, "lr": 2e-2},
    "t_swa7_lr1e2": ENS4_S25 | {"_levers": True, "average_from": 0.7, "lr": 1e-2},
    # Yeo-Johnson power transform of each feature (sklearn's PowerTransformer, standardised after; lambdas
    # by maximum likelihood on the training rows): a plain MLP on 1_ALOI at la = 1.0 went 66.6 -> 74.4.
    "t_swa_lr2e2_pt": ENS4_S25 | {"_levers": True, "average_from": 0.5, "lr": 2e-2, "_pre": "power"},
    # A linear gate (gate_hidden 0; k-means' nearest-centroid rule is a linear argmax): for batch-1 latency.
    "t_swa_lr2e2_lg": ENS4_S25 | {"_levers": True, "average_from": 0.5, "lr": 2e-2, "gate_hidden": 0},
    "sk_e10_nv": {
        "epochs": 10,
        "label_free_scores": ("knn", "ecod"),
        "score_inputs": "skip",
        "validation_fraction": 0.0,
    },
}

#: The tables' MoME levers (`t_swa_lr2e2`), and the piecewise-linear variants' changes over them (16 bins a
#: feature; quantile or decision-tree edges, as a transform before the network or as the package's tokens).
SWA_LR2E2 = {"_levers": True, "average_from": 0.5, "lr": 2e-2}
PLE_CHANGES = {
    "t_swa_lr2e2_pleq": {"_pre": "ple_quantile"},
    "t_swa_lr2e2_plet": {"_pre": "ple_tree"},
    "t_swa_lr2e2_ple": {"numeric_embedding": "piecewise_linear"},
    "t_swa_lr2e2_pleq_nocap": {"_pre": "ple_quantile", "max_steps_per_epoch": None},
}
VARIANTS.update({name: ENS4_S25 | SWA_LR2E2 | change for name, change in PLE_CHANGES.items()})
#: Retrieval of labeled anomalies (session of 2026-12-07, third; TabR's idea, Gorishniy et al. ICLR 2024): one
#: more input column, the log mean squared distance to the k nearest labeled anomalies of the training rows
#: (a training anomaly skips itself, so its column is what a new row would see); ``_n``: also the distance
#: to the k nearest of 1024 rows labeled 0.
RETRIEVAL_CHANGES = {
    "t_swa_lr2e2_ak1": {"_pre": "anom_knn_1"},
    "t_swa_lr2e2_ak5": {"_pre": "anom_knn_5"},
    "t_swa_lr2e2_ak5n": {"_pre": "anom_knn_5_n"},
}
VARIANTS.update({name: ENS4_S25 | SWA_LR2E2 | change for name, change in RETRIEVAL_CHANGES.items()})
#: The class weight's power on the tables' MoME (``t_pw*`` ran on an earlier table MoME at la = 0.1 only).
WEIGHT_CHANGES = {"t_swa_lr2e2_pw05": {"pos_weight_power": 0.5}, "t_swa_lr2e2_pw0": {"pos_weight_power": 0.0}}
VARIANTS.update({name: ENS4_S25 | SWA_LR2E2 | change for name, change in WEIGHT_CHANGES.items()})


def _robust_clip(X_train: np.ndarray):
    """RealMLP's robust scaling and smooth clipping (Holzmueller et al. 2024), fitted on the training rows."""
    median = np.median(X_train, axis=0)
    q25, q75 = np.quantile(X_train, [0.25, 0.75], axis=0)
    spread = X_train.max(axis=0) - X_train.min(axis=0)
    scale = np.where(q75 > q25, q75 - q25, np.where(spread > 0, 0.5 * spread, 1.0))

    def apply(X: np.ndarray) -> np.ndarray:
        z = (X - median) / scale
        return z / np.sqrt(1 + (z / 3) ** 2)

    return apply


def _quantile(X_train: np.ndarray, seed: int):
    from sklearn.preprocessing import QuantileTransformer

    qt = QuantileTransformer(
        n_quantiles=min(1000, len(X_train)), output_distribution="normal", subsample=10**9, random_state=seed
    ).fit(X_train)
    return qt.transform


def _power(X_train: np.ndarray):
    from sklearn.preprocessing import PowerTransformer

    return PowerTransformer(method="yeo-johnson").fit(X_train).transform


def _piecewise_linear(X_train: np.ndarray, y_train: np.ndarray, edges: str):
    """Piecewise-linear encoding, 16 bins a feature (`aloi_mlp.PiecewiseLinear`): with MoME's linear patch
    tokens on top, each token is a learned piecewise-linear function of its features (Gorishniy et al. 2022)."""
    from research.probes.mome.aloi_mlp import PiecewiseLinear

    return PiecewiseLinear(16, edges).fit(X_train, y_train).transform


def _log_knn(Z: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Log mean squared distance to the ``k`` nearest reference rows, an exact match (the row itself) skipped."""
    from scipy.spatial.distance import cdist

    d2 = np.sort(cdist(Z, reference, "sqeuclidean"), axis=1)[:, : k + 1]
    if d2.shape[1] <= k:
        return np.log(d2.mean(axis=1) + 1e-6)
    drop = np.where(d2[:, 0] < 1e-6, d2[:, 0], d2[:, k])
    return np.log((d2.sum(axis=1) - drop) / k + 1e-6)


def _anomaly_retrieval(X_train: np.ndarray, y_train: np.ndarray, spec: str, seed: int):
    """Append k-NN distance columns to the labeled anomalies (and, ``_n``, to rows labeled 0); see RETRIEVAL_CHANGES."""
    parts = spec.split("_")
    k, with_normal = int(parts[2]), parts[-1] == "n"
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    rng = np.random.RandomState(seed)

    def rows(idx: np.ndarray) -> np.ndarray:
        idx = idx if len(idx) <= 1024 else np.sort(rng.choice(idx, 1024, replace=False))
        return (X_train[idx] - mean) / std

    anomalies = rows(np.flatnonzero(y_train == 1))
    normals = rows(np.flatnonzero(y_train == 0))
    k_a = max(1, min(k, len(anomalies) - 1))

    def apply(X: np.ndarray) -> np.ndarray:
        Z = (X - mean) / std
        cols = [_log_knn(Z, anomalies, k_a)] + ([_log_knn(Z, normals, k)] if with_normal else [])
        return np.column_stack([X, *cols])

    return apply


def pre_transform(name: str, X_train: np.ndarray, seed: int, y_train: np.ndarray | None = None):
    """The input transform of variant ``name`` (identity if it names none), fitted on ``X_train``."""
    pre = VARIANTS.get(name, {}).get("_pre")
    if pre is None:
        return lambda X: X
    if pre.startswith("anom_knn"):
        return _anomaly_retrieval(X_train, y_train, pre, seed)
    if pre.startswith("ple_"):
        return _piecewise_linear(X_train, y_train, pre.removeprefix("ple_"))
    if pre == "power":
        return _power(X_train)
    return _robust_clip(X_train) if pre == "robust_clip" else _quantile(X_train, seed)


def fit_variant(name: str, X, y, seed: int):
    if name == "catboost":
        from benchmarks.methods import METHODS

        return METHODS["catboost"].fit(X, y, seed=seed, budget=None, n_jobs=1)
    if name.startswith("method:"):  # the runner's method as it is now, at budget tiny
        from benchmarks.methods import METHODS

        return METHODS[name.split(":", 1)[1]].fit(X, y, seed=seed, budget="tiny", n_jobs=1)
    from detectors import MambaMoEDetector

    kwargs = {k: v for k, v in VARIANTS[name].items() if not k.startswith("_")}
    if VARIANTS[name].get("_levers"):
        from research.probes.mome.train_levers import LeverMoME

        return LeverMoME(random_state=seed, device="cpu", **kwargs).fit(X, y)
    if VARIANTS[name].get("_teacher"):
        kwargs["teacher"] = _LogitTeacher(fit_variant(VARIANTS[name]["_teacher"], X, y, seed))
    return MambaMoEDetector(random_state=seed, device="cpu", **kwargs).fit(X, y)


class _LogitTeacher:
    """A fitted detector's P(anomaly) as logits (``MambaMoEDetector(teacher=...)`` reads ``sigmoid`` of them)."""

    def __init__(self, detector) -> None:
        self.detector = detector

    def decision_function(self, X):
        p = np.clip(self.detector.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))


def run(name: str) -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name.replace(':', '_')}.jsonl"
    done = set()
    if path.exists():
        done = {(r["dataset"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())}
    for ds in DATASETS:
        X, y = load(f"{ds}.npz", data_dir=DD)
        for seed in SEEDS:
            if (ds, seed) in done:
                continue
            split = adbench_split(X, y, LA, seed)
            start = time.perf_counter()
            transform = pre_transform(name, split.X_train, seed, split.y_train)
            det = fit_variant(name, transform(split.X_train), split.y_train, seed)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            scores = np.asarray(det.decision_function(transform(split.X_test)), dtype=np.float64)
            pred_s = time.perf_counter() - start
            row = {
                "variant": name, "dataset": ds, "seed": seed,
                "auc_roc": float(roc_auc_score(split.y_test, scores)),
                "fit_seconds": fit_s, "predict_seconds": pred_s,
                "n_train": len(split.y_train), "n_labeled": int(split.y_train.sum()),
            }  # fmt: skip
            if hasattr(det, "n_experts_"):
                row["n_experts"] = det.n_experts_
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{name} {ds} {seed} auc={row['auc_roc']:.4f} fit={fit_s:.1f}s", flush=True)


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1:] == ["--list"]:
        print("\n".join(["catboost", *VARIANTS]))
        sys.exit()
    for variant in sys.argv[1:]:
        run(variant)
