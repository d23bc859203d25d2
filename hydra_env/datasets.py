"""ADBench datasets: load one by name or path, and split it the way ADBench does.

Loading (:func:`load`)
    A dataset is named in any common spelling (``cardio``, ``6_cardio``, ``6_cardio.npz``, any case)
    or given as a path to an ``.npz`` holding ``X`` (n, d) and ``y`` (n,), 1 = anomaly. Names are looked
    up in the data directory (and its ``Classical/`` subfolder): the ``data_dir`` argument, else the
    ``SWIFT_HYDRA_DATA`` environment variable, else ``$XDG_CACHE_HOME/swift-hydra/adbench`` (by default
    ``~/.cache/swift-hydra/adbench``), which is where ``swift-hydra datasets download`` writes.

Embedded datasets (:data:`EMBEDDED`)
    ``wdbc`` and ``wine`` need no file: they are rebuilt from scikit-learn's bundled copies of the UCI
    data the way ODDS built them, and are identical, row for row and in the same order, to ADBench's
    ``43_WDBC.npz`` and ``45_wine.npz`` (checked in the tests). ODDS drew the anomalies at random once;
    we pin that draw by row index (``_WDBC_ANOMALY_ROWS``, ``_WINE_ANOMALY_ROWS``), so the set never changes.

    - ``wdbc``: ``load_breast_cancer``; the 357 benign rows are normal, 10 malignant rows are anomalies.
    - ``wine``: ``load_wine``; classes 2 and 3 (119 rows) are normal, 10 rows of class 1 are anomalies.

    A bare embedded name (``"wdbc"``, ``"WINE"``) always means the embedded set, even when the data
    directory holds ``43_WDBC.npz``; ask for the file with its numbered name (``"43_WDBC"``) or a path.

The ADBench split itself (:func:`adbench_split`, :class:`Split`, :func:`check_Xy`) lives in
:mod:`hydra_env.split`, with every rule of ADBench's ``DataGenerator``; it is re-exported here.
"""

from __future__ import annotations

import difflib
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hydra_env.split import (  # noqa: F401  (re-exported: the split is part of this module's API)
    MAX_SAMPLES,
    MIN_SAMPLES,
    TEST_SIZE,
    Split,
    adbench_split,
    check_Xy,
)

__all__ = [
    "ADBENCH_CLASSICAL",
    "DATA_DIR_ENV",
    "DEFAULT_DATASET",
    "EMBEDDED",
    "DatasetEntry",
    "Split",
    "adbench_split",
    "available_datasets",
    "check_Xy",
    "dataset_info",
    "default_data_dir",
    "list_datasets",
    "load",
    "load_npz",
    "load_split",
    "match_classical",
    "resolve_data_dir",
]

EMBEDDED: tuple[str, ...] = ("wdbc", "wine")
DEFAULT_DATASET = "wdbc"  # what the env and the training job use when no dataset is named
DATA_DIR_ENV = "SWIFT_HYDRA_DATA"

# The 47 "Classical" files of ADBench (adbench/datasets/Classical/<name>.npz), numbered 1..47.
ADBENCH_CLASSICAL: tuple[str, ...] = (
    "1_ALOI", "2_annthyroid", "3_backdoor", "4_breastw", "5_campaign", "6_cardio",
    "7_Cardiotocography", "8_celeba", "9_census", "10_cover", "11_donors", "12_fault", "13_fraud",
    "14_glass", "15_Hepatitis", "16_http", "17_InternetAds", "18_Ionosphere", "19_landsat",
    "20_letter", "21_Lymphography", "22_magic.gamma", "23_mammography", "24_mnist", "25_musk",
    "26_optdigits", "27_PageBlocks", "28_pendigits", "29_Pima", "30_satellite", "31_satimage-2",
    "32_shuttle", "33_skin", "34_smtp", "35_SpamBase", "36_speech", "37_Stamps", "38_thyroid",
    "39_vertebral", "40_vowels", "41_Waveform", "42_WBC", "43_WDBC", "44_Wilt", "45_wine",
    "46_WPBC", "47_yeast",
)  # fmt: skip


# Rows of scikit-learn's data that ODDS/ADBench took as anomalies, in ADBench's file order.
_WDBC_ANOMALY_ROWS = (28, 117, 230, 95, 370, 323, 516, 498, 33, 564)
_WINE_ANOMALY_ROWS = (57, 16, 32, 7, 56, 48, 9, 37, 5, 53)

_NUMBER_PREFIX = re.compile(r"^\d+_")


