"""The shared results store: damaged rows are found and recomputed, concurrent writers lose nothing."""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import adbench, common, report

SIZES = {"n_train": 100, "n_test": 40, "n_features": 8, "commit": "abc123"}


def _ok(seed: int, method: str = "m", **extra) -> dict:
    row = {"dataset": "wdbc", "la": 0.1, "seed": seed, "method": method, "kind": "unsupervised"}
    return row | {"status": "ok", "auc_roc": 0.9, "auc_pr": 0.5} | SIZES | extra


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_issue_repro_half_row_is_recomputed(tmp_path, caplog):
    """Issue 14's repro: half of the last line appended, then a rerun with one more seed."""
    out = tmp_path / "B"
    argv = [
        "--datasets",
        "wdbc",
        "--la",
        "0.1",
        "--methods",
        "iforest,ecod",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert adbench.main([*argv, "--seeds", "1"]) == 0
    path = out / "adbench_results.csv"
    last = path.read_text().splitlines()[-1]
    with open(path, "a") as fh:
        fh.write(last[: len(last) // 2])
    with caplog.at_level(logging.WARNING, logger="benchmarks"):
        assert adbench.main([*argv, "--seeds", "1", "2"]) == 0
    damaged = [r.getMessage() for r in caplog.records if "damaged row" in r.getMessage()]
    assert len(damaged) == 1
    assert "damaged row for dataset=wdbc la=0.1 seed=1 method=ecod in " in damaged[0]
    assert str(path) in damaged[0] and damaged[0].endswith("recomputing")
    rows = _rows(path)
    assert sorted((r["seed"], r["method"]) for r in rows) == [
        ("1", "ecod"), ("1", "iforest"), ("2", "ecod"), ("2", "iforest"),
    ]  # fmt: skip
    for row in rows:
        assert row["status"] == "ok" and 0.5 < float(row["auc_roc"]) <= 1.0
        assert all(row[c] for c in ("n_train", "n_test", "n_features", "commit")), row
    # The rewritten file is clean: a third run finds nothing damaged and nothing to do.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="benchmarks"):
        assert adbench.main([*argv, "--seeds", "1", "2"]) == 0
    assert not [r for r in caplog.records if "damaged" in r.getMessage()]
    assert _rows(path) == rows


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda r: r | {"status": "done"}, "status 'done'"),
        (lambda r: r | {"auc_roc": ""}, "ok row without ['auc_roc']"),
        (lambda r: r | {"auc_roc": "0.9x"}, "auc_roc='0.9x' is not a number"),
        (lambda r: r | {"auc_roc": "nan"}, "not finite"),
        (lambda r: r | {"n_test": ""}, "ok row without ['n_test']"),
        (lambda r: r | {"commit": ""}, "ok row without ['commit']"),
        (lambda r: r | {"n_train": "12.5"}, "n_train='12.5' is not a number"),
        (lambda r: r | {"seed": ""}, "missing key field"),
    ],
)
def test_malformed_rows_are_named_and_dropped(tmp_path, caplog, edit, problem):
    path = tmp_path / "r.csv"
    good = {c: common.format_value(v) for c, v in _ok(1).items()}
    bad = edit({c: common.format_value(v) for c, v in _ok(2).items()})
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=adbench.COLUMNS, restval="")
        writer.writeheader()
        writer.writerows([good, bad])
    with caplog.at_level(logging.WARNING, logger="benchmarks"):
        store = adbench.ResultStore(path)
    assert list(store.rows) == [("wdbc", "0.1", "", "1", "m")]
    assert len(store.damaged) == 1
    assert problem in caplog.text and "recomputing" in caplog.text


def test_failed_rows_need_no_metrics(tmp_path):
    store = adbench.ResultStore(tmp_path / "r.csv")
    store.add({"dataset": "wdbc", "la": 0.1, "seed": 1, "method": "m", "status": "failed", "error": "boom"})
    assert adbench.ResultStore(store.path).status(("wdbc", "0.1", "", "1", "m")) == "failed"


def test_a_row_with_extra_fields_is_damaged(tmp_path):
    store = adbench.ResultStore(tmp_path / "r.csv")
    store.add(_ok(1))
    with open(store.path, "a") as fh:
        fh.write(store.path.read_text().splitlines()[-1].replace("abc123", "abc,123") + "\r\n")
    reloaded = adbench.ResultStore(store.path)
    assert reloaded.rows == {} and reloaded.damaged == [("wdbc", "0.1", "", "1", "m")]


