"""The unseen-anomaly summary: AUC-ROC per held-out type plus the mean over types, paired controls, coverage.

Every figure averages seeds per dataset first, then datasets; the mean over types is the mean of the
per-type figures. A Swift Hydra method ``m`` is paired with ``m_control`` (the same deployment detector
without generated data): their difference is taken cell by cell on the (dataset, seed) cells both
completed, so neither is judged on an easier subset. ``coverage`` (see :func:`benchmarks.unseen.coverage`)
is shown for methods whose rows carry it; CSVs written before it existed show "–".

Cells at different label regimes (a fraction ``la=0.1`` or a count ``K=1``, see
:func:`benchmarks.common.row_regime`) share their (dataset, seed) keys, so every figure reads one
regime: the summary has a table per regime, and the functions take ``regime=`` (required when the rows
hold more than one).

:func:`benchmarks.report.write_report` adds this section to the summary of an unseen-anomaly CSV.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import (
    CONTROL_SUFFIX,
    atomic_write,
    cell_values,
    control_name,
    is_control,
    regime_order,
    row_regime,
)

GROUP = "held_out_type"
MEAN = "mean over types"
PLOT_SUFFIX = "_types.png"
# ADBench's order of its synthetic types (hydra_env.anomaly_types.KINDS); other types follow by name.
TYPE_ORDER = ("local", "global", "dependency", "clustered")
# Issue 15's labeled baseline: Swift Hydra is also shown paired against it.
BASELINE = ("swift_hydra", "catboost")

Rows = Iterable[Mapping[str, str]]


def regimes(rows: Rows) -> list[str]:
    """The label regimes of ``rows`` (``la=0.1``, ``K=1``, ...): fractions first, then counts."""
    return sorted({row_regime(r) for r in rows}, key=regime_order)


def in_regime(rows: Rows, regime: str | None) -> list[Mapping[str, str]]:
    """The rows of one label regime; ``None`` takes every row, which must then hold one regime only.

    Raises:
        ValueError: ``regime`` is None and the rows mix regimes, or no row is at ``regime``.
    """
    rows = list(rows)
    found = regimes(rows)
    if regime is None:
        if len(found) > 1:
            raise ValueError(
                f"the rows hold several label regimes ({', '.join(found)}): pass regime= to read one"
            )
        return rows
    if rows and regime not in found:
        raise ValueError(f"no row is at regime {regime!r}; the rows hold {', '.join(found)}")
    return [r for r in rows if row_regime(r) == regime]


def _cells(rows: Rows, metric: str) -> dict[str, dict[str, dict[tuple[str, str], float]]]:
    """``{method: {type: {(dataset, seed): value}}}`` of the ``ok`` rows that carry ``metric``."""
    return cell_values(rows, metric, "method", GROUP)


def _dataset_mean(cells: Mapping[tuple[str, str], float]) -> float:
    """Seeds averaged per dataset, then datasets averaged (nan when empty)."""
    by_dataset: dict[str, list[float]] = defaultdict(list)
    for (dataset, _), value in cells.items():
        by_dataset[dataset].append(value)
    return float(np.mean([np.mean(v) for v in by_dataset.values()])) if by_dataset else float("nan")


def _with_mean(per_type: dict[str, float], types: list[str]) -> dict[str, float]:
    """``per_type`` plus the mean over ``types``, which is nan unless every type has a finite value."""
    values = [per_type.get(t, float("nan")) for t in types]
    mean = float(np.mean(values)) if types and all(math.isfinite(v) for v in values) else float("nan")
    return {**per_type, MEAN: mean}


def held_out_types(rows: Rows) -> list[str]:
    """The held-out types of ``rows``, in ADBench's order."""
    found = {r[GROUP] for r in rows if r.get(GROUP)}
    rank = {t: i for i, t in enumerate(TYPE_ORDER)}
    return sorted(found, key=lambda t: (rank.get(t, len(rank)), t))


def type_table(rows: Rows, metric: str = "auc_roc", regime: str | None = None) -> dict[str, dict[str, float]]:
    """``{method: {type or MEAN: metric}}``: seeds, then datasets averaged, then types for the mean.

    ``regime`` picks one label regime (see :func:`in_regime`).
    """
    rows = in_regime(rows, regime)
    types = held_out_types(rows)
    cells = _cells(rows, metric)
    return {m: _with_mean({t: _dataset_mean(c) for t, c in by_t.items()}, types) for m, by_t in cells.items()}


def method_order(rows: Sequence[dict[str, str]]) -> list[str]:
    """The methods of ``rows`` in a stable order, whatever order the CSV holds them in.

    Baselines first (by name), then the ``swift_hydra*`` methods, each control right before its method.
    """
    names = {r["method"] for r in rows}
    return sorted(
        names,
        key=lambda m: (
            m.startswith("swift_hydra"),
            m.removesuffix(CONTROL_SUFFIX),
            not is_control(m),
        ),
    )


def control_pairs(methods: Iterable[str]) -> list[tuple[str, str]]:
    """``(m, its control)`` for every method ``m`` whose control is also present (see ``control_name``)."""
    methods = list(methods)
    return [(m, control_name(m)) for m in methods if not is_control(m) and control_name(m) in methods]


def comparisons(methods: Iterable[str]) -> list[tuple[str, str]]:
    """The paired differences the table shows: each control pair, then Swift Hydra against CatBoost."""
    methods = list(methods)
    extra = [BASELINE] if "swift_hydra" in methods and BASELINE[1] in methods else []
    return [*control_pairs(methods), *extra]


