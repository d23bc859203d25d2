"""The ADBench and unseen-anomaly runners: CSV layout, resume, failures, errors (embedded datasets)."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from benchmarks import adbench, unseen
from benchmarks import methods as method_registry
from benchmarks.methods import Method


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def counting(monkeypatch):
    """Registers fast test methods: ``counting`` (ECOD, counts its fits), ``failing``, ``interrupting``."""
    calls = {"counting": 0, "interrupting": 0}

    def fit_counting(X, y, *, seed, budget, n_jobs):
        from detectors.adapters import PyODAdapter

        calls["counting"] += 1
        return PyODAdapter("ecod").fit(X)

    def fit_failing(X, y, *, seed, budget, n_jobs):
        raise RuntimeError("boom in fit")

    def fit_interrupting(X, y, *, seed, budget, n_jobs):
        calls["interrupting"] += 1
        if calls["interrupting"] == 2:
            raise KeyboardInterrupt
        return fit_counting(X, y, seed=seed, budget=budget, n_jobs=n_jobs)

    for name, fit in (
        ("counting", fit_counting),
        ("failing", fit_failing),
        ("interrupting", fit_interrupting),
    ):
        monkeypatch.setitem(method_registry.METHODS, name, Method(name, "unsupervised", fit, "test method"))
    return calls


def test_tiny_run_writes_csv_summary_and_plots(tmp_path, counting):
    argv = [
        "--datasets",
        "wdbc,wine",
        "--la",
        "0.5",
        "--seeds",
        "1",
        "--methods",
        "counting,failing,lightgbm",
    ]
    argv += ["--out", str(tmp_path), "--no-progress", "--reference", "counting"]
    assert adbench.main(argv) == 0
    rows = _rows(tmp_path / "adbench_results.csv")
    assert tuple(rows[0]) == adbench.COLUMNS
    assert len(rows) == 6
    ok = [r for r in rows if r["method"] != "failing"]
    assert all(r["status"] == "ok" for r in ok)
    for r in ok:
        assert 0.5 < float(r["auc_roc"]) <= 1.0 and 0.0 < float(r["auc_pr"]) <= 1.0
        assert float(r["fit_seconds"]) >= 0 and float(r["predict_seconds_per_1k"]) >= 0
    # A failing method is recorded with its message, and the other cells still ran.
    failed = [r for r in rows if r["method"] == "failing"]
    assert [r["status"] for r in failed] == ["failed", "failed"]
    assert all("RuntimeError: boom in fit" in r["error"] for r in failed)
    # Every method saw the same split: same train/test sizes and labeled counts per dataset.
    for dataset in ("wdbc", "wine"):
        shapes = {
            (r["n_train"], r["n_test"], r["n_labeled_anomalies"]) for r in rows if r["dataset"] == dataset
        }
        assert len(shapes) == 1
    summary = (tmp_path / "adbench_summary.md").read_text()
    assert "python -m benchmarks.adbench --datasets wdbc,wine" in summary
    assert "Commit of this summary: `" in summary and "boom in fit" in summary
    assert (tmp_path / "adbench_auc_roc.png").stat().st_size > 0
    assert (tmp_path / "adbench_ranks.png").stat().st_size > 0


def test_gate_columns_record_what_a_generating_method_used(tmp_path, counting, monkeypatch):
    def fit_generating(X, y, *, seed, budget, n_jobs):
        detector = method_registry.METHODS["counting"].fit(X, y, seed=seed, budget=budget, n_jobs=n_jobs)
        detector.synthetic_anomalies_ = np.zeros((5, X.shape[1]), dtype=np.float32)
        detector.synthetic_weight_used_ = 0.0  # the gate left the kept rows out...
        detector.exposure_anomalies_ = np.zeros((3, X.shape[1]), dtype=np.float32)  # ...and let these in
        return detector

    generating = Method("generating", "ours", fit_generating, "test method")
    monkeypatch.setitem(method_registry.METHODS, "generating", generating)
    # A results file written before the gate columns existed: its rows are kept and rewritten in the new layout.
    old_columns = [c for c in adbench.COLUMNS if c not in adbench.GATE_COLUMNS]
    base = ["--datasets", "wdbc", "--la", "0.5", "--seeds", "1", "--out", str(tmp_path), "--no-progress"]
    assert adbench.main([*base, "--methods", "counting"]) == 0
    path = tmp_path / "adbench_results.csv"
    old_row = {k: v for k, v in _rows(path)[0].items() if k in old_columns}
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=old_columns)
        writer.writeheader()
        writer.writerow(old_row)
    assert adbench.main([*base, "--methods", "counting,generating"]) == 0
    rows = {r["method"]: r for r in _rows(path)}
    assert tuple(rows["counting"]) == adbench.COLUMNS and rows["counting"]["auc_roc"] == old_row["auc_roc"]
    assert [rows["generating"][c] for c in adbench.GATE_COLUMNS] == ["5", "0", "3"]
    assert [rows["counting"][c] for c in adbench.GATE_COLUMNS] == ["", "", ""]


def test_interrupted_run_resumes_without_recomputing(tmp_path, counting, capsys):
    argv = [
        "--datasets",
        "wdbc,wine",
        "--la",
        "0.5",
        "1.0",
        "--seeds",
        "1",
        "--out",
        str(tmp_path),
        "--no-progress",
    ]
    assert adbench.main([*argv, "--methods", "interrupting"]) == 130  # one line, not a traceback
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(
            f"interrupted; the finished cells are saved in {tmp_path}; run the same command to continue"
        )
    )
    # The first cell finished before the interruption and is on disk; the file is a valid CSV.
    assert len(_rows(tmp_path / "adbench_results.csv")) == 1
    adbench.main([*argv, "--methods", "interrupting"])
    assert counting["interrupting"] == 2 + 3  # 1 done + 1 interrupted, then only the 3 missing cells
    rows = _rows(tmp_path / "adbench_results.csv")
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    # A third run has nothing left to do.
    adbench.main([*argv, "--methods", "interrupting"])
    assert counting["interrupting"] == 5


def test_failed_cells_are_kept_unless_retried(tmp_path, counting, monkeypatch):
    argv = ["--datasets", "wdbc", "--la", "0.5", "--seeds", "1", "--out", str(tmp_path), "--no-progress"]
    adbench.main([*argv, "--methods", "failing"])
    fixed = Method("failing", "unsupervised", method_registry.METHODS["counting"].fit)
    monkeypatch.setitem(method_registry.METHODS, "failing", fixed)
    adbench.main([*argv, "--methods", "failing"])
    assert counting["counting"] == 0  # a failed cell counts as finished
    adbench.main([*argv, "--methods", "failing", "--retry-failed"])
    assert counting["counting"] == 1
    assert _rows(tmp_path / "adbench_results.csv")[0]["status"] == "ok"


def test_store_ignores_torn_or_foreign_rows(tmp_path):
    store = adbench.ResultStore(tmp_path / "r.csv")
    sizes = {"n_train": 10, "n_test": 5, "n_features": 3, "commit": "abc"}
    store.add(
        {"dataset": "wdbc", "la": 0.5, "seed": 1, "method": "m", "status": "ok", "auc_roc": 0.9} | sizes
    )
    with open(tmp_path / "r.csv", "a") as fh:
        fh.write("wine,0.5,1,m,unsupervised,o")  # a torn last line
    reloaded = adbench.ResultStore(tmp_path / "r.csv")
    assert list(reloaded.rows) == [("wdbc", "0.5", "", "1", "m")]
    assert reloaded.status(("wdbc", "0.5", "", "1", "m")) == "ok"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--datasets", "wdbc", "--methods", "nope"], r"unknown method.*catboost"),
        (["--datasets", "no_such_set", "--methods", "ecod"], r"unknown or unavailable dataset.*wdbc"),
        (["--datasets", "wdbc", "--la", "0", "--methods", "ecod"], r"--la values must be in \(0, 1\]"),
        (["--datasets", "wdbc", "--seeds", "-1", "--methods", "ecod"], r"--seeds values"),
        (["--datasets", "wdbc", "--methods", "swift_hydra", "--budget", "huge"], r"unknown budget 'huge'"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setattr("sys.argv", ["pytest"])
    with pytest.raises(SystemExit) as exc:
        adbench.main([*argv, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("python -m benchmarks.adbench: error: ") and re.search(message, err)
    assert not (tmp_path / "out").exists()  # nothing ran


def test_swift_hydra_is_registered_lazily():
    # Importing the registry must not import agents; its cells fail on their own if agents is broken.
    method = method_registry.METHODS["swift_hydra"]
    assert method.kind == "ours" and "agents.loop" in method.imports
    assert [m.name for m in method_registry.resolve("catboost,iforest")] == ["catboost", "iforest"]


def test_unseen_fold_never_shows_the_held_out_type():
    split = unseen.unseen_split("wdbc", None, "global", 1.0, 1)
    X_all, types, in_train = unseen._typed_set("wdbc", None, 1)
    n_per_type = int((types == "global").sum())
    assert split.y_test.sum() == n_per_type - int(round(0.7 * n_per_type))
    # Train anomalies come from the three other types only, all labeled at la = 1.
    seen = sum(int(round(0.7 * (types == k).sum())) for k in ("local", "clustered", "dependency"))
    assert split.y_train.sum() == seen
    assert len(split.X_train) == int(round(0.7 * (types == "normal").sum())) + seen
    assert split.X_train.min() >= 0 and np.isclose(split.X_train.max(), 1.0)
    half = unseen.unseen_split("wdbc", None, "global", 0.5, 1)
    assert half.y_train.sum() == int(np.ceil(0.5 * seen))


def test_unseen_runner_writes_held_out_column(tmp_path, counting, capsys):
    argv = ["--datasets", "wine", "--seeds", "1", "--methods", "counting", "--held-out", "global,local"]
    assert unseen.main([*argv, "--out", str(tmp_path), "--no-progress", "--reference", "counting"]) == 0
    rows = _rows(tmp_path / "unseen_results.csv")
    assert tuple(rows[0]) == unseen.COLUMNS
    assert sorted(r["held_out_type"] for r in rows) == ["global", "local"]
    assert all(r["status"] == "ok" for r in rows)
    assert "held_out_type = global" in (tmp_path / "unseen_summary.md").read_text()
    with pytest.raises(SystemExit) as exc:
        unseen.main([*argv[:-1], "weird", "--out", str(tmp_path)])
    assert exc.value.code == 2 and "unknown anomaly type" in capsys.readouterr().err


def test_exposure_method_records_the_exposure_rows_its_fit_used(tmp_path):
    """`swift_hydra_exposure` adds its outlier-exposure rows without a gate: the row counts them."""
    argv = ["--datasets", "wine", "--la", "0.5", "--seeds", "1", "--budget", "tiny"]
    argv += ["--methods", "swift_hydra_exposure", "--out", str(tmp_path), "--no-progress"]
    assert adbench.main(argv) == 0
    (row,) = _rows(tmp_path / "adbench_results.csv")
    assert row["status"] == "ok", row["error"]
    assert int(row["n_exposure_used"]) > 0 and int(row["n_synthetic_kept"]) >= 0
