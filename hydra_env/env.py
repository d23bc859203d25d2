"""``SwiftHydra-v0``: an agent moves in a conditional VAE's latent space to make anomalies a detector misses.

Dynamics (one episode = one walk from a real anomaly):

* **Reset** picks a random labeled training anomaly and starts from its encoder mean ``z0`` (the
  prior N(0, I), clipped, when the split has no labeled anomaly). All draws use ``self.np_random``.
* **Action**: float32 ``Box(-1, 1, (latent_dim,))``. The step is ``z <- clip(z + action_scale * a,
  -latent_clip, latent_clip)``: a bounded move from the current latent. Actions outside the box are
  clipped to it; NaN or inf, or another shape, raises ``ValueError``; ``step`` before ``reset`` raises
  ``RuntimeError``.
* **Sample**: ``x = vae.decode(z, label=1)``, a synthetic anomaly in the scaled feature space.
* **Reward**: ``sum_i w_i * term_i(x)`` over the named terms of ``reward_weights`` (see
  :class:`hydra_env.rewards.Reward`; default ``miss`` 1.0, ``novelty`` 1.0, ``entropy`` 0.5):
  ``miss`` is the share of the training normals the detector scores at least as anomalous as ``x``
  (a rank, so it does not saturate at low la), ``novelty`` how unusual ``x`` is among the normal rows
  (a rank of its k-NN distance), ``entropy`` the k-NN entropy gain of the anomaly set (labeled +
  kept synthetic anomalies) if ``x`` joined it, weighted ``w * entropy_decay ** detector_round``.
* **Observation**: float32 vector ``[z (latent_dim), P(anomaly | x), t / episode_length]``, bounded by
  ``[-latent_clip, latent_clip]`` for ``z`` and ``[0, 1]`` for the last two.
* **Episode end**: never terminates; truncates itself after ``episode_length`` steps (registered with
  ``max_episode_steps=None`` so ``gym.make`` adds no second TimeLimit).
* **info**: ``reward_<term>`` for every active term (its unweighted value), ``reward_weights`` (the
  effective weights this step), ``anomaly_probability``, ``sample`` (the decoded row, float32),
  ``detector_version`` and ``detector_round``. ``reward == sum(reward_weights[t] * info["reward_" + t])``.
* **Threads**: construction, ``reset`` and ``step`` run on one torch intra-op thread and then restore
  the caller's setting (:mod:`hydra_env.threads`), so a step does not collapse under torch's default
  thread count on a busy machine.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hydra_env.config import EnvConfig
from hydra_env.core import CoreAccessMixin, HydraCore, build_components, detector_argument
from hydra_env.threads import on_one_thread


def observation_space_for(config: EnvConfig) -> spaces.Box:
    """The single-env observation space ``[z, P(anomaly), progress]``."""
    low = np.concatenate([np.full(config.latent_dim, -config.latent_clip), [0.0, 0.0]]).astype(np.float32)
    high = np.concatenate([np.full(config.latent_dim, config.latent_clip), [1.0, 1.0]]).astype(np.float32)
    return spaces.Box(low, high, dtype=np.float32)


def action_space_for(config: EnvConfig) -> spaces.Box:
    """The single-env action space: a latent move direction in [-1, 1]^latent_dim."""
    return spaces.Box(-1.0, 1.0, (config.latent_dim,), dtype=np.float32)


def check_actions(actions: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Float32 actions of ``shape``, clipped to [-1, 1]; ``ValueError`` on NaN/inf or another shape."""
    try:
        a = np.asarray(actions, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f"action must be a float array of shape {shape}: {err}") from None
    if a.shape != shape:
        raise ValueError(f"action must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(
            "action contains NaN or inf (or a value beyond float32's range); actions must be finite numbers in [-1, 1]"
        )
    return np.clip(a, -1.0, 1.0)


class SwiftHydraEnv(CoreAccessMixin, gym.Env):
    """The Swift Hydra environment (see the module docstring for the dynamics).

    Args:
        config: Settings; ``None`` uses :class:`EnvConfig` defaults.
        X: Optional unscaled features to split with ``config.la`` / ``config.seed`` instead of ``config.dataset``.
        y: Labels of ``X`` (1 = anomaly).
        split: Optional ready :class:`hydra_env.datasets.Split` (takes precedence over ``X``/``y``).
        detector: Optional detector (fitted, or fitted here on the split), or a family name from
            :data:`hydra_env.config.DETECTOR_CHOICES` (sets ``config.detector``); default: a small
            Mamba detector.
        vae: Optional :class:`ConditionalVAE` (fitted, or fitted here); default: trained on the split.
        render_mode: ``None`` or ``"ansi"``.
        **config_overrides: Any :class:`EnvConfig` field, e.g. ``reward_weights={"miss": 1.0}``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    @on_one_thread
    def __init__(
        self,
        config: EnvConfig | None = None,
        *,
        X: np.ndarray | None = None,
        y: np.ndarray | None = None,
        split: Any = None,
        detector: Any = None,
        vae: Any = None,
        render_mode: str | None = None,
        **config_overrides: Any,
    ) -> None:
        detector = detector_argument(detector, config_overrides)
        self.config = EnvConfig.from_kwargs(config, **config_overrides)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.render_mode = render_mode
        split, vae, detector = build_components(
            self.config, X=X, y=y, split=split, detector=detector, vae=vae
        )
        self.core = HydraCore(self.config, split, vae, detector)
        self.observation_space = observation_space_for(self.config)
        self.action_space = action_space_for(self.config)
        self._shape = (self.config.latent_dim,)
        self._z = np.zeros(self._shape, dtype=np.float32)
        self._t = 0
        self._p = 0.0
        self._last_reward = 0.0
        self._needs_reset = True

    # -------------------------------------------------------------- accessors used by wrappers/callbacks
    # -------------------------------------------------------------- gymnasium API
    def _obs(self) -> np.ndarray:
        progress = self._t / self.config.episode_length
        return np.concatenate([self._z, np.array([self._p, progress], dtype=np.float32)])

    @on_one_thread
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._z = self.core.initial_latents(self.np_random, 1)[0]
        self._t = 0
        self._p = float(self.core.score(self._z[None]).stats[0, 0])
        self._last_reward = 0.0
        self._needs_reset = False
        info = {"detector_version": self.core.detector_version, "detector_round": self.core.detector_round}
        return self._obs(), info

    @on_one_thread
    def step(self, action: Any):
        if self._needs_reset:
            raise RuntimeError("SwiftHydraEnv.step called before reset(); call env.reset() first")
        a = check_actions(action, self._shape)
        clip = self.config.latent_clip
        self._z = np.clip(self._z + self.config.action_scale * a, -clip, clip)
        self._t += 1
        result = self.core.score(self._z[None])
        p, reward, *terms = result.stats[:, 0].tolist()
        self._p = p
        self._last_reward = reward
        info = {
            **{f"reward_{name}": value for name, value in zip(result.terms, terms, strict=True)},
            "reward_weights": self.core.reward.weights(),
            "anomaly_probability": self._p,
            "sample": result.x[0].cpu().numpy(),
            "detector_version": self.core.detector_version,
            "detector_round": self.core.detector_round,
        }
        truncated = self._t >= self.config.episode_length
        return self._obs(), reward, False, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        z = np.array2string(self._z, precision=2, suppress_small=True, max_line_width=200)
        return (
            f"t={self._t}/{self.config.episode_length} P(anomaly)={self._p:.3f} "
            f"reward={self._last_reward:.3f} detector_v{self.core.detector_version} z={z}\n"
        )
