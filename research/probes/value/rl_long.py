"""The value leaderboard's loop with enough env steps for an agent to learn: `tiny` at 8,192 steps a round.

    python -m research.probes.value.rl_long [benchmarks.policies arguments, with --budget tiny_long]

`rl_static` shows that PPO and SAC out-earn uniform actions by far on the value reward once they train
20,000 steps on a fixed env; the leaderboards give them 128 (`tiny`) or 3,072 (`small`) steps in a loop
that retrains the VAE and adds the kept rows to the value proxies between rounds. This registers one
budget preset, ``tiny_long`` (``tiny`` with ``steps_per_round`` 8,192: 16,384 steps over its two rounds;
every other field, the models and the candidates as at ``tiny``), and runs the leaderboard's own runner
with it, so every column is computed as on the leaderboard (``budget_fingerprint`` records the budget).
The preset is now the package's (`agents.config.BUDGETS`, same fingerprint), so ``python -m
benchmarks.policies --budget tiny_long`` runs the same cells; this module stays as the command that
wrote ``rl_long/``.
"""

from __future__ import annotations

import sys

from benchmarks import policies

if __name__ == "__main__":
    sys.exit(policies.main())
