"""A validation protocol for the value gate's rule: the tables' protocols replayed inside the training split.

    python -m research.probes.value.inner adbench [--seeds 1] [--datasets all]
    python -m research.probes.value.inner unseen [--seeds 1]
    python -m research.probes.value.inner rules > research/probes/value/inner_rules.md

Why: every gate rule so far was fixed before a table was read, and the tables then said which rows had
hurt (``gate_harm.log``). Choosing the next rule from those tables would choose on the test split. This
probe never opens a test split. Per cell it takes the table's *training* split only and splits it again:

* ``adbench``: the ADBench la = 0.1 training split, 70/30 stratified on (label, true label); the inner
  test is scored with the training split's true labels (``Split.y_train_true``, which the protocol keeps
  for analysis), so the anomalies the labels hide count as anomalies there, as they do in the table.
* ``unseen``: the unseen-type protocol's training pool (normal rows and the three seen types of
  held-out type ``h``) replayed with one of those seen types held out again (``h2``, the next type after
  ``h`` in ``KINDS`` order): the inner train has the other two types, la = 0.1 of them labeled, the inner
  test the pool's normal rows and type ``h2``, split 70/30 as the table splits.

On the inner train it runs ``swift_hydra_value``'s loop (same reward, budget and seed), then computes
the gate's full evidence for the kept rows, the exposure rows and both together (``value_gains`` with
``joint``), and fits the four deployments a rule can choose (nothing, kept, exposure, both) on the inner
train, scored on the inner test. Any rule is then a function of a cell's evidence, and ``rules``
reports each rule's inner-test gain over the no-augmentation arm. The rules and the criterion are
fixed in ``RULES`` and ``choose`` before any cell is read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

DD = "/work/shared/datasets/adbench/Classical"
OUT = Path(__file__).resolve().parent / "inner"
UNSEEN_SETS = ("breastw", "vertebral", "wdbc", "pendigits", "cardio", "thyroid", "wbc", "satimage-2")
LA = 0.1
BUDGET = "small"
ARMS = {"nothing": (0, 0), "kept": (1, 0), "exposure": (0, 1), "both": (1, 1)}


def adbench_inner(name: str, seed: int):
    """(X_fit, y_fit, X_eval, y_eval_true) inside the ADBench la = 0.1 training split of ``name``."""
    from sklearn.model_selection import train_test_split

    from hydra_env.datasets import adbench_split, load

    X, y = load(f"{name}.npz", data_dir=DD)
    split = adbench_split(X, y, LA, seed)
    strata = split.y_train * 2 + split.y_train_true  # 0 normal, 1 hidden anomaly, 3 labeled anomaly
    counts = np.bincount(strata, minlength=4)
    strata = np.where(counts[strata] >= 2, strata, 1)  # a stratum of one row joins the hidden anomalies
    fit, held = train_test_split(np.arange(len(strata)), train_size=0.7, stratify=strata, random_state=seed)
    return split.X_train[fit], split.y_train[fit], split.X_train[held], split.y_train_true[held]


def unseen_inner(name: str, held_out_type: str, seed: int):
    """(X_fit, y_fit, X_eval, y_eval, h2): the unseen protocol replayed in ``held_out_type``'s training pool."""
    from sklearn.preprocessing import MinMaxScaler

    from benchmarks.unseen import TRAIN_FRACTION, _typed_set
    from hydra_env.anomaly_types import KINDS

    X_all, types, in_train = _typed_set(name, DD, seed)
    pool = np.flatnonzero(in_train & (types != held_out_type))
    X_pool, t_pool = X_all[pool], types[pool]
    seen = [k for k in KINDS if k != held_out_type and k in set(t_pool)]
    h2 = seen[(KINDS.index(held_out_type)) % len(seen)]
    rng = np.random.RandomState([seed, 2])
    inner_fit = np.zeros(len(pool), dtype=bool)
    for kind in np.unique(t_pool):
        rows = np.flatnonzero(t_pool == kind)
        inner_fit[rng.choice(rows, int(round(TRAIN_FRACTION * len(rows))), replace=False)] = True
    normal = t_pool == "normal"
    fit = inner_fit & (t_pool != h2)
    held = ~inner_fit & (normal | (t_pool == h2))
    anomalies = np.flatnonzero(~normal[fit])
    labeled = rng.choice(anomalies, int(np.ceil(LA * len(anomalies))), replace=False)
    y_fit = np.zeros(int(fit.sum()), dtype=np.int64)
    y_fit[labeled] = 1
    scaler = MinMaxScaler().fit(X_pool[fit])
    return (
        scaler.transform(X_pool[fit]),
        y_fit,
        scaler.transform(X_pool[held]),
        (~normal[held]).astype(int),
        h2,
    )


