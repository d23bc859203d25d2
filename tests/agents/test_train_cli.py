"""``swift-hydra train``: options, clear errors (exit code 2), a real run and its resume."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from agents.train import main, parse_kwarg


def test_parse_kwarg_uses_literal_eval_then_string():
    assert parse_kwarg("learning_rate=3e-4") == ("learning_rate", 3e-4)
    assert parse_kwarg("net_arch=[64, 64]") == ("net_arch", [64, 64])
    assert parse_kwarg("policy_kwargs=dict(net_arch=[8])") == ("policy_kwargs", "dict(net_arch=[8])")
    assert parse_kwarg("activation=tanh") == ("activation", "tanh")
    for bad in ("learning_rate", "=3", "1x=2"):
        with pytest.raises(argparse.ArgumentTypeError, match="key=value"):
            parse_kwarg(bad)


def test_parser_reads_the_options():
    from agents.train import build_parser

    args = build_parser().parse_args(["--algo", "sac", "--rounds", "0"])
    assert args.algo == "sac" and args.rounds == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "no_such_dataset"], "no_such_dataset"),
        (["--la", "0"], "no unsupervised"),
        (["--resume", "."], "not a swift-hydra run directory"),
        (["--hyperparams", "missing.yml"], "hyperparameter file not found"),
        (["--algo-kwargs", "learning_rat=0.1"], "does not accept"),
        (["--budget-set", "epochs=3"], "unknown budget field"),
        (["--algo", "random", "--hyperparams", "x.yml"], "applies to SB3 algorithms"),
        (["--seed", "-1"], "seed must be in [0, 2**32), got -1"),
        (["--device", "nope"], "--device 'nope' is not a torch device"),
    ],
)
def test_bad_input_exits_2_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_swift_hydra_train_with_a_negative_seed_exits_2(capsys, monkeypatch):
    from benchmarks.cli import main as swift_hydra

    monkeypatch.setattr(sys, "argv", ["swift-hydra"])  # the console script rewrites argv[0]
    assert swift_hydra(["train", "--seed", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "swift-hydra train: error: seed must be in [0, 2**32), got -1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--algo", "dqn"], "invalid choice: 'dqn'"),
        (["--algo-kwargs", "learning_rate"], "key=value"),
        (["--rounds", "-1"], "non-negative integer"),
    ],
)
def test_argparse_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_tensorboard_without_the_package_is_a_clear_error(capsys):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is not None:
        pytest.skip("tensorboard is installed")
    assert main(["--tensorboard", "--budget", "tiny"]) == 2
    assert "pip install tensorboard" in capsys.readouterr().err


def test_an_existing_run_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    assert main(["--run-dir", str(tmp_path)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_module_entry_point_runs_and_resumes(tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "agents.train", "--budget", "tiny", "--rounds", "1", "--quiet",
               "--run-dir", str(run_dir), "--algo", "gradient"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "No-augmentation control" in done.stdout and "AUC-ROC" in done.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["test"]) == {"swift_hydra", "control"} and summary["rounds"] == 1
    # Resuming a finished run recomputes nothing and reports the same summary.
    assert main(["--resume", str(run_dir), "--quiet"]) == 0
    assert json.loads((run_dir / "summary.json").read_text()) == summary


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    """SIGKILL a real `python -m agents.train` once a round is checkpointed, resume, compare summaries."""
    import signal
    import time

    from agents.checkpoint import latest_checkpoint

    def command(run_dir):
        return [sys.executable, "-m", "agents.train", "--budget", "tiny", "--rounds", "3", "--quiet",
                "--no-control", "--algo", "ppo", "--run-dir", str(run_dir)]  # fmt: skip

    reference = tmp_path / "reference"
    subprocess.run(command(reference), check=True, capture_output=True, timeout=300)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        checkpoint = latest_checkpoint(killed)
        if checkpoint is not None and checkpoint.name >= "round_001":
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before a round was checkpointed"
    assert not (killed / "summary.json").exists()
    assert main(["--resume", str(killed), "--quiet"]) == 0
    ours, theirs = (json.loads((d / "summary.json").read_text()) for d in (killed, reference))
    assert ours["test"] == theirs["test"]
    assert ours["rounds"] == theirs["rounds"] == 3


def test_n_labeled_keeps_exactly_k_labels(tmp_path, capsys):
    """Issue 27: ``--n-labeled K`` trains with exactly K labeled anomalies, recorded in the summary."""
    run_dir = tmp_path / "run"
    argv = ["--budget", "tiny", "--rounds", "0", "--no-control", "--quiet", "--run-dir", str(run_dir)]
    assert main([*argv, "--dataset", "wine", "--n-labeled", "4", "--val-fraction", "0.2"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n_labeled"] == 4
    # The validation part is carved out of the training split: the fit and validation labels add to K.
    assert summary["n_labeled_anomalies"] == 4
    assert "K=4 labeled" in capsys.readouterr().out
    assert main(["--n-labeled", "0", "--budget", "tiny"]) == 2
