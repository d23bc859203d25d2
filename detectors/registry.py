"""Detector classes by name, and loading any saved detector without knowing its class.

Every `detectors.contract.BaseDetector` subclass registers itself under its class name when it is
defined; the built-in families are also listed here with their module, so `load_detector` can
import the right one on demand. A saved file (see `BaseDetector.save`) is a `torch.save` dict of
plain types with ``"format"`` and ``"class"`` keys, read back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import importlib
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["FORMAT_VERSION", "detector_class", "load_detector", "read_state", "register"]

FORMAT_VERSION = 1
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
    """Read a saved detector's state dict, turning every kind of bad file into one named error.

    Raises:
        FileNotFoundError: Nothing at ``path``.
        ValueError: ``"not a saved swift-hydra detector: PATH (reason)"`` for an empty, truncated,
            corrupt or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved detector at {path}")
    if path.stat().st_size == 0:
        raise _not_a_detector(path, "empty file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's message suggests weights_only=False, which would run arbitrary code: never relay it.
        raise _not_a_detector(path, "holds objects other than plain tensors and values") from None
    except (RuntimeError, EOFError, OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise _not_a_detector(
            path, f"unreadable, truncated or corrupt: {type(err).__name__} {first_line}"
        ) from None
    if not isinstance(state, dict) or "class" not in state or "format" not in state:
        raise _not_a_detector(path, "no detector class and format recorded")
    if state["format"] != FORMAT_VERSION:
        raise _not_a_detector(path, f"format {state['format']!r}, this version reads {FORMAT_VERSION}")
    return state


def load_detector(path: str | Path, device: str | None = None) -> Any:
    """Load a detector written by any family's ``save``, resolving its class by the saved name.

    Args:
        path: File written by ``save``.
        device: Torch device for torch detectors (None: the saved ``device`` parameter).

    Raises:
        FileNotFoundError: Nothing at ``path``.
        ValueError: Not a saved swift-hydra detector (see `read_state`), or an unknown class.
    """
    state = read_state(path)
    try:
        cls = detector_class(state["class"])
    except KeyError as err:
        raise _not_a_detector(Path(path), str(err)) from None
    return cls._from_state(state, path=Path(path), device=device)