def run_cell(X_fit: np.ndarray, y_fit: np.ndarray, X_eval: np.ndarray, y_eval: np.ndarray, seed: int) -> dict:
    """The value loop's rows on the inner train, the gate's full evidence, and the four arms' inner AUCs."""
    from sklearn.metrics import roc_auc_score

    from agents.config import LoopOptions, get_budget
    from agents.deploy import fit_deployment
    from agents.exposure import exposure_rows
    from agents.loop import swift_hydra_loop
    from agents.value_gate import value_gains
    from benchmarks.methods import EXPOSURE_METHOD_WEIGHT, VALUE_LOOP_REWARD

    budget = get_budget(BUDGET)
    options = LoopOptions(
        synthetic_gate=False, exposure_weight=0.0, env_kwargs={"reward_weights": dict(VALUE_LOOP_REWARD)}
    )
    start = time.perf_counter()
    kept = swift_hydra_loop(X_fit, y_fit, algo="ppo", budget=budget, seed=seed, options=options).kept_X
    kept = np.asarray(kept, dtype=np.float64).reshape(-1, X_fit.shape[1])
    weight, exposure_weight = LoopOptions.synthetic_weight, EXPOSURE_METHOD_WEIGHT
    candidates = {"exposure": (None, exposure_weight)} | ({"kept": (kept, weight)} if len(kept) else {})
    joint = ("kept", "exposure") if len(kept) else None
    evidence = value_gains(X_fit, y_fit, candidates, seed=seed, joint=joint) if y_fit.sum() >= 2 else None
    exposure = exposure_rows(LoopOptions(exposure_weight=exposure_weight), X_fit, y_fit, seed)
    aucs = {}
    for arm, (use_kept, use_exposure) in ARMS.items():
        if use_kept and not len(kept):
            continue
        detector = fit_deployment(
            LoopOptions.deploy, X_fit, y_fit, kept, budget=budget, seed=seed,
            synthetic_weight=weight * use_kept, exposure=exposure, exposure_weight=exposure_weight * use_exposure,
        )  # fmt: skip
        aucs[arm] = float(roc_auc_score(y_eval, detector.decision_function(X_eval)))
    return {
        "n_fit": len(y_fit), "n_labeled": int(y_fit.sum()), "n_eval_anomalies": int(np.sum(y_eval)),
        "n_kept": len(kept), "evidence": evidence, "auc": aucs, "seconds": time.perf_counter() - start,
    }  # fmt: skip


def _append(path: Path, row: dict) -> None:
    with path.open("a") as fh:  # one line per cell: a crash loses at most the cell in progress
        fh.write(json.dumps(row) + "\n")


def _done(path: Path) -> set[tuple]:
    if not path.exists():
        return set()
    return {tuple(r["cell"]) for r in map(json.loads, path.read_text().splitlines())}


def run(protocol: str, datasets: list[str], seeds: list[int]) -> None:
    from tqdm import tqdm

    from hydra_env.anomaly_types import KINDS

    OUT.mkdir(exist_ok=True)
    path = OUT / f"{protocol}.jsonl"
    done = _done(path)
    if protocol == "adbench":
        cells = [(name, seed) for name in datasets for seed in seeds]
    else:
        cells = [(name, h, seed) for name in datasets for h in KINDS for seed in seeds]
    for cell in tqdm([c for c in cells if c not in done], desc=protocol):
        if protocol == "adbench":
            X_fit, y_fit, X_eval, y_eval = adbench_inner(cell[0], cell[1])
            extra = {}
        else:
            X_fit, y_fit, X_eval, y_eval, h2 = unseen_inner(*cell)
            extra = {"inner_held_out_type": h2}
        if not y_fit.any():  # the loop needs a labeled anomaly; the split's few went to the inner test
            _append(path, {"cell": list(cell), "skipped": "no labeled anomaly in the inner train"})
            continue
        _append(path, {"cell": list(cell), **extra, **run_cell(X_fit, y_fit, X_eval, y_eval, cell[-1])})


def main(argv: list[str] | None = None) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=("adbench", "unseen", "rules"))
    parser.add_argument("--datasets", default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.protocol == "rules":
        from research.probes.value.inner_rules import report

        print(report(OUT))
        return
    if args.datasets != "all":
        datasets = args.datasets.split(",")
    elif args.protocol == "adbench":
        datasets = sorted(p.stem for p in Path(DD).glob("*.npz"))
    else:
        datasets = list(UNSEEN_SETS)
    run(args.protocol, datasets, args.seeds)


if __name__ == "__main__":
    main(sys.argv[1:])
