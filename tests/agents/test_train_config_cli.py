"""``swift-hydra train`` flags come from the configuration dataclasses, and env settings reach the env.

Issue 13: one configuration tree reachable from the shell (a new field is a flag with no other edit).
Issue 10: the reward weights given to ``swift-hydra train`` (``--env-kwargs``, ``--reward-weights``, an
rl-zoo3 yaml's ``env_kwargs``) reach the env the agent learns on and are recorded in ``config.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from typing import Any

import pytest

from agents.config import RUN_OWNED_ENV_FIELDS, LoopOptions, TrainConfig
from agents.train import add_dataclass_flags, attribute_docs, build_parser, config_from_args, main
from hydra_env import EnvConfig, SwiftHydraVectorEnv

# Fields whose flag keeps a historic name; every other field is --field-name.
RENAMED = {"budget_overrides": "--budget-set"}
WEIGHTS = {"miss": 1.0, "novelty": 0.25}


def flag_of(name: str) -> str:
    return RENAMED.get(name, "--" + name.replace("_", "-"))


def expected_flags() -> list[tuple[type, str]]:
    """``(class, field)`` of every field that must be a flag: TrainConfig, LoopOptions, EnvConfig."""
    out = []
    for cls in (TrainConfig, LoopOptions, EnvConfig):
        for spec in dataclasses.fields(cls):
            if dataclasses.is_dataclass(spec.type) or spec.name == "options":
                continue  # a nested dataclass is its own fields
            if cls is EnvConfig and spec.name in RUN_OWNED_ENV_FIELDS:
                continue
            out.append((cls, spec.name))
    return out


@pytest.fixture(scope="module")
def help_text() -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    return out.getvalue()


def test_help_lists_a_flag_for_every_field(help_text):
    for cls, name in expected_flags():
        flag = flag_of(name)
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text), (
            f"{cls.__name__}.{name}: no {flag}"
        )
    assert "SwiftHydra-v0 settings (EnvConfig)" in help_text
    for flag in ("--reward-weights", "--entropy-decay", "--no-synthetic-gate", "--no-control", "--quiet"):
        assert flag in help_text


def test_every_field_has_its_docstring_line_as_help(help_text):
    flat_help = " ".join(help_text.split())
    for cls, name in expected_flags():
        doc = attribute_docs(cls).get(name)
        assert doc, f"{cls.__name__}.{name} has no line in the class docstring's Attributes section"
        assert " ".join(doc.split())[:40] in flat_help, f"{cls.__name__}.{name}: docstring not in --help"


def test_the_run_owned_env_fields_are_the_ones_the_run_sets():
    # Changing this set is a decision: the loop (agents/loop.py) sets these from the run and budget.
    vae = {"vae_hidden", "vae_beta", "vae_epochs", "vae_lr", "vae_batch_size", "vae_anomaly_weight"}
    assert set(RUN_OWNED_ENV_FIELDS) == {
        "dataset", "data_dir", "la", "seed", "device", "latent_dim", "episode_length",
        "detector", "detector_epochs", "detector_kwargs", *vae,
    }  # fmt: skip
    assert set(RUN_OWNED_ENV_FIELDS) <= {spec.name for spec in dataclasses.fields(EnvConfig)}


def test_no_flags_give_the_dataclass_defaults():
    args = build_parser().parse_args([])
    assert config_from_args(args) == TrainConfig()
    assert not any(name.startswith("env:") for name in vars(args))  # env flags are set only when given


@pytest.mark.parametrize(
    ("argv", "check"),
    [
        (["--rounds", "0"], lambda c, a: c.budget_overrides == {"rounds": 0}),
        (["--budget-set", "n_envs=2", "top_l=4"], lambda c, a: c.budget_overrides == {"n_envs": 2, "top_l": 4}),
        (["--algo-kwargs", "learning_rate=1e-3"], lambda c, a: c.algo_kwargs == {"learning_rate": 1e-3}),
        (["--hyperparams", "my.yml"], lambda c, a: c.hyperparams == "my.yml"),
        (["--no-control"], lambda c, a: c.control is False),
        (["--quiet"], lambda c, a: c.progress is False),
        (["--no-progress"], lambda c, a: c.progress is False),
        (["--deterministic"], lambda c, a: c.deterministic is True),
        (["--no-synthetic-gate"], lambda c, a: c.options.synthetic_gate is False),
        (["--deploy", "lightgbm"], lambda c, a: c.options.deploy == "lightgbm"),
        (["--synthetic-weight", "2", "--min-novelty", "0"],
         lambda c, a: (c.options.synthetic_weight, c.options.min_novelty) == (2.0, 0.0)),
        (["--la", "0.2", "--seed", "3", "--val-fraction", "0.25"],
         lambda c, a: (c.la, c.seed, c.val_fraction) == (0.2, 3, 0.25)),
        (["--run-dir", "r", "--resume", "q", "--torch-threads", "0"],
         lambda c, a: (a.run_dir, a.resume, a.torch_threads) == ("r", "q", 0)),
    ],
)  # fmt: skip
def test_the_existing_flags_keep_their_meaning(argv, check):
    args = build_parser().parse_args(argv)
    assert check(config_from_args(args), args)


def test_env_flags_join_env_kwargs_and_win_over_them():
    args = build_parser().parse_args(
        ["--env-kwargs", "reward_weights=miss:1,novelty:0.25", "action_scale=0.3", "entropy_k=5",
         "--action-scale", "0.2", "--entropy-decay", "0.5"]
    )  # fmt: skip
    env_kwargs = config_from_args(args).options.env_kwargs
    # The shell form of reward_weights is recorded as the dict EnvConfig stores.
    assert env_kwargs == {
        "reward_weights": WEIGHTS,
        "action_scale": 0.2,
        "entropy_k": 5,
        "entropy_decay": 0.5,
    }
    args = build_parser().parse_args(["--reward-weights", "miss:1,novelty:0.25"])
    assert config_from_args(args).options.env_kwargs == {"reward_weights": WEIGHTS}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env-kwargs", "la=0.2"], "env setting 'la' is set by the run's --la"),
        (["--env-kwargs", "latent_dim=4"], "--budget-set latent_dim"),
        (["--env-kwargs", "vae_epochs=4"], "builds its own VAE"),
        (["--env-kwargs", "no_such_field=1"], "unknown EnvConfig field"),
        (["--reward-weights", "miss:1,bogus:2"], "bogus"),
        (["--entropy-decay", "2"], "entropy_decay"),
    ],
)
def test_bad_env_settings_exit_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_malformed_reward_weights_flag_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--reward-weights", "miss=1"])
    assert exc.value.code == 2 and "reward_weights must look like" in capsys.readouterr().err


def test_a_new_dataclass_field_becomes_a_flag_with_no_other_edit():
    @dataclasses.dataclass
    class Settings:
        """Test settings.

        Attributes:
            fast_mode: Whether to hurry.
            n_items: How many items.
            ratio: A share, in [0, 1].
            label: A name, or None.
            extra: Anything else.
            widths: Layer widths.
        """

        fast_mode: bool = False
        n_items: int = 3
        ratio: float = 0.5
        label: str | None = None
        extra: dict[str, Any] = dataclasses.field(default_factory=dict)
        widths: tuple[int, ...] = (8, 8)

    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, Settings)
    defaults = vars(parser.parse_args([]))
    assert defaults == dataclasses.asdict(Settings())
    args = parser.parse_args(
        ["--fast-mode", "--n-items", "7", "--ratio", "0.25", "--label", "x", "--extra", "a=1", "b=[2]",
         "--widths", "4", "2"]
    )  # fmt: skip
    assert vars(args) == {
        "fast_mode": True, "n_items": 7, "ratio": 0.25, "label": "x", "extra": {"a": 1, "b": [2]}, "widths": [4, 2]
    }  # fmt: skip
    assert parser.parse_args(["--no-fast-mode"]).fast_mode is False
    assert "How many items. (default: 3)" in " ".join(parser.format_help().split())


# ----------------------------------------------------------------------------- the env the agent learns on
@pytest.fixture()
def built_envs(monkeypatch):
    """Every SwiftHydraVectorEnv built during the test (the loop builds the one the agent learns on)."""
    envs: list[SwiftHydraVectorEnv] = []
    original = SwiftHydraVectorEnv.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        envs.append(self)

    monkeypatch.setattr(SwiftHydraVectorEnv, "__init__", spy)
    return envs


def _train(run_dir, *extra: str) -> dict[str, Any]:
    argv = ["--budget", "tiny", "--rounds", "1", "--quiet", "--no-control", "--algo", "ppo", "--dataset", "wdbc",
            "--run-dir", str(run_dir), *extra]  # fmt: skip
    assert main(argv) == 0
    return json.loads((run_dir / "config.json").read_text())


def _assert_env_weights(envs, weights=WEIGHTS) -> None:
    assert envs, "the run built no SwiftHydraVectorEnv"
    for env in envs:
        assert env.config.reward_weights == weights
        assert env.core.reward.weights() == weights  # miss and novelty do not decay with the round


@pytest.mark.parametrize(
    "flags",
    [["--env-kwargs", "reward_weights=miss:1,novelty:0.25"], ["--reward-weights", "miss:1,novelty:0.25"]],
    ids=["env-kwargs", "reward-weights"],
)
def test_train_reward_weights_reach_the_env_and_config_json(flags, built_envs, tmp_path):
    saved = _train(tmp_path / "run", *flags)
    _assert_env_weights(built_envs)
    assert saved["config"]["options"]["env_kwargs"] == {"reward_weights": WEIGHTS}


def test_a_yaml_env_kwargs_entry_reaches_the_env_under_the_flags(built_envs, tmp_path):
    hyperparams = tmp_path / "ppo.yml"
    hyperparams.write_text(
        "SwiftHydra-v0:\n"
        "  learning_rate: 3.0e-4\n"
        "  env_kwargs:\n"
        "    reward_weights: {miss: 1, novelty: 0.25}\n"
        "    action_scale: 0.3\n"
    )
    saved = _train(tmp_path / "run", "--hyperparams", str(hyperparams), "--action-scale", "0.2")
    _assert_env_weights(built_envs)
    assert all(env.config.action_scale == 0.2 for env in built_envs)  # the flag wins over the yaml
    assert saved["hyperparams_raw"]["env_kwargs"]["reward_weights"] == {"miss": 1, "novelty": 0.25}
    assert saved["config"]["options"]["env_kwargs"] == {"action_scale": 0.2}


def test_a_yaml_env_kwargs_entry_with_a_run_owned_field_exits_2(tmp_path, capsys):
    hyperparams = tmp_path / "ppo.yml"
    hyperparams.write_text("SwiftHydra-v0:\n  env_kwargs:\n    episode_length: 4\n")
    assert (
        main(["--budget", "tiny", "--hyperparams", str(hyperparams), "--run-dir", str(tmp_path / "r")]) == 2
    )
    assert "--budget-set episode_length" in capsys.readouterr().err
