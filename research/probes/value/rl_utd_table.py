"""Paired ``final_reward`` and ``auc_gain`` of the `rl_utd` runs against `random` (same code, same cells).

    python -m research.probes.value.rl_utd_table > research/probes/value/rl_utd/table.md

Each folder's agents are renamed by their gradient steps per env step (``sac`` in ``utd4`` -> ``sac_utd4``)
and pooled with the ``utd1`` folder's `random`; the differences to `random` and their CIs are the policy
leaderboard's own (`benchmarks.rewards_report`: stratified bootstrap over datasets x seeds).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import rewards_report
from benchmarks.report import load_rows

HERE = Path(__file__).resolve().parent / "rl_utd"


def pooled_rows() -> list[dict]:
    rows = []
    for folder in sorted(HERE.iterdir()):
        if not (folder / "policies_results.csv").exists():
            continue
        for row in load_rows(folder / "policies_results.csv"):
            if row["algo"] != "random":
                row = row | {"algo": f"{row['algo']}_{folder.name}"}
            elif folder.name != "utd1":
                continue
            rows.append(row)
    return rows


def main() -> None:
    rows = [r for r in pooled_rows() if r.get("status") == "ok"]
    print("`final_reward` and `auc_gain` (1 deployment fit per side: noisy) against `random`, value reward,")
    print("`tiny`, 8 sets x seeds 1-5; paired 95% CIs (stratified bootstrap).\n")
    print("\n".join(rewards_report.reward_section("value", rows)))


if __name__ == "__main__":
    main()