# ------------------------------------------------------------------------------- directories and names
def default_data_dir() -> Path:
    """The per-user cache directory: ``$XDG_CACHE_HOME/swift-hydra/adbench`` or ``~/.cache/...``."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "swift-hydra" / "adbench"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: ``data_dir``, else ``$SWIFT_HYDRA_DATA``, else :func:`default_data_dir`."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).expanduser() if env else default_data_dir()


def _key(name: str) -> str:
    """Spelling-insensitive key: lower case, no ``.npz``, no ``_ - . space``."""
    name = name.strip().lower()
    if name.endswith(".npz"):
        name = name[:-4]
    return re.sub(r"[\s_.\-]", "", name)


def _keys(stem: str) -> set[str]:
    """Keys under which a file stem is found: ``6_cardio`` -> {``6cardio``, ``cardio``}."""
    return {_key(stem), _key(_NUMBER_PREFIX.sub("", stem))}


def match_classical(name: str) -> str | None:
    """The ADBench Classical file stem a name means (``"cardio"`` -> ``"6_cardio"``), or None."""
    key = _key(name)
    found = [stem for stem in ADBENCH_CLASSICAL if key in _keys(stem)]
    return found[0] if len(found) == 1 else None


def _sort_key(stem: str) -> tuple[int, str]:
    """Orders ``2_x`` before ``10_x``; unnumbered names first."""
    number = _NUMBER_PREFIX.match(stem)
    return (int(number.group()[:-1]) if number else 0, stem.lower())


def _local_files(data_dir: Path) -> dict[str, Path]:
    """``stem -> path`` for every ``.npz`` in ``data_dir`` and ``data_dir/Classical`` (first wins)."""
    files: dict[str, Path] = {}
    for folder in (data_dir, data_dir / "Classical"):
        if folder.is_dir():
            for path in sorted(folder.glob("*.npz")):
                files.setdefault(path.stem, path)
    return files


def _is_embedded_name(name: str) -> bool:
    return _key(name) in EMBEDDED and not _NUMBER_PREFIX.match(name.strip())


def _looks_like_path(name_or_path) -> bool:
    if isinstance(name_or_path, os.PathLike):
        return True
    text = str(name_or_path)
    return "/" in text or os.sep in text or (text.lower().endswith(".npz") and os.path.isfile(text))


def _resolve(name: str, data_dir: Path) -> Path:
    """Finds the local file for a dataset name, or raises a FileNotFoundError that says why."""
    key = _key(name)
    local = _local_files(data_dir)
    exact = [path for stem, path in local.items() if _key(stem) == key]
    matches = exact or [path for stem, path in local.items() if key in _keys(stem)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValueError(f"dataset name {name!r} is ambiguous in {data_dir}: {[p.name for p in matches]}")
    searched = f"{data_dir} (and {data_dir / 'Classical'})"
    stem = match_classical(name)
    if stem is not None:
        raise FileNotFoundError(
            f"dataset {stem!r} is an ADBench dataset but is not in {searched}. Download it with "
            f"'swift-hydra datasets download {stem}', or point {DATA_DIR_ENV} (or data_dir) at a "
            "directory that holds it."
        )
    known = sorted({*EMBEDDED, *ADBENCH_CLASSICAL, *local}, key=_sort_key)
    short = {_NUMBER_PREFIX.sub("", s).lower(): s for s in known}
    close = difflib.get_close_matches(name.strip().lower(), list(short), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(short[c]) for c in close)}?" if close else ""
    raise FileNotFoundError(
        f"unknown dataset {name!r}: not embedded {EMBEDDED}, not an ADBench Classical name, and no "
        f"matching .npz in {searched}.{hint} Known names: {', '.join(known)}"
    )


# --------------------------------------------------------------------------------------------- loading
def load_npz(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Reads an ADBench-format ``.npz`` (arrays ``X`` and ``y``) and validates it.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a readable ``.npz`` (corrupt, truncated, pickled objects), no ``X`` or ``y``,
            or invalid contents (see :func:`check_Xy`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such dataset file: {path}")
    try:
        data = np.load(path, allow_pickle=False)  # never unpickle downloaded files
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable .npz file (corrupt or truncated?): {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, not an .npz archive with arrays 'X' and 'y'")
    with data:
        missing = [key for key in ("X", "y") if key not in data.files]
        if missing:
            raise ValueError(
                f"{path}: an ADBench .npz needs arrays 'X' and 'y'; missing "
                f"{' and '.join(repr(m) for m in missing)} (it has {data.files})"
            )
        try:  # members are read lazily: a truncated archive fails here, not in np.load
            X, y = data["X"], data["y"]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            why = "it contains pickled objects, which are not loaded" if "pickle" in str(exc) else str(exc)
            raise ValueError(f"{path} is not a readable .npz file (corrupt or truncated?): {why}") from exc
    return check_Xy(X, y, source=str(path))


def _load_embedded(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer, load_wine

    if name == "wdbc":  # target 0 = malignant, 1 = benign
        bunch, anomaly_rows, normal = load_breast_cancer(), _WDBC_ANOMALY_ROWS, lambda t: t == 1
    else:  # wine: ODDS keeps classes 2 and 3 (targets 1, 2) as normal
        bunch, anomaly_rows, normal = load_wine(), _WINE_ANOMALY_ROWS, lambda t: t != 0
    normal_rows = np.flatnonzero(normal(bunch.target))
    rows = np.concatenate([np.asarray(anomaly_rows), normal_rows])  # ADBench's order: anomalies first
    y = np.r_[np.ones(len(anomaly_rows), np.int64), np.zeros(len(normal_rows), np.int64)]
    return np.ascontiguousarray(bunch.data[rows], dtype=np.float64), y


def load(
    name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Loads a dataset as ``(X float64 (n, d), y int64 (n,))``, y = 1 for anomalies.

    Args:
        name_or_path: An embedded name (``"wdbc"``, ``"wine"``), an ADBench name in any common spelling
            (``"cardio"``, ``"6_cardio"``, ``"6_Cardio.npz"``), or a path to an ``.npz`` with ``X`` and ``y``
            (a ``Path``, a string with a ``/``, or an existing ``*.npz`` file). A bare embedded name wins
            over a file of the same name; use the numbered name or a path to get the file.
        data_dir: Where named files are looked up (also in its ``Classical/`` subfolder); default
            ``$SWIFT_HYDRA_DATA``, else ``~/.cache/swift-hydra/adbench`` (``XDG_CACHE_HOME`` honoured).

    Raises:
        FileNotFoundError: Unknown name or missing file; the message names the directory searched.
        ValueError: Corrupt file, missing keys or invalid contents.
    """
    if _looks_like_path(name_or_path):
        return load_npz(name_or_path)
    if not isinstance(name_or_path, str):
        raise TypeError(f"name_or_path must be a str or path, got {type(name_or_path).__name__}")
    if _is_embedded_name(name_or_path):
        return _load_embedded(_key(name_or_path))
    return load_npz(_resolve(name_or_path, resolve_data_dir(data_dir)))


