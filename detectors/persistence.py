"""Checked, atomic files of torch state: a damaged file raises `DamagedFileError`, never loads silently.

torch's zip reader does not verify the CRC-32 of a member it reads, so a file whose tensor data
changed on disk (a bad sector, a truncated copy that was padded, a bit flip in transfer) used to load
without complaint and score like a random model. A file written here is a `torch.save` zip of::

    {"format": 2, "class": NAME, "payload_sha256": HEX, "payload": uint8 tensor}

where ``payload`` holds the bytes of ``torch.save(state)`` and ``payload_sha256`` their SHA-256.
Reading checks, before any state is used: the zip members' CRC-32s (`zipfile.ZipFile.testzip`, cheap,
catches a changed byte anywhere in a member), then the payload's SHA-256, then loads the payload with
``weights_only=True`` (no pickled code runs).

Files of format 1 (swift-hydra before the checksum, the state dict stored directly) still load,
after their zip CRCs pass, with a `UserWarning` that they carry no SHA-256: re-saving one adds it.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "FORMAT_VERSION",
    "LEGACY_FORMAT",
    "DamagedFileError",
    "atomic_torch_save",
    "read_checked",
    "write_checked",
]

FORMAT_VERSION = 2
LEGACY_FORMAT = 1  # the state dict itself, no checksum (read with a warning)
_TORCH_LOAD_ERRORS = (RuntimeError, EOFError, OSError, KeyError, ValueError, zipfile.BadZipFile)


class DamagedFileError(ValueError):
    """A saved file whose bytes changed after it was written (failed CRC-32 or SHA-256 check).

    Attributes:
        path: The damaged file.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(
            f"damaged file: {self.path} ({reason}); its bytes changed after it was saved, so the model "
            "in it cannot be trusted: restore the file from a copy or fit and save again"
        )

    def __reduce__(self) -> tuple[type, tuple[Path, str]]:
        # Rebuilt from (path, reason), so the error survives pickling (e.g. from a worker process).
        return type(self), (self.path, self.reason)


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """`torch.save` to a temporary file beside ``path``, flushed to disk, then renamed over it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_checked(state: dict[str, Any], path: str | Path, *, kind: str) -> None:
    """Write ``state`` atomically with its SHA-256 (see the module docstring).

    Args:
        state: Plain types and tensors (readable with ``weights_only=True``).
        path: Destination; replaced only once the new file is complete.
        kind: What the file holds (a detector class name, ``"ConditionalVAE"``), read back first.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getbuffer()
    outer = {
        "format": FORMAT_VERSION,
        "class": kind,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload": torch.frombuffer(bytearray(payload), dtype=torch.uint8),
    }
    atomic_torch_save(outer, path)


def _not_ours(path: Path, what: str, reason: str) -> ValueError:
    return ValueError(f"not a saved {what}: {path} ({reason})")


def _torch_load(source: Any, path: Path, what: str) -> Any:
    """``torch.load(weights_only=True)``, every failure turned into a `ValueError` naming ``path``."""
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's message suggests weights_only=False, which would run arbitrary code: never relay it.
        raise _not_ours(path, what, "holds objects other than plain tensors and values") from None
    except _TORCH_LOAD_ERRORS as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise _not_ours(
            path, what, f"unreadable, truncated or corrupt: {type(err).__name__} {first_line}"
        ) from None


def _check_zip_crcs(path: Path) -> None:
    """Raise `DamagedFileError` if a member of the zip at ``path`` fails its CRC-32 (a no-op for non-zips)."""
    if not zipfile.is_zipfile(path):
        return  # not a torch zip at all: torch.load names it below
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise DamagedFileError(path, f"zip structure unreadable: {err}") from None
    if bad is not None:
        raise DamagedFileError(path, f"zip member {bad!r} fails its CRC-32 check")


def _warn_unverified(path: Path) -> None:
    warnings.warn(
        f"{path} was saved by swift-hydra before files carried a SHA-256 checksum; only its zip "
        "CRC-32s were verified. Save it again to add the checksum.",
        UserWarning,
        stacklevel=4,
    )


def read_checked(
    path: str | Path, *, what: str = "swift-hydra detector", legacy_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Read a file written by `write_checked` (or a legacy format-1 file), verifying it first.

    Args:
        path: The file.
        what: Named in errors (``"not a saved {what}: PATH (reason)"``).
        legacy_keys: Keys that identify an unversioned legacy file (a dict saved with neither
            ``"format"`` nor ``"class"``, as the VAE once was); such a file loads with a warning.

    Returns:
        The state dict, with ``"format"`` and ``"class"`` keys.

    Raises:
        FileNotFoundError: Nothing at ``path``.
        DamagedFileError: A CRC-32 or the SHA-256 does not match: the bytes changed after saving.
        ValueError: An empty, truncated, foreign or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved {what} at {path}")
    if path.stat().st_size == 0:
        raise _not_ours(path, what, "empty file")
    _check_zip_crcs(path)
    outer = _torch_load(path, path, what)
    unversioned = isinstance(outer, dict) and "format" not in outer and "class" not in outer
    if unversioned and legacy_keys and set(legacy_keys) <= set(outer):
        _warn_unverified(path)
        return outer
    if not isinstance(outer, dict) or "class" not in outer or "format" not in outer:
        raise _not_ours(path, what, "no class and format recorded")
    if outer["format"] == LEGACY_FORMAT:
        _warn_unverified(path)
        return outer
    if outer["format"] != FORMAT_VERSION:
        raise _not_ours(path, what, f"format {outer['format']!r}, this version reads {FORMAT_VERSION}")
    payload = outer.get("payload")
    expected = outer.get("payload_sha256")
    if not isinstance(payload, torch.Tensor) or payload.dtype != torch.uint8 or not isinstance(expected, str):
        raise DamagedFileError(path, "the checksummed payload is missing")
    data = payload.numpy().tobytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise DamagedFileError(path, "payload SHA-256 does not match the one saved with it")
    state = _torch_load(io.BytesIO(data), path, what)
    if not isinstance(state, dict) or state.get("class") != outer["class"]:
        raise DamagedFileError(path, "the payload does not hold the recorded class")
    return state
