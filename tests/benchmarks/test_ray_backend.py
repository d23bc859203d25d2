"""The Ray backend on a local two-CPU Ray: same numbers as serial, failures recorded, resume, install hint.

Everything shipped to workers is a local closure (cloudpickle sends it by value) or lives in an
installed package, so workers never need to import this test module.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import pytest

from benchmarks import adbench, backends, ray_backend, sweep
from tests.benchmarks.test_sweep import fake_training, grid

# Timings vary run to run; the commit changes if the tree does while the two runs are apart.
TIMING_COLUMNS = {"fit_seconds", "predict_seconds_per_1k", "wall_seconds", "commit"}


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the whole module (starting one takes ~15 s)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture
def ray_registered(monkeypatch, local_ray):
    """``--backend ray`` resolvable through ``make_backend``, as it is once the lead registers it."""
    monkeypatch.setitem(backends.BACKENDS, "ray", ray_backend.RayBackend)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _without_timing(rows, key_columns):
    return {
        tuple(r[c] for c in key_columns): {k: v for k, v in r.items() if k not in TIMING_COLUMNS}
        for r in rows
    }


# ------------------------------------------------------------------------------------ without Ray
def test_missing_ray_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(ImportError, match=r'pip install "swift-hydra\[ray\]"'):
        ray_backend.RayBackend()
    with pytest.raises(SystemExit) as exc:
        sweep.main(grid(tmp_path, "--backend", "ray", "--address", "auto"))
    assert exc.value.code == 2
    assert 'pip install "swift-hydra[ray]"' in capsys.readouterr().err


def test_ray_options_reach_the_backend_only_for_ray():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="serial")
    ray_backend.add_ray_arguments(parser)
    assert ray_backend.backend_options(parser.parse_args(["--address", "auto"])) == {}
    args = parser.parse_args(["--backend", "ray", "--address", "auto", "--num-gpus-per-cell", "0.5"])
    assert ray_backend.backend_options(args) == {
        "address": "auto", "num_cpus_per_cell": 1, "num_gpus_per_cell": 0.5, "max_in_flight": None,
    }  # fmt: skip


def test_error_text_is_one_line_type_and_message():
    assert ray_backend.error_text(ValueError("bad\nsecond line")) == "ValueError: bad"
    assert len(ray_backend.error_text(RuntimeError("x" * 2000))) == 500


# --------------------------------------------------------------------------------------- with Ray
def test_bad_arguments_are_rejected(local_ray):
    with pytest.raises(ValueError, match="num_cpus_per_cell"):
        ray_backend.RayBackend(num_cpus_per_cell=-1)
    with pytest.raises(ValueError, match="some CPU or GPU"):
        ray_backend.RayBackend(num_cpus_per_cell=0, num_gpus_per_cell=0)
    with pytest.raises(ValueError, match="max_in_flight"):
        ray_backend.RayBackend(max_in_flight=0)


def test_in_flight_limit_is_twice_the_cluster_capacity(local_ray):
    assert ray_backend.RayBackend().in_flight_limit(local_ray) == 4  # 2 CPUs, 1 per cell
    assert ray_backend.RayBackend(num_cpus_per_cell=0.5).in_flight_limit(local_ray) == 8
    assert ray_backend.RayBackend(num_cpus_per_cell=4).in_flight_limit(local_ray) == 1
    assert ray_backend.RayBackend(max_in_flight=3).in_flight_limit(local_ray) == 3


def test_adbench_runner_gives_the_same_numbers_as_serial(tmp_path, ray_registered):
    cells = [adbench.Cell(d, 0.1, 1, m) for d in ("wdbc", "wine") for m in ("iforest", "ecod")]
    fn = adbench.adbench_cell_fn(None, "tiny", 1)
    serial = adbench.ResultStore(tmp_path / "serial.csv")
    adbench.run_cells(cells, fn, serial, backend="serial", progress=False)
    on_ray = adbench.ResultStore(tmp_path / "ray.csv")
    ran = adbench.run_cells(cells, fn, on_ray, backend="ray", progress=False)
    assert ran == cells
    serial_rows = _without_timing(_rows(serial.path), adbench.KEY_COLUMNS)
    ray_rows = _without_timing(_rows(on_ray.path), adbench.KEY_COLUMNS)
    assert len(ray_rows) == 4 and all(r["status"] == "ok" for r in ray_rows.values())
    assert ray_rows == serial_rows
    # Resume: a second run finds every cell in the CSV and submits nothing.
    assert adbench.run_cells(cells, fn, adbench.ResultStore(on_ray.path), backend="ray", progress=False) == []


def test_a_task_that_raises_or_dies_is_handed_to_on_error_and_the_rest_finish(local_ray):
    def fn(cell: int) -> int:
        if cell == 1:
            raise ValueError(f"bad cell {cell}")
        if cell == 3:
            os._exit(1)  # a worker crash, not an exception
        return cell * 10

    results, errors = {}, {}
    backend = ray_backend.RayBackend(max_retries=0, max_in_flight=2, progress=False, worker_imports=())
    backend.run(range(6), fn, results.__setitem__, lambda cell, exc: errors.__setitem__(cell, exc))
    assert results == {0: 0, 2: 20, 4: 40, 5: 50}
    assert sorted(errors) == [1, 3]
    assert ray_backend.error_text(errors[1]) == "ValueError: bad cell 1"
    assert isinstance(errors[3], local_ray.exceptions.RayError)


def test_without_on_error_the_first_failure_is_raised(local_ray):
    def fn(cell: int) -> int:
        if cell == 0:
            raise ValueError("no handler")
        return cell

    with pytest.raises(ValueError, match="no handler"):
        ray_backend.RayBackend(progress=False, worker_imports=()).run([0], fn, lambda cell, result: None)


def test_sweep_on_ray_matches_serial_records_failures_and_resumes(tmp_path, ray_registered):
    serial = sweep.run(sweep.add_arguments(argparse.ArgumentParser()).parse_args(grid(tmp_path / "serial")),
                       train=fake_training(fail_algo="sac"))  # fmt: skip
    args = sweep.add_arguments(argparse.ArgumentParser()).parse_args(
        grid(tmp_path / "ray", "--backend", "ray")
    )
    on_ray = sweep.run(args, train=fake_training(fail_algo="sac"))
    serial_rows = _without_timing(_rows(serial), sweep.KEY_COLUMNS)
    ray_rows = _without_timing(_rows(on_ray), sweep.KEY_COLUMNS)
    for rows in (serial_rows, ray_rows):
        for row in rows.values():
            row.pop("run_dir")
    assert ray_rows == serial_rows
    assert sorted(r["status"] for r in ray_rows.values()) == ["failed", "failed", "ok", "ok"]

    cells = sweep.make_cells(args)
    store = adbench.ResultStore(on_ray, sweep.COLUMNS, sweep.KEY_COLUMNS)
    backend = sweep.build_backend("ray", progress=False)
    fn = sweep.sweep_cell_fn(None, None, train=fake_training())
    assert sweep.run_sweep(cells, fn, store, backend) == []
    assert len(sweep.run_sweep(cells, fn, store, backend, retry_failed=True)) == 2
    assert all(r["status"] == "ok" for r in _rows(on_ray))
