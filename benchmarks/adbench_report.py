"""The ADBench summary's opening: the augmentation gain per detector family, and what a cell costs.

- **Gain**: every Swift Hydra method ``m`` (``swift_hydra``, ``swift_hydra_lightgbm``, ...) is paired with
  ``m_control``, the same deployment detector fitted without the generated anomalies. Per ``la``, the
  difference is taken on the (dataset, seed) cells both completed, seeds averaged per dataset, then
  datasets; wins/ties/losses and a two-sided Wilcoxon p are over datasets, as in the rest of the summary.
- **Cost**: mean ``fit_seconds`` of each Swift Hydra method and of ``catboost`` over the (dataset, seed)
  cells both completed at that ``la``, and their ratio. Only rows of one run are comparable, so the
  cost table says which commits wrote them.
- **Gate**: per generating method, how often the deployment fit used the kept rows and the
  outlier-exposure rows (`gate_table`, from the rows that record `benchmarks.adbench.GATE_COLUMNS`).
- **Scaling plot** (``{prefix}_scaling.png``): fit seconds against ``n_train`` at la = 0.1, one point
  per dataset (seeds averaged), for swift_hydra, mome and catboost.

:func:`benchmarks.report.write_report` adds this section to the summary of an ADBench CSV.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from benchmarks.common import atomic_write, cell_values, control_name, is_control, regime_order, row_regime

COST_REFERENCE = "catboost"
SCALING_METHODS = ("swift_hydra", "mome", "catboost")
SCALING_LA = 0.1  # the headline table
PLOT_SUFFIX = "_scaling.png"
TIE = 0.001  # one tenth of an AUC point, as in the rest of the summary
HARM = 0.01  # a dataset "harmed" by augmentation loses more than one AUC point

Rows = Iterable[Mapping[str, str]]


def _cells(rows: Rows, column: str) -> dict[str, dict[str, dict[tuple[str, str], float]]]:
    """``{regime: {method: {(dataset, seed): value}}}`` of the ``ok`` rows that carry ``column``.

    A regime is ``la=0.1`` or ``K=3`` (:func:`benchmarks.common.row_regime`): cells at a label count
    never pool with cells at a fraction.
    """
    return cell_values([dict(r) | {"regime": row_regime(r)} for r in rows], column, "regime", "method")


def _regime_fields(regime: str) -> dict[str, str]:
    """``{"regime", "la", "n_labeled"}`` of a regime label (``la`` is ``""`` for a count, and vice versa)."""
    kind, _, value = regime.partition("=")
    return {"regime": regime, "la": value if kind == "la" else "", "n_labeled": value if kind == "K" else ""}


def _by_dataset(cells: Mapping[tuple[str, str], float], keys: Iterable[tuple[str, str]]) -> dict[str, float]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for key in keys:
        grouped[key[0]].append(cells[key])
    return {d: float(np.mean(v)) for d, v in grouped.items()}


def family_pairs(methods: Iterable[str]) -> list[tuple[str, str]]:
    """``(method, its control)`` for every Swift Hydra method whose control is present too."""
    present = set(methods)
    return [
        (m, control_name(m))
        for m in sorted(present)
        if m.startswith("swift_hydra") and not is_control(m) and control_name(m) in present
    ]


def gain_table(rows: Rows) -> list[dict]:
    """One dict per (la, family) with the paired AUC-ROC / AUC-PR gain of augmentation."""
    from scipy.stats import wilcoxon

    rows = list(rows)
    roc, pr = _cells(rows, "auc_roc"), _cells(rows, "auc_pr")
    out = []
    for la in sorted(roc, key=regime_order):
        for method, control in family_pairs(roc[la]):
            keys = sorted(set(roc[la][method]) & set(roc[la][control]))
            if not keys:
                continue
            ours, theirs = _by_dataset(roc[la][method], keys), _by_dataset(roc[la][control], keys)
            diff = np.array([ours[d] - theirs[d] for d in sorted(ours)])
            pr_keys = sorted(set(pr[la].get(method, {})) & set(pr[la].get(control, {})))
            pr_ours = _by_dataset(pr[la][method], pr_keys) if pr_keys else {}
            pr_theirs = _by_dataset(pr[la][control], pr_keys) if pr_keys else {}
            out.append(_regime_fields(la) | {
                "method": method, "control": control, "datasets": len(diff), "cells": len(keys),
                "auc_roc": float(np.mean(list(ours.values()))), "control_auc_roc": float(np.mean(list(theirs.values()))),
                "diff": float(diff.mean()),
                "pr_diff": float(np.mean([pr_ours[d] - pr_theirs[d] for d in pr_ours])) if pr_ours else float("nan"),
                "wins": int(np.sum(diff > TIE)), "ties": int(np.sum(np.abs(diff) <= TIE)), "losses": int(np.sum(diff < -TIE)),
                "p_value": float(wilcoxon(diff).pvalue) if np.any(np.abs(diff) > 0) else float("nan"),
                "harmed": int(np.sum(diff < -HARM)),
            })  # fmt: skip
    return out


def cost_table(rows: Rows, reference: str = COST_REFERENCE) -> list[dict]:
    """Mean fit seconds of each Swift Hydra method and of ``reference`` on their common cells, per la."""
    rows = list(rows)
    fit = _cells(rows, "fit_seconds")
    commits: dict = defaultdict(set)
    for row in rows:
        commits[(row_regime(row), row["method"])].add(row.get("commit", "")[:7])
    out = []
    for la in sorted(fit, key=regime_order):
        if reference not in fit[la]:
            continue
        for method in sorted(m for m in fit[la] if m.startswith("swift_hydra")):
            keys = sorted(set(fit[la][method]) & set(fit[la][reference]))
            if not keys:
                continue
            ours = float(np.mean([fit[la][method][k] for k in keys]))
            theirs = float(np.mean([fit[la][reference][k] for k in keys]))
            out.append(_regime_fields(la) | {
                "method": method, "cells": len(keys), "fit_seconds": ours, "reference_seconds": theirs,
                "ratio": ours / theirs if theirs > 0 else float("nan"),
                "commits": sorted(commits[(la, method)] | commits[(la, reference)]),
            })  # fmt: skip
    return out


def gate_table(rows: Rows) -> list[dict]:
    """Per (la, generating method): how often its deployment fit used the kept rows and the exposure rows.

    Over the ``ok`` rows that record `benchmarks.adbench.GATE_COLUMNS` (rows written before them have
    them empty, and are counted only in ``cells``).
    """
    grouped: dict[tuple[str, str], list[Mapping[str, str]]] = defaultdict(list)
    for row in rows:
        if (
            row.get("status") == "ok"
            and row["method"].startswith("swift_hydra")
            and not is_control(row["method"])
        ):
            grouped[(row_regime(row), row["method"])].append(row)
    out = []
    for (regime, method), group in sorted(grouped.items(), key=lambda kv: (regime_order(kv[0][0]), kv[0][1])):
        # Unseen-type rows recorded the kept rows before the exposure count existed: both must be there.
        recorded = [r for r in group if r.get("n_synthetic_kept") and r.get("n_exposure_used")]
        kept = np.array([float(r["n_synthetic_kept"]) for r in recorded])
        weight = np.array([float(r["synthetic_weight_used"] or 0) for r in recorded])
        exposure = np.array([float(r.get("n_exposure_used") or 0) for r in recorded])
        out.append(_regime_fields(regime) | {
            "method": method, "cells": len(group), "recorded": len(recorded),
            "mean_kept": _mean(kept), "kept_joined": _mean((weight > 0) & (kept > 0)),
            "exposure_joined": _mean(exposure > 0), "mean_exposure": _mean(exposure),
        })  # fmt: skip
    return out


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def gate_markdown(rows: Rows) -> list[str]:
    """The gate section (`gate_table`'s methods with at least one recorded cell); empty without any."""
    gates = [g for g in gate_table(rows) if g["recorded"]]
    if not gates:
        return []
    lines = [
        "## What the deployment gate let in", "",
        "Per generating method, over the cells that record it (rows written before the gate columns have "
        "them empty): the mean number of synthetic anomalies the loop kept, the share of cells whose "
        "deployment fit used them (weight > 0), and the share (and mean number) of outlier-exposure rows "
        "that joined it.", "",
        "| labels | method | kept rows (mean) | kept rows joined | exposure joined | exposure rows (mean) | cells recorded |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for g in gates:
        lines.append(
            f"| {g['regime']} | {g['method']} | {_fmt(g['mean_kept'], '.1f')} | {_fmt(g['kept_joined'], '.0%')} "
            f"| {_fmt(g['exposure_joined'], '.0%')} | {_fmt(g['mean_exposure'], '.1f')} | {g['recorded']} of {g['cells']} |"
        )
    return [*lines, ""]


def _fmt(value: float, spec: str = ".2f", scale: float = 1.0) -> str:
    return "–" if not math.isfinite(value) else format(scale * value, spec)


def markdown(rows: Rows, plot: Path | None = None) -> list[str]:
    """The gain and cost sections as markdown lines (empty when the CSV has neither)."""
    rows = list(rows)
    lines: list[str] = []
    gains = gain_table(rows)
    if gains:
        lines += [
            "## What the generated anomalies add, per deployment family", "",
            "Each Swift Hydra method against its paired control (same detector, same seed, no generated "
            "anomalies), on the cells both completed; seeds averaged per dataset. `harmed`: datasets more "
            "than 1 AUC point below the control.", "",
            "| labels | method | AUC-ROC | control | gain (points) | AUC-PR gain | wins | ties | losses | Wilcoxon p | harmed | datasets |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]  # fmt: skip
        for g in gains:
            lines.append(
                f"| {g['regime']} | {g['method']} | {_fmt(g['auc_roc'], scale=100)} | {_fmt(g['control_auc_roc'], scale=100)} "
                f"| {_fmt(g['diff'], '+.2f', 100)} | {_fmt(g['pr_diff'], '+.2f', 100)} | {g['wins']} | {g['ties']} "
                f"| {g['losses']} | {_fmt(g['p_value'], '.3g')} | {g['harmed']} | {g['datasets']} |"
            )
        lines.append("")
    costs = cost_table(rows)
    if costs:
        lines += [
            f"## What a cell costs, against {COST_REFERENCE}", "",
            f"Mean `fit_seconds` over the (dataset, seed) cells both completed; the ratio is ours / {COST_REFERENCE}. "
            "Swift Hydra's seconds include the loop, the deployment gate and the deployment fit.", "",
            f"| labels | method | fit s | {COST_REFERENCE} fit s | ratio | cells | commits |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]  # fmt: skip
        for c in costs:
            lines.append(
                f"| {c['regime']} | {c['method']} | {_fmt(c['fit_seconds'])} | {_fmt(c['reference_seconds'])} "
                f"| {_fmt(c['ratio'])}x | {c['cells']} | {', '.join(c['commits'])} |"
            )
        lines.append("")
    lines += gate_markdown(rows)
    if plot is not None:
        lines += [f"![{plot.stem}]({plot.name})", ""]
    return lines


def scaling_plot(
    rows: Rows, path: Path, methods: tuple[str, ...] = SCALING_METHODS, la: float = SCALING_LA
) -> Path | None:
    """Fit seconds against n_train at one ``la`` (a point per dataset, seeds averaged); None if nothing to plot."""
    points: dict = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if (
            row.get("status") == "ok"
            and row["method"] in methods
            and row.get("n_train")
            and row_regime(row) == f"la={la:g}"
        ):
            points[row["method"]][(row["dataset"], row["la"], float(row["n_train"]))].append(
                float(row["fit_seconds"])
            )
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for method in methods:
        if method not in points:
            continue
        xy = sorted((key[2], float(np.mean(v))) for key, v in points[method].items())
        ax.scatter(*zip(*xy, strict=True), s=18, alpha=0.75, label=method)
    ax.set_xlabel("training rows (n_train)")
    ax.set_ylabel("fit seconds (mean over seeds)")
    ax.set_yscale("log")
    ax.set_title(f"What a cell costs as the data grows (la = {la})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def write(rows: Rows, out: Path, prefix: str) -> list[str]:
    """Writes the scaling plot into ``out`` and returns the section's markdown lines."""
    rows = list(rows)
    plot = scaling_plot(rows, Path(out) / f"{prefix}{PLOT_SUFFIX}")
    return markdown(rows, plot)
