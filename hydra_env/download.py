"""Downloads ADBench "Classical" ``.npz`` files and checks them against shipped SHA-256 sums.

Files come from the ADBench repository's raw file URLs,
``https://raw.githubusercontent.com/Minqi824/ADBench/main/adbench/datasets/Classical/<name>.npz``;
the base URL is overridable (``base_url`` argument, else ``$SWIFT_HYDRA_DATA_URL``), which is how the
tests serve files from a local HTTP server. Each file is streamed to a temporary file in the target
directory, hashed, and moved into place with ``os.replace`` only when it checks out, so an interrupted
or corrupt download never leaves a half-written ``.npz`` behind.

Checksums (``hydra_env/data/adbench_sha256.txt``) cover 43 of the 47 files. No checksum is known for
``3_backdoor``, ``9_census``, ``13_fraud`` and ``36_speech``: those are downloaded unverified with a
``UserWarning`` (and must at least open as an ``.npz`` with ``X`` and ``y``); no checksum is invented.
Only the standard library is used (``urllib``).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from functools import lru_cache
from pathlib import Path

from hydra_env.datasets import ADBENCH_CLASSICAL, load_npz, match_classical, resolve_data_dir

__all__ = [
    "CLASSICAL_FILES",
    "DEFAULT_URL",
    "URL_ENV",
    "ChecksumError",
    "DownloadError",
    "download",
    "expected_sha256",
    "file_sha256",
]

DEFAULT_URL = "https://raw.githubusercontent.com/Minqi824/ADBench/main/adbench/datasets/Classical"
URL_ENV = "SWIFT_HYDRA_DATA_URL"
_CHUNK = 1 << 20
_SHA256_TABLE = Path(__file__).resolve().parent / "data" / "adbench_sha256.txt"
CLASSICAL_FILES = ADBENCH_CLASSICAL  # the 47 file stems, numbered 1..47


class DownloadError(OSError):
    """A file could not be fetched (offline, server unreachable, HTTP error)."""


class ChecksumError(ValueError):
    """A downloaded file's SHA-256 differs from the shipped checksum."""


@lru_cache(maxsize=1)
def expected_sha256() -> dict[str, str]:
    """``file stem -> SHA-256`` from the table shipped with the package (43 of the 47 files)."""
    # A path next to this module, not importlib.resources: under pytest a tests/hydra_env folder can
    # shadow the package's top level as a namespace package.
    text = _SHA256_TABLE.read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            digest, filename = line.split(maxsplit=1)
            table[Path(filename.lstrip("*")).stem] = digest.lower()
    return table


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stem(name: str) -> str:
    stem = match_classical(name)
    if stem is None:
        close = difflib.get_close_matches(str(name), ADBENCH_CLASSICAL, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"{name!r} is not one of ADBench's 47 Classical datasets.{hint} "
            f"Known: {', '.join(ADBENCH_CLASSICAL)}"
        )
    return stem


def _set_read_timeout(response: object, timeout: float) -> None:
    """Gives the body reads their own (longer) timeout once the server has answered; best effort."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None and hasattr(sock, "settimeout"):
        sock.settimeout(timeout)


def _fetch(url: str, dest: Path, expected: str | None, timeout: float, connect_timeout: float) -> None:
    """Streams ``url`` to a temporary file beside ``dest``, checks it, then renames it to ``dest``.

    ``connect_timeout`` bounds connecting and waiting for the server's answer; ``timeout`` bounds each
    read of the body after that.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=connect_timeout) as response:
                _set_read_timeout(response, timeout)
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(
                f"could not download {url}: {reason}. Are you offline? Place {dest.name} in {dest.parent} "
                f"by hand, or set {URL_ENV} to a reachable mirror."
            ) from exc
        got = digest.hexdigest()
        if expected is not None and got != expected:
            raise ChecksumError(
                f"checksum mismatch for {dest.name} from {url}: expected SHA-256 {expected}, got {got}; "
                "the file was discarded"
            )
        if expected is None:
            load_npz(tmp)  # unverified: at least make sure it is a readable ADBench .npz
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def download(
    names: str | list[str] | tuple[str, ...],
    data_dir: str | os.PathLike | None = None,
    base_url: str | None = None,
    timeout: float = 60.0,
    *,
    force: bool = False,
    connect_timeout: float = 10.0,
) -> list[Path]:
    """Downloads ADBench Classical datasets into the data directory and verifies them.

    Args:
        names: One name or several, in any spelling :func:`hydra_env.datasets.load` accepts
            (``"cardio"``, ``"6_cardio.npz"``); ``"wine"``/``"wdbc"`` mean the files ``45_wine``/``43_WDBC``.
        data_dir: Target directory (created if needed); default as in :func:`hydra_env.datasets.load`.
        base_url: Folder URL holding ``<name>.npz``; default ``$SWIFT_HYDRA_DATA_URL``, else :data:`DEFAULT_URL`.
        timeout: Seconds to wait for each read of a file's body.
        force: Download again even if a verified copy is present.
        connect_timeout: Seconds to wait for a connection and for the server's first answer.

    Returns:
        The local paths, in the order of ``names``.

    Raises:
        ValueError: A name that is not one of the 47 files.
        ChecksumError: The download's SHA-256 differs from the shipped table (nothing is written).
        DownloadError: The server could not be reached or answered with an error.

    A target directory that this call created is removed again when the download fails and left it empty.
    """
    names = [names] if isinstance(names, str) else list(names)
    stems = [_stem(name) for name in names]  # check every name before fetching anything
    target = resolve_data_dir(data_dir)
    created = [d for d in (target, *target.parents) if not d.exists()]  # deepest first
    target.mkdir(parents=True, exist_ok=True)
    try:
        return _download_all(stems, target, base_url, timeout, connect_timeout, force)
    except BaseException:
        for folder in created:  # only what this call made, and only while empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _download_all(
    stems: list[str], target: Path, base_url: str | None, timeout: float, connect_timeout: float, force: bool
) -> list[Path]:
    base = (base_url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
    table = expected_sha256()
    paths = []
    for stem in stems:
        dest = target / f"{stem}.npz"
        expected = table.get(stem)
        up_to_date = dest.is_file() and (expected is None or file_sha256(dest) == expected)
        if force or not up_to_date:
            if expected is None:
                warnings.warn(
                    f"no SHA-256 is known for {stem}.npz: it is downloaded unverified",
                    UserWarning,
                    stacklevel=2,
                )
            _fetch(f"{base}/{urllib.parse.quote(stem)}.npz", dest, expected, timeout, connect_timeout)
        paths.append(dest)
    return paths
