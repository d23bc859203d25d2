"""Detector speed and quality: batch-1 latency, batch-1024 throughput and test AUC-ROC on cardio.

Compares MoME (`MambaMoEDetector`, K = 1, 2, 4, 8, fitted as the runners' `mome`) with the single large `MambaDetector` and, when
installed, pyod IForest and CatBoost. Timings use ``torch.set_num_threads(1)`` (one core) for
stable numbers; torch detectors are timed on their hot path (``anomaly_proba_torch`` under
``torch.inference_mode``), the others on ``predict_proba``/``decision_function``.

Timing is side by side (`benchmarks.timing`): each round times a short block of every model in turn,
and a ratio to the single detector is the median of the per-round ratios, reported with its
quartiles, so that load from other processes slows both sides of a ratio alike. Targets (issue 12):
MoME batch-1 latency <= 0.73x the single detector for K in {2, 4, 8}, and K=8 / K=1 <= 1.2x.

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
from benchmarks.timing import interleaved_seconds_per_call, paired_ratio, spread
from detectors import MambaDetector, MambaMoEDetector
from detectors.moe import TABLE_EPOCHS, TABLE_SETTINGS
from hydra_env.datasets import adbench_split, load

SINGLE = "MambaDetector (single)"
LATENCY_TARGET = 0.73
K8_OVER_K1_TARGET = 1.2
MOME_EPOCHS = TABLE_EPOCHS  # the runners' `mome` at tiny and small (benchmarks.methods)


def _baselines(seed: int) -> dict:
    """IForest and CatBoost through the same adapters (library defaults) the ADBench runner uses."""
    from detectors.adapters import PyODAdapter, SupervisedAdapter

    makers = {"IForest (pyod)": lambda: PyODAdapter("iforest", random_state=seed)}
    if importlib.util.find_spec("catboost") is not None:
        makers["CatBoost"] = lambda: SupervisedAdapter("catboost", random_state=seed, n_jobs=1)
    return makers


def _models(seed: int, epochs: int | None = None) -> dict:
    """The compared models; ``epochs`` (None = each detector's default) shortens the Mamba fits for tests."""
    fit = {"random_state": seed, "device": "cpu"} | ({} if epochs is None else {"epochs": epochs})
    # MoME as the tables fit it (the runners' `mome`: TABLE_EPOCHS and TABLE_SETTINGS).
    mome = {"epochs": MOME_EPOCHS, **TABLE_SETTINGS} | fit
    models = {SINGLE: lambda: MambaDetector(**fit)}
    for k in (1, 2, 4, 8):
        models[f"MoME K={k}"] = lambda k=k: MambaMoEDetector(n_experts=k, **mome)
    # The opt-in piecewise-linear tokens (`mome_ple` in the ADBench table): what they cost at batch 1.
    models["MoME K=2, piecewise-linear"] = lambda: MambaMoEDetector(
        n_experts=2, numeric_embedding="piecewise_linear", **mome
    )
    models.update(_baselines(seed))
    return models


def _score_fn(model):
    if hasattr(model, "anomaly_proba_torch"):

        def torch_fn(X):
            with torch.inference_mode():
                return model.anomaly_proba_torch(X)

        return torch_fn, True
    return model.decision_function, False


def _fit(model, X, y, name):
    if name == "IForest (pyod)":
        return model.fit(X)  # unsupervised: ignores labels
    return model.fit(X, y)


def _time_side_by_side(fns: dict, X_one: np.ndarray, X_big: np.ndarray, rounds: int, block_s: float) -> dict:
    """Interleaved batch-1 latency and batch-1024 throughput of every model (see `benchmarks.timing`)."""
    inputs = {}
    for name, (fn, is_torch) in fns.items():
        one, big = (torch.as_tensor(a, dtype=torch.float32) if is_torch else a for a in (X_one, X_big))
        inputs[name] = (fn, one, big)
    latency = interleaved_seconds_per_call(
        {name: (lambda fn=fn, one=one: fn(one)) for name, (fn, one, _) in inputs.items()}, rounds, block_s
    )
    # Throughput blocks hold at least one batch-1024 call each; fewer rounds keep the run short.
    per_row = interleaved_seconds_per_call(
        {name: (lambda fn=fn, big=big: fn(big)) for name, (fn, _, big) in inputs.items()},
        max(3, rounds // 3),
        block_s,
    )
    return {"latency_s": latency, "throughput_rows_s": {k: len(X_big) / v for k, v in per_row.items()}}


def _paired(timing: dict) -> dict:
    """Per-round ratios to the single detector (latency, throughput) and MoME K=8 / K=1 latency."""
    lat, thr = timing["latency_s"], timing["throughput_rows_s"]
    paired = {
        name: {
            "latency_ratio_to_single": paired_ratio(lat[name], lat[SINGLE]),
            "throughput_ratio_to_single": paired_ratio(thr[name], thr[SINGLE]),
        }
        for name in lat
    }
    k8_over_k1 = paired_ratio(lat["MoME K=8"], lat["MoME K=1"]) if "MoME K=8" in lat else None
    return {"per_model": paired, "mome_k8_over_k1": k8_over_k1}


def _fit_and_score(name: str, model, split, timed: bool) -> tuple[dict, tuple]:
    """Fits ``model`` on the split; returns its row (test AUC, fit seconds) and its (score fn, is_torch)."""
    start = time.perf_counter()
    _fit(model, split.X_train, split.y_train, name)
    fit_s = time.perf_counter() - start
    fn, is_torch = _score_fn(model)
    test = torch.as_tensor(split.X_test, dtype=torch.float32) if is_torch else split.X_test
    auc = roc_auc_score(split.y_test, np.asarray(fn(test), dtype=np.float64))
    row = {"auc_roc": auc, "fit_s": fit_s}
    if timed and hasattr(model, "n_experts_"):
        row["experts_used_on_test"] = int(np.unique(model.assign_experts(split.X_test)).size)
    return row, (fn, is_torch)


def _attach_timing(rows: list[dict], timing: dict) -> None:
    """Adds each model's batch-1 latency and batch-1024 throughput (medians and spreads) to its row."""
    for row in rows:
        lat = spread(timing["latency_s"][row["model"]] * 1e3)
        thr = spread(timing["throughput_rows_s"][row["model"]])
        row.update(
            latency_batch1_ms=lat["median"],
            latency_batch1_ms_spread=lat,
            throughput_batch1024_rows_s=thr["median"],
            throughput_batch1024_rows_s_spread=thr,
        )


def run(
    data_dir: Path,
    seeds: list[int],
    las: list[float],
    rounds: int = 30,
    block_ms: float = 20.0,
    epochs: int | None = None,
) -> dict:
    """Fits every model per (la, seed) for AUC-ROC; times them side by side on the last la, first seed."""
    torch.set_num_threads(1)
    X, y = load("6_cardio.npz", data_dir=data_dir)
    rows, timing = [], None
    for la in las:
        for seed in seeds:
            split = adbench_split(X, y, la=la, seed=seed)
            timed = la == las[-1] and seed == seeds[0]  # time each model once
            fns, la_rows = {}, []
            for name, make in _models(seed, epochs).items():
                row, fns[name] = _fit_and_score(name, make(), split, timed)
                row = {"model": name, "la": la, "seed": seed} | row
                la_rows.append(row)
                print(json.dumps(row), flush=True)
            if timed:
                big = np.resize(split.X_test, (1024, split.X_test.shape[1]))
                timing = _time_side_by_side(fns, big[:1], big, rounds, block_ms / 1e3)
                _attach_timing(la_rows, timing)
            rows += la_rows
    paired = _paired(timing)
    return {
        "dataset": "6_cardio",
        "seeds": seeds,
        "las": las,
        "torch_threads": 1,
        "epochs": epochs,
        "timing": {
            "method": "interleaved rounds (benchmarks.timing): every model timed in turn per round, "
            "order rotating; ratios are per-round (paired) ratios",
            "latency_rounds": rounds,
            "throughput_rounds": max(3, rounds // 3),
            "block_ms": block_ms,
        },
        "rows": rows,
        "paired": paired["per_model"],
        "mome_k8_over_k1": paired["mome_k8_over_k1"],
        "targets": {"latency_ratio_to_single_max": LATENCY_TARGET, "mome_k8_over_k1_max": K8_OVER_K1_TARGET},
    }


def summarize(result: dict) -> list[dict]:
    """Per model: mean AUC per la, latency/throughput with spreads, paired ratios to the single detector."""
    rows = result["rows"]
    names = list(dict.fromkeys(r["model"] for r in rows))
    timed = {r["model"]: r for r in rows if "latency_batch1_ms" in r}
    table = []
    for name in names:
        entry = {"model": name}
        for la in result["las"]:
            entry[f"auc_la{la}"] = float(
                np.mean([r["auc_roc"] for r in rows if r["model"] == name and r["la"] == la])
            )
        t, paired = timed[name], result["paired"][name]
        lat_ratio, thr_ratio = paired["latency_ratio_to_single"], paired["throughput_ratio_to_single"]
        entry.update(
            fit_s=t["fit_s"],
            latency_batch1_ms=t["latency_batch1_ms"],
            latency_batch1_ms_iqr=[
                t["latency_batch1_ms_spread"]["q25"],
                t["latency_batch1_ms_spread"]["q75"],
            ],
            latency_ratio_to_single=lat_ratio["median"],
            latency_ratio_to_single_iqr=[lat_ratio["q25"], lat_ratio["q75"]],
            latency_ratio_to_single_range=[lat_ratio["min"], lat_ratio["max"]],
            throughput_rows_s=t["throughput_batch1024_rows_s"],
            throughput_ratio_to_single=thr_ratio["median"],
            throughput_ratio_to_single_iqr=[thr_ratio["q25"], thr_ratio["q75"]],
        )
        table.append(entry)
    return table


def verdicts(result: dict, table: list[dict]) -> list[str]:
    """The two latency targets, judged on the median and (robustly) on the upper quartile."""
    by_model = {e["model"]: e for e in table}
    lines = []
    for k in (2, 4, 8):
        e = by_model.get(f"MoME K={k}")
        if e is not None:
            q75 = e["latency_ratio_to_single_iqr"][1]
            verdict = "met" if e["latency_ratio_to_single"] <= LATENCY_TARGET else "NOT met"
            lines.append(
                f"- MoME K={k} latency / single: {e['latency_ratio_to_single']:.2f}x (upper quartile {q75:.2f}x); "
                f"target <= {LATENCY_TARGET}x: {verdict}."
            )
    ratio = result.get("mome_k8_over_k1")
    if ratio is not None:
        verdict = "met" if ratio["median"] <= K8_OVER_K1_TARGET else "NOT met"
        lines.append(
            f"- MoME K=8 / K=1 latency: {ratio['median']:.2f}x (quartiles {ratio['q25']:.2f}-{ratio['q75']:.2f}x); "
            f"target <= {K8_OVER_K1_TARGET}x: {verdict}."
        )
    return lines


def _markdown(result: dict, table: list[dict]) -> list[str]:
    las, timing = result["las"], result["timing"]
    lines = [
        "# Detector speed and quality (cardio)",
        "",
        f"Command: `{result['command']}`  ",
        f"Git commit: `{result['git_commit']}`  ",
        f"torch threads: 1 (torch.set_num_threads(1)); seeds {result['seeds']}; ratios are to the single "
        "MambaDetector, as medians of per-round (paired) ratios with their quartiles.",
        f"Timing: {timing['latency_rounds']} interleaved rounds of ~{timing['block_ms']:g} ms batch-1 blocks "
        f"per model, {timing['throughput_rounds']} rounds of batch-1024 blocks.",
        "",
        "| model | "
        + " | ".join(f"AUC-ROC la={la}" for la in las)
        + " | fit s | batch-1 ms (IQR) | latency ratio (IQR) | rows/s @1024 | throughput ratio (IQR) |",
        "|" + "---|" * (len(las) + 6),
    ]
    for e in table:
        aucs = " | ".join(f"{e[f'auc_la{la}']:.4f}" for la in las)
        lat_iqr, ratio_iqr, thr_iqr = (
            e["latency_batch1_ms_iqr"],
            e["latency_ratio_to_single_iqr"],
            e["throughput_ratio_to_single_iqr"],
        )
        lines.append(
            f"| {e['model']} | {aucs} | {e['fit_s']:.1f} "
            f"| {e['latency_batch1_ms']:.3f} ({lat_iqr[0]:.3f}-{lat_iqr[1]:.3f}) "
            f"| {e['latency_ratio_to_single']:.2f} ({ratio_iqr[0]:.2f}-{ratio_iqr[1]:.2f}) "
            f"| {e['throughput_rows_s']:.0f} "
            f"| {e['throughput_ratio_to_single']:.2f} ({thr_iqr[0]:.2f}-{thr_iqr[1]:.2f}) |"
        )
    return [*lines, "", *verdicts(result, table)]


def write_outputs(result: dict, table: list[dict], out: Path, command: str) -> None:
    """Writes ``detector_speed.json``, ``detector_speed.md`` and ``detector_speed.png`` under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    result = {**result, "summary": table, "command": command, "git_commit": commit}
    atomic_write(out / "detector_speed.json", lambda p: p.write_text(json.dumps(result, indent=2)))
    atomic_write(
        out / "detector_speed.md", lambda p: p.write_text("\n".join(_markdown(result, table)) + "\n")
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    names = [e["model"] for e in table]
    medians = np.array([e["latency_ratio_to_single"] for e in table])
    iqr = np.array([e["latency_ratio_to_single_iqr"] for e in table]).T
    axes[0].barh(names, medians, xerr=np.abs(iqr - medians), capsize=3)
    axes[0].axvline(LATENCY_TARGET, color="red", ls="--", label=f"target {LATENCY_TARGET}")
    axes[0].set_xlabel("batch-1 latency / single MambaDetector (median, IQR)")
    axes[0].legend()
    for la in result["las"]:
        axes[1].scatter([e[f"auc_la{la}"] for e in table], names, label=f"la={la}")
    axes[1].set_xlabel("test AUC-ROC (cardio)")
    axes[1].legend()
    fig.tight_layout()
    atomic_write(out / "detector_speed.png", lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder holding 6_cardio.npz")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--las", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved batch-1 timing rounds")
    parser.add_argument(
        "--block-ms", type=float, default=20.0, help="duration of one model's block per round"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override the Mamba fits' epochs (smoke runs)"
    )
    args = parser.parse_args(argv)
    try:
        common.check_seeds(args.seeds)
        common.check_la(args.las)
        load("6_cardio.npz", data_dir=args.data_dir)
    except (ValueError, FileNotFoundError) as err:
        common.fail(parser, err)
    command = "python -m benchmarks.detector_speed " + " ".join(sys.argv[1:] if argv is None else argv)
    result = run(args.data_dir, args.seeds, args.las, args.rounds, args.block_ms, args.epochs)
    table = summarize(result)
    write_outputs(result, table, args.out, command)
    print((args.out / "detector_speed.md").read_text())


if __name__ == "__main__":
    main()
