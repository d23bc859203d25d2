"""Markdown summary and plots for benchmark result CSVs (ADBench and unseen-anomaly protocols).

Every figure comes from the CSV: per dataset we average the seeds, then average over datasets. Mean
ranks and the reference method's wins/ties/losses use only datasets where every compared method has
a result, so a method is never ranked on an easier subset.

    python -m benchmarks.report benchmarks/results/adbench_results.csv --reference swift_hydra
"""

from __future__ import annotations

import argparse
import csv
import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks import adbench_report, unseen_report
from benchmarks.common import (  # noqa: F401  (comma_list, record_command: re-exported)
    ResultStore,
    atomic_write,
    comma_list,
    git_commit,
    record_command,
    row_regime,
)

# Published ADBench means (AUC-ROC, %) over its 47 Classical datasets, 3 seeds, default hyperparameters.
# Source: Han, Hu, Huang, Jiang & Zhao, "ADBench: Anomaly Detection Benchmark", NeurIPS 2022 Datasets and
# Benchmarks track (semi-/fully-supervised results by labeled-anomaly ratio; unsupervised table).
# Key: (method, la) with la=None for unsupervised methods, which do not use labels.
PUBLISHED_ADBENCH_AUC_ROC: dict[tuple[str, float | None], float] = {
    ("catboost", 0.1): 91.20,
    ("catboost", 1.0): 97.13,
    ("iforest", None): 76.17,
}
PUBLISHED_SOURCE = "Han et al., ADBench: Anomaly Detection Benchmark (NeurIPS 2022), mean AUC-ROC over the 47 Classical datasets"
# Measured by this team before this code existed; reference text only, never mixed with our results.
TEAM_REFERENCE_NOTE = (
    "For orientation only (not produced by this run): this team measured CatBoost with library defaults on the "
    "32 shared Classical sets, seeds 1-3, at 93.14 mean AUC-ROC for la=0.1 and 98.18 for la=1.0."
)
TIE_TOLERANCE = 1e-3  # AUC differences below 0.1 point count as ties in wins/ties/losses
# Nemenyi critical values q_0.05 by number of methods (Demsar 2006, Table 5).
_NEMENYI_Q05 = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}


# Columns that identify a cell: per-method runners (adbench, unseen), then per-algo ones (sweep, policies).
_METHOD_KEYS = ("dataset", "held_out_type", "la", "n_labeled", "seed", "method")
_ALGO_KEYS = ("dataset", "algo", "la", "n_labeled", "seed", "budget")
REGIME = "regime"


def load_rows(path: str | Path) -> list[dict[str, str]]:
    """The trusted rows of a results CSV written by the runners (damaged rows are reported and left out)."""
    with open(path, newline="") as fh:
        header = next(csv.reader(fh), [])
    keys = [c for c in (_METHOD_KEYS if "method" in header else _ALGO_KEYS) if c in header]
    return list(ResultStore(Path(path), header, keys).rows.values())


def _group_sort_key(value: str):
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def per_dataset(rows, group_column: str, metric: str) -> dict[str, dict[str, dict[str, float]]]:
    """``{group: {method: {dataset: mean of metric over seeds}}}`` from ``status=ok`` rows."""
    values: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for row in rows:
        if row.get("status") == "ok" and row.get(metric) not in (None, ""):
            values[row[group_column]][row["method"]][row["dataset"]].append(float(row[metric]))
    return {
        g: {m: {d: float(np.mean(v)) for d, v in by_d.items()} for m, by_d in by_m.items()}
        for g, by_m in values.items()
    }


def mean_ranks(table: dict[str, dict[str, float]]) -> tuple[dict[str, float], list[str]]:
    """Mean rank (1 = best AUC) per method over the datasets every method completed."""
    from scipy.stats import rankdata

    methods = sorted(table)
    common = sorted(set.intersection(*(set(table[m]) for m in methods))) if methods else []
    if not common:
        return {}, []
    scores = np.array([[table[m][d] for m in methods] for d in common])
    ranks = np.vstack([rankdata(-row) for row in scores])
    return dict(zip(methods, ranks.mean(axis=0), strict=True)), common


