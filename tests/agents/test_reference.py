"""The CleanRL-style PPO reference script, as a smoke test with a tiny budget."""

from __future__ import annotations

import numpy as np

from agents.ppo_reference import main, parse_args


def test_parse_args_maps_every_field():
    args = parse_args(["--total-timesteps", "256", "--anneal-lr", "false", "--gamma", "0.5"])
    assert args.total_timesteps == 256 and args.anneal_lr is False and args.gamma == 0.5


def test_tiny_run_learns_and_updates_the_detector(capsys):
    out = main(
        ["--total-timesteps", "256", "--num-envs", "4", "--num-steps", "32", "--episode-length", "8",
         "--latent-dim", "4", "--vae-epochs", "5", "--detector-epochs", "1", "--update-every", "128",
         "--top-l", "8"]
    )  # fmt: skip
    assert out["global_step"] == 256
    returns = np.asarray(out["episodic_returns"])
    assert len(returns) == 256 // 8 and np.isfinite(returns).all()
    assert out["detector_version"] == 2 and out["n_kept"] == 16
    assert "episodic_return=" in capsys.readouterr().out
