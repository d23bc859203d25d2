"""The unseen-anomaly runner's coverage number, defaults, and a tiny real run (embedded ``wdbc``/``wine``)."""

from __future__ import annotations

import argparse
import csv

import numpy as np
import pytest

from benchmarks import common, unseen
from benchmarks import methods as method_registry
from benchmarks.methods import Method


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _coverage_example():
    """Normal rows near 0; four held-out anomalies away from them, two with a synthetic twin."""
    X_train = np.array([[0.0, 0.0], [0.1, 0.1], [0.2, 0.2], [0.0, 0.99]])
    y_train = np.array([0, 0, 0, 1])  # a labeled anomaly next to (0, 1) is not a normal row
    X_test = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.25], [0.05, 0.05], [0.5, 0.5]])
    y_test = np.array([1, 1, 1, 1, 0, 0])
    synthetic = np.array(
        [
            [1.0, 0.98],  # next to (1, 1): covered
            [0.02, 1.0],  # next to (0, 1): covered (the labeled anomaly nearer still does not count)
            [0.05, 0.06],  # next to a test normal row, which does not count
        ]
    )
    # (1, 0): nearest synthetic at 0.95, nearest normal (0.2, 0.2) at 0.82 -> not covered.
    # (0.5, 0.25): nearest normal at 0.30, nearest synthetic at 0.49 -> not covered.
    return synthetic, X_train, y_train, X_test, y_test


def test_coverage_is_the_exact_share_of_covered_held_out_anomalies():
    synthetic, X_train, y_train, X_test, y_test = _coverage_example()
    assert unseen.coverage(synthetic, X_train, y_train, X_test, y_test) == pytest.approx(2 / 4)
    # A third synthetic twin covers a third anomaly; float32 rows (as the detector keeps them) work alike.
    more = np.vstack([synthetic, [[1.0, 0.02]]]).astype(np.float32)
    assert unseen.coverage(more, X_train, y_train, X_test, y_test) == pytest.approx(3 / 4)
    # An unlabeled training row (y_train == 0) is a normal row for the detector: it can undo coverage.
    X_unlabeled = np.vstack([X_train, [[1.0, 0.99]]])
    y_unlabeled = np.append(y_train, 0)
    assert unseen.coverage(synthetic, X_unlabeled, y_unlabeled, X_test, y_test) == pytest.approx(1 / 4)


def test_coverage_is_empty_without_synthetic_rows_and_rejects_mismatched_features():
    synthetic, X_train, y_train, X_test, y_test = _coverage_example()
    assert unseen.coverage(np.zeros((0, 2), dtype=np.float32), X_train, y_train, X_test, y_test) is None
    assert unseen.coverage(synthetic, X_train, y_train, X_test, np.zeros(len(y_test))) is None
    with pytest.raises(ValueError, match="feature counts differ"):
        unseen.coverage(synthetic[:, :1], X_train, y_train, X_test, y_test)


def test_synthetic_fields_only_for_detectors_that_keep_synthetic_anomalies():
    synthetic, X_train, y_train, X_test, y_test = _coverage_example()
    split = unseen.UnseenSplit(X_train, y_train, X_test, y_test, "global")
    generating = argparse.Namespace(synthetic_anomalies_=synthetic, synthetic_weight_used_=0.5)
    fields = unseen._synthetic_fields(generating, split)
    assert fields == {
        "n_synthetic_kept": 3,
        "synthetic_weight_used": 0.5,
        "n_exposure_used": 0,
        "coverage": 0.5,
    }
    none_kept = argparse.Namespace(synthetic_anomalies_=np.zeros((0, 2)), synthetic_weight_used_=0.0)
    assert unseen._synthetic_fields(none_kept, split)["coverage"] is None
    assert unseen._synthetic_fields(argparse.Namespace(), split) == {}
    # Outlier-exposure rows count towards coverage (not towards the kept count).
    exposed = argparse.Namespace(
        synthetic_anomalies_=synthetic,
        synthetic_weight_used_=0.5,
        exposure_anomalies_=np.array([[1.0, 0.02]]),
    )
    assert unseen._synthetic_fields(exposed, split) == {
        "n_synthetic_kept": 3, "synthetic_weight_used": 0.5, "n_exposure_used": 1, "coverage": 0.75,
    }  # fmt: skip


def test_default_methods_follow_issue_15s_protocol():
    args = unseen.add_arguments(argparse.ArgumentParser()).parse_args(["--datasets", "wdbc"])
    assert args.methods == "catboost,ecod,iforest,mome,swift_hydra,swift_hydra_control"
    assert [c.method for c in unseen.make_cells(args)[:6]] == list(unseen.DEFAULT_METHODS)
    args = unseen.add_arguments(argparse.ArgumentParser()).parse_args(
        ["--datasets", "wdbc", "--methods", "ecod"]
    )
    assert {c.method for c in unseen.make_cells(args)} == {"ecod"}


