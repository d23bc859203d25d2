"""The CleanRL-style PPO reference script, as a smoke test with a tiny budget."""

from __future__ import annotations

import numpy as np

from agents.ppo_reference import main, parse_args


def test_parse_args_maps_every_field():
    args = parse_args(["--total-timesteps", "256", "--anneal-lr", "false", "--gamma", "0.5"])
    assert args.total_timesteps == 256 and args.anneal_lr is False and args.gamma == 0.5


def test_tiny_run_retrains_the_detector_on_the_kept_samples(capsys, monkeypatch):
    """The script runs its budget and retrains the env's detector on train + every kept sample.

    Whether PPO improves is not checked here (256 steps are too few to measure it).
    """
    import detectors

    fit, retrains = detectors.MambaDetector.fit, []

    def spy(self, X, y=None, *, warm_start=False, **kwargs):
        if warm_start:  # the script's detector updates (the env's pre-training is a plain fit)
            retrains.append((np.asarray(X), np.asarray(y)))
        return fit(self, X, y, warm_start=warm_start, **kwargs)

    monkeypatch.setattr(detectors.MambaDetector, "fit", spy)
    out = main(
        ["--total-timesteps", "256", "--num-envs", "4", "--num-steps", "32", "--episode-length", "8",
         "--latent-dim", "4", "--vae-epochs", "5", "--detector-epochs", "1", "--update-every", "128",
         "--top-l", "8"]
    )  # fmt: skip
    assert out["global_step"] == 256
    returns = np.asarray(out["episodic_returns"])
    assert len(returns) == 256 // 8 and np.isfinite(returns).all()
    assert out["detector_version"] == 2 and out["n_kept"] == 16
    assert len(retrains) == 2
    (X1, y1), (X2, y2) = retrains
    assert len(X2) == len(X1) + 8 and y1[-8:].all() and y2[-16:].all()  # kept rows, labeled anomalous
    np.testing.assert_array_equal(X2[: len(X1)], X1)  # the first update's rows are kept in the second
    assert "episodic_return=" in capsys.readouterr().out