def test_two_stores_on_one_file_keep_each_others_rows(tmp_path):
    path = tmp_path / "r.csv"
    first, second = adbench.ResultStore(path), adbench.ResultStore(path)  # both start from an empty file
    first.add(_ok(1))
    second.add(_ok(2))
    first.add(_ok(3))
    second.add(_ok(1, auc_roc=0.7))  # the latest result for a cell wins
    keys = {(r["seed"], r["auc_roc"]) for r in _rows(path)}
    assert keys == {("1", "0.7"), ("2", "0.9"), ("3", "0.9")}
    assert set(second.rows) == {("wdbc", "0.1", "", s, "m") for s in ("1", "2", "3")}


def _write_many(path: str, method: str, n: int) -> None:
    store = adbench.ResultStore(path)
    for seed in range(n):
        store.add(_ok(seed, method))


def test_two_processes_writing_one_file_lose_nothing(tmp_path):
    path = tmp_path / "r.csv"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_write_many, args=(str(path), m, 25)) for m in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    rows = _rows(path)
    assert len(rows) == 50
    assert {(r["method"], int(r["seed"])) for r in rows} == {(m, s) for m in "ab" for s in range(25)}


def test_results_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        store = adbench.ResultStore(tmp_path / "r.csv")
        store.add(_ok(1))
        common.atomic_write(tmp_path / "s.md", lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    for name in ("r.csv", "s.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_report_load_rows_skips_damaged_rows(tmp_path):
    store = adbench.ResultStore(tmp_path / "adbench_results.csv")
    store.add(_ok(1))
    store.add(_ok(2))
    text = store.path.read_text()
    store.path.write_text(text[: len(text) - 10])  # cut the last row
    assert [r["seed"] for r in report.load_rows(store.path)] == ["1"]


# ------------------------------------------------------------------------------------------ properties
_ROWS = [
    _ok(1),
    _ok(2, auc_roc=0.8125, error=""),
    {
        "dataset": "wine",
        "la": 1.0,
        "seed": 3,
        "method": "m",
        "status": "failed",
        "error": 'ValueError: "x", y',
    },
    _ok(4, method="iforest", fit_seconds=1.5, n_labeled_anomalies=7),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_a_file_cut_at_any_byte_never_yields_a_damaged_row(tmp_path, cut):
    """Rows before the cut are kept verbatim; the cut row is never trusted; nothing after it appears."""
    full = tmp_path / "full.csv"
    if not full.exists():
        store = adbench.ResultStore(full)
        for row in _ROWS:
            store.add(row)
    data = full.read_bytes()
    cut = cut % (len(data) + 1)
    part = tmp_path / "part.csv"
    part.write_bytes(data[:cut])
    complete = adbench.ResultStore(full).rows
    loaded = adbench.ResultStore(part, adbench.COLUMNS, adbench.KEY_COLUMNS).rows
    lines = data.split(b"\r\n")
    ends, pos = [], 0
    for line in lines[:-1]:
        pos += len(line) + 2
        ends.append(pos)  # byte offset just past each record's line end
    whole = sum(1 for end in ends[1:] if end <= cut)  # complete data rows before the cut
    assert list(loaded) == list(complete)[:whole]
    for key, row in loaded.items():
        assert row == complete[key]


def test_torch_threads_sets_and_restores_the_count():
    import torch

    from benchmarks.common import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("restored even on error")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_adbench_times_every_method_on_n_jobs_torch_threads(monkeypatch):
    import numpy as np
    import torch

    from benchmarks import adbench
    from benchmarks.methods import Method

    seen = []

    class Fitted:
        def decision_function(self, X):
            return np.arange(len(X), dtype=float)

    def fit(X, y, **_):
        seen.append(torch.get_num_threads())
        return Fitted()

    X, y = np.random.RandomState(0).uniform(size=(20, 3)), np.r_[np.zeros(15, int), np.ones(5, int)]
    before = torch.get_num_threads()
    row = adbench.evaluate_method(Method("probe", "ours", fit), X, y, X, y, seed=1, budget="tiny", n_jobs=1)
    assert row["status"] == "ok" and seen == [1] and torch.get_num_threads() == before


# ----------------------------------------------------------------------- issue 29: ranges, duplicates
@pytest.mark.parametrize(
    ("column", "value"), [("auc_roc", "1.5"), ("auc_pr", "-0.1"), ("test_anomaly_rate", "2")]
)
def test_a_metric_outside_its_range_is_damaged(tmp_path, caplog, column, value):
    path = tmp_path / "r.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=adbench.COLUMNS, restval="")
        writer.writeheader()
        writer.writerows([
            {c: common.format_value(v) for c, v in _ok(1).items()},
            {c: common.format_value(v) for c, v in (_ok(2) | {column: value}).items()},
        ])  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="benchmarks"):
        store = adbench.ResultStore(path)
    assert list(store.rows) == [("wdbc", "0.1", "", "1", "m")]
    assert f"{column}='{value}' is outside [0, 1]" in caplog.text and "recomputing" in caplog.text


def test_a_duplicated_cell_with_other_values_is_damaged(tmp_path, caplog):
    path = tmp_path / "r.csv"
    rows = [_ok(1), _ok(2), _ok(2, auc_roc=0.6), _ok(3), _ok(3)]  # seed 3: an identical copy is harmless
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=adbench.COLUMNS, restval="")
        writer.writeheader()
        writer.writerows([{c: common.format_value(v) for c, v in r.items()} for r in rows])
    with caplog.at_level(logging.WARNING, logger="benchmarks"):
        store = adbench.ResultStore(path)
    assert sorted(k[3] for k in store.rows) == ["1", "3"]
    assert "second row for this cell with other values" in caplog.text
    assert adbench.ResultStore(path).rows.keys() == store.rows.keys()


def test_label_count_rows_have_their_own_key(tmp_path):
    store = adbench.ResultStore(tmp_path / "r.csv")
    store.add(_ok(1))
    store.add(_ok(1) | {"la": None, "n_labeled": 3, "auc_roc": 0.7})
    reloaded = adbench.ResultStore(store.path)
    assert set(reloaded.rows) == {("wdbc", "0.1", "", "1", "m"), ("wdbc", "", "3", "1", "m")}
    cell = common.Cell("wdbc", None, 1, "m", n_labeled=3)
    assert reloaded.status(cell.key(reloaded.key_columns)) == "ok" and str(cell) == "wdbc K=3 seed=1 m"
    assert common.pending([cell, common.Cell("wdbc", None, 1, "m", n_labeled=1)], reloaded) == [
        common.Cell("wdbc", None, 1, "m", n_labeled=1)
    ]


def test_a_row_under_another_budget_definition_is_rerun(tmp_path):
    """Issue 29: a preset's name is not its definition; the fingerprint is."""
    assert common.budget_fingerprint("small") == common.budget_fingerprint("small")
    assert common.budget_fingerprint("small") != common.budget_fingerprint("tiny")
    from agents.config import get_budget

    redefined = get_budget("small", rounds=4)
    assert redefined.name == "small" and common.budget_fingerprint(redefined) != common.budget_fingerprint(
        "small"
    )
    store = adbench.ResultStore(tmp_path / "r.csv")
    cell = common.Cell("wdbc", 0.1, 1, "m")
    store.add(_ok(1) | {"budget": "small", "budget_fingerprint": common.budget_fingerprint("small")})
    same = {"budget_fingerprint": common.budget_fingerprint("small")}
    assert common.pending([cell], store, expected=lambda c: same) == []
    changed = {"budget_fingerprint": common.budget_fingerprint(redefined)}
    assert common.pending([cell], store, expected=lambda c: changed) == [cell]


def test_n_labeled_cells_and_bad_env_kwargs_are_checked_before_any_cell(tmp_path, capsys):
    args = ["--datasets", "wdbc", "--methods", "iforest", "--out", str(tmp_path / "o")]
    parsed = adbench.add_arguments(__import__("argparse").ArgumentParser()).parse_args(
        [*args, "--n-labeled", "1", "3"]
    )
    cells = adbench.make_cells(parsed)
    assert [(c.la, c.n_labeled) for c in cells if c.seed == 1] == [(None, 1), (None, 3)]
    parsed = adbench.add_arguments(__import__("argparse").ArgumentParser()).parse_args(args)
    assert sorted({c.la for c in adbench.make_cells(parsed)}) == [0.1, 1.0]
    with pytest.raises(SystemExit) as exit_info:
        adbench.main([*args, "--methods", "swift_hydra", "--env-kwargs", "bogus=1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bogus" in err[0]
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit):
        adbench.main([*args, "--n-labeled", "0"])


def test_recompute_reruns_finished_cells(tmp_path):
    store = adbench.ResultStore(tmp_path / "r.csv")
    store.add(_ok(1))
    cells = [common.Cell("wdbc", 0.1, 1, "m"), common.Cell("wdbc", 0.1, 2, "m")]
    assert common.pending(cells, store) == cells[1:]
    assert common.pending(cells, store, recompute=True) == cells
