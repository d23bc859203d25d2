"""The env's boundaries: step before reset, actions of any shape and value, la=0 at construction."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env import SwiftHydraEnv, SwiftHydraVectorEnv

FAST = {"vae_epochs": 2, "detector_epochs": 1, "latent_dim": 8}


@pytest.fixture(scope="module")
def env() -> SwiftHydraEnv:
    return SwiftHydraEnv(**FAST)


@pytest.fixture(scope="module")
def venv(env) -> SwiftHydraVectorEnv:
    return SwiftHydraVectorEnv(3, split=env.split, vae=env.vae, detector=env.detector, **FAST)


def test_step_before_reset_is_an_error():
    fresh = SwiftHydraEnv(**FAST)
    with pytest.raises(RuntimeError, match=r"step called before reset"):
        fresh.step(np.zeros(8, dtype=np.float32))
    vector = gym.make_vec(
        "SwiftHydra-v0", num_envs=2, vectorization_mode="vector_entry_point",
        split=fresh.split, vae=fresh.vae, detector=fresh.detector, **FAST,
    )  # fmt: skip
    with pytest.raises(RuntimeError, match=r"step called before reset"):
        vector.step(np.zeros((2, 8), dtype=np.float32))
    vector.reset(seed=0)
    vector.step(np.zeros((2, 8), dtype=np.float32))  # fine once reset


def test_a_reshapeable_action_of_the_wrong_shape_is_rejected(env, venv):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must have shape \(8,\), got \(2, 4\)"):
        env.step(np.zeros((2, 4), dtype=np.float32))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must have shape \(3, 8\), got \(24,\)"):
        venv.step(np.zeros(24, dtype=np.float32))


def test_la_zero_is_rejected_at_construction():
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"la must lie in \(0, 1\].*use an unsupervised detector"):
        gym.make("SwiftHydra-v0", la=0)
    assert time.perf_counter() - started < 1.0  # before any VAE or detector training


_values = st.floats(allow_nan=True, allow_infinity=True, width=32)
_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9)


def _check_step(env, action, space, obs_low, obs_high):
    """A named ``ValueError``, or a finite reward and an observation inside the space."""
    try:
        with np.errstate(over="ignore"):  # float64 beyond float32's range: cast to inf, then rejected
            obs, reward, terminated, truncated, _ = env.step(action)
    except ValueError as err:
        assert "action" in str(err)
        return False
    assert np.all(np.isfinite(reward)) and np.all(np.isfinite(obs))
    assert np.all(obs >= obs_low - 1e-6) and np.all(obs <= obs_high + 1e-6)
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_action_gives_a_named_error_or_a_finite_step(env, data):
    shape = data.draw(st.one_of(st.just((8,)), _shapes))
    action = data.draw(hnp.arrays(np.float32, shape, elements=_values))
    env.reset(seed=0)
    space = env.observation_space
    accepted = _check_step(env, action, space, space.low, space.high)
    assert accepted == (shape == (8,) and bool(np.isfinite(action).all()))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_batched_action_gives_a_named_error_or_a_finite_step(venv, data):
    shape = data.draw(st.one_of(st.just((3, 8)), _shapes))
    action = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(allow_nan=True, allow_infinity=True)))
    venv.reset(seed=0)
    space = venv.single_observation_space
    accepted = _check_step(venv, action, space, space.low, space.high)
    # float64 values beyond float32's range overflow to inf on the cast: rejected like inf itself
    with np.errstate(over="ignore"):
        finite = bool(np.isfinite(action.astype(np.float32)).all())
    assert accepted == (shape == (3, 8) and finite)


@pytest.mark.parametrize("action", [None, "left", [[0.1] * 8, [0.2] * 7], {"a": 1}])
def test_non_numeric_actions_are_named_errors(env, action):
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)
