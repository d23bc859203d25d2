"""Results CSVs: a write that fails partway leaves the previous file intact and no temporary file."""

from __future__ import annotations

import csv

import pytest

from benchmarks.adbench import ResultStore
from tests.atomic import InjectedFault, assert_untouched, failing_replace, snapshot


def _row(dataset: str, auc: float) -> dict:
    return {
        "dataset": dataset, "la": 0.1, "seed": 1, "method": "iforest", "status": "ok", "auc_roc": auc,
        "n_train": 100, "n_test": 50, "n_features": 4, "commit": "abc",
    }  # fmt: skip


@pytest.fixture
def store(tmp_path):
    store = ResultStore(tmp_path / "results" / "r.csv")
    store.add(_row("wine", 0.8))
    return store


def _check_previous_file(store: ResultStore, before: dict) -> None:
    assert_untouched(store.path.parent, before)
    reloaded = ResultStore(store.path)
    assert list(reloaded.rows) == [("wine", "0.1", "", "1", "iforest")]
    assert reloaded.rows[("wine", "0.1", "", "1", "iforest")]["auc_roc"] == "0.8"


def test_failed_rename_keeps_the_previous_csv(store, monkeypatch):
    before = snapshot(store.path.parent)
    attempts = failing_replace(monkeypatch)
    with pytest.raises(InjectedFault):
        store.add(_row("wdbc", 0.9))
    assert attempts and attempts[-1][1] == str(store.path)
    monkeypatch.undo()
    _check_previous_file(store, before)


def test_failure_while_writing_rows_keeps_the_previous_csv(store, monkeypatch):
    store.add(_row("wdbc", 0.9))
    before = snapshot(store.path.parent)
    writerow, calls = csv.DictWriter.writerow, []

    def torn_writerow(self, row):  # the header and the first row get out, then the disk fills up
        calls.append(row)
        if len(calls) > 2:
            raise InjectedFault("injected failure in the middle of a write")
        return writerow(self, row)

    def torn_writerows(self, rows):
        for row in rows:
            torn_writerow(self, row)

    monkeypatch.setattr(csv.DictWriter, "writerow", torn_writerow)
    monkeypatch.setattr(csv.DictWriter, "writerows", torn_writerows)
    with pytest.raises(InjectedFault):
        store.add(_row("cardio", 0.7))
    monkeypatch.undo()
    assert len(calls) == 3, "the fault was not reached"
    assert_untouched(store.path.parent, before)
    assert set(ResultStore(store.path).rows) == {
        ("wine", "0.1", "", "1", "iforest"),
        ("wdbc", "0.1", "", "1", "iforest"),
    }
