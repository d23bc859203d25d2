"""``swift-hydra train`` guards: one-line errors, no run folder for bad input, resume rules, Ctrl-C, the gate."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from agents.train import build_parser, main


def _err_lines(capsys: pytest.CaptureFixture) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


# ----------------------------------------------------------------------------- 1. one line for a bad option
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "-3"], "argument --rounds: expected a non-negative integer, got -3"),
        (["--algo", "nosuch"], "argument --algo: invalid choice: 'nosuch'"),
        (["--budget", "nosuch"], "argument --budget: invalid choice: 'nosuch'"),
        (["--env-kwargs", "entropy_decay"], "argument --env-kwargs: expected key=value"),
        (["--algo-kwargs", "learning_rate"], "argument --algo-kwargs: expected key=value"),
    ],
)
def test_argparse_errors_are_one_line_and_a_hint(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    lines = _err_lines(capsys)
    assert exc.value.code == 2
    assert len(lines) == 2 and lines[0].startswith(f"swift-hydra train: error: {message}")
    assert lines[1] == "try 'swift-hydra train --help' for the options"


def test_the_console_script_says_the_same(capsys, monkeypatch):
    from benchmarks.cli import main as swift_hydra

    monkeypatch.setattr(sys, "argv", ["swift-hydra"])
    with pytest.raises(SystemExit) as exc:
        swift_hydra(["train", "--rounds", "-3"])
    assert exc.value.code == 2 and len(_err_lines(capsys)) <= 3


def test_an_env_setting_of_the_wrong_type_names_the_setting(tmp_path, capsys):
    assert main(["--env-kwargs", "entropy_decay=abc", "--run-dir", str(tmp_path / "run")]) == 2
    assert _err_lines(capsys) == [
        "swift-hydra train: error: env setting entropy_decay expects a number, got 'abc' (str)"
    ]
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--algo-kwargs", "learning_rate=abc"], "--algo-kwargs learning_rate: ppo expects a number"),
        (["--algo-kwargs", "n_steps=abc"], "--algo-kwargs n_steps: ppo expects a number, got 'abc'"),
        (["--algo", "sac", "--algo-kwargs", "gradient_steps=abc"], "--algo-kwargs gradient_steps: sac"),
        (
            ["--algo", "a2c", "--algo-kwargs", "policy_kwargs={'net_arch': 'x'}"],
            "a2c cannot be built with them",
        ),
    ],
)
def test_bad_agent_arguments_exit_2_before_the_run_folder(argv, message, tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert main([*argv, "--budget", "tiny", "--run-dir", str(run_dir)]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and message in lines[0]
    assert not run_dir.exists()


def test_resuming_a_run_with_bad_agent_arguments_exits_2(tmp_path, capsys):
    from agents.config import TrainConfig

    config = TrainConfig(budget="tiny", algo_kwargs={"learning_rate": "abc"})
    (tmp_path / "config.json").write_text(json.dumps({"config": config.to_dict(), "hyperparams_raw": {}}))
    assert main(["--resume", str(tmp_path), "--quiet"]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and "learning_rate" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


# ----------------------------------------------------------------------------- 2. data that cannot work
def _dataset(path, X, y):
    np.savez(path, X=np.asarray(X, dtype=np.float64), y=np.asarray(y))
    return str(path)


@pytest.mark.parametrize(
    ("n_anomalies", "constant", "message"),
    [
        (0, False, "has no anomaly"),
        (1, False, "has a single anomaly"),
        (10, True, "every feature is constant"),
    ],
)
def test_data_that_cannot_work_is_refused_before_the_run_folder(
    n_anomalies, constant, message, tmp_path, capsys
):
    rng = np.random.default_rng(0)
    X = np.ones((100, 4)) if constant else rng.normal(size=(100, 4))
    y = np.zeros(100, dtype=int)
    y[:n_anomalies] = 1
    data = _dataset(tmp_path / "data.npz", X, y)
    run_dir = tmp_path / "run"
    assert main(["--dataset", data, "--budget", "tiny", "--run-dir", str(run_dir)]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and message in lines[0] and "data.npz" in lines[0]
    assert not run_dir.exists()


def test_wide_data_is_warned_about():
    from agents.preflight import WIDE_FEATURES, wide_data_warning

    assert wide_data_warning(120, WIDE_FEATURES - 1, "catboost") is None
    warning = wide_data_warning(120, 5000, "catboost")
    assert "5000 features" in warning and "not bounded by --budget" in warning


# ----------------------------------------------------------------------------- 3. resume
def test_resume_refuses_options_it_would_ignore(tmp_path, capsys):
    assert main(["--resume", str(tmp_path), "--seed", "5", "--budget", "tiny", "--quiet"]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1
    assert lines[0].endswith("these options cannot be changed on resume: --seed, --budget")


def test_a_truncated_config_is_named(tmp_path, capsys):
    from agents.config import TrainConfig

    text = json.dumps({"config": TrainConfig().to_dict(), "hyperparams_raw": {}})
    (tmp_path / "config.json").write_text(text[:50])
    assert main(["--resume", str(tmp_path)]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and f"{tmp_path / 'config.json'} is damaged" in lines[0]


def test_a_second_run_in_a_locked_folder_is_one_line(tmp_path, capsys):
    from filelock import FileLock

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from filelock import FileLock\nwith FileLock({str(run_dir / '.lock')!r}):\n"
         "    print('held', flush=True)\n    import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["--budget", "tiny", "--run-dir", str(run_dir), "--quiet"]) == 2
    finally:
        holder.kill()
        holder.wait()
    lines = _err_lines(capsys)
    assert len(lines) == 1 and "is in use by another swift-hydra train" in lines[0]
    assert not (run_dir / "config.json").exists()
    with FileLock(run_dir / ".lock", timeout=0):  # released with its holder
        pass


def test_resume_help_says_run_folders_are_trusted():
    text = " ".join(build_parser().format_help().split())
    assert "Run folders are trusted input" in text and "only resume runs you created" in text


# ----------------------------------------------------------------------------- a finished tiny run
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny run whose gate judges (la=1, a 40 % validation part keeps 3 labeled anomalies there)."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    command = [sys.executable, "-m", "agents.train", "--budget", "tiny", "--rounds", "1", "--algo", "random",
               "--la", "1", "--val-fraction", "0.4", "--no-control", "--quiet", "--run-dir", str(run_dir)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return run_dir, done.stdout


def test_the_result_says_what_the_kept_anomalies_did(finished_run):
    run_dir, stdout = finished_run
    summary = json.loads((run_dir / "summary.json").read_text())
    gate, kept = summary["deploy_gate"], summary["n_synthetic_kept"]
    assert kept > 0 and gate["val_auc_without"] is not None and gate["val_auc_with"] is not None
    joined = kept if gate["synthetic_weight_used"] else 0
    assert summary["n_synthetic_joined"] == joined and summary["synthetic_gate_margin"] == 0.02
    text = " ".join(stdout.split())
    assert f"{kept} synthetic anomalies kept, {joined} joined the deployment" in text
    assert f"(weight {gate['synthetic_weight_used']:g})" in text
    assert f"{gate['val_auc_without']:.4f}" in text and f"{gate['val_auc_with']:.4f}" in text
    assert "Gate proxy without the" in text and "Gate proxy with them (validation)" in text


def test_resuming_a_finished_run_checks_its_files(finished_run, tmp_path, capsys):
    run_dir, stdout = finished_run
    assert main(["--resume", str(run_dir), "--quiet"]) == 0
    assert "joined the deployment" in capsys.readouterr().out
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    with open(copy / "detector.pt", "ab") as fh:
        fh.write(b"x")
    assert main(["--resume", str(copy), "--quiet"]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and "detector.pt does not match its checksum" in lines[0]
    (copy / "summary.json").unlink()
    (copy / "detector.pt").unlink()
    shutil.copy(run_dir / "detector.pt", copy / "detector.pt")
    assert main(["--resume", str(copy), "--quiet"]) == 2
    assert "summary.json is missing" in _err_lines(capsys)[0]


# ----------------------------------------------------------------------------- 4. Ctrl-C
def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("signum", "exit_codes"),
    [(signal.SIGINT, {130}), (signal.SIGTERM, {143, 130})],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stop_signal_prints_the_resume_command(tmp_path, signum, exit_codes):
    from agents.checkpoint import latest_checkpoint

    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "agents.train", "--budget", "tiny", "--rounds", "50", "--algo", "random",
               "--no-control", "--quiet", "--run-dir", str(run_dir)]  # fmt: skip
    # A child inherits an ignored SIGINT (a suite started in the background of a non-interactive shell
    # ignores it), and Python then never raises KeyboardInterrupt: the run went on and exited 0. Ctrl-C
    # reaches a foreground terminal's process with the default disposition, so the child gets that.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and latest_checkpoint(run_dir) is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    # 128 + the signal, the shell's convention; CatBoost raises KeyboardInterrupt for a SIGTERM in its fit.
    assert proc.returncode in exit_codes, err
    lines = err.strip().splitlines()
    assert lines == [
        f"swift-hydra train: interrupted; continue it with: swift-hydra train --resume {run_dir}"
    ]
    assert not (run_dir / "summary.json").exists()
