"""The closed Swift Hydra loop, driven by any generation policy (SB3 agent, ``random``, ``gradient``).

::

    train split --carve (stratified)--> fit part + validation part (model selection only)
    fit part -> ConditionalVAE.fit -> MambaDetector.fit (pre-training)          [checkpoint round 0]
    for round k = 1..R:
        reseed(seed, k)                       # a round is a pure function of the last checkpoint
        agent.learn(steps_per_round)          # on SwiftHydra-v0; the agent persists across rounds
        candidates, rewards = agent.generate(candidates_per_round)
        RoundStep: select top_l (distinct, spread, novel enough) -> augment -> refit detector + VAE
        validation AUC of the detector                                          [checkpoint round k]
    deployment detector (``deploy``: catboost by default), from scratch on the full train split + the
    kept synthetic anomalies if they raise a proxy's validation AUC (else none; see agents.deploy)

:func:`fit_swift_hydra` is the entry point of the benchmark runner; :func:`agents.experiment.run`
adds datasets, the no-augmentation control, test metrics and the run directory.

Randomness: every round starts with :func:`seed_round`, the one documented place where the global
torch/NumPy/``random`` generators are seeded (SB3 draws from them); everything else uses local
generators seeded from ``seed``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from agents.checkpoint import CHECKPOINTS, LoopState, latest_checkpoint, load_checkpoint, save_checkpoint
from agents.components import (
    agent_env,
    build_policy,
    make_env,
    make_loop_detector,
    make_vae,
    policy_for,
    resolve_algo_kwargs,
)
from agents.config import Budget, LoopOptions, get_budget
from agents.policies import GenerationPolicy, core_of
from agents.registry import OFF_POLICY, check_algo


# --------------------------------------------------------------------------------------------- helpers
def seed_round(seed: int, round_index: int) -> int:
    """Seeds the global generators for one round and returns the round's seed."""
    from stable_baselines3.common.utils import set_random_seed

    round_seed = int(np.random.SeedSequence([int(seed), int(round_index)]).generate_state(1)[0] % (2**31))
    set_random_seed(round_seed)
    return round_seed