def compare(table: dict[str, dict[str, float]], reference: str) -> list[dict]:
    """Wins/ties/losses of ``reference`` against each method, with a two-sided Wilcoxon p-value."""
    from scipy.stats import wilcoxon

    out = []
    for method in sorted(m for m in table if m != reference):
        common = sorted(set(table[reference]) & set(table[method]))
        diff = np.array([table[reference][d] - table[method][d] for d in common])
        p_value = float("nan")
        if np.any(np.abs(diff) > 0):
            p_value = float(wilcoxon(diff).pvalue)
        out.append({
            "method": method, "wins": int(np.sum(diff > TIE_TOLERANCE)), "ties": int(np.sum(np.abs(diff) <= TIE_TOLERANCE)),
            "losses": int(np.sum(diff < -TIE_TOLERANCE)), "mean_diff": float(diff.mean()) if len(diff) else float("nan"),
            "p_value": p_value, "n": len(common),
        })  # fmt: skip
    return out


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.2f}"


def _num(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.3g}"


def _label_groups(group_column: str) -> bool:
    """Whether the summary's groups are label regimes (``la`` values, or ``regime``: la=0.1, K=3)."""
    return group_column in ("la", REGIME)


def _group_title(group_column: str, group: str) -> str:
    return group.replace("=", " = ") if group_column == REGIME else f"{group_column} = {group}"


def _published(method: str, group_column: str, group: str) -> str:
    if not _label_groups(group_column):
        return "–"
    la = group.removeprefix("la=") if group_column == REGIME else group
    if la.startswith("K="):  # ADBench published fractions only
        return "–"
    value = PUBLISHED_ADBENCH_AUC_ROC.get((method, None))
    if value is None:
        value = PUBLISHED_ADBENCH_AUC_ROC.get((method, float(la)))
    return "–" if value is None else f"{value:.2f}"


def _markdown(rows, group_column, reference, command, commit, title, plots, extra=()) -> str:
    roc, pr = per_dataset(rows, group_column, "auc_roc"), per_dataset(rows, group_column, "auc_pr")
    groups = sorted({r[group_column] for r in rows}, key=_group_sort_key)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    kinds = {r["method"]: r.get("kind", "") for r in rows}
    failed = [r for r in rows if r.get("status") != "ok"]
    lines = [
        f"# {title}", "",
        f"- Command(s), in the order they ran: `{command}`", f"- Commit of this summary: `{commit}`",
        f"- Generated: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Cells: {len(rows) - len(failed)} ok, {len(failed)} failed; datasets: {len({r['dataset'] for r in rows})}; "
        f"seeds: {' '.join(sorted({r['seed'] for r in rows}, key=int))}",
        "- Metrics on the test split only; seeds averaged per dataset, then datasets averaged. Ranks use datasets "
        "every ranked method completed (1 = best AUC-ROC).", "", *extra,
    ]  # fmt: skip
    for group in groups:
        lines += _group_section(rows, group_column, group, reference, roc, pr, methods, kinds)
    if plots:
        lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots] + [""]
    if failed:
        lines += ["## Failed cells", ""]
        for r in failed[:40]:
            extra = f" {r['held_out_type']}" if r.get("held_out_type") else ""
            lines.append(
                f"- {r['dataset']} {_group_title(group_column, r[group_column]).replace(' ', '')} seed={r['seed']}{extra} "
                f"{r['method']}: `{r.get('error', '')}`"
            )
        if len(failed) > 40:
            lines.append(f"- ... and {len(failed) - 40} more (see the CSV)")
        lines.append("")
    if _label_groups(group_column):
        lines += ["## Published reference", "", f"ADBench published column: {PUBLISHED_SOURCE}. "
                  "Those means cover 47 datasets, ours only the datasets above, so they are context, not a paired comparison.",
                  "", TEAM_REFERENCE_NOTE, ""]  # fmt: skip
    return "\n".join(lines)