def test_runner_measures_coverage_on_the_cells_own_split(tmp_path, monkeypatch):
    """A fake generator whose synthetic rows sit on the fold's held-out anomalies covers all of them."""

    def fit_oracle(X, y, *, seed, budget, n_jobs):
        from detectors.adapters import PyODAdapter

        split = unseen.unseen_split("wine", None, "global", 0.5, seed)
        assert np.array_equal(split.X_train, X)  # the cell's own fold
        detector = PyODAdapter("ecod").fit(X)
        detector.synthetic_anomalies_ = (split.X_test[split.y_test == 1] + 1e-6).astype(np.float32)
        detector.synthetic_weight_used_ = 1.0
        return detector

    monkeypatch.setitem(method_registry.METHODS, "oracle", Method("oracle", "ours", fit_oracle, "test"))
    argv = ["--datasets", "wine", "--seeds", "1", "--la", "0.5", "--held-out", "global"]
    argv += ["--methods", "oracle,ecod", "--out", str(tmp_path), "--no-progress", "--reference", "oracle"]
    assert unseen.main(argv) == 0
    rows = {r["method"]: r for r in _rows(tmp_path / "unseen_results.csv")}
    n_held_out = int(unseen.unseen_split("wine", None, "global", 0.5, 1).y_test.sum())
    assert rows["oracle"]["status"] == "ok" and float(rows["oracle"]["coverage"]) == 1.0
    assert int(rows["oracle"]["n_synthetic_kept"]) == n_held_out
    assert rows["ecod"]["coverage"] == rows["ecod"]["n_synthetic_kept"] == ""


def test_tiny_swift_hydra_run_fills_coverage_and_the_type_summary(tmp_path, monkeypatch):
    seen = []  # the fitted detectors the runner measured
    measure = unseen._synthetic_fields
    monkeypatch.setattr(
        unseen, "_synthetic_fields", lambda det, split: seen.append(det) or measure(det, split)
    )
    argv = ["--datasets", "wdbc", "--seeds", "1", "--la", "0.5", "--held-out", "global", "--budget", "tiny"]
    argv += ["--methods", "ecod,swift_hydra", "--out", str(tmp_path), "--no-progress"]
    assert unseen.main(argv) == 0
    rows = {r["method"]: r for r in _rows(tmp_path / "unseen_results.csv")}
    assert rows["swift_hydra"]["status"] == "ok", rows["swift_hydra"]["error"]
    kept = int(rows["swift_hydra"]["n_synthetic_kept"])
    assert float(rows["swift_hydra"]["synthetic_weight_used"]) >= 0.0
    # The default loop adds no outlier-exposure rows; the count says so from the fitted detector.
    assert rows["swift_hydra"]["n_exposure_used"] == "0" == str(len(seen[-1].exposure_anomalies_))
    assert rows["ecod"]["n_exposure_used"] == ""
    if kept:
        assert 0.0 <= float(rows["swift_hydra"]["coverage"]) <= 1.0
    else:
        assert rows["swift_hydra"]["coverage"] == ""
    assert rows["ecod"]["coverage"] == ""
    # fit_swift_hydra's detector carries the kept rows (float32, scaled space), whether or not used.
    synthetic = seen[-1].synthetic_anomalies_
    assert synthetic.dtype == np.float32 and synthetic.shape == (kept, int(rows["swift_hydra"]["n_features"]))
    assert not hasattr(seen[0], "synthetic_anomalies_")  # ecod
    summary = (tmp_path / "unseen_summary.md").read_text()
    assert "| held-out type | ecod | swift_hydra | coverage swift_hydra |" in summary
    assert "| **mean over types** |" in summary and "held_out_type = global" in summary
    assert (tmp_path / "unseen_types.png").stat().st_size > 0


def test_label_counts_and_one_regime_per_results_file(tmp_path, capsys):
    """``--n-labeled K`` keeps exactly K seen-type labels; a file never mixes regimes (pairs are by type)."""
    counted = unseen.unseen_split("wdbc", None, "local", None, 1, n_labeled=2)
    assert counted.y_train.sum() == 2
    argv = ["--datasets", "wdbc", "--methods", "iforest", "--held-out", "local", "--seeds", "1"]
    argv += ["--out", str(tmp_path), "--no-progress"]
    assert unseen.main([*argv, "--n-labeled", "2"]) == 0
    rows = list(
        common.ResultStore(tmp_path / "unseen_results.csv", unseen.COLUMNS, unseen.KEY_COLUMNS).rows.values()
    )
    assert [(r["la"], r["n_labeled"], r["n_labeled_anomalies"]) for r in rows] == [("", "2", "2")]
    with pytest.raises(SystemExit) as exit_info:
        unseen.main([*argv, "--la", "0.5"])
    assert exit_info.value.code == 2 and "another --out" in capsys.readouterr().err
