"""The quick MoME probe at la = 1.0, on the four sets where the tables' MoME trails CatBoost most there.

    python -m research.probes.mome.la1 VARIANT [VARIANT ...]    # results in results_la1/VARIANT.jsonl

Same cells logic as ``quick`` (resumable, one torch thread), with la = 1.0 and sets 1_ALOI, 12_fault,
39_vertebral and 46_WPBC (gaps to CatBoost of 16, 6, 5 and 3.5 points in the committed ADBench table).
Variants: the tables' MoME when the probe ran (``t``: 10 epochs, four members, cap 25) and one change each.
"""

from __future__ import annotations

import sys

import torch

from research.probes.mome import quick

# The tables' MoME when this probe ran (TABLE_SETTINGS then; literal, so ``t`` keeps its meaning).
TABLE = {
    "epochs": 10, "label_free_scores": (), "validation_fraction": 0.0, "ensemble_size": 4, "max_steps_per_epoch": 25,
}  # fmt: skip
VARIANTS = {
    "t": TABLE,
    "t_e20": TABLE | {"epochs": 20},
    "t_d32": TABLE | {"d_model": 32},
    "t_l2": TABLE | {"n_layers": 2},
    "t_nocap": TABLE | {"max_steps_per_epoch": None},
    "t_e20_s12": TABLE | {"epochs": 20, "max_steps_per_epoch": 12},
    "t_m2_e20_s12": TABLE | {"ensemble_size": 2, "epochs": 20, "max_steps_per_epoch": 12},
    "t_vauc": TABLE | {"validation_fraction": 0.2, "selection_metric": "auc"},
    "t_qt": TABLE | {"_pre": "quantile"},
    "t_rc": TABLE | {"_pre": "robust_clip"},
    "t_knn": TABLE | {"label_free_scores": ("knn",), "score_inputs": "skip"},
    "t_knn_tok": TABLE | {"label_free_scores": ("knn",), "score_inputs": "tokens"},
    "t_lr1e2": TABLE | {"lr": 1e-2},
    "t_lr2e3": TABLE | {"lr": 2e-3},
    "t_tok32": TABLE | {"max_tokens": 32},
    "t_distill": TABLE | {"_teacher": "catboost"},
    "t_swa": TABLE | {"_levers": True, "average_from": 0.5},
    "t_swa3": TABLE | {"_levers": True, "average_from": 0.3},
    "t_swa7": TABLE | {"_levers": True, "average_from": 0.7},
    "t_swa_lr1e2": TABLE | {"_levers": True, "average_from": 0.5, "lr": 1e-2},
    "t_swa_lr2e2": TABLE | {"_levers": True, "average_from": 0.5, "lr": 2e-2},
    "t_swa7_lr1e2": TABLE | {"_levers": True, "average_from": 0.7, "lr": 1e-2},
    "t_swa_lr2e2_pt": TABLE | {"_levers": True, "average_from": 0.5, "lr": 2e-2, "_pre": "power"},
    # Steps: every minibatch of an epoch (no cap), and three times the epochs on top.
    "t_swa_lr2e2_pt_nocap": TABLE
    | {"_levers": True, "average_from": 0.5, "lr": 2e-2, "_pre": "power", "max_steps_per_epoch": None},
    "t_swa_lr2e2_pt_e30_nocap": TABLE
    | {
        "_levers": True,
        "average_from": 0.5,
        "lr": 2e-2,
        "_pre": "power",
        "max_steps_per_epoch": None,
        "epochs": 30,
    },
    "t_swa_lr2e2_lg": TABLE | {"_levers": True, "average_from": 0.5, "lr": 2e-2, "gate_hidden": 0},
    "t_swa_lr2e2_e30_nocap": TABLE
    | {"_levers": True, "average_from": 0.5, "lr": 2e-2, "max_steps_per_epoch": None, "epochs": 30},
}
VARIANTS.update(
    {
        name: TABLE | quick.SWA_LR2E2 | change
        for name, change in (quick.PLE_CHANGES | quick.RETRIEVAL_CHANGES | quick.WEIGHT_CHANGES).items()
    }
)

WORST = ("1_ALOI", "12_fault", "39_vertebral", "46_WPBC")


def other_sets(shard: int, n_shards: int) -> tuple[str, ...]:
    """The 28 other shared sets (the check of a variant chosen on the four), every n-th from ``shard``."""
    from pathlib import Path

    names = sorted(p.stem for p in Path(quick.DD).glob("*.npz") if p.stem not in WORST)
    return tuple(names[shard::n_shards])


if __name__ == "__main__":
    torch.set_num_threads(1)
    quick.LA = 1.0
    quick.DATASETS = WORST
    quick.OUT = quick.OUT.parent / "results_la1"
    args = sys.argv[1:]
    if args and args[0] == "--others":  # --others SHARD/N: the check on the other sets
        shard, n_shards = map(int, args[1].split("/"))
        quick.DATASETS, quick.OUT, args = (
            other_sets(shard, n_shards),
            quick.OUT.parent / "results_la1_others",
            args[2:],
        )
    quick.VARIANTS.update(VARIANTS)
    for variant in args:
        quick.run(variant)
