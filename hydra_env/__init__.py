"""hydra_env: data, the conditional VAE generator, and the ``SwiftHydra-v0`` Gymnasium environment.

Importing the package registers ``SwiftHydra-v0``; ``gym.make("hydra_env:SwiftHydra-v0")`` imports it
on demand. The env truncates itself at ``episode_length`` (a config field), so it is registered with
``max_episode_steps=None``: ``gym.make`` adds no TimeLimit wrapper on top (no double truncation).
"""

from __future__ import annotations

import gymnasium

from hydra_env import datasets
from hydra_env import value as _value  # noqa: F401  (registers the value and value_unseen terms)
from hydra_env.config import EnvConfig
from hydra_env.datasets import EMBEDDED, Split, adbench_split, list_datasets, load
from hydra_env.env import SwiftHydraEnv
from hydra_env.rewards import REWARD_TERMS, KNNEntropyGain, Reward, anomaly_probability
from hydra_env.vae import ConditionalVAE
from hydra_env.vector_env import SwiftHydraVectorEnv
from hydra_env.wrappers import DetectorUpdateWrapper

ENV_ID = "SwiftHydra-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="hydra_env.env:SwiftHydraEnv",
        vector_entry_point="hydra_env.vector_env:SwiftHydraVectorEnv",
        max_episode_steps=None,
    )

__all__ = [
    "EMBEDDED",
    "ENV_ID",
    "REWARD_TERMS",
    "Reward",
    "ConditionalVAE",
    "DetectorUpdateWrapper",
    "EnvConfig",
    "KNNEntropyGain",
    "Split",
    "SwiftHydraEnv",
    "SwiftHydraVectorEnv",
    "adbench_split",
    "anomaly_probability",
    "datasets",
    "list_datasets",
    "load",
]
