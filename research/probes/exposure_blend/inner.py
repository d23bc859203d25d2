"""Blend rules for the outlier-exposure rows on the value gate's validation protocol (no test split read).

    python -m research.probes.exposure_blend.inner fit SHARD N_SHARDS      # adbench and unseen cells
    python -m research.probes.exposure_blend.inner rules > research/probes/exposure_blend/inner_rules.md

The cells are those of ``research/probes/value/inner.py`` (31 ADBench la = 0.1 cells, split seed 1;
64 unseen-type cells, 8 sets x 4 held-out types x seeds 1-2), each the table's *training* split split
again. Per cell, three deployments are fitted on the inner train with ``agents.deploy.fit_deployment``
(the package's deployment, CatBoost + score columns): the control (``nothing``), the control with the
outlier-exposure rows (``exposure``, the value loop's weight), and a second control with seed + 1000
(``nothing2``: what a blend of two fits gains without any synthetic row). The first two reproduce
``value/inner``'s arms of the same names. Scores on the inner test are stored, and a blend is the mean
log-odds ``(1 - w) * logit(p_control) + w * logit(p_exposure)``, computable row by row at deployment.

Rules, fixed before any cell was read (the gate's evidence is ``value/inner``'s, ``exposure`` cut, at
the shipped ``VALUE_GATE_Z_EXPOSURE = 0.5``):

* ``blend w``: the blend at w in {0.25, 0.5, 0.75}, always;
* ``gated blend w``: the blend at w where the gate admits the exposure rows, the control elsewhere;
* ``gated full, blend 0.5 elsewhere``: the exposure fit where the gate admits, the 0.5 blend elsewhere;
* ``blend 0.5 unless a cut loses``: the 0.5 blend unless the evidence's gain is below 0 on either cut;
* references: ``exposure always``, ``gated`` (the shipped exposure arm), ``two controls`` (w = 0.5 of
  the two controls: the ensembling alone), ``nothing``.

Criterion (``value/inner_rules.choose``'s): the most unseen-type gain among the rules with ADBench
gain >= -0.1 and at most 2 of 31 sets below -1 point.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "inner"
VALUE_INNER = Path(__file__).resolve().parents[1] / "value" / "inner"
EPS = 1e-6


def _cells() -> list[tuple[str, tuple]]:
    from hydra_env.anomaly_types import KINDS
    from research.probes.value.inner import DD, UNSEEN_SETS

    names = sorted(p.stem for p in Path(DD).glob("*.npz"))
    cells = [("adbench", (name, 1)) for name in names]
    return cells + [("unseen", (n, h, s)) for s in (1, 2) for n in UNSEEN_SETS for h in KINDS]


def fit_cell(protocol: str, cell: tuple) -> dict:
    from agents.config import LoopOptions, get_budget
    from agents.deploy import fit_deployment
    from agents.exposure import exposure_rows
    from benchmarks.methods import EXPOSURE_METHOD_WEIGHT
    from research.probes.value.inner import BUDGET, adbench_inner, unseen_inner

    if protocol == "adbench":
        X_fit, y_fit, X_eval, y_eval = adbench_inner(*cell)
    else:
        X_fit, y_fit, X_eval, y_eval, _ = unseen_inner(*cell)
    if not y_fit.any():
        return {"skipped": "no labeled anomaly in the inner train"}
    seed, budget = cell[-1], get_budget(BUDGET)
    exposure = exposure_rows(LoopOptions(exposure_weight=EXPOSURE_METHOD_WEIGHT), X_fit, y_fit, seed)
    arms = {
        "nothing": (seed, 0.0),
        "exposure": (seed, EXPOSURE_METHOD_WEIGHT),
        "nothing2": (seed + 1000, 0.0),
    }
    scores = {}
    for arm, (fit_seed, weight) in arms.items():
        detector = fit_deployment(
            LoopOptions.deploy, X_fit, y_fit, X_fit[:0], budget=budget, seed=fit_seed,
            exposure=exposure, exposure_weight=weight,
        )  # fmt: skip
        scores[arm] = np.asarray(detector.decision_function(X_eval), dtype=float).round(7).tolist()
    return {"y_eval": np.asarray(y_eval).astype(int).tolist(), "scores": scores}


def fit(shard: int, n_shards: int) -> None:
    import torch
    from tqdm import tqdm

    torch.set_num_threads(1)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"cells_{shard}.jsonl"
    done = {json.dumps(json.loads(line)["cell"]) for line in path.open()} if path.exists() else set()
    todo = [
        c for i, c in enumerate(_cells()) if i % n_shards == shard and json.dumps([c[0], *c[1]]) not in done
    ]
    for protocol, cell in tqdm(todo, desc=f"shard {shard}"):
        row = {"cell": [protocol, *cell], **fit_cell(protocol, cell)}
        with path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _admits(evidence: dict | None) -> bool:
    """The shipped value gate's test for the exposure rows alone (``agents.value_gate``)."""
    from agents.value_gate import VALUE_GATE_Z_EXPOSURE, _gains, _pays

    return bool(evidence) and _pays(*_gains(evidence, "exposure"), VALUE_GATE_Z_EXPOSURE)


