"""The pieces of the closed loop, sized by the budget: VAE, in-loop detector, env and generation policy.

:mod:`agents.loop` assembles them; the tests and the benchmark runners build them one at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agents.config import Budget
from agents.policies import GenerationPolicy
from agents.registry import NON_RL_POLICIES, check_algo, default_algo_kwargs, load_policy, make_policy


def make_vae(budget: Budget, seed: int, device: str = "cpu") -> Any:
    """An unfitted conditional VAE sized by the budget."""
    from hydra_env import ConditionalVAE

    return ConditionalVAE(
        latent_dim=budget.latent_dim,
        epochs=budget.vae_epochs,
        max_steps_per_epoch=budget.max_steps_per_epoch,
        random_state=seed,
        device=device,
    )


def make_loop_detector(budget: Budget, seed: int, device: str = "cpu") -> Any:
    """The in-loop detector (a single ``MambaDetector``) the agent learns to fool."""
    from detectors import MambaDetector

    return MambaDetector(
        epochs=budget.detector_epochs,
        warm_start_epochs=budget.detector_epochs_per_round,
        **budget.mamba_kwargs(seed, device),
    )


def make_env(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    vae: Any,
    detector: Any,
    budget: Budget,
    seed: int,
    **env_kwargs: Any,
) -> Any:
    """The batched ``SwiftHydra-v0`` (``budget.n_envs`` walks) on the fit part, sharing ``vae``/``detector``.

    The env only ever sees the fit part: validation and test rows stay out of its anomaly set.
    """
    from hydra_env import EnvConfig, SwiftHydraVectorEnv
    from hydra_env.datasets import Split

    split = Split(
        X_train=X_fit,
        y_train=y_fit,
        X_test=X_fit[:0],
        y_test=y_fit[:0],
        scaler=None,
        la=float("nan"),
        seed=seed,
        n_labeled_anomalies=int(y_fit.sum()),
        y_train_true=y_fit,
        name="swift-hydra-loop",
    )
    config = EnvConfig(
        seed=seed, latent_dim=budget.latent_dim, episode_length=budget.episode_length, **env_kwargs
    )
    return SwiftHydraVectorEnv(budget.n_envs, config, split=split, detector=detector, vae=vae)


def agent_env(vector_env: Any) -> Any:
    """The SB3 view of the batched env (with episode statistics for logging)."""
    from stable_baselines3.common.vec_env import VecMonitor

    from agents.vec_adapter import SB3VecEnvAdapter

    return VecMonitor(SB3VecEnvAdapter(vector_env))


def resolve_algo_kwargs(algo: str, budget: Budget, algo_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """Budget-aware defaults overridden by the user's keyword arguments."""
    algo = check_algo(algo)
    if algo == "gradient":
        kwargs: dict[str, Any] = {"steps": budget.gradient_steps}
    elif algo in NON_RL_POLICIES:
        kwargs = {}
    else:
        kwargs = default_algo_kwargs(algo, budget.steps_per_round, budget.n_envs)
    kwargs.update(algo_kwargs or {})
    return kwargs


def build_policy(
    algo: str, vector_env: Any, seed: int, kwargs: dict[str, Any], tensorboard_log: str | None = None
) -> GenerationPolicy:
    """A new policy on the env (SB3 agents get the SB3 view of it)."""
    algo = check_algo(algo)
    env = vector_env if algo in NON_RL_POLICIES else agent_env(vector_env)
    return make_policy(algo, env, seed, tensorboard_log=tensorboard_log, **kwargs)


def policy_for(
    algo: str,
    vector_env: Any,
    seed: int,
    kwargs: dict[str, Any],
    latest: Path | None,
    tensorboard_log: str | None,
) -> GenerationPolicy:
    """A new policy, or the one saved in checkpoint ``latest`` (``None``: a new one)."""
    if latest is not None and (latest / "agent").is_dir():
        env = vector_env if algo in NON_RL_POLICIES else agent_env(vector_env)
        non_rl = kwargs if algo in NON_RL_POLICIES else {}
        return load_policy(algo, latest / "agent", env, seed, tensorboard_log=tensorboard_log, **non_rl)
    return build_policy(algo, vector_env, seed, kwargs, tensorboard_log)