def _group_section(rows, group_column, group, reference, roc, pr, methods, kinds) -> list[str]:
    """One ``## <group_column> = <group>`` section of the summary.

    The method table, the reference's paired comparison and the per-dataset AUC-ROC table.
    """
    lines: list[str] = []
    ranks, common = mean_ranks(roc.get(group, {}))
    lines += [f"## {_group_title(group_column, group)}", ""]
    with_published = _label_groups(group_column)
    lines += [
        "| method | kind | AUC-ROC | AUC-PR | mean rank | datasets | failed cells | fit s | predict s/1k rows |"
        + (" ADBench published AUC-ROC |" if with_published else ""),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        + (" ---: |" if with_published else ""),
    ]
    for method in methods:
        group_rows = [r for r in rows if r[group_column] == group and r["method"] == method]
        if not group_rows:  # never run in this group (e.g. a method run at la = 0.1 only)
            continue
        ok_rows = [r for r in group_rows if r.get("status") == "ok"]
        by_d_roc, by_d_pr = roc.get(group, {}).get(method, {}), pr.get(group, {}).get(method, {})
        fit = np.mean([float(r["fit_seconds"]) for r in ok_rows]) if ok_rows else float("nan")
        pred = np.mean([float(r["predict_seconds_per_1k"]) for r in ok_rows]) if ok_rows else float("nan")
        rank = f"{ranks[method]:.2f}" if method in ranks else "–"
        lines.append(
            f"| {method} | {kinds[method]} | {_pct(np.mean(list(by_d_roc.values())) if by_d_roc else None)} "
            f"| {_pct(np.mean(list(by_d_pr.values())) if by_d_pr else None)} | {rank} | {len(by_d_roc)} "
            f"| {len(group_rows) - len(ok_rows)} | {_num(fit)} | {_num(pred)} |"
            + (f" {_published(method, group_column, group)} |" if with_published else "")
        )
    lines += ["", f"Mean ranks over {len(common)} dataset(s) completed by all ranked methods.", ""]
    if reference not in roc.get(group, {}):
        lines += [
            f"Reference method {reference!r} has no successful cell here: no wins/ties/losses table.",
            "",
        ]
    else:
        lines += [
            f"### {reference} against each method (AUC-ROC, per dataset)", "",
            "| method | wins | ties | losses | mean diff (points) | Wilcoxon p | paired datasets |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]  # fmt: skip
        for c in compare(roc[group], reference):
            p = "–" if not math.isfinite(c["p_value"]) else f"{c['p_value']:.3g}"
            lines.append(
                f"| {c['method']} | {c['wins']} | {c['ties']} | {c['losses']} | {_pct(c['mean_diff'])} | {p} | {c['n']} |"
            )
        lines += [
            "",
            f"Ties: |difference| <= {100 * TIE_TOLERANCE:.1f} AUC point; two-sided Wilcoxon signed-rank.",
            "",
        ]
    present = [m for m in methods if m in roc.get(group, {})]
    datasets = sorted({d for m in present for d in roc[group][m]})
    lines += [f"### Per-dataset AUC-ROC (%), {_group_title(group_column, group)}", ""]
    lines += ["| dataset | " + " | ".join(present) + " |", "| --- |" + " ---: |" * len(present)]
    for d in datasets:
        lines.append(f"| {d} | " + " | ".join(_pct(roc[group][m].get(d)) for m in present) + " |")
    lines.append("")
    return lines


def _plots(rows, group_column: str, out: Path, prefix: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    roc = per_dataset(rows, group_column, "auc_roc")
    groups = sorted(roc, key=_group_sort_key)
    if not groups:
        return []
    methods = list(
        dict.fromkeys(r["method"] for r in rows if r["method"] in {m for g in roc.values() for m in g})
    )
    datasets = sorted({d for g in roc.values() for m in g.values() for d in m})
    fig, axes = plt.subplots(
        len(groups), 1, figsize=(max(6, 0.5 * len(datasets) + 3), 3.2 * len(groups)), squeeze=False
    )
    for ax, group in zip(axes[:, 0], groups, strict=True):
        for i, method in enumerate(methods):
            xs = [
                j + (i - (len(methods) - 1) / 2) * 0.7 / max(1, len(methods))
                for j, d in enumerate(datasets)
                if d in roc[group].get(method, {})
            ]
            ys = [100 * roc[group][method][d] for d in datasets if d in roc[group].get(method, {})]
            ax.scatter(xs, ys, s=18, label=method, marker="os^Dv<>ph*"[i % 10])
        ax.set_xticks(range(len(datasets)), datasets, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("AUC-ROC (%)")
        ax.set_title(_group_title(group_column, group))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    auc_path = out / f"{prefix}_auc_roc.png"
    atomic_write(auc_path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)

    fig, axes = plt.subplots(
        1, len(groups), figsize=(4.5 * len(groups), 0.4 * len(methods) + 1.8), squeeze=False
    )
    for ax, group in zip(axes[0], groups, strict=True):
        ranks, common = mean_ranks(roc[group])
        order = sorted(ranks, key=ranks.get)
        ax.barh(range(len(order)), [ranks[m] for m in order], color="tab:blue", alpha=0.7)
        ax.set_yticks(range(len(order)), order, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("mean rank (1 = best)")
        q = _NEMENYI_Q05.get(len(order))
        title = f"{_group_title(group_column, group)} ({len(common)} datasets)"
        if q and common:
            cd = q * math.sqrt(len(order) * (len(order) + 1) / (6 * len(common)))
            best = ranks[order[0]]
            ax.plot([best, best + cd], [-0.7, -0.7], color="black", lw=2, clip_on=False)
            ax.axvline(best + cd, color="red", ls="--", lw=1)
            title += f"\nNemenyi CD(0.05) = {cd:.2f}"
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    rank_path = out / f"{prefix}_ranks.png"
    atomic_write(rank_path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return [auc_path, rank_path]


def write_report(
    rows, out: str | Path, *, prefix: str, group_column: str = REGIME, reference: str = "swift_hydra",
    command: str = "", commit: str = "unknown", title: str = "Benchmark",
) -> Path:  # fmt: skip
    """Write ``{prefix}_summary.md`` and the two plots into ``out``; returns the markdown path.

    Grouped by ``held_out_type`` (the unseen-anomaly protocol), the summary opens with
    :mod:`benchmarks.unseen_report`'s table per held-out type and its third plot, ``{prefix}_types.png``.

    ``command`` is appended to ``{prefix}_commands.txt``: a resumed or extended CSV holds cells of several
    runs, and the summary lists every command that wrote into it (the CSV's ``commit`` column says
    which code produced each row).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    command = record_command(out / f"{prefix}_commands.txt", command)
    rows = [dict(r) for r in rows]
    if (
        group_column == REGIME
    ):  # derived: ``la=0.1`` or ``K=3`` (rows written before counts have no n_labeled)
        rows = [r | {REGIME: row_regime(r)} for r in rows]
    # Unseen-anomaly CSVs open with the per-type table, the mean over types and its plot.
    if group_column == unseen_report.GROUP:
        extra = [*unseen_report.write(rows, out, prefix), *adbench_report.gate_markdown(rows)] if rows else []
        rows = _type_groups_by_regime(rows)
    else:  # the ADBench CSV opens with the gain per deployment family and the cost of a cell
        extra = adbench_report.write(rows, out, prefix) if rows else []
    plots = _plots(rows, group_column, out, prefix) if rows else []
    text = _markdown(rows, group_column, reference, command, commit, title, plots, extra)
    path = out / f"{prefix}_summary.md"
    atomic_write(path, lambda p: Path(p).write_text(text + "\n"))
    return path


def _type_groups_by_regime(rows: list[dict]) -> list[dict]:
    """Unseen rows of several label regimes: each held-out type's group is split by regime.

    The generic sections average a group's cells per method; cells at ``la=0.1`` and at ``K=1`` share
    their (dataset, seed) keys and must not be pooled, so ``local`` becomes ``local (la=0.1)`` and
    ``local (K=1)``. Rows of one regime keep their groups as they are.
    """
    if len(unseen_report.regimes(rows)) < 2:
        return rows
    return [r | {unseen_report.GROUP: f"{r[unseen_report.GROUP]} ({row_regime(r)})"} for r in rows]


# Summary titles by CSV prefix, so a rebuilt summary reads like the original.
TITLES = {"adbench": "ADBench benchmark", "unseen": "Unseen anomaly types (leave one type out)"}


def main(argv: list[str] | None = None) -> int:
    """Rebuild a summary from an existing CSV: ``python -m benchmarks.report RESULTS.csv``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("csv", type=Path)
    parser.add_argument("--reference", default="swift_hydra")
    parser.add_argument("--out", type=Path, default=None, help="defaults to the CSV's folder")
    parser.add_argument("--command", default="", help="the command that produced the CSV, for the markdown")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        parser.exit(2, f"{parser.prog}: error: no results CSV at {args.csv}\n")
    rows = load_rows(args.csv)
    group_column = "held_out_type" if rows and "held_out_type" in rows[0] else REGIME
    prefix = args.csv.name.removesuffix("_results.csv")
    path = write_report(
        rows, args.out or args.csv.parent, prefix=prefix, group_column=group_column, reference=args.reference,
        command=args.command, commit=git_commit(), title=TITLES.get(prefix, prefix),
    )  # fmt: skip
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
