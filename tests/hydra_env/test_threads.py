"""single_thread / on_one_thread: the envs do their tensor work on one torch thread and restore the caller's."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env.threads import on_one_thread, single_thread


@pytest.fixture
def two_threads():
    """The caller configured two intra-op threads; put back what the session had afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


def test_single_thread_sets_and_restores(two_threads):
    with single_thread():
        assert torch.get_num_threads() == 1
        with single_thread():  # nested: the inner level finds 1 and leaves it
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == two_threads
    with pytest.raises(RuntimeError, match="boom"), single_thread():
        raise RuntimeError("boom")
    assert torch.get_num_threads() == two_threads


def test_decorator_keeps_name_and_result(two_threads):
    @on_one_thread
    def threads_inside(offset: int) -> int:
        """Doc."""
        return torch.get_num_threads() + offset

    assert threads_inside(10) == 11 and threads_inside.__name__ == "threads_inside"
    assert threads_inside.__doc__ == "Doc." and torch.get_num_threads() == two_threads


def _record_threads(core) -> list[int]:
    """Wraps ``core.score`` so every call records the torch thread count it ran under."""
    seen: list[int] = []
    score = core.score

    def recording(z):
        seen.append(torch.get_num_threads())
        return score(z)

    core.score = recording
    return seen


def test_single_env_steps_on_one_thread(two_threads):
    env = gym.make("SwiftHydra-v0")
    seen = _record_threads(env.unwrapped.core)
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.action_space.sample())
    assert seen == [1, 1, 1, 1] and torch.get_num_threads() == two_threads


def test_vector_env_steps_on_one_thread(two_threads):
    venv = gym.make_vec("SwiftHydra-v0", num_envs=4, vectorization_mode="vector_entry_point")
    seen = _record_threads(venv.unwrapped.core)
    venv.reset(seed=0)
    episode = venv.unwrapped.config.episode_length
    for _ in range(episode):  # the last step autoresets: one more score call for the reset rows
        venv.step(np.zeros((4, venv.unwrapped.config.latent_dim), dtype=np.float32))
    assert seen == [1] * (episode + 2) and torch.get_num_threads() == two_threads
