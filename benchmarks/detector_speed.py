"""Detector speed and quality: batch-1 latency, batch-1024 throughput and test AUC-ROC on cardio.

Compares MoME (`MambaMoEDetector`, K = 1, 2, 4, 8) with the single large `MambaDetector` and, when
installed, pyod IForest and CatBoost. Timings use ``torch.set_num_threads(1)`` (one core) for
stable numbers; torch detectors are timed on their hot path (``anomaly_proba_torch`` under
``torch.inference_mode``), the others on ``predict_proba``/``decision_function``.

Usage::

    python -m benchmarks.detector_speed --data-dir DIR --out benchmarks/results
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from benchmarks import common
from benchmarks.common import atomic_write, git_commit
from detectors import MambaDetector, MambaMoEDetector
from hydra_env.datasets import adbench_split, load


def _baselines(seed: int) -> dict:
    """IForest and CatBoost through the same adapters (library defaults) the ADBench runner uses."""
    from detectors.adapters import PyODAdapter, SupervisedAdapter

    makers = {"IForest (pyod)": lambda: PyODAdapter("iforest", random_state=seed)}
    if importlib.util.find_spec("catboost") is not None:
        makers["CatBoost"] = lambda: SupervisedAdapter("catboost", random_state=seed, n_jobs=1)
    return makers


def _models(seed: int) -> dict:
    models = {"MambaDetector (single)": lambda: MambaDetector(random_state=seed, device="cpu")}
    for k in (1, 2, 4, 8):
        models[f"MoME K={k}"] = lambda k=k: MambaMoEDetector(n_experts=k, random_state=seed, device="cpu")
    models.update(_baselines(seed))
    return models


def _score_fn(model):
    if hasattr(model, "anomaly_proba_torch"):

        def torch_fn(X):
            with torch.inference_mode():
                return model.anomaly_proba_torch(X)

        return torch_fn, True
    return model.decision_function, False


def _time(fn, X, repeats: int) -> float:
    fn(X)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _fit(model, X, y, name):
    if name == "IForest (pyod)":
        return model.fit(X)  # unsupervised: ignores labels
    return model.fit(X, y)


def run(data_dir: Path, seeds: list[int], las: list[float]) -> dict:
    torch.set_num_threads(1)
    X, y = load("6_cardio.npz", data_dir=data_dir)
    rows = []
    for la in las:
        for seed in seeds:
            split = adbench_split(X, y, la=la, seed=seed)
            for name, make in _models(seed).items():
                model = make()
                start = time.perf_counter()
                _fit(model, split.X_train, split.y_train, name)
                fit_s = time.perf_counter() - start
                fn, is_torch = _score_fn(model)
                test = torch.as_tensor(split.X_test, dtype=torch.float32) if is_torch else split.X_test
                auc = roc_auc_score(split.y_test, np.asarray(fn(test), dtype=np.float64))
                row = {"model": name, "la": la, "seed": seed, "auc_roc": auc, "fit_s": fit_s}
                if la == las[-1] and seed == seeds[0]:  # time each model once
                    big = np.resize(split.X_test, (1024, split.X_test.shape[1]))
                    one, big = (
                        torch.as_tensor(a, dtype=torch.float32) if is_torch else a for a in (big[:1], big)
                    )
                    row["latency_batch1_ms"] = _time(fn, one, 200) * 1e3
                    row["throughput_batch1024_rows_s"] = 1024 / _time(fn, big, 5)
                    if hasattr(model, "n_experts_"):
                        row["experts_used_on_test"] = int(np.unique(model.assign_experts(split.X_test)).size)
                rows.append(row)
                print(json.dumps(row), flush=True)
    return {"dataset": "6_cardio", "seeds": seeds, "las": las, "torch_threads": 1, "rows": rows}


def summarize(result: dict) -> list[dict]:
    """Per model: mean AUC per la, latency/throughput, ratios to the single detector."""
    rows = result["rows"]
    names = list(dict.fromkeys(r["model"] for r in rows))
    timed = {r["model"]: r for r in rows if "latency_batch1_ms" in r}
    ref = timed["MambaDetector (single)"]
    table = []
    for name in names:
        entry = {"model": name}
        for la in result["las"]:
            entry[f"auc_la{la}"] = float(
                np.mean([r["auc_roc"] for r in rows if r["model"] == name and r["la"] == la])
            )
        t = timed[name]
        entry["fit_s"] = t["fit_s"]
        entry["latency_batch1_ms"] = t["latency_batch1_ms"]
        entry["latency_ratio_to_single"] = t["latency_batch1_ms"] / ref["latency_batch1_ms"]
        entry["throughput_rows_s"] = t["throughput_batch1024_rows_s"]
        entry["throughput_ratio_to_single"] = (
            t["throughput_batch1024_rows_s"] / ref["throughput_batch1024_rows_s"]
        )
        table.append(entry)
    return table


def write_outputs(result: dict, table: list[dict], out: Path, command: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    result = {**result, "summary": table, "command": command, "git_commit": commit}
    atomic_write(out / "detector_speed.json", lambda p: p.write_text(json.dumps(result, indent=2)))
    las = result["las"]
    head = (
        "| model | "
        + " | ".join(f"AUC-ROC la={la}" for la in las)
        + " | fit s | batch-1 ms | ratio | rows/s @1024 | ratio |"
    )
    lines = [
        "# Detector speed and quality (cardio)",
        "",
        f"Command: `{command}`  ",
        f"Git commit: `{commit}`  ",
        f"torch threads: 1 (torch.set_num_threads(1)); seeds {result['seeds']}; ratios are to the single MambaDetector.",
        "Latency: median over 200 batch-1 calls; throughput: median over 5 batch-1024 calls.",
        "",
        head,
        "|" + "---|" * (len(las) + 6),
    ]
    for e in table:
        aucs = " | ".join(f"{e[f'auc_la{la}']:.4f}" for la in las)
        lines.append(
            f"| {e['model']} | {aucs} | {e['fit_s']:.1f} | {e['latency_batch1_ms']:.3f} | "
            f"{e['latency_ratio_to_single']:.2f} | {e['throughput_rows_s']:.0f} | {e['throughput_ratio_to_single']:.2f} |"
        )
    atomic_write(out / "detector_speed.md", lambda p: p.write_text("\n".join(lines) + "\n"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = [e["model"] for e in table]
    axes[0].barh(names, [e["latency_ratio_to_single"] for e in table])
    axes[0].axvline(0.73, color="red", ls="--", label="target 0.73")
    axes[0].set_xlabel("batch-1 latency / single MambaDetector")
    axes[0].legend()
    for la in las:
        axes[1].scatter([e[f"auc_la{la}"] for e in table], names, label=f"la={la}")
    axes[1].set_xlabel("test AUC-ROC (cardio)")
    axes[1].legend()
    fig.tight_layout()
    atomic_write(out / "detector_speed.png", lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder holding 6_cardio.npz")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--las", type=float, nargs="+", default=[0.1, 1.0])
    args = parser.parse_args(argv)
    try:
        common.check_seeds(args.seeds)
        common.check_la(args.las)
        load("6_cardio.npz", data_dir=args.data_dir)
    except (ValueError, FileNotFoundError) as err:
        common.fail(parser, err)
    command = "python -m benchmarks.detector_speed " + " ".join(sys.argv[1:] if argv is None else argv)
    result = run(args.data_dir, args.seeds, args.las)
    table = summarize(result)
    write_outputs(result, table, args.out, command)
    print((args.out / "detector_speed.md").read_text())


if __name__ == "__main__":
    main()
