"""The quick probe's table: each blend's gain over the control, per dataset, on the probe's cells.

    python -m research.probes.exposure_blend.quick_table > research/probes/exposure_blend/quick/table.md
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "quick" / "results.jsonl"


def main() -> None:
    recs = [json.loads(line) for line in RESULTS.open()]
    print("Quick probe (`probe.py`): gain over the control, AUC points, mean over datasets (cells averaged")
    print("per dataset first); harmed: datasets below -1. The last column: each dataset's gain.\n")
    for protocol in ("unseen", "adbench"):
        rows = [r for r in recs if r["cell"][0] == protocol]
        print(f"**{protocol}** ({len(rows)} cells)\n")
        print("| variant | gain | harmed | per dataset |")
        print("| --- | ---: | ---: | --- |")
        for key in [k for k in rows[0]["auc"] if k != "ctrl"]:
            per = defaultdict(list)
            for r in rows:
                per[r["cell"][1]].append(100 * (r["auc"][key] - r["auc"]["ctrl"]))
            means = {d: float(np.mean(v)) for d, v in per.items()}
            detail = ", ".join(f"{d} {m:+.1f}" for d, m in means.items())
            harmed = sum(m < -1 for m in means.values())
            print(f"| {key} | {np.mean(list(means.values())):+.2f} | {harmed} | {detail} |")
        print()


if __name__ == "__main__":
    main()
