"""Run Stable-Baselines3 agents on a native Gymnasium ``VectorEnv`` such as ``SwiftHydraVectorEnv``.

SB3 speaks its own ``VecEnv`` API (list of info dicts, ``terminal_observation``, reset without
infos). :class:`SB3VecEnvAdapter` translates a Gymnasium 1.x vector env that uses
``AutoresetMode.SAME_STEP`` autoreset (the finished episode's last observation in
``infos["final_obs"]``), which is exactly SB3's own convention, so no step is lost or duplicated::

    import gymnasium as gym, hydra_env
    from stable_baselines3 import PPO
    from agents.vec_adapter import SB3VecEnvAdapter

    venv = SB3VecEnvAdapter(gym.make_vec("SwiftHydra-v0", num_envs=16, vectorization_mode="vector_entry_point"))
    PPO("MlpPolicy", venv, seed=0).learn(10_000)

The sub-environments of a native vector env share one object, so ``get_attr``/``env_method`` act on
that object once and return its answer for every requested index (``env_method("set_detector_state",
...)`` therefore updates all sub-envs at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

_SKIP_KEYS = ("final_obs", "final_info")


class SB3VecEnvAdapter(VecEnv):
    """An SB3 ``VecEnv`` view of a Gymnasium SAME_STEP-autoreset vector env.

    Args:
        vector_env: The Gymnasium vector env (e.g. from ``gym.make_vec(..., vectorization_mode="vector_entry_point")``).
    """

    def __init__(self, vector_env: gym.vector.VectorEnv) -> None:
        mode = vector_env.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"SB3VecEnvAdapter needs a vector env with AutoresetMode.SAME_STEP autoreset, got {mode!r}"
            )
        self.vector_env = vector_env
        self.render_mode = vector_env.render_mode
        super().__init__(
            vector_env.num_envs, vector_env.single_observation_space, vector_env.single_action_space
        )
        self._actions: np.ndarray | None = None

    def reset(self) -> VecEnvObs:
        seed = self._seeds[0]  # one generator drives every sub-env of a native vector env
        obs, _ = self.vector_env.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminated, truncated, infos = self.vector_env.step(self._actions)
        dones = np.logical_or(terminated, truncated)
        keys = [k for k in infos if not k.startswith("_") and k not in _SKIP_KEYS]
        columns = {k: infos[k] for k in keys}
        info_list: list[dict[str, Any]] = [
            {k: col[i] for k, col in columns.items()} for i in range(self.num_envs)
        ]
        for i in np.flatnonzero(dones):
            info_list[i]["terminal_observation"] = infos["final_obs"][i]
            info_list[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, np.asarray(rewards, dtype=np.float32), dones, info_list

    def close(self) -> None:
        self.vector_env.close()

    def _indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else list(indices)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.vector_env, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.vector_env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        result = getattr(self.vector_env, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]
