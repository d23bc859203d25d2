"""Generation policies that need no reinforcement learning, and the interface every policy shares.

* :class:`RandomPolicy` (``random``): samples the VAE posterior around labeled anomalies (the prior
  N(0, I) when there are none). The baseline an RL agent must beat.
* :class:`GradientPolicy` (``gradient``): projected gradient ascent in the latent space on a
  differentiable surrogate of the env's own reward (``HydraCore.smooth_reward``: the same named terms
  and weights, with the rank terms smoothed), starting from posterior draws around labeled anomalies.
  The Swift Hydra authors' public code climbs the detector's miss probability alone.

Both score their candidates with the environment's own reward (``HydraCore.score``), so rewards are
comparable with those an SB3 agent collects from ``SwiftHydra-v0``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_FILE = "policy.json"


def info_sample(info: dict[str, Any]) -> np.ndarray:
    """The decoded synthetic anomaly of one ``SwiftHydra-v0`` step (``info["sample"]``)."""
    return np.asarray(info["sample"], dtype=np.float32)


def core_of(env: Any) -> Any:
    """The shared ``HydraCore`` (data, VAE, detector, reward) behind a Swift Hydra env or wrapper."""
    for candidate in (env, getattr(env, "unwrapped", None), getattr(env, "vector_env", None)):
        core = getattr(candidate, "core", None)
        if core is not None:
            return core
    raise TypeError(f"{type(env).__name__} is not a SwiftHydra-v0 env (no HydraCore found)")


class GenerationPolicy:
    """Interface of every generation policy (see :mod:`agents.registry`)."""

    name: str = "base"

    def learn(self, steps: int, callback: Any = None) -> None:
        """Improves the policy from ``steps`` environment steps (no-op for non-RL policies)."""

    def generate(self, n: int, *, deterministic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``n`` synthetic candidates (n, d) float32 and their rewards (n,) float64."""
        raise NotImplementedError

    def reseed(self, seed: int) -> None:
        """Makes what follows a function of the current state and ``seed`` only."""
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        """Writes the policy's state into the folder ``path``."""
        raise NotImplementedError

    def load_state(self, path: str | Path) -> None:
        """Restores what :meth:`save` wrote (non-RL policies; SB3 agents use ``load_policy``)."""
        raise NotImplementedError


class SeededPolicy(GenerationPolicy):
    """A non-RL policy whose whole state is a seeded NumPy ``Generator`` (``self.rng``) and settings.

    Subclasses set ``self.seed`` and ``self.rng`` and may report their settings in :meth:`_params`;
    :meth:`save` writes both as JSON (atomically), :meth:`load_state` restores the generator, so a
    resumed run draws what the uninterrupted one would have.
    """

    seed: int
    rng: np.random.Generator

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(int(seed))

    def _params(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "name": self.name,
            "seed": self.seed,
            "params": self._params(),
            "rng": self.rng.bit_generator.state,
        }
        tmp = path / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path / STATE_FILE)

    def load_state(self, path: str | Path) -> None:
        file = Path(path) / STATE_FILE
        if not file.is_file():
            raise FileNotFoundError(f"no saved {self.name} policy at {file}")
        state = json.loads(file.read_text())
        if state.get("name") != self.name:
            raise ValueError(f"{file} holds a {state.get('name')!r} policy, not {self.name!r}")
        self.rng.bit_generator.state = state["rng"]


class _LatentPolicy(SeededPolicy):
    """Shared machinery: posterior draws around the labeled anomalies, env-reward scoring, state."""

    def __init__(self, env: Any, seed: int, noise_scale: float = 1.0) -> None:
        if not float(noise_scale) >= 0.0:
            raise ValueError(f"noise_scale must be >= 0, got {noise_scale}")
        self.core = core_of(env)
        self.seed = int(seed)
        self.noise_scale = float(noise_scale)
        self.rng = np.random.default_rng(self.seed)

    def _anchor_posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """Encoder mean and std of the labeled anomalies under the *current* VAE."""
        split = self.core.split
        anomalies = np.asarray(split.X_train[np.asarray(split.y_train) == 1], dtype=np.float32)
        if len(anomalies) == 0:
            dim = self.core.config.latent_dim
            return np.zeros((1, dim), np.float32), np.ones((1, dim), np.float32)
        mu, logvar = self.core.vae.encode(anomalies, 1)
        return mu, np.exp(0.5 * logvar)

    def _sample_latents(self, n: int) -> np.ndarray:
        mu, std = self._anchor_posterior()
        pick = self.rng.integers(0, len(mu), size=n)
        noise = self.rng.standard_normal((n, mu.shape[1])).astype(np.float32)
        z = mu[pick] + self.noise_scale * std[pick] * noise
        clip = self.core.config.latent_clip
        return np.clip(z, -clip, clip).astype(np.float32)

    def _score(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        result = self.core.score(np.ascontiguousarray(z, dtype=np.float32))
        return result.x.cpu().numpy().astype(np.float32), result.reward.cpu().numpy().astype(np.float64)

    def _params(self) -> dict[str, Any]:
        return {"noise_scale": self.noise_scale}


class RandomPolicy(_LatentPolicy):
    """Posterior sampling around labeled anomalies: ``z = mu + noise_scale * sigma * eps``.

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped); its VAE, detector and reward are used.
        seed: Seed of the draws.
        noise_scale: Multiplies the encoder's posterior std (0: decode the anchors themselves).
    """

    name = "random"

    def generate(self, n: int, *, deterministic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return self._score(self._sample_latents(int(n)))


class GradientPolicy(_LatentPolicy):
    """Projected gradient ascent on the env's (smoothed) reward in the VAE latent space.

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped).
        seed: Seed of the starting draws.
        steps: Ascent steps per :meth:`generate`.
        lr: Adam step size in latent units.
        noise_scale: Spread of the starting points around the labeled anomalies' posterior means.
    """

    name = "gradient"

    def __init__(
        self, env: Any, seed: int, steps: int = 30, lr: float = 0.05, noise_scale: float = 1.0
    ) -> None:
        super().__init__(env, seed, noise_scale)
        if int(steps) < 0 or not float(lr) > 0.0:
            raise ValueError(f"steps must be >= 0 and lr > 0, got steps={steps}, lr={lr}")
        self.steps = int(steps)
        self.lr = float(lr)

    def _params(self) -> dict[str, Any]:
        return {"noise_scale": self.noise_scale, "steps": self.steps, "lr": self.lr}

    def generate(self, n: int, *, deterministic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        core = self.core
        clip = core.config.latent_clip
        z = torch.as_tensor(self._sample_latents(int(n)), device=core.device).requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=self.lr)
        for _ in range(self.steps):
            reward = core.smooth_reward(core.vae.decode_torch(z, 1))
            # autograd.grad w.r.t. z only: the detector's and VAE's parameter .grad stay untouched.
            (grad,) = torch.autograd.grad(-reward.sum(), z)
            optimizer.zero_grad(set_to_none=True)
            z.grad = grad
            optimizer.step()
            with torch.no_grad():
                z.clamp_(-clip, clip)
        return self._score(z.detach().cpu().numpy())
