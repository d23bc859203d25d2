"""Checkpoints of the closed loop: one folder per completed round, written atomically.

``<run_dir>/checkpoints/round_KKK/`` holds the VAE (``vae.pt``), the in-loop detector
(``detector.pt``), the policy (``agent/``: SB3 ``agent.zip`` plus the replay buffer of off-policy
agents when small), the kept synthetic anomalies (``kept.npz``), the private torch generators of the
VAE and detector (``generators.pt``) and the round's metrics (``state.json``, written last). A
folder is built under a temporary name and renamed into place, so a kill leaves either the previous
round or the new one, never half of one; older rounds are then deleted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.policies import GenerationPolicy

CHECKPOINTS = "checkpoints"


def _generator_states(*models: Any) -> dict[str, torch.Tensor]:
    # The VAE/detector draw minibatches from private torch generators that their save() does not
    # keep; exact resume needs them.
    states = {}
    for i, model in enumerate(models):
        gen = getattr(model, "_generator", None)
        if isinstance(gen, torch.Generator):
            states[f"model{i}"] = gen.get_state()
    return states


def _set_generator_states(states: dict[str, torch.Tensor], *models: Any) -> None:
    for i, model in enumerate(models):
        gen = getattr(model, "_generator", None)
        if isinstance(gen, torch.Generator) and f"model{i}" in states:
            gen.set_state(states[f"model{i}"])


@dataclasses.dataclass
class LoopState:
    """Everything a round needs from the previous ones (what a checkpoint holds)."""

    round: int
    vae: Any
    detector: Any
    kept_X: np.ndarray
    kept_reward: np.ndarray
    kept_round: np.ndarray
    metrics: list[dict[str, Any]]


def save_checkpoint(ckpt_root: Path, state: LoopState, policy: GenerationPolicy | None) -> Path:
    """Writes ``checkpoints/round_KKK`` atomically (temp folder, then rename) and drops older ones."""
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / f"round_{state.round:03d}"
    tmp = ckpt_root / f".round_{state.round:03d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        state.vae.save(tmp / "vae.pt")
        state.detector.save(tmp / "detector.pt")
        if policy is not None:
            policy.save(tmp / "agent")
        np.savez(tmp / "kept.npz", X=state.kept_X, reward=state.kept_reward, round=state.kept_round)
        torch.save(_generator_states(state.vae, state.detector), tmp / "generators.pt")
        (tmp / "state.json").write_text(
            json.dumps({"round": state.round, "metrics": state.metrics}, indent=1)
        )
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:  # a failed write leaves the previous round and no half-built folder
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in ckpt_root.glob("round_*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete ``checkpoints/round_KKK`` folder of a run, if any."""
    done = sorted((Path(run_dir) / CHECKPOINTS).glob("round_*"))
    done = [d for d in done if (d / "state.json").is_file()]
    return done[-1] if done else None


def load_checkpoint(path: Path, device: str = "cpu") -> LoopState:
    """Reads what :func:`save_checkpoint` wrote (the policy is restored separately, on the env)."""
    from detectors import MambaDetector
    from hydra_env import ConditionalVAE

    meta = json.loads((path / "state.json").read_text())
    vae = ConditionalVAE.load(path / "vae.pt", device=device)
    detector = MambaDetector.load(path / "detector.pt", device=device)
    _set_generator_states(torch.load(path / "generators.pt", weights_only=True), vae, detector)
    with np.load(path / "kept.npz") as kept:
        kept_X, kept_reward, kept_round = kept["X"], kept["reward"], kept["round"]
    return LoopState(meta["round"], vae, detector, kept_X, kept_reward, kept_round, meta["metrics"])
