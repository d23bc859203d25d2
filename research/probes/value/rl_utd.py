"""Do off-policy agents out-earn `random` under the value reward when they learn more per env step?

    UTD=4 python -m research.probes.value.rl_utd --algos sac --datasets ... --out research/probes/value/rl_utd/sac4

The policy leaderboard's runner (`benchmarks.policies`, same arguments) with one change: SAC and TD3 take
``UTD`` gradient steps per env step (the packaged yaml: 1). At ``tiny`` an agent sees 128 env steps, so
the question is whether it is the updates, not the samples, that keep it level with `random`.
``final_reward`` does not depend on the deployment fits, so the probe runs with ``--deploy-repeats 1``
and pairs its rows with the committed leaderboard's `random` rows (`rl_utd_table.py`).
"""

from __future__ import annotations

import os
import sys

from benchmarks import policies

UTD = int(os.environ.get("UTD", "4"))
_agent_settings = policies.agent_settings


def agent_settings(algo: str, budget: str):
    """The runner's settings, with ``UTD`` gradient steps per env step for the off-policy agents."""
    resolved, kwargs = _agent_settings(algo, budget)
    return resolved, kwargs | ({"gradient_steps": UTD} if algo in ("sac", "td3") else {})


if __name__ == "__main__":
    policies.agent_settings = agent_settings  # the serial backend runs the cells in this process
    raise SystemExit(policies.main(sys.argv[1:]))
