"""Stopping a long run cleanly: SIGTERM raised as an exception, as Ctrl-C's ``KeyboardInterrupt`` is.

A batch scheduler's time limit and ``kill`` send SIGTERM, whose default ends the process where it stands,
with no word. Inside :func:`sigterm_raises` it raises :class:`Terminated` instead, so the ``finally``
blocks and atomic writes that keep a run resumable run for it too, and the command can say how to go on.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["STOPS", "Terminated", "exit_code", "sigterm_raises"]


class Terminated(BaseException):
    """SIGTERM arrived within :func:`sigterm_raises` (``kill``, a batch scheduler's time limit)."""


STOPS = (KeyboardInterrupt, Terminated)
"""The exceptions a stop signal raises: catch them to report a stopped run."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated`; outside it, the process's handler is back."""

    def _raise(signum: int, frame: Any) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread: leave the process's handling as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(stop: BaseException) -> int:
    """128 + the signal, the shell's convention: 143 for SIGTERM, 130 for Ctrl-C.

    CatBoost turns a SIGTERM during its fit into ``KeyboardInterrupt`` itself, so 130 can mean either.
    """
    return 128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
