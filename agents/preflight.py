"""Checks that refuse input which cannot work, before a run folder exists or anything trains.

Each check raises ``ValueError`` with one line naming the problem (``swift-hydra train`` turns it into
exit code 2); :func:`agents.experiment.prepare` runs them all.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from agents.config import Budget

WIDE_FEATURES = 1000
"""From this many features on, the deployment fit is slow whatever the budget (see :func:`wide_data_warning`)."""


def check_device(device: str) -> None:
    """``ValueError`` for a torch device name that is malformed or not present on this machine."""
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1): {err}"
        ) from err
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device!r}: CUDA is not available on this machine")


# ------------------------------------------------------------------------------------------ data
def check_dataset(X: np.ndarray, y: np.ndarray, name: str) -> None:
    """Refuses a dataset Swift Hydra cannot learn from (before the split).

    Args:
        X: Feature rows as loaded.
        y: Labels, 1 = anomaly.
        name: The dataset's name, for the message.

    Raises:
        ValueError: not one label per row, NaN/inf values, fewer than 2 anomalies or normal rows, or
            every feature constant.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y).ravel()
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(
            f"dataset {name}: X must be 2-D with one label per row, got X {X.shape}, y {y.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError(f"dataset {name}: X holds NaN or infinite values; impute or drop them first")
    n_anomalies, n_normal = int(np.sum(y == 1)), int(np.sum(y != 1))
    if n_anomalies == 0:
        raise ValueError(
            f"dataset {name} has no anomaly (no y == 1): Swift Hydra learns from labeled anomalies"
        )
    if n_anomalies == 1:
        raise ValueError(
            f"dataset {name} has a single anomaly: Swift Hydra needs at least 2 (one labeled in the training "
            "split, one in the test split)"
        )
    if n_normal < 2:
        raise ValueError(f"dataset {name} has {n_normal} normal rows (y == 0); it needs at least 2")
    if len(X) and np.all(X.max(axis=0) == X.min(axis=0)):
        raise ValueError(f"dataset {name}: every feature is constant, so no detector can tell rows apart")


def check_split(split: Any) -> None:
    """Refuses a split the run cannot use: no labeled anomaly, one test class, constant training rows."""
    name = split.name
    if int(np.sum(split.y_train == 1)) == 0:
        raise ValueError(f"dataset {name}: the training split has no labeled anomaly at la={split.la:g}")
    if len(np.unique(split.y_test)) < 2:
        raise ValueError(f"dataset {name}: the test split holds one class only, so AUC-ROC is undefined")
    X = np.asarray(split.X_train)
    if np.all(X.max(axis=0) == X.min(axis=0)):
        raise ValueError(f"dataset {name}: every feature is constant in the training split")


def wide_data_warning(n_rows: int, n_features: int, deploy: str) -> str | None:
    """A warning for data so wide that the deployment fit takes minutes whatever ``--budget`` says.

    The budget sizes the loop (VAE, in-loop detector, agent); the boosted deployment detectors and the
    control fit every feature and are not bounded by it (120 rows x 5000 features: minutes of CatBoost).
    """
    if n_features < WIDE_FEATURES:
        return None
    return (
        f"warning: {n_features} features ({n_rows} rows): the {deploy} deployment fit and the control's are "
        "not bounded by --budget and can take minutes"
    )


# ------------------------------------------------------------------------------------------ agent
def check_algo_kwargs(
    algo: str, budget: Budget, algo_kwargs: dict[str, Any], env_kwargs: dict[str, Any]
) -> None:
    """Refuses agent arguments the policy would reject once training starts.

    Names are checked against the constructor, values against its defaults' types (``learning_rate=abc``
    where a number is expected), and an SB3 agent is then built once on a stand-in env with the run's
    spaces, so whatever else SB3 rejects fails here, in one line, not after the run folder exists.

    Raises:
        ValueError: naming the argument (or the algorithm and SB3's complaint).
    """
    from agents.components import resolve_algo_kwargs
    from agents.registry import NON_RL_POLICIES, check_policy_kwargs, get_algo_class

    kwargs = resolve_algo_kwargs(algo, budget, algo_kwargs)
    check_policy_kwargs(algo, kwargs)
    cls = NON_RL_POLICIES[algo] if algo in NON_RL_POLICIES else get_algo_class(algo)
    _check_value_types(cls, algo, {k: v for k, v in kwargs.items() if k in algo_kwargs})
    if algo in NON_RL_POLICIES:
        return
    try:
        cls("MlpPolicy", _stand_in_env(budget, env_kwargs), seed=0, device="cpu", verbose=0, **kwargs)
    except Exception as err:  # noqa: BLE001 - any SB3 complaint becomes one line naming the arguments
        detail = " ".join(str(err).split()) or type(err).__name__
        raise ValueError(
            f"--algo-kwargs {sorted(algo_kwargs)}: {algo} cannot be built with them: {detail}"
        ) from err


def _defaults(cls: type) -> dict[str, Any]:
    """Constructor defaults of ``cls`` and of the base classes its ``**kwargs`` reach."""
    defaults: dict[str, Any] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        for name, param in params.items():
            if param.default is not inspect.Parameter.empty:
                defaults.setdefault(name, param.default)
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            break
    return defaults


def _check_value_types(cls: type, algo: str, kwargs: dict[str, Any]) -> None:
    """``ValueError`` for a value whose type cannot stand in for the constructor's default."""
    defaults = _defaults(cls)
    for name, value in kwargs.items():
        default = defaults.get(name)
        if isinstance(default, bool):
            ok, expected = isinstance(value, bool), "True or False"
        elif isinstance(default, (int, float)):
            ok = callable(value) or (isinstance(value, (int, float)) and not isinstance(value, bool))
            expected = "a number" + (" or a schedule (e.g. lin_3e-4)" if isinstance(default, float) else "")
        else:
            continue
        if not ok:
            raise ValueError(f"--algo-kwargs {name}: {algo} expects {expected}, got {value!r}")


def _stand_in_env(budget: Budget, env_kwargs: dict[str, Any]) -> Any:
    """A VecEnv with the run's observation and action spaces (``budget.n_envs`` copies) that does nothing."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env import DummyVecEnv

    from hydra_env.config import EnvConfig
    from hydra_env.env import action_space_for, observation_space_for

    config = EnvConfig.from_kwargs(
        latent_dim=budget.latent_dim, episode_length=budget.episode_length, **env_kwargs
    )

    class StandIn(gym.Env):
        observation_space = observation_space_for(config)
        action_space = action_space_for(config)

        def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
            return np.zeros(self.observation_space.shape, dtype=np.float32), {}

        def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
            return np.zeros(self.observation_space.shape, dtype=np.float32), 0.0, False, False, {}

    return DummyVecEnv([StandIn] * budget.n_envs)
