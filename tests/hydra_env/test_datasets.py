"""Loading datasets: names, paths, embedded sets, the data directory, bad files, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hydra_env import datasets
from hydra_env.datasets import (
    ADBENCH_CLASSICAL,
    EMBEDDED,
    available_datasets,
    check_Xy,
    dataset_info,
    list_datasets,
    load,
    resolve_data_dir,
)
from hydra_env.datasets_cli import main as cli_main


def _write(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.r_[np.zeros(36, int), np.ones(4, int)]
    return _write(tmp_path / "7_tiny.npz", X=X, y=y)


def test_embedded_shapes_and_labels():
    assert EMBEDDED == ("wdbc", "wine")
    X, y = load("wdbc")
    assert X.shape == (367, 30) and y.sum() == 10 and X.dtype == np.float64 and y.dtype == np.int64
    X, y = load("wine")
    assert X.shape == (129, 13) and y.sum() == 10
    a, b = load("WDBC"), load("wdbc.npz")
    np.testing.assert_array_equal(a[0], b[0])  # any spelling, always the same rows


def test_embedded_equal_adbench_files(shared_data_dir):
    for name, stem in (("wdbc", "43_WDBC"), ("wine", "45_wine")):
        X, y = load(name)
        with np.load(shared_data_dir / f"{stem}.npz") as data:
            np.testing.assert_array_equal(X, data["X"])
            np.testing.assert_array_equal(y, data["y"])


def test_embedded_name_wins_unless_path(tmp_path):
    X, y = np.ones((6, 2)), np.array([0, 0, 0, 0, 1, 1])
    path = _write(tmp_path / "wine.npz", X=X, y=y)
    assert load("wine", tmp_path)[0].shape == (129, 13)
    assert load(path)[0].shape == (6, 2)
    assert load(str(path))[0].shape == (6, 2)


@pytest.mark.parametrize("name", ["cardio", "6_cardio", "6_cardio.npz", "CARDIO", "6_Cardio.NPZ"])
def test_name_spellings(shared_data_dir, name):
    X, y = load(name, shared_data_dir)
    assert X.shape == (1831, 21) and y.sum() == 176


def test_other_spellings(shared_data_dir):
    assert load("satimage2", shared_data_dir)[0].shape == (5803, 36)
    assert load("Satimage-2", shared_data_dir)[0].shape == (5803, 36)
    assert load("43_wdbc", shared_data_dir)[0].shape == (367, 30)  # the file, by its numbered name


def test_data_dir_precedence(tmp_path, monkeypatch, tiny):
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == tmp_path / "xdg" / "swift-hydra" / "adbench"
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tiny.parent))
    assert resolve_data_dir() == tiny.parent
    assert load("tiny")[0].shape == (40, 3)  # found through the environment variable
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    with pytest.raises(FileNotFoundError, match="arg"):
        load("tiny", tmp_path / "arg")


def test_classical_subfolder_is_searched(tmp_path, tiny):
    (tmp_path / "root" / "Classical").mkdir(parents=True)
    tiny.rename(tmp_path / "root" / "Classical" / tiny.name)
    assert load("7_tiny", tmp_path / "root")[0].shape == (40, 3)


def test_unknown_name_says_where_and_suggests(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load("cardoi", tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "6_cardio" in message and "wdbc" in message


def test_known_but_missing_says_how_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"swift-hydra datasets download 18_Ionosphere"):
        load("ionosphere", tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such dataset file"):
        load(tmp_path / "nothing.npz")


def test_corrupt_and_truncated_files(tmp_path, tiny):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load(garbage)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(tiny.read_bytes()[: tiny.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a readable .npz"):
        load(truncated)


def test_npy_and_pickled_files(tmp_path):
    np.save(tmp_path / "single.npy", np.ones((3, 2)))
    with pytest.raises(ValueError, match="single array"):
        load(tmp_path / "single.npy")
    objects = np.empty(2, dtype=object)
    objects[:] = [{"a": 1}, None]
    path = _write(tmp_path / "objects.npz", X=objects, y=np.array([0, 1]))
    with pytest.raises(ValueError, match="pickled"):
        load(path)


def test_missing_keys(tmp_path):
    path = _write(tmp_path / "nokeys.npz", data=np.ones((3, 2)), y=np.zeros(3))
    with pytest.raises(ValueError, match="missing 'X'"):
        load(path)
    path = _write(tmp_path / "noy.npz", X=np.ones((3, 2)))
    with pytest.raises(ValueError, match="missing 'y'"):
        load(path)


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), [0, 1], ValueError, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), [0, 1], ValueError, "inf"),
        (np.ones((3, 2)), [0, 1, 2], ValueError, "binary"),
        (np.ones((3, 2)), [0.0, 0.5, 1.0], ValueError, "binary"),
        (np.ones((3, 2)), [0, 1], ValueError, "3 rows but y has 2"),
        (np.ones(3), [0, 1, 0], ValueError, "2-D"),
        (np.ones((0, 2)), [], ValueError, "empty"),
        (np.array([["a", "b"]]), [0], TypeError, "numeric"),
        (np.ones((2, 2)), np.ones((2, 2)), ValueError, "1-D"),
    ],
)
def test_check_Xy_errors(X, y, error, match):
    with pytest.raises(error, match=match):
        check_Xy(X, y)


def test_bad_contents_in_file_are_named(tmp_path):
    path = _write(tmp_path / "nan.npz", X=np.array([[1.0, np.nan]] * 4), y=np.array([0, 0, 1, 1]))
    with pytest.raises(ValueError, match=r"nan\.npz.*NaN"):
        load(path)
    path = _write(tmp_path / "lengths.npz", X=np.ones((4, 2)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match="4 rows but y has 2"):
        load(path)


def test_check_Xy_casts():
    X, y = check_Xy(np.ones((3, 2), dtype=np.int16), np.array([[0.0], [1.0], [0.0]]))
    assert X.dtype == np.float64 and y.dtype == np.int64 and y.tolist() == [0, 1, 0]


def test_listing(tmp_path, tiny):
    entries = list_datasets(tiny.parent)
    names = [entry.name for entry in entries]
    assert names[:2] == ["wdbc", "wine"] and set(ADBENCH_CLASSICAL) <= set(names) and "7_tiny" in names
    assert len(ADBENCH_CLASSICAL) == 47 and ADBENCH_CLASSICAL[5] == "6_cardio"
    assert available_datasets(tiny.parent) == ["wdbc", "wine", "7_tiny"]


def test_listing_shared(shared_data_dir):
    available = available_datasets(shared_data_dir)
    assert "6_cardio" in available and "3_backdoor" not in available


def test_dataset_info():
    info = dataset_info("wine")
    assert (info["rows"], info["features"], info["anomalies"]) == (129, 13, 10)
    assert info["anomaly_ratio"] == pytest.approx(10 / 129)


def test_cli_list_and_info(tmp_path, tiny, capsys):
    assert cli_main(["list", "--dir", str(tiny.parent)]) == 0
    out = capsys.readouterr().out
    assert "7_tiny" in out and "6_cardio" in out and "not downloaded" in out
    assert cli_main(["info", "tiny", "--dir", str(tiny.parent)]) == 0
    out = capsys.readouterr().out
    assert "rows:          40" in out and "features:      3" in out and "0.1000" in out


def test_cli_errors_are_clear(tmp_path, capsys):
    assert cli_main(["info", "nosuchset", "--dir", str(tmp_path)]) == 1
    assert "unknown dataset 'nosuchset'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main([])


def test_cli_through_swift_hydra(capsys, monkeypatch):
    import sys

    from benchmarks.cli import main as swift_hydra

    monkeypatch.setattr(sys, "argv", ["swift-hydra"])  # the console script rewrites argv[0]
    assert swift_hydra(["datasets", "info", "wdbc"]) == 0
    assert "rows:          367" in capsys.readouterr().out