def load_split(
    name_or_path: str | os.PathLike = DEFAULT_DATASET,
    la: float = 0.1,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    *,
    n_labeled: int | None = None,
) -> Split:
    """:func:`load` then :func:`adbench_split`, with the dataset's name stored on the split."""
    X, y = load(name_or_path, data_dir)
    name = Path(name_or_path).stem if _looks_like_path(name_or_path) else str(name_or_path)
    return adbench_split(X, y, la, seed, name=name, n_labeled=n_labeled)


# --------------------------------------------------------------------------------------------- listing
@dataclass(frozen=True)
class DatasetEntry:
    """A dataset known to :func:`list_datasets`.

    Attributes:
        name: Canonical name (``"wdbc"`` or the file stem such as ``"6_cardio"``).
        kind: ``"embedded"``, ``"classical"`` (one of ADBench's 47) or ``"local"`` (another local file).
        path: The local file, or None (embedded, or not downloaded).
    """

    name: str
    kind: str
    path: Path | None

    @property
    def available(self) -> bool:
        """Whether :func:`load` can read it now, without downloading."""
        return self.kind == "embedded" or self.path is not None


def list_datasets(data_dir: str | os.PathLike | None = None) -> list[DatasetEntry]:
    """Embedded sets, ADBench's 47 Classical sets (with their local file if present), other local files."""
    local = _local_files(resolve_data_dir(data_dir))
    entries = [DatasetEntry(name, "embedded", None) for name in EMBEDDED]
    entries += [DatasetEntry(stem, "classical", local.pop(stem, None)) for stem in ADBENCH_CLASSICAL]
    entries += [DatasetEntry(stem, "local", path) for stem, path in local.items()]
    return entries


def available_datasets(data_dir: str | os.PathLike | None = None) -> list[str]:
    """Names :func:`load` can read right now: the embedded sets plus every local file stem."""
    return [entry.name for entry in list_datasets(data_dir) if entry.available]


def dataset_info(name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> dict:
    """Rows, features, anomalies and anomaly ratio of a dataset (loads it)."""
    X, y = load(name_or_path, data_dir)
    if _looks_like_path(name_or_path):
        source = str(name_or_path)
    elif _is_embedded_name(str(name_or_path)):
        source = "embedded (scikit-learn)"
    else:
        source = str(_resolve(str(name_or_path), resolve_data_dir(data_dir)))
    n_anomalies = int(y.sum())
    return {
        "name": str(name_or_path),
        "source": source,
        "rows": int(X.shape[0]),
        "features": int(X.shape[1]),
        "anomalies": n_anomalies,
        "anomaly_ratio": n_anomalies / len(y),
    }
