"""Configuration of a Swift Hydra run: named compute budgets and the run's own settings.

One dataclass per concern, so a setting has a single name in the CLI, in ``config.json`` and in
the Python API:

* :class:`Budget` says *how much* work a run does (rounds, agent steps, detector epochs...).
  Named presets live in :data:`BUDGETS`: ``tiny`` (tests and CI), ``small`` (the CLI default,
  a couple of minutes on a laptop) and ``paper`` (the paper's scale).
* :class:`TrainConfig` says *what* to run (dataset, algorithm, label ratio, seed...) and which
  budget to use, with optional per-field overrides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.typecheck import check_field_types


@dataclass(frozen=True)
class Budget:
    """How much work one Swift Hydra run does.

    Attributes:
        name: Preset name (informational once overrides are applied).
        rounds: Closed-loop rounds (learn -> generate -> select -> retrain). 0 is the
            no-augmentation control.
        steps_per_round: Environment steps the agent learns from in each round.
        candidates_per_round: Synthetic candidates the policy generates after learning, per round.
        top_l: Candidates with the highest reward kept per round (they join the training set
            with label 1).
        episode_length: Steps per environment episode (the env's ``max_steps``).
        n_envs: Parallel environment copies the agent learns from.
        vae_epochs: Conditional-VAE epochs before the first round.
        vae_epochs_per_round: VAE epochs (warm start) on train + kept set after each round.
        detector_epochs: Epochs of the in-loop ``MambaDetector`` before the first round.
        detector_epochs_per_round: Epochs (warm start) of the in-loop detector after each round.
        deploy_epochs: Epochs of the deployment ``MambaMoEDetector`` (trained from scratch).
        n_experts: Experts of the deployment Mixture-of-Mamba-Experts.
        d_model: Width of the Mamba blocks (in-loop and deployment detectors).
        n_layers: Bidirectional Mamba layers of the detectors.
        latent_dim: Latent size of the conditional VAE (the agent's action space).
        gradient_steps: Ascent steps of the ``gradient`` policy per generation.
        max_steps_per_epoch: At most this many minibatches per epoch for the VAE and the Mamba
            detectors (None: every row each epoch). It caps a cell's cost on large sets: the profile
            in ``benchmarks/results/profile`` showed the VAE and in-loop detector fits growing with
            n_train and taking ~70 % of a 7000-row cell.
    """

    name: str
    rounds: int
    steps_per_round: int
    candidates_per_round: int
    top_l: int
    episode_length: int = 16
    n_envs: int = 1
    vae_epochs: int = 60
    vae_epochs_per_round: int = 10
    detector_epochs: int = 20
    detector_epochs_per_round: int = 5
    deploy_epochs: int = 20
    n_experts: int = 3
    d_model: int = 16
    n_layers: int = 2
    latent_dim: int = 8
    gradient_steps: int = 30
    max_steps_per_epoch: int | None = None

    def __post_init__(self) -> None:
        for name in (
            "rounds",
            "steps_per_round",
            "candidates_per_round",
            "top_l",
            "vae_epochs",
            "vae_epochs_per_round",
            "detector_epochs",
            "detector_epochs_per_round",
            "deploy_epochs",
            "gradient_steps",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Budget.{name} must be a non-negative integer, got {value!r}")
        for name in ("episode_length", "n_envs", "n_experts", "d_model", "n_layers", "latent_dim"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Budget.{name} must be a positive integer, got {value!r}")
        cap = self.max_steps_per_epoch
        if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
            raise ValueError(f"Budget.max_steps_per_epoch must be a positive integer or None, got {cap!r}")
        if self.rounds > 0 and self.steps_per_round < 1:
            raise ValueError("Budget.steps_per_round must be >= 1 when rounds > 0")
        if self.top_l > self.candidates_per_round:
            raise ValueError(
                f"Budget.top_l ({self.top_l}) cannot exceed candidates_per_round ({self.candidates_per_round})"
            )

    def replace(self, **overrides: Any) -> Budget:
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown budget field(s) {unknown}; fields: {budget_fields()}")
        return dataclasses.replace(self, **overrides)

    def mamba_kwargs(self, seed: int, device: str = "cpu") -> dict[str, Any]:
        """Constructor arguments every Mamba detector of a run takes from the budget (size, seed, device).

        The in-loop ``MambaDetector`` and the ``mome`` deployment add their own epochs (and experts).
        """
        return {
            "max_steps_per_epoch": self.max_steps_per_epoch,
            "d_model": self.d_model,
            "n_layers": self.n_layers,
            "random_state": seed,
            "device": device,
        }


BUDGETS: dict[str, Budget] = {
    # Seconds: the whole loop on the embedded wdbc, for tests and CI.
    "tiny": Budget(
        name="tiny",
        rounds=2,
        steps_per_round=64,
        candidates_per_round=32,
        top_l=8,
        episode_length=8,
        vae_epochs=15,
        vae_epochs_per_round=2,
        detector_epochs=3,
        detector_epochs_per_round=1,
        deploy_epochs=3,
        n_experts=2,
        d_model=8,
        n_layers=1,
        latent_dim=4,
        gradient_steps=10,
    ),
    # The CLI default (`swift-hydra train`, the benchmark tables): 8 batched walks so the agent's env
    # steps cost one forward pass per 8 samples. Sized so a cell costs a few CatBoost fits (issue 12):
    # the in-loop VAE and detector only steer generation and warm-start each round, so they train for
    # a fixed number of steps (<= 12 minibatches an epoch), not epochs over every row.
    "small": Budget(
        name="small",
        rounds=3,
        steps_per_round=1024,
        candidates_per_round=256,
        top_l=32,
        episode_length=16,
        n_envs=8,
        vae_epochs=25,
        vae_epochs_per_round=3,
        detector_epochs=5,
        detector_epochs_per_round=1,
        deploy_epochs=15,
        n_experts=3,
        d_model=16,
        latent_dim=8,
        gradient_steps=30,
        max_steps_per_epoch=12,
    ),
    # The paper's scale (hours on a CPU; meant for a GPU).
    "paper": Budget(
        name="paper",
        rounds=10,
        steps_per_round=20_000,
        candidates_per_round=2_000,
        top_l=200,
        episode_length=32,
        n_envs=4,
        vae_epochs=300,
        vae_epochs_per_round=30,
        detector_epochs=50,
        detector_epochs_per_round=10,
        deploy_epochs=50,
        n_experts=4,
        d_model=32,
        latent_dim=16,
        gradient_steps=100,
    ),
}
# `tiny`'s models, data sizes and candidates with 16,384 agent steps (2 rounds x 8,192) instead of 128: an
# SB3 agent needs steps in the tens of thousands to learn this env (the packaged yaml files' rl-zoo3
# `n_timesteps` is 20,000), and at `tiny` none can (research/probes/value: rl_static, rl_long). The value
# reward's policy leaderboard runs at it, so that its RL agents are measured after they could learn.
BUDGETS["tiny_long"] = BUDGETS["tiny"].replace(name="tiny_long", steps_per_round=8192)


def budget_fields() -> list[str]:
    """Names of the fields a budget override may set."""
    return [f.name for f in dataclasses.fields(Budget) if f.name != "name"]


def get_budget(name: str | Budget, **overrides: Any) -> Budget:
    """The named preset (or the given budget) with ``overrides`` applied.

    Raises:
        ValueError: unknown preset name or field.
    """
    if isinstance(name, Budget):
        budget = name
    elif name in BUDGETS:
        budget = BUDGETS[name]
    else:
        raise ValueError(f"unknown budget {name!r}; choose one of {sorted(BUDGETS)}")
    return budget.replace(**overrides) if overrides else budget


RUN_OWNED_ENV_FIELDS: dict[str, str] = {
    "dataset": "the run's --dataset",
    "data_dir": "the run's --data-dir",
    "la": "the run's --la",
    "seed": "the run's --seed",
    "device": "the run's --device",
    "latent_dim": "the budget (--budget-set latent_dim=...)",
    "episode_length": "the budget (--budget-set episode_length=...)",
    **{
        name: "the loop, which builds its own VAE from the budget"
        for name in ("vae_hidden", "vae_beta", "vae_epochs", "vae_lr", "vae_batch_size", "vae_anomaly_weight")
    },
    **{
        name: "the loop, which builds its own in-loop detector from the budget"
        for name in ("detector", "detector_epochs", "detector_kwargs")
    },
}
"""``EnvConfig`` fields a Swift Hydra run sets itself (field -> who sets it): not accepted in
``LoopOptions.env_kwargs``, so no setting is silently ignored or given twice."""


@dataclass
class LoopOptions:
    """What a run decides beyond its budget (shared by :func:`swift_hydra_loop` and ``TrainConfig``).

    Attributes:
        deploy: Deployment detector, a name of :data:`agents.deploy.DEPLOY_CHOICES`.
        synthetic_weight: The kept synthetic anomalies together weigh this many times the labeled
            anomalies in the deployment fit (boosters; each row at most 1).
        min_novelty: Candidates whose ``novelty`` rank among the normal rows is below this are never
            kept (evasion by being normal); 0 keeps everything.
        synthetic_gate: Let held-out evidence decide whether the kept rows join the deployment fit
            (:func:`agents.deploy.choose_synthetic_weight`); False: they always join.
        value_gate: With ``synthetic_gate``, the evidence is a CatBoost proxy's cross-fitted held-out
            AUC on every labeled anomaly, on random folds and on k-means groups (the two cuts the
            ``value`` reward terms estimate per step), instead of a validation carve; a set must gain
            by the margin and one bootstrap standard error on a cut (the exposure rows half of one)
            and lose on neither
            (:func:`agents.value_gate.choose_weights_by_value`). It also judges the exposure rows
            (in place of ``exposure_gate``); each set joins only if it pays, and both only if they
            pay together too.
        exposure_weight: Outlier exposure: rows perturbed off the normal rows
            (:func:`agents.exposure.perturbed_normals`) join the deployment fit as anomalies, together
            weighing this many times the labeled anomalies; 0 (default) = none. Helps on anomaly kinds
            never labeled, costs AUC on ADBench's real anomalies (see the README).
        exposure_gate: Let the exposure gate decide whether those rows join
            (:func:`agents.exposure.choose_exposure_weight`: they must raise a proxy's out-of-fold
            AUC-ROC on labeled anomalies held out by group); False: they always join.
        reference_column: Boosted deployments (``catboost``, ``lightgbm``) gain one score column, a
            classifier of the real rows against rows perturbed off them
            (:class:`agents.reference_score.ReferenceClassifier`); the booster learns from the labeled
            anomalies how much to trust it. Off by default: on the full tables it lifts anomaly kinds
            never labeled and costs ADBench AUC (see the README). MoME has no score columns and ignores it.
        synthetic_blend: In (0, 1]: the deployed detector is a :class:`detectors.blend.LogOddsBlend`,
            the fit without synthetic rows and the fit with them (the kept rows that joined and the
            exposure rows) with their log-odds averaged at this weight on the latter; the exposure rows
            then skip their gate (the blend is their hedge) and the gates judge the kept rows only.
            0 (default): the fit with them is deployed alone. Chosen at 0.5 for ``swift_hydra_value``
            on a validation protocol (``research/probes/exposure_blend``).
        env_kwargs: Extra :class:`hydra_env.EnvConfig` fields (``reward_weights``, ``action_scale``...);
            not those in :data:`RUN_OWNED_ENV_FIELDS`, which the run sets itself.
    """

    deploy: str = "catboost"
    synthetic_weight: float = 1.0
    min_novelty: float = 0.5
    synthetic_gate: bool = True
    value_gate: bool = False
    exposure_weight: float = 0.0
    exposure_gate: bool = True
    reference_column: bool = False
    synthetic_blend: float = 0.0
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()  # once, where the options are built (``dataclasses.replace`` builds anew)

    def validate(self) -> None:
        """Raises ``ValueError`` naming the first bad field (env settings are checked by ``EnvConfig``).

        Called on construction; an unknown env setting in ``env_kwargs`` is a ``TypeError`` naming it.
        """
        from agents.deploy import check_deploy
        from hydra_env.config import EnvConfig

        check_deploy(self.deploy)
        if not (np.isfinite(self.synthetic_weight) and self.synthetic_weight >= 0):
            raise ValueError(f"synthetic_weight must be a finite number >= 0, got {self.synthetic_weight}")
        if not (np.isfinite(self.exposure_weight) and self.exposure_weight >= 0):
            raise ValueError(f"exposure_weight must be a finite number >= 0, got {self.exposure_weight}")
        if not 0.0 <= self.synthetic_blend <= 1.0:
            raise ValueError(f"synthetic_blend must lie in [0, 1], got {self.synthetic_blend}")
        if not 0.0 <= self.min_novelty <= 1.0:
            raise ValueError(f"min_novelty must lie in [0, 1], got {self.min_novelty}")
        owned = sorted(set(self.env_kwargs) & set(RUN_OWNED_ENV_FIELDS))
        if owned:
            raise ValueError(
                f"env setting {owned[0]!r} is set by {RUN_OWNED_ENV_FIELDS[owned[0]]}, not by env_kwargs"
            )
        check_field_types(EnvConfig, self.env_kwargs, "env setting")
        EnvConfig.from_kwargs(**self.env_kwargs)


@dataclass
class TrainConfig:
    """Everything that defines one ``swift-hydra train`` run (saved as ``config.json``).

    Attributes:
        dataset: Embedded name (``wdbc``, ``wine``), an ADBench name (``cardio``, ``6_cardio``)
            or a path to an ``.npz`` file with ``X`` and ``y``.
        algo: Generation policy: an SB3 algorithm (``ppo``, ``sac``, ``td3``, ``a2c``, ``ddpg``,
            ``tqc``) or a non-RL policy (``random``, ``gradient``).
        la: Ratio of labeled anomalies in the training split (ADBench protocol); must be > 0.
        n_labeled: Keep exactly this many labeled training anomalies instead of the ratio ``la`` (all
            of them when the split has fewer); the unlabeled rest stay among the normals.
        seed: Seed of the split and of every model in the run.
        budget: Budget preset name.
        budget_overrides: Fields of the preset to change (e.g. ``{"rounds": 0}``).
        algo_kwargs: Keyword arguments of the agent's constructor (``learning_rate``,
            ``policy_kwargs``...); they win over ``hyperparams`` and the budget's defaults.
        hyperparams: Optional rl-zoo3 style yaml file (top-level key ``SwiftHydra-v0``).
        data_dir: Folder of ADBench ``.npz`` files for non-embedded datasets.
        val_fraction: Share of the training split carved out (stratified) for model selection.
        deterministic: Whether generation rollouts use the policy's mean action.
        options: Deployment detector, synthetic weighting, acceptance rule and env settings
            (:class:`LoopOptions`; from the shell one flag per field, e.g. ``--deploy``,
            ``--env-kwargs``, and one per ``EnvConfig`` field, e.g. ``--reward-weights``).
        control: Also train the no-augmentation control (same deployment detector, train only).
        device: Torch device of the VAE and detectors (``cpu``, ``cuda``); the agent stays on the CPU.
        tensorboard: Write SB3 tensorboard logs under ``<run_dir>/tensorboard``.
        progress: Show progress bars.
    """

    dataset: str = "wdbc"
    algo: str = "ppo"
    la: float = 0.1
    n_labeled: int | None = None
    seed: int = 1
    budget: str = "small"
    budget_overrides: dict[str, Any] = field(default_factory=dict)
    algo_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparams: str | None = None
    data_dir: str | None = None
    val_fraction: float = 0.2
    deterministic: bool = False
    options: LoopOptions = field(default_factory=LoopOptions)
    control: bool = True
    device: str = "cpu"
    tensorboard: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < float(self.la) <= 1.0:
            raise ValueError(
                f"la must be in (0, 1], got {self.la}: Swift Hydra conditions its generator and its "
                "agent's start states on labeled anomalies, so it has no unsupervised (la=0) path"
            )
        if not 0.0 < self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.n_labeled is not None and (
            isinstance(self.n_labeled, bool) or not isinstance(self.n_labeled, int) or self.n_labeled < 1
        ):
            raise ValueError(
                f"n_labeled must be a positive integer (a count of labeled anomalies), got {self.n_labeled!r}"
            )
        if isinstance(self.options, dict):
            self.options = LoopOptions(**self.options)  # validated where it is built
        if not 0 <= int(self.seed) < 2**32:
            raise ValueError(f"seed must be in [0, 2**32), got {self.seed}")
        self.resolved_budget()  # validates the preset and overrides early

    def resolved_budget(self) -> Budget:
        """The budget preset with ``budget_overrides`` applied."""
        return get_budget(self.budget, **self.budget_overrides)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, including the resolved budget (for ``config.json``)."""
        data = dataclasses.asdict(self)
        data["resolved_budget"] = dataclasses.asdict(self.resolved_budget())
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict` (ignores the informational ``resolved_budget``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# ----------------------------------------------------------------------------- rl-zoo3 style hyperparameters
ENV_ID = "SwiftHydra-v0"
HYPERPARAMS_DIR = Path(__file__).resolve().parent / "hyperparams"
# rl-zoo3 keys that configure the experiment rather than the agent's constructor.
_ZOO_IGNORED = ("n_timesteps", "policy", "env_kwargs")  # env_kwargs: read by agents.experiment
_ZOO_UNSUPPORTED = (
    "normalize",
    "env_wrapper",
    "frame_stack",
    "vec_env_wrapper",
    "callback",
    "normalize_kwargs",
)


def default_hyperparams_file(algo: str) -> Path | None:
    """The packaged ``agents/hyperparams/<algo>.yml``, if there is one."""
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    return path if path.is_file() else None


def read_hyperparams(path: str | Path, env_id: str = ENV_ID) -> dict[str, Any]:
    """The raw entry of ``env_id`` in an rl-zoo3 style yaml file (values not yet converted).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not yaml, no ``env_id`` key, or not a mapping.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"hyperparameter file not found: {path}")
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid yaml: {err}") from err
    if not isinstance(content, dict) or env_id not in content:
        keys = list(content) if isinstance(content, dict) else []
        raise ValueError(f"{path} has no top-level key {env_id!r} (rl-zoo3 format); found {keys}")
    entry = content[env_id] or {}
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: the {env_id!r} entry must be a mapping of hyperparameters")
    return dict(entry)


def convert_hyperparams(raw: dict[str, Any], latent_dim: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """rl-zoo3 conventions -> ``(algo_kwargs, budget_overrides)``.

    * ``policy_kwargs: "dict(net_arch=[64, 64])"`` is evaluated as rl-zoo3 does (names ``dict``, ``nn``,
      ``th`` available); the file is trusted like any config file.
    * ``lin_3e-4`` strings become linear schedules (SB3 progress 1 -> 0).
    * ``noise_type`` (``normal``/``ornstein-uhlenbeck``) + ``noise_std`` become ``action_noise``.
    * ``n_envs`` sets the budget's ``n_envs``; ``n_timesteps`` and ``policy`` are ignored (the budget
      sets the steps, the policy is always an MLP).

    Raises:
        ValueError: keys rl-zoo3 supports that Swift Hydra does not (``normalize``, wrappers...).
    """
    kwargs = dict(raw)
    unsupported = sorted(set(kwargs) & set(_ZOO_UNSUPPORTED))
    if unsupported:
        raise ValueError(f"hyperparameters {unsupported} are not supported by swift-hydra train")
    budget_overrides: dict[str, Any] = {}
    if "n_envs" in kwargs:
        budget_overrides["n_envs"] = int(kwargs.pop("n_envs"))
    for key in _ZOO_IGNORED:
        kwargs.pop(key, None)
    noise_type, noise_std = kwargs.pop("noise_type", None), kwargs.pop("noise_std", None)
    if noise_type is not None:
        kwargs["action_noise"] = _action_noise(str(noise_type), float(noise_std or 0.1), latent_dim)
    if isinstance(kwargs.get("policy_kwargs"), str):
        kwargs["policy_kwargs"] = _eval_policy_kwargs(kwargs["policy_kwargs"])
    for key, value in list(kwargs.items()):
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[key] = _linear_schedule(value)
    return kwargs, budget_overrides


def _eval_policy_kwargs(text: str) -> dict[str, Any]:
    import torch
    from torch import nn

    try:
        value = eval(text, {"__builtins__": {}}, {"dict": dict, "nn": nn, "th": torch, "list": list})  # noqa: S307
    except Exception as err:
        raise ValueError(f"cannot evaluate policy_kwargs {text!r}: {err}") from err
    if not isinstance(value, dict):
        raise ValueError(f"policy_kwargs must evaluate to a dict, got {type(value).__name__}")
    return value


def _linear_schedule(text: str) -> Any:
    try:
        start = float(text[len("lin_") :])
    except ValueError as err:
        raise ValueError(f"bad linear schedule {text!r}; expected e.g. 'lin_3e-4'") from err

    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


def _action_noise(kind: str, std: float, latent_dim: int) -> Any:
    import numpy as np
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    mean, sigma = np.zeros(latent_dim), std * np.ones(latent_dim)
    if kind == "normal":
        return NormalActionNoise(mean, sigma)
    if kind == "ornstein-uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(mean, sigma)
    raise ValueError(f"unknown noise_type {kind!r}; choose 'normal' or 'ornstein-uhlenbeck'")
