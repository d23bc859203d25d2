"""Algorithm name -> generation policy, behind one interface.

Every policy, reinforcement-learning or not, is a :class:`GenerationPolicy`:

* ``learn(steps)``: improve the policy on ``SwiftHydra-v0`` (a no-op for non-RL policies);
* ``generate(n, deterministic=True) -> (X_candidates, rewards)``: synthesize ``n`` candidate
  anomalies with their environment reward;
* ``reseed(seed)``: make what follows a pure function of the saved state and ``seed`` (the
  closed loop calls it at the start of every round, which is what makes resume exact);
* ``save(path)`` / :func:`load_policy`.

SB3 agents come from :data:`SB3_ALGOS` (``ppo``, ``sac``, ``td3``, ``a2c``, ``ddpg`` and
sb3-contrib's ``tqc``); the non-RL policies ``random`` and ``gradient`` live in
:mod:`agents.policies`, the classic recipes that build rows without the VAE (``oversample``,
``smote``, ``mixup``, ``nng_mix``, ``exposure``) in :mod:`agents.generators`.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from agents.generators import GENERATORS
from agents.policies import (
    GenerationPolicy,
    GradientPolicy,
    RandomPolicy,
    info_sample,
)

SB3_ALGOS: dict[str, tuple[str, str]] = {
    "ppo": ("stable_baselines3", "PPO"),
    "sac": ("stable_baselines3", "SAC"),
    "td3": ("stable_baselines3", "TD3"),
    "a2c": ("stable_baselines3", "A2C"),
    "ddpg": ("stable_baselines3", "DDPG"),
    "tqc": ("sb3_contrib", "TQC"),
}
"""SB3 algorithms: name -> (module, class)."""

NON_RL_POLICIES: dict[str, type[GenerationPolicy]] = {
    "random": RandomPolicy,
    "gradient": GradientPolicy,
    **GENERATORS,
}
"""Policies that need no reinforcement learning: the latent ones and the classic recipes
(``oversample``, ``smote``, ``mixup``, ``nng_mix``, ``exposure``; :mod:`agents.generators`)."""

OFF_POLICY = frozenset({"sac", "td3", "ddpg", "tqc"})
"""SB3 algorithms with a replay buffer."""

ALGO_CHOICES: tuple[str, ...] = (*SB3_ALGOS, *NON_RL_POLICIES)
"""Every name :func:`make_policy` accepts."""

AGENT_FILE = "agent.zip"
REPLAY_FILE = "replay_buffer.pkl"
# Replay buffers above this many transitions are not checkpointed (a resumed off-policy agent then
# refills its buffer); below it, saving is cheap and keeps resume exact.
MAX_CHECKPOINTED_BUFFER = 200_000


def check_algo(name: str) -> str:
    """Returns the normalized algorithm name; unknown names raise with the list of choices."""
    key = str(name).lower()
    if key not in ALGO_CHOICES:
        raise ValueError(f"unknown algo {name!r}; choose one of {list(ALGO_CHOICES)}")
    return key


def get_algo_class(name: str) -> type:
    """The SB3 class of an RL algorithm name (``ppo`` -> ``stable_baselines3.PPO``)."""
    key = check_algo(name)
    if key not in SB3_ALGOS:
        raise ValueError(f"{key!r} is not an SB3 algorithm; SB3 algorithms: {list(SB3_ALGOS)}")
    module, cls = SB3_ALGOS[key]
    return getattr(importlib.import_module(module), cls)


def default_algo_kwargs(name: str, steps_per_round: int, n_envs: int = 1) -> dict[str, Any]:
    """Budget-aware defaults so that tiny budgets still learn (small buffers, early updates).

    PPO/A2C roll out at most one round's steps per update; off-policy agents keep a buffer no
    larger than the whole run needs and start learning after a fraction of the first round.
    """
    key = check_algo(name)
    steps = max(1, int(steps_per_round))
    if key == "ppo":
        n_steps = max(8, min(512, steps // max(1, n_envs)))
        return {"n_steps": n_steps, "batch_size": min(64, n_steps * n_envs), "n_epochs": 5}
    if key == "a2c":
        return {"n_steps": 8}
    if key in OFF_POLICY:
        return {
            "buffer_size": min(100_000, max(1_000, 20 * steps)),
            "learning_starts": min(100, max(1, steps // 4)),
            "batch_size": min(256, max(16, steps // 4)),
        }
    return {}


class SB3Policy(GenerationPolicy):
    """An SB3 agent as a :class:`GenerationPolicy`.

    Args:
        name: Algorithm name (a key of :data:`SB3_ALGOS`).
        env: A ``SwiftHydra-v0`` environment (``gym.Env``) or an SB3 ``VecEnv`` over it.
        seed: Seed of the agent (networks, exploration noise, environment resets).
        model: An already built/loaded SB3 model (used by :func:`load_policy`).
        tensorboard_log: Folder for SB3's tensorboard logs (needs the ``tensorboard`` package).
        **algo_kwargs: Constructor keyword arguments of the SB3 class.
    """

    def __init__(
        self,
        name: str,
        env: Any,
        seed: int,
        *,
        model: Any = None,
        tensorboard_log: str | None = None,
        **algo_kwargs: Any,
    ) -> None:
        self.name = check_algo(name)
        self.seed = int(seed)
        cls = get_algo_class(self.name)
        if model is None:
            policy = "MultiInputPolicy" if isinstance(_space_of(env), gym.spaces.Dict) else "MlpPolicy"
            _check_kwargs(cls, self.name, algo_kwargs)
            model = cls(
                policy,
                env,
                seed=self.seed,
                device="cpu",
                verbose=0,
                tensorboard_log=tensorboard_log,
                **algo_kwargs,
            )
        self.model = model

    def learn(self, steps: int, callback: Any = None) -> None:
        """Learns from ``steps`` more environment steps; timesteps accumulate across rounds."""
        if steps > 0:
            self.model.learn(steps, callback=callback, reset_num_timesteps=False, tb_log_name=self.name)

    def reseed(self, seed: int) -> None:
        """Seeds SB3 (global torch/numpy, action space, env resets) and restarts the episodes."""
        self.model.set_random_seed(int(seed))
        # Forget the in-flight episode so the next learn() starts from a reset seeded here: a round
        # then depends only on the checkpointed state, not on where the previous round stopped.
        self.model._last_obs = None
        self.model._last_episode_starts = None
        if hasattr(self.model, "_last_original_obs"):
            self.model._last_original_obs = None

    def generate(self, n: int, *, deterministic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Rolls the policy out for ``n`` environment steps; each step's decoded sample is a candidate."""
        venv = self.model.get_env()
        obs = venv.reset()
        samples: list[np.ndarray] = []
        rewards: list[np.ndarray] = []
        collected = 0
        while collected < n:
            action, _ = self.model.predict(obs, deterministic=deterministic)
            obs, reward, _, infos = venv.step(action)
            samples.extend(info_sample(info) for info in infos)
            rewards.append(np.asarray(reward, dtype=np.float64))
            collected += len(infos)
        # The next learn() must not continue from this rollout's episodes.
        self.model._last_obs = None
        return np.asarray(samples, dtype=np.float32)[:n], np.concatenate(rewards)[:n]

    def save(self, path: str | Path) -> None:
        """Writes ``agent.zip`` (and the replay buffer of off-policy agents when small) into ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save(path / AGENT_FILE)
        buffer = getattr(self.model, "replay_buffer", None)
        if buffer is not None and buffer.buffer_size * buffer.n_envs <= MAX_CHECKPOINTED_BUFFER:
            self.model.save_replay_buffer(path / REPLAY_FILE)

    @classmethod
    def load(
        cls, name: str, path: str | Path, env: Any, seed: int, tensorboard_log: str | None = None
    ) -> SB3Policy:
        """Restores an agent written by :meth:`save`, attached to ``env``."""
        path = Path(path)
        algo = get_algo_class(name)
        model = algo.load(path / AGENT_FILE, env=env, device="cpu", tensorboard_log=tensorboard_log)
        if (path / REPLAY_FILE).is_file() and hasattr(model, "load_replay_buffer"):
            model.load_replay_buffer(path / REPLAY_FILE)
        return cls(name, env, seed, model=model)


def make_policy(
    name: str, env: Any, seed: int, *, tensorboard_log: str | None = None, **kwargs: Any
) -> GenerationPolicy:
    """Builds the generation policy called ``name`` on ``env``.

    Args:
        name: One of :data:`ALGO_CHOICES`.
        env: A ``SwiftHydra-v0`` environment (or an SB3 VecEnv over copies of it).
        seed: Seed of everything the policy draws.
        tensorboard_log: SB3 tensorboard folder (ignored by non-RL policies).
        **kwargs: Constructor keyword arguments of the SB3 class or of the non-RL policy.

    Raises:
        ValueError: unknown name, or keyword arguments the policy does not take.
    """
    key = check_algo(name)
    if key in NON_RL_POLICIES:
        cls = NON_RL_POLICIES[key]
        _check_kwargs(cls, key, kwargs)
        return cls(env, seed, **kwargs)
    return SB3Policy(key, env, seed, tensorboard_log=tensorboard_log, **kwargs)


def load_policy(
    name: str, path: str | Path, env: Any, seed: int, *, tensorboard_log: str | None = None, **kwargs: Any
) -> GenerationPolicy:
    """Restores a policy saved with ``policy.save(path)``."""
    key = check_algo(name)
    if key in NON_RL_POLICIES:
        policy = make_policy(key, env, seed, **kwargs)
        policy.load_state(path)
        return policy
    return SB3Policy.load(key, path, env, seed, tensorboard_log=tensorboard_log)


def check_policy_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    """Fails early (``ValueError`` naming the accepted arguments) on arguments policy ``name`` does not take."""
    key = check_algo(name)
    cls = NON_RL_POLICIES[key] if key in NON_RL_POLICIES else get_algo_class(key)
    _check_kwargs(cls, key, kwargs)


def _space_of(env: Any) -> Any:
    return getattr(env, "observation_space", None)


def _check_kwargs(cls: type, name: str, kwargs: dict[str, Any]) -> None:
    """Unknown constructor arguments fail here, naming the accepted ones, not deep inside SB3."""
    accepted: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        accepted |= {p for p in params if p not in ("self", "args", "kwargs")}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            break
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"{name} does not accept {unknown}; accepted arguments: {sorted(accepted)}")
