"""The packaged hyperparameter files work with rl-zoo3 itself (skipped when rl-zoo3 is not installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.config import HYPERPARAMS_DIR, convert_hyperparams, read_hyperparams

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(HYPERPARAMS_DIR.glob("*.yml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_file_has_what_rl_zoo3_requires_and_still_reads_here(path):
    raw = read_hyperparams(path)
    assert raw["policy"] == "MlpPolicy" and int(raw["n_timesteps"]) > 0  # rl-zoo3 fails without them
    kwargs, _ = convert_hyperparams(raw, latent_dim=8)
    assert "n_timesteps" not in kwargs and "policy" not in kwargs  # swift-hydra train ignores them


def test_rl_zoo3_trains_ppo_on_swift_hydra(tmp_path):
    pytest.importorskip("rl_zoo3")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "SwiftHydra-v0"]
    command += [
        "--gym-packages",
        "hydra_env",
        "-conf",
        str(HYPERPARAMS_DIR / "ppo.yml"),
        "--num-threads",
        "1",
    ]
    command += ["-n", "64", "--hyperparams", "n_steps:32", "batch_size:32", "n_epochs:1"]
    command += ["--eval-freq", "-1", "-f", str(tmp_path), "--seed", "0"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = list(tmp_path.glob("ppo/SwiftHydra-v0_*/SwiftHydra-v0.zip"))
    assert len(saved) == 1, (sorted(p.name for p in tmp_path.rglob("*")), done.stdout[-2000:])