def _loses(evidence: dict | None) -> bool:
    if not evidence:
        return False
    return any(
        evidence[f"{c}_auc_with_exposure"] < evidence[f"{c}_auc_without"] for c in ("value", "value_unseen")
    )


def rule_aucs(row: dict, evidence: dict | None) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(row["y_eval"])
    c, e, c2 = (_logit(np.asarray(row["scores"][k])) for k in ("nothing", "exposure", "nothing2"))
    auc = lambda s: 100 * roc_auc_score(y, s)  # noqa: E731
    blend = {w: auc((1 - w) * c + w * e) for w in (0.25, 0.5, 0.75)}
    admits, base = _admits(evidence), auc(c)
    out = {"nothing": base, "exposure always": auc(e), "gated": auc(e) if admits else base}
    out |= {f"blend {w:g}": blend[w] for w in blend}
    out |= {f"gated blend {w:g}": blend[w] if admits else base for w in blend}
    out["gated full, blend 0.5 elsewhere"] = auc(e) if admits else blend[0.5]
    out["blend 0.5 unless a cut loses"] = base if _loses(evidence) else blend[0.5]
    out["two controls"] = auc(0.5 * c + 0.5 * c2)
    return out


DIAGNOSTIC = ("two controls",)
"""Not a candidate: it adds no synthetic row; it shows what blending two fits gains by itself."""


def _rows() -> dict[str, list[dict]]:
    rows = [json.loads(line) for path in sorted(OUT.glob("cells_*.jsonl")) for line in path.open()]
    evidence = {}
    for protocol in ("adbench", "unseen"):
        for line in (VALUE_INNER / f"{protocol}.jsonl").open():
            r = json.loads(line)
            evidence[json.dumps([protocol, *r["cell"]])] = r
    out: dict[str, list[dict]] = {"adbench": [], "unseen": []}
    for row in rows:
        if "skipped" in row:
            continue
        ref = evidence[json.dumps(row["cell"])]
        aucs = rule_aucs(row, ref.get("evidence"))
        check = {arm: abs(aucs[name] - 100 * ref["auc"][arm]) for arm, name in
                 (("nothing", "nothing"), ("exposure", "exposure always"))}  # fmt: skip
        out[row["cell"][0]].append({"dataset": row["cell"][1], "aucs": aucs, "check": max(check.values())})
    return out


def _summary(rows: list[dict], rule: str) -> dict:
    by: dict[str, list[float]] = {}
    for r in rows:
        by.setdefault(r["dataset"], []).append(r["aucs"][rule] - r["aucs"]["nothing"])
    means = np.array([np.mean(v) for v in by.values()])
    se = float(np.std(means, ddof=1) / np.sqrt(len(means)))
    return {"mean": float(means.mean()), "se": se, "harmed": int(np.sum(means < -1)), "n": len(means)}


def report() -> str:
    from research.probes.value.inner_rules import choose

    rows = _rows()
    names = list(rows["adbench"][0]["aucs"])
    names = ["gated"] + [n for n in names if n != "gated"]  # ties go to the shipped rule
    table = {n: {p: _summary(rows[p], n) for p in rows} for n in names}
    chosen = choose({n: table[n] for n in names if n not in DIAGNOSTIC})
    worst = max(r["check"] for p in rows for r in rows[p])
    lines = [
        "Blend rules for the outlier-exposure rows on the value gate's validation protocol",
        f"(`research/probes/exposure_blend/inner.py`): {len(rows['adbench'])} ADBench cells (la = 0.1), "
        f"{len(rows['unseen'])} unseen-type cells.",
        "Gain: the rule's inner-test AUC minus the control's, points, mean over datasets (cells averaged per",
        "dataset first; se over datasets); harmed: datasets below -1. A blend is the mean log-odds of the",
        "control and the exposure fit at weight w on the latter.",
        "",
        "| rule | ADBench gain (se) | harmed | unseen gain (se) | harmed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for n in names:
        a, u = table[n]["adbench"], table[n]["unseen"]
        lines.append(
            f"| {n} | {a['mean']:+.2f} ({a['se']:.2f}) | {a['harmed']} of {a['n']} "
            f"| {u['mean']:+.2f} ({u['se']:.2f}) | {u['harmed']} of {u['n']} |"
        )
    lines += [
        "",
        f"Largest difference to `value/inner`'s own `nothing` / `exposure` AUCs: {worst:.3f} points "
        "(the fits reproduce).",
        "",
        f"Chosen by the criterion fixed before the cells were read (`value/inner_rules.choose`; "
        f"`{DIAGNOSTIC[0]}` is not a candidate): **{chosen}**.",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[0] == "fit":
        fit(int(argv[1]), int(argv[2]))
    else:
        print(report())


if __name__ == "__main__":
    main(sys.argv[1:])
