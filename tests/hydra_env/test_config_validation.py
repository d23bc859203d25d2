"""EnvConfig: every field of the wrong type or out of range raises naming it; ``detector=`` takes a family name."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from detectors import MambaDetector, MambaMoEDetector
from hydra_env import EnvConfig, SwiftHydraEnv, SwiftHydraVectorEnv

FAST = {"vae_epochs": 2, "detector_epochs": 1, "latent_dim": 4, "vae_hidden": (8,)}

BAD_FIELDS = [
    ("dataset", 3),
    ("data_dir", 1.0),
    ("la", "0.1"),
    ("la", None),
    ("seed", 1.5),
    ("seed", -1),
    ("latent_dim", 1.5),
    ("latent_dim", 0),
    ("latent_dim", "8"),
    ("episode_length", 0),
    ("action_scale", 0.0),
    ("action_scale", "big"),
    ("latent_clip", -1.0),
    ("entropy_decay", 1.5),
    ("entropy_k", 0),
    ("vae_hidden", 64),
    ("vae_beta", -0.1),
    ("vae_epochs", 0),
    ("vae_lr", 0),
    ("vae_batch_size", 2.5),
    ("vae_anomaly_weight", "lots"),
    ("vae_anomaly_weight", -1.0),
    ("detector", "bogus"),
    ("detector_epochs", 0),
    ("detector_epochs", -1),
    ("detector_kwargs", "epochs=3"),
    ("device", None),
]


def test_the_table_covers_every_field():
    """A new EnvConfig field must get a bad value here (so its validation is tested too)."""
    covered = {name for name, _ in BAD_FIELDS} | {"reward_weights"}  # reward_weights: test_env.py
    assert covered == {f.name for f in dataclasses.fields(EnvConfig)}


@pytest.mark.parametrize(("name", "value"), BAD_FIELDS, ids=[f"{n}={v!r}" for n, v in BAD_FIELDS])
def test_a_bad_field_raises_naming_it(name, value):
    with pytest.raises(ValueError, match=rf"\b{name}\b") as err:
        EnvConfig(**{name: value})
    assert isinstance(err.value, ValueError)
    # The same through the env, before any data is loaded or model trained.
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        gym.make("SwiftHydra-v0", **{name: value})


@pytest.mark.parametrize("hidden", [(), (64, 0), (64, 1.5), ["a"], (True,)])
def test_vae_hidden_widths_are_positive_integers(hidden):
    with pytest.raises(ValueError, match="vae_hidden"):
        EnvConfig(vae_hidden=hidden)


def test_valid_values_of_other_types_are_kept():
    config = EnvConfig(vae_hidden=[32, 16], la=1, detector_kwargs=None, vae_anomaly_weight="balanced")
    assert config.vae_hidden == (32, 16) and config.detector_kwargs == {}
    assert dataclasses.replace(config, latent_dim=3).latent_dim == 3


def test_type_errors_keep_the_type_error_contract():
    """Callers that caught TypeError for a wrong type still do (InvalidParameterError is both)."""
    with pytest.raises(TypeError, match="latent_dim"):
        EnvConfig(latent_dim=1.5)


@pytest.fixture(scope="module")
def moe_env():
    return gym.make("SwiftHydra-v0", detector="mamba_moe", **FAST)


def test_a_family_name_as_detector_chooses_the_default_detector(moe_env):
    env = moe_env.unwrapped
    assert env.config.detector == "mamba_moe"
    assert type(env.detector) is MambaMoEDetector
    obs, _ = moe_env.reset(seed=0)
    assert moe_env.observation_space.contains(obs)


def test_a_family_name_works_for_the_vector_env_too(moe_env):
    env = moe_env.unwrapped
    venv = SwiftHydraVectorEnv(2, split=env.split, vae=env.vae, detector="mamba", **FAST)
    assert venv.config.detector == "mamba" and type(venv.detector) is MambaDetector


def test_an_unknown_family_name_or_object_is_named():
    with pytest.raises(ValueError, match="'detector' parameter of EnvConfig"):
        gym.make("SwiftHydra-v0", detector="bogus")
    with pytest.raises(TypeError, match="detector must be a detector object"):
        SwiftHydraEnv(detector=42, **FAST)
