"""Gate rules read on the validation protocol of ``inner.py`` (never on a test split).

A rule maps one cell's gate evidence (``value_gains`` with the joint variant) to the arm it deploys:
``nothing``, ``kept``, ``exposure`` or ``both``. Its gain in a cell is that arm's inner-test AUC minus the
``nothing`` arm's. ``RULES`` and :func:`choose` were written before any cell of ``inner/`` was read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from agents.value_gate import VALUE_GATE_CUTS, VALUE_GATE_MARGIN


def _gains(ev: dict, name: str) -> tuple[list[float], list[float]]:
    gains = [ev[f"{cut}_auc_with_{name}"] - ev[f"{cut}_auc_without"] for cut in VALUE_GATE_CUTS]
    return gains, [ev[f"{cut}_gain_se_{name}"] for cut in VALUE_GATE_CUTS]


def pays(ev: dict | None, name: str, z: float, cuts: tuple[str, ...] = VALUE_GATE_CUTS) -> bool:
    """The shipped rule's test at ``z`` standard errors, on ``cuts`` (the other cut must not lose)."""
    if ev is None or f"value_auc_with_{name}" not in ev:
        return False
    gains, errors = _gains(ev, name)
    if not all(np.isfinite(gains)):
        return False
    shown = [
        g >= VALUE_GATE_MARGIN and g >= z * se
        for cut, g, se in zip(VALUE_GATE_CUTS, gains, errors, strict=True)
        if cut in cuts
    ]
    return bool(any(shown) and min(gains) >= 0.0)


def _best_z(ev: dict, name: str) -> float:
    gains, errors = _gains(ev, name)
    return max(
        g / se if se > 0 else (np.inf if g > 0 else -np.inf) for g, se in zip(gains, errors, strict=True)
    )


def gate(z_kept: float | None, z_exposure: float | None, joint: bool = True, **cuts) -> Callable:
    """A rule: each set on its own at its ``z`` (None: never), then the joint rule as shipped."""

    def rule(ev: dict | None) -> str:
        kept = z_kept is not None and pays(ev, "kept", z_kept, cuts.get("kept", VALUE_GATE_CUTS))
        exposure = z_exposure is not None and pays(
            ev, "exposure", z_exposure, cuts.get("exposure", VALUE_GATE_CUTS)
        )
        if kept and exposure:
            if not joint or pays(ev, "both", min(z_kept, z_exposure)):
                return "both"
            return max(("kept", "exposure"), key=lambda name: _best_z(ev, name))
        return "kept" if kept else "exposure" if exposure else "nothing"

    return rule


RULES: dict[str, Callable[[dict | None], str]] = {
    "shipped (z = 1 each, joint)": gate(1.0, 1.0),
    "z = 0.5": gate(0.5, 0.5),
    "z = 1.5": gate(1.5, 1.5),
    "z = 2": gate(2.0, 2.0),
    "z = 3": gate(3.0, 3.0),
    "kept z = 2, exposure z = 1": gate(2.0, 1.0),
    "kept z = 1, exposure z = 0.5": gate(1.0, 0.5),
    "exposure only, z = 1": gate(None, 1.0),
    "exposure only, z = 0.5": gate(None, 0.5),
    "kept only, z = 1": gate(1.0, None),
    "kept on random folds, exposure on groups": gate(1.0, 1.0, kept=("value",), exposure=("value_unseen",)),
    "nothing (the control)": lambda ev: "nothing",
    "exposure always": lambda ev: "exposure",
    "kept always": lambda ev: "kept",
    "both always": lambda ev: "both",
}


def load(out: Path, protocol: str) -> list[dict]:
    path = Path(out) / f"{protocol}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [row for row in rows if "skipped" not in row]


def rule_gains(rows: list[dict], rule: Callable) -> np.ndarray:
    """Per cell, the chosen arm's inner AUC minus the ``nothing`` arm's (points); an arm not fitted: 0."""
    return np.array([
        100 * (row["auc"].get(rule(row["evidence"]), row["auc"]["nothing"]) - row["auc"]["nothing"])
        for row in rows
    ])  # fmt: skip


def summarise(rows: list[dict], rule: Callable, by: Callable[[dict], str]) -> dict:
    """Mean gain over datasets (cells averaged per dataset first), its se, and datasets below -1."""
    gains = rule_gains(rows, rule)
    per: dict[str, list[float]] = {}
    for row, gain in zip(rows, gains, strict=True):
        per.setdefault(by(row), []).append(gain)
    means = np.array([np.mean(v) for v in per.values()])
    se = float(np.std(means, ddof=1) / np.sqrt(len(means))) if len(means) > 1 else float("nan")
    return {"mean": float(means.mean()), "se": se, "harmed": int(np.sum(means < -1)), "n": len(means)}


def choose(table: dict[str, dict]) -> str:
    """The issue's targets on the validation protocol: the largest unseen gain among rules with ADBench
    >= -0.1 and at most 2 sets below -1; if none qualifies, the largest ADBench gain. Ties: the shipped rule."""
    names = list(table)
    ok = [n for n in names if table[n]["adbench"]["mean"] >= -0.1 and table[n]["adbench"]["harmed"] <= 2]
    key = (lambda n: table[n]["unseen"]["mean"]) if ok else (lambda n: table[n]["adbench"]["mean"])
    pool = ok or names
    best = max(key(n) for n in pool)
    return next(n for n in pool if key(n) == best)


def report(out: Path) -> str:
    adbench, unseen = load(out, "adbench"), load(out, "unseen")
    table = {
        name: {
            "adbench": summarise(adbench, rule, lambda r: r["cell"][0]),
            "unseen": summarise(unseen, rule, lambda r: r["cell"][0]),
        }
        for name, rule in RULES.items()
    }
    lines = [
        "Gate rules on the validation protocol (`research/probes/value/inner.py`): the value loop replayed",
        f"inside the tables' training splits; {len(adbench)} ADBench cells (la = 0.1), {len(unseen)} unseen-type cells.",
        "Gain: the rule's deployed arm minus the no-augmentation arm, inner-test AUC points, mean over",
        "datasets (cells averaged per dataset first; se over datasets); harmed: datasets below -1.",
        "",
        "| rule | ADBench gain (se) | harmed | unseen gain (se) | harmed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in table.items():
        a, u = row["adbench"], row["unseen"]
        lines.append(
            f"| {name} | {a['mean']:+.2f} ({a['se']:.2f}) | {a['harmed']} of {a['n']} "
            f"| {u['mean']:+.2f} ({u['se']:.2f}) | {u['harmed']} of {u['n']} |"
        )
    oracle = {p: np.mean([100 * (max(r["auc"].values()) - r["auc"]["nothing"]) for r in rows]) for p, rows in
              (("adbench", adbench), ("unseen", unseen)) if rows}  # fmt: skip
    lines += [
        "",
        "Per-cell best arm (an oracle no rule can reach): "
        + ", ".join(f"{p} {v:+.2f}" for p, v in oracle.items()),
        "",
        f"Chosen by the criterion fixed before the cells were read (`inner_rules.choose`): **{choose(table)}**.",
    ]
    return "\n".join(lines)