def paired_difference(
    rows: Rows, method: str, control: str, metric: str = "auc_roc", regime: str | None = None
) -> dict[str, float]:
    """``{type or MEAN: method - control}`` on the (dataset, seed) cells both completed, in one regime."""
    rows = in_regime(rows, regime)
    types = held_out_types(rows)
    cells = _cells(rows, metric)
    diff = {}
    for kind in types:
        a, b = cells.get(method, {}).get(kind, {}), cells.get(control, {}).get(kind, {})
        diff[kind] = _dataset_mean({key: a[key] - b[key] for key in set(a) & set(b)})
    return _with_mean(diff, types)


def _generates(method: str) -> bool:
    """A Swift Hydra method that keeps synthetic anomalies (its control does not)."""
    return method.startswith("swift_hydra") and not is_control(method)


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.2f}"


def _signed(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:+.2f}"


def section(rows: Rows, plot: Path | None = None) -> list[str]:
    """Markdown lines of the per-type summary, a table per label regime (no rows → no lines).

    Links ``plot`` when given.
    """
    rows = list(rows)
    lines = [line for regime in regimes(rows) for line in _regime_section(in_regime(rows, regime), regime)]
    if lines and plot is not None:
        lines += [f"![{plot.stem}]({plot.name})", ""]
    return lines


def _regime_section(rows: list[Mapping[str, str]], regime: str) -> list[str]:
    """The per-type table of the rows of one label regime."""
    types = held_out_types(rows)
    roc = type_table(rows)
    if not types or not roc:
        return []
    methods = [m for m in method_order(rows) if m in roc]
    pairs = comparisons(methods)
    diffs = {(m, c): paired_difference(rows, m, c) for m, c in pairs}
    cover = type_table(rows, "coverage")
    covered = [m for m in methods if m in cover or _generates(m)]
    header = [*methods, *(f"{m} − {c}" for m, c in pairs), *(f"coverage {m}" for m in covered)]
    lines = [
        f"## AUC-ROC (%) per held-out type, and the mean over types ({regime})", "",
        "Seeds averaged per dataset, then datasets, then types for the mean. `a − b` is a paired difference "
        "(AUC points) over the (dataset, seed) cells both completed. `coverage m` (%): share of the held-out "
        "type's test anomalies whose nearest synthetic anomaly kept by `m` is closer than their nearest "
        "training row labeled normal; – where the rows carry none.", "",
        "| held-out type | " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * len(header),
    ]  # fmt: skip
    for kind in [*types, MEAN]:
        label = f"**{kind}**" if kind == MEAN else kind
        cells = [_pct(roc[m].get(kind)) for m in methods]
        cells += [_signed(diffs[pair][kind]) for pair in pairs]
        cells += [_pct(cover.get(m, {}).get(kind)) for m in covered]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, "", f"Datasets per type: {_datasets_line(rows, types)}.", ""]


def _datasets_line(rows: list[Mapping[str, str]], types: list[str]) -> str:
    ok = [r for r in rows if r.get("status") == "ok"]
    return ", ".join(f"{t} {len({r['dataset'] for r in ok if r[GROUP] == t})}" for t in types)


def plot(rows: Rows, out: Path, prefix: str) -> Path | None:
    """Bar chart of AUC-ROC per held-out type (and the mean) per method, a panel per regime, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(rows)
    panels = [(regime, in_regime(rows, regime)) for regime in regimes(rows)]
    panels = [(regime, part) for regime, part in panels if type_table(part) and held_out_types(part)]
    if not panels:
        return None
    widest = max(len(type_table(part)) for _, part in panels)
    groups = [*held_out_types(rows), MEAN]
    width_in = max(6.0, 0.22 * len(groups) * widest + 3)
    fig, axes = plt.subplots(len(panels), 1, figsize=(width_in, 4.0 * len(panels)), squeeze=False)
    # One colour per method in every panel, so a method reads the same across regimes.
    colours = {m: plt.get_cmap("tab20")(i % 20) for i, m in enumerate(method_order(rows))}
    for ax, (regime, part) in zip(axes[:, 0], panels, strict=True):
        _bars(ax, part, groups, colours)
        ax.set_title(f"Held-out anomaly type, {regime} (seeds, then datasets averaged)")
    fig.tight_layout()
    path = Path(out) / f"{prefix}{PLOT_SUFFIX}"
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def _bars(ax, rows: list[Mapping[str, str]], groups: list[str], colours: Mapping[str, object]) -> None:
    """One panel: a bar per method and group (held-out type or the mean over types)."""
    roc = type_table(rows)
    methods = [m for m in method_order(rows) if m in roc]
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        xs = [j + (i - (len(methods) - 1) / 2) * width for j in range(len(groups))]
        ys = [100 * roc[method].get(g, float("nan")) for g in groups]
        ax.bar(xs, ys, width=width, label=method, color=colours[method])
    finite = [100 * v for by_g in roc.values() for v in by_g.values() if math.isfinite(v)]
    ax.set_ylim(max(0.0, min(finite, default=0.0) - 5), 100.5)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("AUC-ROC (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def write(rows: Rows, out: str | Path, prefix: str) -> list[str]:
    """Write the per-type plot into ``out`` and return the section's markdown lines."""
    rows = list(rows)
    return section(rows, plot(rows, Path(out), prefix))
