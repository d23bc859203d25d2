"""benchmarks.methods: the runners' MoME is the tables' MoME, and the value loop asks for its own settings."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from agents.config import BUDGETS
from agents.deploy import make_deploy_detector
from benchmarks.methods import METHODS
from detectors.moe import TABLE_EPOCHS, TABLE_SETTINGS
from hydra_env import datasets


@pytest.fixture(scope="module")
def wdbc():
    return datasets.adbench_split(*datasets.load("wdbc"), la=0.1, seed=1)


def test_runner_mome_fits_the_table_settings_with_a_quality_floor(wdbc):
    det = METHODS["mome"].fit(wdbc.X_train, wdbc.y_train, seed=1, budget="tiny", n_jobs=1)
    params = det.get_params()
    assert {k: params[k] for k in TABLE_SETTINGS} == TABLE_SETTINGS
    assert params["epochs"] == TABLE_EPOCHS and params["random_state"] == 1
    # The members per expert and every row trained: the network holds one head per member.
    assert det.network_.experts[0].head.out_features == TABLE_SETTINGS["ensemble_size"]
    assert roc_auc_score(wdbc.y_test, det.decision_function(wdbc.X_test)) > 0.9


def test_runner_mome_ple_is_the_table_mome_with_piecewise_linear_tokens(wdbc):
    from detectors.tokens import PiecewiseLinearTokenizer

    det = METHODS["mome_ple"].fit(wdbc.X_train, wdbc.y_train, seed=1, budget="tiny", n_jobs=1)
    params = det.get_params()
    assert {k: params[k] for k in TABLE_SETTINGS} == TABLE_SETTINGS and params["epochs"] == TABLE_EPOCHS
    assert isinstance(det.network_.experts[0].tokenizer, PiecewiseLinearTokenizer)
    assert roc_auc_score(wdbc.y_test, det.decision_function(wdbc.X_test)) > 0.9


@pytest.mark.parametrize("budget", ["tiny", "small"])
def test_mome_deployment_uses_the_table_settings_and_the_budget_size(budget):
    spec = BUDGETS[budget]
    params = make_deploy_detector("mome", spec, seed=3).get_params()
    assert params["ensemble_size"] == TABLE_SETTINGS["ensemble_size"]
    assert params["validation_fraction"] == TABLE_SETTINGS["validation_fraction"]
    # The step cap, epochs and size stay the budget's, like the in-loop detector's.
    assert params["max_steps_per_epoch"] == spec.max_steps_per_epoch
    assert (params["epochs"], params["n_experts"], params["d_model"]) == (
        spec.deploy_epochs,
        spec.n_experts,
        spec.d_model,
    )


def test_runner_epochs_mirror_the_table_epochs():
    """`benchmarks.methods` keeps a torch-free literal of `detectors.moe.TABLE_EPOCHS`; they must agree."""
    from benchmarks.methods import _MOME_EPOCHS

    assert _MOME_EPOCHS["tiny"] == _MOME_EPOCHS["small"] == TABLE_EPOCHS


def test_the_value_loop_asks_for_its_reward_gate_exposure_rows_and_hedge(monkeypatch):
    import agents.loop as loop
    from benchmarks.methods import EXPOSURE_METHOD_WEIGHT, METHODS, VALUE_LOOP_BLEND, VALUE_LOOP_REWARD

    seen = {}

    def record(X, y, *, budget, seed, options):
        seen["options"] = options
        return "fitted"

    monkeypatch.setattr(loop, "fit_swift_hydra", record)
    X, y = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    assert METHODS["swift_hydra_value"].fit(X, y, seed=1, budget="tiny", n_jobs=1) == "fitted"
    options = seen["options"]
    assert (
        options.value_gate and options.synthetic_gate and options.synthetic_blend == VALUE_LOOP_BLEND == 0.5
    )
    assert (
        options.exposure_weight == EXPOSURE_METHOD_WEIGHT
        and options.env_kwargs["reward_weights"] == VALUE_LOOP_REWARD
    )
    # The other methods keep the unblended deployment.
    METHODS["swift_hydra_exposure_gated"].fit(X, y, seed=1, budget="tiny", n_jobs=1)
    assert seen["options"].synthetic_blend == 0.0
