"""Fault injection for atomic writers: a write that fails partway must leave the previous file intact.

Used by the ``test_atomic_*`` modules of each package. Two faults:

* :func:`failing_replace`: the final rename (``os.replace``, which ``Path.replace`` calls) raises,
  as after a crash between writing the temporary file and moving it into place;
* a *partial write*: the serializer writes some bytes to the file it was given, then raises (each
  test patches its writer's serializer with :func:`partial_then_fail`).

A writer that writes the target in place fails the first (it never calls ``os.replace`` and updates
the file) and the second (the target is left truncated).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class InjectedFault(OSError):
    """The error the fault injection raises (an ``OSError``, as a full disk would)."""


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (hidden and temporary files included)."""
    folder = Path(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def failing_replace(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Makes ``os.replace`` raise :class:`InjectedFault`; returns the list of attempted renames."""
    attempts: list[tuple[str, str]] = []

    def replace(src, dst, *args, **kwargs):
        attempts.append((os.fspath(src), os.fspath(dst)))
        raise InjectedFault(f"injected failure renaming {src} -> {dst}")

    monkeypatch.setattr(os, "replace", replace)
    return attempts


def partial_then_fail(write_some: Callable[..., Any]) -> Callable[..., Any]:
    """A serializer stand-in: ``write_some(*args, **kwargs)`` writes part of the output, then it raises."""

    def fail(*args, **kwargs):
        write_some(*args, **kwargs)
        raise InjectedFault("injected failure in the middle of a write")

    return fail


def write_garbage(target: Any) -> None:
    """Writes a few bytes to ``target``: a path or a writable (text or binary) file object."""
    if hasattr(target, "write"):
        try:
            target.write(b"\x00torn")
        except TypeError:
            target.write("torn,")
        target.flush()
    else:
        with open(target, "wb") as fh:
            fh.write(b"\x00torn")


def assert_untouched(folder: Path, before: dict[str, str]) -> None:
    """Same files with the same bytes as ``before``: nothing changed, no temporary file is left."""
    after = snapshot(folder)
    assert sorted(after) == sorted(before), f"files changed: {sorted(set(after) ^ set(before))}"
    changed = [name for name in before if after[name] != before[name]]
    assert not changed, f"contents changed: {changed}"