def auc_scores(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """AUC-ROC and AUC-PR (average precision); ``None`` when ``y_true`` has a single class."""
    y_true = np.asarray(y_true)
    if y_true.min() == y_true.max():
        return {"auc_roc": None, "auc_pr": None}
    return {
        "auc_roc": float(roc_auc_score(y_true, scores)),
        "auc_pr": float(average_precision_score(y_true, scores)),
    }


def carve_validation(
    X: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified ``(X_fit, y_fit, X_val, y_val)`` with at least one labeled anomaly on each side.

    Each class sends ``round(fraction * count)`` rows to validation, but the anomalies send at least
    one when there are two or more and always keep one for fitting. With a single labeled anomaly the
    validation part has none (validation AUC is then ``None``).
    """
    y = np.asarray(y).astype(np.int64)
    anomalies, normals = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(anomalies) == 0:
        raise ValueError("the training split has no labeled anomaly (y == 1); Swift Hydra needs at least one")
    rng = np.random.default_rng(seed)
    n_val_anomalies = (
        0 if len(anomalies) < 2 else min(len(anomalies) - 1, max(1, round(fraction * len(anomalies))))
    )
    n_val_normals = min(len(normals) - 1, round(fraction * len(normals)))
    val_idx = np.concatenate(
        [rng.permutation(anomalies)[:n_val_anomalies], rng.permutation(normals)[: max(0, n_val_normals)]]
    )
    val_mask = np.zeros(len(y), dtype=bool)
    val_mask[val_idx] = True
    return X[~val_mask], y[~val_mask], X[val_mask], y[val_mask]


# --------------------------------------------------------------------------------------------- the loop
@dataclasses.dataclass
class LoopResult:
    """What :func:`swift_hydra_loop` returns.

    Attributes:
        detector: The fitted deployment detector.
        loop_detector: The in-loop ``MambaDetector`` after the last round.
        vae: The conditional VAE after the last round.
        policy: The generation policy.
        kept_X: Kept synthetic anomalies (scaled feature space), ``kept_reward`` / ``kept_round`` alike.
        metrics: One dict per round (round 0 = after pre-training), validation metrics only.
        X_val, y_val: The validation part carved from the training split.
        deploy_gate: The weight the kept rows got in the deployment fit and the validation evidence
            behind it (see :func:`agents.deploy.choose_synthetic_weight`).
        exposure: The outlier-exposure rows of the deployment fit (``LoopOptions.exposure_weight``);
            shape ``(0, d)`` when it is 0 or the exposure gate left them out (``deploy_gate`` then
            records ``exposure_weight_used`` and the gate's evidence).
    """

    detector: Any
    loop_detector: Any
    vae: Any
    policy: GenerationPolicy | None
    kept_X: np.ndarray
    kept_reward: np.ndarray
    kept_round: np.ndarray
    metrics: list[dict[str, Any]]
    X_val: np.ndarray
    y_val: np.ndarray
    deploy_gate: dict[str, Any] = dataclasses.field(default_factory=dict)
    exposure: np.ndarray | None = None


def swift_hydra_loop(
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    algo: str = "ppo",
    budget: str | Budget = "small",
    seed: int = 1,
    algo_kwargs: dict[str, Any] | None = None,
    options: LoopOptions | None = None,
    val_fraction: float = 0.2,
    deterministic: bool = False,
    run_dir: str | Path | None = None,
    resume: bool = False,
    tensorboard_log: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_round_end: Callable[[dict[str, Any]], None] | None = None,
    device: str = "cpu",
) -> LoopResult:
    """Runs the closed loop and fits the deployment detector (see the module docstring).

    Args:
        X_train: Training rows, MinMax-scaled to [0, 1] on the training split (as ``Split.X_train``).
        y_train: 1 for labeled anomalies, 0 for normal or unlabeled rows.
        algo: A name of :data:`agents.registry.ALGO_CHOICES`.
        budget: A preset name or a :class:`Budget`.
        seed: Seed of the validation carve, the models and the agent.
        algo_kwargs: Policy constructor arguments (win over the budget-aware defaults).
        options: Deployment detector, synthetic weighting, acceptance rule and env settings.
        val_fraction: Share of the training split used for validation.
        deterministic: Mean actions for generation rollouts (default: sample, for diversity).
        run_dir: Where checkpoints go (one per round, atomic); ``None``: no checkpoints.
        resume: Continue from the newest checkpoint in ``run_dir``.
        tensorboard_log: SB3 tensorboard folder.
        progress: Called as ``progress(stage, done, total)``.
        on_round_end: Called with each round's metrics dict once the round is checkpointed.
        device: Torch device of the VAE and detectors (the agent's small MLPs stay on the CPU).

    Returns:
        A :class:`LoopResult`.
    """
    from agents.deploy import check_deploy

    algo = check_algo(algo)
    budget = get_budget(budget)
    options = options or LoopOptions()
    check_deploy(options.deploy)
    X_train = np.asarray(X_train, dtype=np.float64)
    y_train = np.asarray(y_train).astype(np.int64).ravel()
    if X_train.ndim != 2 or len(X_train) != len(y_train) or not np.isfinite(X_train).all():
        raise ValueError(f"X_train must be a finite 2-D array with one row per label, got {X_train.shape}")
    run = _LoopRun(
        algo, budget, seed, options, deterministic, progress or _silent, device,
        *carve_validation(X_train, y_train, val_fraction, seed),
    )  # fmt: skip
    ckpt_root = Path(run_dir) / CHECKPOINTS if run_dir is not None else None
    latest = latest_checkpoint(run_dir) if (resume and run_dir is not None) else None
    state = load_checkpoint(latest, device=device) if latest is not None else run.pretrain()
    env_kwargs = {"device": device, **options.env_kwargs}
    vector_env = make_env(run.X_fit, run.y_fit, state.vae, state.detector, budget, seed, **env_kwargs)
    step = run.round_step(state, vector_env)
    policy = None
    if budget.rounds > 0:
        kwargs = resolve_algo_kwargs(algo, budget, algo_kwargs)
        policy = policy_for(algo, vector_env, seed, kwargs, latest, tensorboard_log)
    if latest is None:
        _end_round(state, policy, ckpt_root, on_round_end)
    for k in range(state.round + 1, budget.rounds + 1):
        run.play_round(k, state, policy, step)
        _end_round(state, policy, ckpt_root, on_round_end)
    return run.deploy(state, policy, X_train, y_train)


def _silent(stage: str, done: int, total: int) -> None:
    """The default ``progress`` callback: reports nothing."""


@dataclasses.dataclass
class _LoopRun:
    """The settings of one :func:`swift_hydra_loop` call and its named steps (pre-train, round, deploy)."""

    algo: str
    budget: Budget
    seed: int
    options: LoopOptions
    deterministic: bool
    report: Callable[[str, int, int], None]
    device: str
    X_fit: np.ndarray
    y_fit: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray

    def pretrain(self) -> LoopState:
        """Round 0: the VAE and the in-loop detector fitted on the fit part, nothing kept yet."""
        seed_round(self.seed, 0)
        self.report("pre-training VAE and detector", 0, 1)
        vae = make_vae(self.budget, self.seed, self.device).fit(self.X_fit, self.y_fit)
        detector = make_loop_detector(self.budget, self.seed, self.device).fit(self.X_fit, self.y_fit)
        empty = np.zeros((0, self.X_fit.shape[1]), dtype=np.float32)
        state = LoopState(0, vae, detector, empty, np.zeros(0), np.zeros(0, dtype=np.int64), [])
        state.metrics.append({"round": 0, **_val_metrics(detector, self.X_val, self.y_val), "n_kept": 0})
        return state

    def round_step(self, state: LoopState, vector_env: Any) -> Any:
        """The shared :class:`~hydra_env.rounds.RoundStep`, restored to ``state`` (fresh or resumed)."""
        from hydra_env.rounds import RoundStep

        core = core_of(vector_env)
        step = RoundStep(
            state.detector, self.X_fit, self.y_fit, top_l=self.budget.top_l, core=core, vae=state.vae,
            vae_epochs=self.budget.vae_epochs_per_round, min_novelty=self.options.min_novelty,
        )  # fmt: skip
        step.restore(state.kept_X, state.kept_reward, state.kept_round, state.round)
        core.set_detector_state(None, state.round)
        core.add_anomalies(state.kept_X)
        return step

    def play_round(self, k: int, state: LoopState, policy: GenerationPolicy, step: Any) -> None:
        """Round ``k``: learn, generate, then select -> augment -> refit; updates ``state`` in place."""
        started = time.perf_counter()
        rounds = self.budget.rounds
        round_seed = seed_round(self.seed, k)
        policy.reseed(round_seed)
        self.report(f"round {k}/{rounds}: {self.algo} learning", k - 1, rounds)
        policy.learn(self.budget.steps_per_round)
        policy.reseed(round_seed + 1)
        candidates, rewards = policy.generate(
            self.budget.candidates_per_round, deterministic=self.deterministic
        )
        self.report(f"round {k}/{rounds}: retraining detector", k - 1, rounds)
        _, kept_rewards = step(candidates, rewards)
        state.round, state.kept_X, state.kept_reward, state.kept_round = (
            k, step.kept_X, step.kept_reward, step.kept_round,
        )  # fmt: skip
        state.metrics.append(
            {
                "round": k,
                **_val_metrics(state.detector, self.X_val, self.y_val),
                "reward_mean": float(np.mean(rewards)),
                "reward_max": float(np.max(rewards)),
                "kept_reward_mean": float(np.mean(kept_rewards)) if len(kept_rewards) else None,
                "n_candidates_distinct": int(len(np.unique(np.round(candidates, 6), axis=0))),
                "n_kept": int(len(state.kept_X)),
                "seconds": round(time.perf_counter() - started, 3),
            }
        )

    def deploy(
        self, state: LoopState, policy: GenerationPolicy | None, X_train: np.ndarray, y_train: np.ndarray
    ) -> LoopResult:
        """The deployment detector on the whole training split (+ the kept rows if the gate lets them in)."""
        from agents.deploy import choose_synthetic_weight, fit_deployment, joins_without_gate
        from agents.exposure import gated_exposure_rows

        rounds = self.budget.rounds
        self.report(f"fitting the deployment detector ({self.options.deploy})", rounds, rounds)
        seed_round(self.seed, rounds + 1)
        weight, evidence, exposure, exposure_gate = self.options.synthetic_weight, {}, None, {}
        if self.options.synthetic_gate and joins_without_gate(self.options.deploy, y_train):
            evidence = {"few_labels_rule": True}  # no gate can judge; the table says they pay here
        elif self.options.synthetic_gate and self.options.value_gate:
            weight, exposure, exposure_gate = self._value_gate(state, X_train, y_train, weight)
        elif self.options.synthetic_gate:
            weight, evidence = choose_synthetic_weight(
                self.X_fit, self.y_fit, self.X_val, self.y_val, state.kept_X, synthetic_weight=weight,
                seed=self.seed,
            )  # fmt: skip
        if exposure is None:  # the value gate did not judge them
            exposure, exposure_gate = gated_exposure_rows(self.options, X_train, y_train, self.seed)
        detector = fit_deployment(
            self.options.deploy, X_train, y_train, state.kept_X, budget=self.budget, seed=self.seed,
            synthetic_weight=weight, exposure=exposure, exposure_weight=self.options.exposure_weight,
            reference_column=self.options.reference_column, blend=self.options.synthetic_blend,
            device=self.device,
        )  # fmt: skip
        fitted = getattr(detector, "augmented_", detector)  # a LogOddsBlend: its fit with the rows
        record = {
            "synthetic_weight_used": weight, **evidence, **exposure_gate,
            "reference_column_used": getattr(fitted, "reference", None) is not None,
            "synthetic_blend_used": float(getattr(detector, "weight", 0.0)),
        }  # fmt: skip
        return LoopResult(
            detector, state.detector, state.vae, policy, state.kept_X, state.kept_reward, state.kept_round,
            state.metrics, self.X_val, self.y_val, record, exposure,
        )  # fmt: skip

    def _value_gate(
        self, state: LoopState, X_train: np.ndarray, y_train: np.ndarray, weight: float
    ) -> tuple[float, np.ndarray, dict[str, Any]]:
        """The value gate (``options.value_gate``) on the kept rows and the exposure rows, each on its own.

        Returns the kept rows' weight, the exposure rows that join (``(0, d)`` unless they pay) and the
        gate's record (its evidence plus ``exposure_weight_used``).
        """
        from agents.exposure import exposure_rows
        from agents.value_gate import choose_weights_by_value

        blended = bool(self.options.synthetic_blend)  # the exposure rows skip the gate: the blend hedges them
        weight, exposure_weight, evidence = choose_weights_by_value(
            X_train, y_train, state.kept_X, synthetic_weight=weight,
            exposure_weight=0.0 if blended else self.options.exposure_weight, seed=self.seed,
        )  # fmt: skip
        exposure_weight = self.options.exposure_weight if blended else exposure_weight
        exposure = exposure_rows(self.options, X_train, y_train, self.seed)
        exposure = exposure if exposure_weight else exposure[:0]
        return weight, exposure, {**evidence, "exposure_weight_used": exposure_weight}


def _end_round(
    state: LoopState,
    policy: GenerationPolicy | None,
    ckpt_root: Path | None,
    on_round_end: Callable[[dict[str, Any]], None] | None,
) -> None:
    if ckpt_root is not None:
        save_checkpoint(ckpt_root, state, policy)
    if on_round_end:
        on_round_end(state.metrics[-1])


def fit_deployment_control(
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    budget: str | Budget,
    seed: int,
    options: LoopOptions | None = None,
    device: str = "cpu",
) -> Any:
    """The no-augmentation control: the same deployment detector, trained on the training split only."""
    from agents.deploy import fit_deployment

    budget = get_budget(budget)
    options = options or LoopOptions()
    seed_round(seed, budget.rounds + 1)
    X_train = np.asarray(X_train, dtype=np.float64)
    empty = np.zeros((0, X_train.shape[1]), dtype=np.float32)
    return fit_deployment(
        options.deploy, X_train, np.asarray(y_train), empty, budget=budget, seed=seed, device=device
    )


def fit_swift_hydra(
    X_train: np.ndarray,
    y_train: np.ndarray,
    *,
    algo: str = "ppo",
    budget: str | Budget = "small",
    seed: int = 1,
    algo_kwargs: dict[str, Any] | None = None,
    budget_overrides: dict[str, Any] | None = None,
    **loop_kwargs: Any,
) -> Any:
    """Swift Hydra as a detector factory for the benchmark runner.

    Args:
        X_train: Training rows, MinMax-scaled on the training split (``Split.X_train``).
        y_train: 1 for labeled anomalies, 0 otherwise.
        algo: Generation policy name (``ppo``, ``sac``, ..., ``random``, ``gradient``).
        budget: Budget preset name or :class:`Budget`; ``budget_overrides`` change single fields.
        seed: Seed of everything.
        algo_kwargs: Policy constructor arguments.
        **loop_kwargs: Other :func:`swift_hydra_loop` arguments (``options=LoopOptions(...)``...).

    Returns:
        The fitted deployment detector (``decision_function`` on test rows scaled alike), with three
        learned attributes set: ``synthetic_anomalies_``, the synthetic anomalies the loop kept, whether
        or not the deployment gate used them (float32, the scaled feature space of ``X_train``; shape
        ``(0, d)`` when none were kept); ``synthetic_weight_used_``, the weight the gate gave them in
        the deployment fit (0 when it left them out); ``exposure_anomalies_``, the outlier-exposure rows
        of the deployment fit (same space; shape ``(0, d)`` unless ``options.exposure_weight`` > 0 and
        the exposure gate let them in).
    """
    resolved = get_budget(budget, **(budget_overrides or {}))
    result = swift_hydra_loop(
        X_train, y_train, algo=algo, budget=resolved, seed=seed, algo_kwargs=algo_kwargs, **loop_kwargs
    )
    detector = result.detector
    n_features = np.asarray(X_train).shape[1]
    detector.synthetic_anomalies_ = np.asarray(result.kept_X, dtype=np.float32).reshape(-1, n_features)
    detector.synthetic_weight_used_ = result.deploy_gate.get("synthetic_weight_used")
    detector.exposure_anomalies_ = np.asarray(result.exposure, dtype=np.float32).reshape(-1, n_features)
    return detector


def _val_metrics(detector: Any, X_val: np.ndarray, y_val: np.ndarray) -> dict[str, float | None]:
    scores = auc_scores(y_val, detector.decision_function(X_val))
    return {"val_auc_roc": scores["auc_roc"], "val_auc_pr": scores["auc_pr"]}


__all__ = [
    "OFF_POLICY",
    "agent_env",
    "build_policy",
    "make_env",
    "make_loop_detector",
    "make_vae",
    "resolve_algo_kwargs",
    "LoopOptions",
    "LoopResult",
    "auc_scores",
    "carve_validation",
    "fit_deployment_control",
    "fit_swift_hydra",
    "swift_hydra_loop",
]
