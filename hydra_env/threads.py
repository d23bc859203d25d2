"""Run the env's small tensor work on one torch thread, whatever the caller configured.

Why: every tensor an env step touches is small (one row, or one row per sub-env, through a small VAE,
detector and k-NN), so torch's intra-op parallelism gains nothing there; but when the process has
more torch threads than free cores (torch's default is one per core, and any other busy process
takes a core away) the threads of each tiny op wait on one another and a step gets many times
slower. Measured on a 2-core machine while a second process kept one core busy:
``gym.make("SwiftHydra-v0")`` stepped at about a quarter of its one-thread rate with torch's default
two threads (``benchmarks.env_speed`` records this as ``loaded_default_threads_over_one_thread``).

Why a per-call switch rather than setting the thread count once: the thread count is process-wide
state that belongs to the caller (their policy network may well want every core), so the envs change
it only for the duration of their own ``reset``/``step``/construction and then put it back.
``torch.set_num_threads`` costs about 0.1 microseconds per call (measured with torch 2.x on CPU),
so switching twice per step is free next to a step (hundreds of microseconds).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import ParamSpec, TypeVar

import torch

__all__ = ["on_one_thread", "single_thread"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class single_thread:  # noqa: N801  (used like a function: ``with single_thread(): ...``)
    """Context manager: torch's intra-op thread count is 1 inside, the caller's value after.

    Does nothing when the count is already 1. Nesting is safe (each level restores what it found).
    The count is process-wide: do not rely on other threads' torch ops running multi-threaded while
    an env steps.

    Example::

        with single_thread():
            result = core.score(z)
    """

    __slots__ = ("_previous",)

    def __enter__(self) -> single_thread:
        self._previous = torch.get_num_threads()
        if self._previous != 1:
            torch.set_num_threads(1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous != 1:
            torch.set_num_threads(self._previous)


def on_one_thread(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorator: runs ``method`` inside :class:`single_thread` (used on the envs' reset/step/init)."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with single_thread():
            return method(*args, **kwargs)

    return wrapper
