"""Detector classes by name, and loading any saved detector without knowing its class.

Every `detectors.contract.BaseDetector` subclass registers itself under its class name when it is
defined; the built-in families are also listed here with their module, so `load_detector` can
import the right one on demand. A saved file (see `BaseDetector.save`) is a checksummed `torch.save`
zip (`detectors.persistence`) of a dict of plain types with ``"format"`` and ``"class"`` keys, verified
and then read back with ``torch.load(weights_only=True)``; a damaged one raises `DamagedFileError`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from detectors.persistence import FORMAT_VERSION, DamagedFileError, read_checked

__all__ = ["FORMAT_VERSION", "DamagedFileError", "detector_class", "load_detector", "read_state", "register"]

_BUILTIN_MODULES = {
    "MambaDetector": "detectors.single",
    "MambaMoEDetector": "detectors.moe",
    "DevNet": "detectors.devnet",
    "PyODAdapter": "detectors.adapters",
    "SupervisedAdapter": "detectors.adapters",
    "BoostedDetector": "detectors.boosted",
}
_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Record ``cls`` under its class name (done automatically for `BaseDetector` subclasses)."""
    _REGISTRY[cls.__name__] = cls
    return cls


def detector_class(name: str) -> type:
    """The detector class saved under ``name`` (imports a built-in family on demand).

    Raises:
        KeyError: No detector class of that name is known.
    """
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    if name not in _REGISTRY:
        raise KeyError(
            f"unknown detector class {name!r}; known: {sorted(set(_REGISTRY) | set(_BUILTIN_MODULES))}"
        )
    return _REGISTRY[name]


def _not_a_detector(path: Path, reason: str) -> ValueError:
    return ValueError(f"not a saved swift-hydra detector: {path} ({reason})")


def read_state(path: str | Path) -> dict[str, Any]:
    """Read and verify a saved detector's state dict (see `detectors.persistence.read_checked`).

    Raises:
        FileNotFoundError: Nothing at ``path``.
        DamagedFileError: The file's bytes changed after it was saved (failed CRC-32 or SHA-256).
        ValueError: ``"not a saved swift-hydra detector: PATH (reason)"`` for an empty, truncated,
            corrupt or foreign file.
    """
    return read_checked(path, what="swift-hydra detector")


def load_detector(path: str | Path, device: str | None = None) -> Any:
    """Load a detector written by any family's ``save``, resolving its class by the saved name.

    Args:
        path: File written by ``save``.
        device: Torch device for torch detectors (None: the saved ``device`` parameter).

    Raises:
        FileNotFoundError: Nothing at ``path``.
        DamagedFileError: The file's bytes changed after it was saved.
        ValueError: Not a saved swift-hydra detector (see `read_state`), or an unknown class.
    """
    state = read_state(path)
    try:
        cls = detector_class(state["class"])
    except KeyError as err:
        raise _not_a_detector(Path(path), str(err)) from None
    return cls._from_state(state, path=Path(path), device=device)
