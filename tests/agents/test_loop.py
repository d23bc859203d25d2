"""The closed loop: validation carve, selection, budgets, a full tiny run, determinism and exact resume."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import agents.loop as loop
from agents.config import BUDGETS, Budget, TrainConfig, convert_hyperparams, get_budget, read_hyperparams
from agents.experiment import run
from agents.loop import carve_validation, fit_swift_hydra

TINY = {"budget": "tiny", "progress": False}


# ------------------------------------------------------------------------------------------ pieces
def test_carve_validation_is_stratified_and_disjoint():
    rng = np.random.default_rng(0)
    X = rng.random((200, 3))
    y = np.zeros(200, dtype=np.int64)
    y[:10] = 1
    X_fit, y_fit, X_val, y_val = carve_validation(X, y, 0.2, seed=0)
    assert len(X_fit) + len(X_val) == 200 and y_val.sum() == 2 and y_fit.sum() == 8
    rows = {tuple(r) for r in X_fit}
    assert not any(tuple(r) in rows for r in X_val)
    again = carve_validation(X, y, 0.2, seed=0)
    np.testing.assert_array_equal(again[2], X_val)


def test_carve_validation_edge_cases():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.zeros(20, dtype=np.int64)
    y[3] = 1
    _, y_fit, _, y_val = carve_validation(X, y, 0.2, seed=1)
    assert y_fit.sum() == 1 and y_val.sum() == 0  # a lone labeled anomaly stays for fitting
    y[4] = 1
    _, y_fit, _, y_val = carve_validation(X, y, 0.2, seed=1)
    assert y_fit.sum() == 1 and y_val.sum() == 1
    with pytest.raises(ValueError, match="no labeled anomaly"):
        carve_validation(X, np.zeros(20, dtype=np.int64), 0.2, seed=1)


def test_round_step_keeps_distinct_new_rows_only():
    from hydra_env.rounds import RoundStep

    class Recorder:
        def fit(self, X, y, warm_start=False):
            self.X, self.y = X, y
            return self

    X, y = np.zeros((5, 1)), np.array([0, 0, 0, 0, 1])
    step = RoundStep(Recorder(), X, y, top_l=3, snap_to_support=False)  # X's one value would snap all
    samples = np.array([[0.1], [0.9], [0.9], [0.5], [0.3]], dtype=np.float32)
    kept, rewards = step(samples, np.array([0.1, 0.9, 0.9, 0.5, 0.3]))
    np.testing.assert_allclose(kept[:, 0], [0.9, 0.5, 0.3], rtol=1e-6)
    assert step.detector.X.shape == (8, 1) and step.detector.y.sum() == 4  # base + 3 kept, label 1
    kept, _ = step(samples, np.array([0.1, 0.9, 0.9, 0.5, 0.3]))
    np.testing.assert_allclose(kept[:, 0], [0.1])  # already-kept rows are not kept twice
    assert step.round == 2 and step.kept_round.tolist() == [1, 1, 1, 2]


def test_round_step_snaps_discrete_features_before_selecting():
    from hydra_env.rounds import RoundStep

    class Recorder:
        def fit(self, X, y, warm_start=False):
            self.X, self.y = X, y
            return self

    rng = np.random.RandomState(0)
    X = np.c_[rng.randint(0, 2, 200), rng.uniform(size=200)]  # a 0/1 flag and a continuous feature
    y = np.r_[np.zeros(190, int), np.ones(10, int)]
    step = RoundStep(Recorder(), X, y, top_l=4)
    samples = np.array([[0.3, 0.25], [0.7, 0.5], [0.45, 0.75], [0.55, 0.125]], dtype=np.float32)
    kept, _ = step(samples, np.array([4.0, 3.0, 2.0, 1.0]))
    np.testing.assert_array_equal(kept[:, 0], [0, 1, 0, 1])  # the flag takes the data's values
    np.testing.assert_allclose(kept[:, 1], samples[:, 1])  # the continuous feature is untouched
    assert set(np.unique(step.detector.X[:, 0])) == {0.0, 1.0}


def test_tiny_long_differs_from_tiny_only_in_agent_steps():
    """The leaderboards compare budgets like with like: same models and candidates, more agent steps."""
    tiny, long = dataclasses.asdict(BUDGETS["tiny"]), dataclasses.asdict(BUDGETS["tiny_long"])
    changed = {name for name in tiny if tiny[name] != long[name]}
    assert changed == {"name", "steps_per_round"}
    assert long["rounds"] * long["steps_per_round"] >= 16_000


def test_budgets_validate():
    assert {"tiny", "tiny_long", "small", "paper"} <= set(BUDGETS)
    with pytest.raises(ValueError, match="top_l"):
        get_budget("tiny", top_l=1000)
    with pytest.raises(ValueError, match="unknown budget 'huge'"):
        get_budget("huge")
    with pytest.raises(ValueError, match=r"unknown budget field\(s\) \['epochs'\]"):
        get_budget("tiny", epochs=3)
    with pytest.raises(ValueError, match="rounds must be a non-negative integer"):
        Budget(name="x", rounds=-1, steps_per_round=1, candidates_per_round=1, top_l=1)


def test_train_config_rejects_la_zero_with_a_reason():
    with pytest.raises(ValueError, match="no unsupervised"):
        TrainConfig(la=0.0)
    config = TrainConfig(**TINY, budget_overrides={"rounds": 1})
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["resolved_budget"]["rounds"] == 1


def test_hyperparams_follow_rl_zoo_conventions(tmp_path):
    file = tmp_path / "ppo.yml"
    file.write_text(
        "SwiftHydra-v0:\n  n_timesteps: 1e5\n  policy: MlpPolicy\n  n_envs: 2\n  learning_rate: lin_1e-3\n"
        '  policy_kwargs: "dict(net_arch=[32, 32], activation_fn=nn.ReLU)"\n  noise_type: normal\n  noise_std: 0.3\n'
    )
    kwargs, budget = convert_hyperparams(read_hyperparams(file), latent_dim=4)
    assert budget == {"n_envs": 2} and "n_timesteps" not in kwargs and "policy" not in kwargs
    assert kwargs["learning_rate"](0.5) == pytest.approx(5e-4)
    assert kwargs["policy_kwargs"]["net_arch"] == [32, 32]
    assert kwargs["action_noise"]._sigma.tolist() == [0.3] * 4
    file.write_text("CartPole-v1:\n  n_steps: 8\n")
    with pytest.raises(ValueError, match="no top-level key 'SwiftHydra-v0'"):
        read_hyperparams(file)
    with pytest.raises(ValueError, match="not supported"):
        convert_hyperparams({"normalize": True}, 4)
    with pytest.raises(ValueError, match="cannot evaluate policy_kwargs"):
        convert_hyperparams({"policy_kwargs": "dict(net_arch=__import__('os'))"}, 4)


# ------------------------------------------------------------------------------------------ full runs
@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("reference")
    return run(TrainConfig(**TINY, control=False), run_dir), run_dir


def test_run_writes_everything(reference_run):
    summary, run_dir = reference_run
    budget = get_budget("tiny")
    for name in ("config.json", "metrics.jsonl", "detector.pt", "vae.pt", "synthetic.npz", "summary.json",
                 "val_auc.png", "reward.png", "projection.png", "agent/agent.zip"):  # fmt: skip
        assert (run_dir / name).is_file(), name
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [m["round"] for m in metrics] == list(range(budget.rounds + 1))
    with np.load(run_dir / "synthetic.npz") as kept:
        assert kept["X"].shape == (budget.rounds * budget.top_l, summary["n_features"])
        assert np.isin(kept["round"], range(1, budget.rounds + 1)).all()
        assert kept["X_original"].shape == kept["X"].shape
    assert summary["n_synthetic_kept"] == budget.rounds * budget.top_l
    assert summary["n_exposure_rows"] == 0  # outlier exposure is opt-in
    # Quality floor on the embedded wdbc (measured 0.999 with the tiny budget; margin for platforms).
    assert summary["test"]["swift_hydra"]["auc_roc"] > 0.9
    assert json.loads((run_dir / "summary.json").read_text()) == summary


def _comparable(summary, run_dir):
    with np.load(run_dir / "synthetic.npz") as kept:
        synthetic = kept["X"].copy()
    keep = ("test", "val_auc_roc_per_round", "n_synthetic_kept", "n_validation")
    return {k: summary[k] for k in keep}, synthetic


def test_same_seed_same_summary(reference_run, tmp_path):
    summary, run_dir = reference_run
    again = run(TrainConfig(**TINY, control=False), tmp_path)
    expected, expected_X = _comparable(summary, run_dir)
    got, got_X = _comparable(again, tmp_path)
    assert got == expected
    np.testing.assert_array_equal(got_X, expected_X)


def test_resume_after_a_crash_equals_an_uninterrupted_run(reference_run, tmp_path, monkeypatch):
    summary, run_dir = reference_run
    save = loop.save_checkpoint

    def crash_after_round_1(root, state, policy):
        path = save(root, state, policy)
        if state.round == 1:
            raise RuntimeError("injected crash after round 1")
        return path

    monkeypatch.setattr(loop, "save_checkpoint", crash_after_round_1)
    with pytest.raises(RuntimeError, match="injected crash"):
        run(TrainConfig(**TINY, control=False), tmp_path)
    assert not (tmp_path / "summary.json").exists()
    monkeypatch.setattr(loop, "save_checkpoint", save)

    def must_not_retrain(*args, **kwargs):
        raise AssertionError("resume recomputed a completed stage")

    monkeypatch.setattr(loop, "make_vae", must_not_retrain)  # pre-training is in the checkpoint
    resumed = run(TrainConfig(**TINY, control=False), tmp_path, resume=True)
    assert _comparable(resumed, tmp_path)[0] == _comparable(summary, run_dir)[0]
    np.testing.assert_array_equal(_comparable(resumed, tmp_path)[1], _comparable(summary, run_dir)[1])
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == [0, 1, 2]


def test_fit_swift_hydra_and_the_control():
    from hydra_env import datasets

    split = datasets.adbench_split(*datasets.load("wine"), la=0.3, seed=1)
    detector = fit_swift_hydra(split.X_train, split.y_train, algo="random", budget="tiny", seed=1)
    scores = detector.decision_function(split.X_test)
    assert scores.shape == (len(split.y_test),) and np.isfinite(scores).all()
    control = loop.fit_deployment_control(split.X_train, split.y_train, budget="tiny", seed=1)
    assert control.decision_function(split.X_test).shape == scores.shape
