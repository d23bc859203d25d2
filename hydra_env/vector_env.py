"""A native batched ``SwiftHydra-v0``: N walks decoded and scored in one forward pass per step.

``gym.make_vec("SwiftHydra-v0", num_envs=N, vectorization_mode="vector_entry_point")`` builds it. The
N sub-environments share one VAE, one detector and one anomaly set (one :class:`HydraCore`); each has
its own latent and step counter. Dynamics, observation and reward are those of
:class:`hydra_env.env.SwiftHydraEnv`.

Autoreset: ``AutoresetMode.SAME_STEP``. When sub-env ``i`` truncates, it is reset within the same
``step`` call: the returned ``obs[i]`` is already the first observation of its next episode, the
last observation of the finished one is in ``infos["final_obs"][i]`` (``infos["_final_obs"]`` masks
it) and its step info in ``infos["final_info"]``. The remaining ``infos`` keys always describe the
transition just taken (arrays with one row per sub-env). SAME_STEP is what Stable-Baselines3
expects (``terminal_observation``), so :class:`agents.vec_adapter.SB3VecEnvAdapter` maps it 1:1.

Using it from SB3::

    from agents.vec_adapter import SB3VecEnvAdapter
    venv = SB3VecEnvAdapter(gym.make_vec("SwiftHydra-v0", num_envs=16, vectorization_mode="vector_entry_point"))
    PPO("MlpPolicy", venv).learn(10_000)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from hydra_env.config import EnvConfig
from hydra_env.core import CoreAccessMixin, HydraCore, build_components, detector_argument
from hydra_env.env import action_space_for, check_actions, observation_space_for
from hydra_env.threads import on_one_thread


class SwiftHydraVectorEnv(CoreAccessMixin, VectorEnv):
    """``num_envs`` Swift Hydra walks stepped as one batch.

    Args:
        num_envs: Number of sub-environments.
        config: Settings; ``None`` uses :class:`EnvConfig` defaults.
        X, y, split, detector, vae: As for :class:`hydra_env.env.SwiftHydraEnv`.
        render_mode: ``None`` or ``"ansi"``.
        **config_overrides: Any :class:`EnvConfig` field.
    """

    metadata = {"render_modes": ["ansi"], "autoreset_mode": AutoresetMode.SAME_STEP}

    @on_one_thread
    def __init__(
        self,
        num_envs: int = 1,
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
        if int(num_envs) < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        detector = detector_argument(detector, config_overrides)
        self.config = EnvConfig.from_kwargs(config, **config_overrides)
        split, vae, detector = build_components(
            self.config, X=X, y=y, split=split, detector=detector, vae=vae
        )
        self.core = HydraCore(self.config, split, vae, detector)
        self.single_observation_space = observation_space_for(self.config)
        self.single_action_space = action_space_for(self.config)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._shape = (self.num_envs, self.config.latent_dim)
        self._z = np.zeros(self._shape, dtype=np.float32)
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._p = np.zeros(self.num_envs, dtype=np.float32)
        self._last_reward = np.zeros(self.num_envs, dtype=np.float32)
        self._needs_reset = True

    # -------------------------------------------------------------- gymnasium vector API
    def _obs(self) -> np.ndarray:
        progress = (self._t / self.config.episode_length).astype(np.float32)
        return np.concatenate([self._z, self._p[:, None], progress[:, None]], axis=1)

    @on_one_thread
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._z = self.core.initial_latents(self.np_random, self.num_envs)
        self._t[:] = 0
        self._p = self.core.score(self._z).stats[0].copy()
        self._last_reward = np.zeros(self.num_envs, dtype=np.float32)
        self._needs_reset = False
        return self._obs(), {}

    @on_one_thread
    def step(self, actions: Any):
        if self._needs_reset:
            raise RuntimeError("SwiftHydraVectorEnv.step called before reset(); call env.reset() first")
        a = check_actions(actions, self._shape)
        clip = self.config.latent_clip
        self._z = np.clip(self._z + self.config.action_scale * a, -clip, clip)
        self._t += 1
        result = self.core.score(self._z)
        stats = result.stats
        self._p = stats[0]
        self._last_reward = stats[1]
        rewards = stats[1].astype(np.float64)
        n = self.num_envs
        infos: dict[str, Any] = {
            **{f"reward_{name}": value for name, value in result.term_values().items()},
            "anomaly_probability": stats[0],
            "sample": result.x.cpu().numpy(),
            "detector_version": np.full(n, self.core.detector_version),
            "detector_round": np.full(n, self.core.detector_round),
        }
        mask = np.ones(n, dtype=bool)
        for key in list(infos):
            infos[f"_{key}"] = mask
        obs = self._obs()
        truncated = self._t >= self.config.episode_length
        terminated = np.zeros(n, dtype=bool)
        if truncated.any():
            obs = self._autoreset(obs, truncated, infos)
        return obs, rewards, terminated, truncated, infos

    def _autoreset(self, obs: np.ndarray, done: np.ndarray, infos: dict[str, Any]) -> np.ndarray:
        """SAME_STEP autoreset of the ``done`` sub-envs; records their final observation in ``infos``."""
        final_obs = np.empty(self.num_envs, dtype=object)
        for i in np.flatnonzero(done):  # once per episode end, not per step
            final_obs[i] = obs[i]
        infos["final_obs"], infos["_final_obs"] = final_obs, done.copy()
        infos["final_info"] = {k: v for k, v in infos.items() if not k.startswith(("final", "_final"))}
        infos["_final_info"] = done.copy()
        n_done = int(done.sum())
        self._z[done] = self.core.initial_latents(self.np_random, n_done)
        self._t[done] = 0
        self._p = self._p.copy()  # the step's infos hold the old array
        self._p[done] = self.core.score(self._z[done]).stats[0]
        return self._obs()

    def render(self) -> tuple[str, ...] | None:
        if self.render_mode != "ansi":
            return None
        return tuple(
            f"[{i}] t={self._t[i]}/{self.config.episode_length} P(anomaly)={self._p[i]:.3f} "
            f"reward={self._last_reward[i]:.3f} detector_v{self.core.detector_version}\n"
            for i in range(self.num_envs)
        )
