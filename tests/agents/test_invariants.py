"""Invariants the benchmark claims rest on, checked on one tiny ``swift-hydra train`` run.

The run (budget ``tiny``, embedded ``wdbc``, seed 1, with its control) is made once per module with
spies on the detectors' ``fit`` and on env construction. The tests then check behaviour, not
internals: what each detector was trained on, what the env saw, and what the run directory says.

Each test here is the one that fails when its bug is planted (see ``tests/MUTATIONS.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import detectors
from agents.config import LoopOptions, TrainConfig
from agents.experiment import run
from agents.loop import auc_scores, carve_validation
from detectors.boosted import BoostedDetector
from hydra_env import SwiftHydraEnv, SwiftHydraVectorEnv, datasets
from hydra_env.core import REFERENCE_NORMALS
from hydra_env.rewards import DEFAULT_REWARD_WEIGHTS
from hydra_env.value import ValueTerm

pytestmark = pytest.mark.invariant

# The gate off: every kept row must then reach the deployment fit (with the gate on, a rejected set would
# make "the deployment ignores the kept rows" indistinguishable from a correct run).
# The value terms are on (beside the default reward) so that their rows can be checked too.
CONFIG = TrainConfig(
    dataset="wdbc", budget="tiny", seed=1, la=0.1, control=True, progress=False,
    options=LoopOptions(
        synthetic_gate=False,
        env_kwargs={"reward_weights": {**DEFAULT_REWARD_WEIGHTS, "value": 0.5, "value_unseen": 0.5}},
    ),
)  # fmt: skip


@dataclass
class FitCall:
    """One ``fit`` call seen by the spy: the detector object and copies of its inputs."""

    detector: Any
    X: np.ndarray
    y: np.ndarray
    warm_start: bool


@dataclass
class Spied:
    """The fixture run: its directory, summary, split, and what the spies recorded."""

    run_dir: Path
    summary: dict[str, Any]
    split: Any
    fits: list[FitCall] = field(default_factory=list)
    envs: list[Any] = field(default_factory=list)
    value_terms: list[Any] = field(default_factory=list)

    def fits_of(self, detector: Any) -> list[FitCall]:
        return [c for c in self.fits if c.detector is detector]

    def kept(self) -> tuple[np.ndarray, np.ndarray]:
        """Kept synthetic anomalies (scaled) and the round each was kept in, from ``synthetic.npz``."""
        with np.load(self.run_dir / "synthetic.npz") as saved:
            return saved["X"].astype(np.float64), saved["round"].astype(np.int64)


def _spy_fit(mp: pytest.MonkeyPatch, cls: type, fits: list[FitCall]) -> None:
    original = cls.fit

    def fit(self, X, y=None, *, warm_start: bool = False, **kwargs):
        fits.append(FitCall(self, np.array(X, dtype=np.float64), np.array(y).ravel(), bool(warm_start)))
        return original(self, X, y, warm_start=warm_start, **kwargs)

    mp.setattr(cls, "fit", fit)


def _spy_env(mp: pytest.MonkeyPatch, cls: type, envs: list[Any]) -> None:
    original = cls.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        envs.append(self)

    mp.setattr(cls, "__init__", init)


@pytest.fixture(scope="module")
def spied(tmp_path_factory) -> Spied:
    run_dir = tmp_path_factory.mktemp("invariant-run")
    fits: list[FitCall] = []
    envs: list[Any] = []
    value_terms: list[Any] = []
    with pytest.MonkeyPatch.context() as mp:
        for cls in (detectors.MambaDetector, detectors.MambaMoEDetector, BoostedDetector):
            _spy_fit(mp, cls, fits)
        for cls in (SwiftHydraEnv, SwiftHydraVectorEnv):
            _spy_env(mp, cls, envs)
        _spy_env(mp, ValueTerm, value_terms)  # value and value_unseen (a subclass), wherever built
        summary = run(CONFIG, run_dir)
    X, y = datasets.load(CONFIG.dataset)
    split = datasets.adbench_split(X, y, CONFIG.la, CONFIG.seed, name=CONFIG.dataset)
    return Spied(run_dir, summary, split, fits, envs, value_terms)


# ------------------------------------------------------------------------------------------ helpers
def _load_detector(path: Path) -> Any:
    """A saved detector, whatever its class (the file names it)."""
    return detectors.load_detector(path)


def _fitted_instance(spied: Spied, saved: Any) -> Any:
    """The spied detector object whose test scores equal those of the saved one."""
    expected = saved.decision_function(spied.split.X_test)
    matches = []
    for call in spied.fits:
        det = call.detector
        if any(det is m for m in matches) or not hasattr(det, "threshold_"):
            continue
        if det.n_features_in_ == spied.split.X_test.shape[1]:
            if np.allclose(det.decision_function(spied.split.X_test), expected, rtol=0, atol=1e-6):
                matches.append(det)
    assert len(matches) == 1, f"expected one fitted detector to match the saved one, found {len(matches)}"
    return matches[0]


def _as_multiset(X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Rows (with their label as a last column) in lexicographic order: set equality with duplicates."""
    rows = np.asarray(X, dtype=np.float64)
    if y is not None:
        rows = np.column_stack([rows, np.asarray(y, dtype=np.float64)])
    return rows[np.lexsort(rows.T[::-1])]


def _assert_same_rows(X, y, X_expected, y_expected, what: str) -> None:
    assert len(X) == len(X_expected), f"{what}: {len(X)} rows, expected {len(X_expected)}"
    np.testing.assert_allclose(
        _as_multiset(X, y), _as_multiset(X_expected, y_expected), rtol=0, atol=1e-6, err_msg=what
    )


def _assert_rows_among(X, X_allowed, what: str) -> None:
    """Every row of ``X`` is a row of ``X_allowed``, counting duplicates (a sub-multiset), in float32."""
    allowed: dict[bytes, int] = {}
    for row in np.asarray(X_allowed, dtype=np.float32):
        allowed[row.tobytes()] = allowed.get(row.tobytes(), 0) + 1
    for row in np.asarray(X, dtype=np.float32):
        assert allowed.get(row.tobytes(), 0) > 0, f"{what}: a row outside the allowed rows"
        allowed[row.tobytes()] -= 1


def _with_kept(X: np.ndarray, y: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([X, kept]), np.concatenate([y, np.ones(len(kept), dtype=np.int64)])


# ------------------------------------------------------------------------------------------ tests
def test_fixture_run_kept_synthetic_anomalies(spied):
    """The other invariants only mean something if anomalies were kept in every round."""
    kept, rounds = spied.kept()
    assert spied.summary["n_synthetic_kept"] == len(kept) > 0
    assert set(rounds.tolist()) == set(range(1, spied.summary["rounds"] + 1))


def test_deployed_detector_trained_on_train_split_plus_every_kept_anomaly(spied):
    deployed = _fitted_instance(spied, _load_detector(spied.run_dir / "detector.pt"))
    calls = spied.fits_of(deployed)
    assert calls and not calls[-1].warm_start, "the deployment detector is trained from scratch"
    kept, _ = spied.kept()
    X_exp, y_exp = _with_kept(spied.split.X_train, spied.split.y_train, kept)
    _assert_same_rows(calls[-1].X, calls[-1].y, X_exp, y_exp, "deployment training set")


def test_in_loop_detector_training_set_grows_by_the_kept_rows_each_round(spied):
    rounds = spied.summary["rounds"]
    refit = [c.detector for c in spied.fits if len(spied.fits_of(c.detector)) == rounds + 1]
    assert refit, "no detector was fitted once per round (pre-training + every round)"
    calls = spied.fits_of(refit[0])
    X_fit, y_fit, _, _ = carve_validation(
        spied.split.X_train, spied.split.y_train, CONFIG.val_fraction, CONFIG.seed
    )
    _assert_same_rows(calls[0].X, calls[0].y, X_fit, y_fit, "pre-training set")
    kept, kept_round = spied.kept()
    sizes = [len(c.X) for c in calls]
    assert all(b > a for a, b in zip(sizes, sizes[1:], strict=False)), f"sizes do not grow: {sizes}"
    for k, call in enumerate(calls[1:], start=1):
        X_exp, y_exp = _with_kept(X_fit, y_fit, kept[kept_round <= k])
        _assert_same_rows(call.X, call.y, X_exp, y_exp, f"in-loop training set of round {k}")


def test_env_sees_only_the_fit_part_never_validation_or_test_rows(spied):
    assert spied.envs, "the run built no SwiftHydra env"
    X_fit, y_fit, X_val, _ = carve_validation(
        spied.split.X_train, spied.split.y_train, CONFIG.val_fraction, CONFIG.seed
    )
    assert len(X_val) == spied.summary["n_validation"] > 0
    for env in spied.envs:
        seen = env.split
        _assert_same_rows(seen.X_train, seen.y_train, X_fit, y_fit, "the env's rows")
        assert len(seen.X_test) == 0, "the env holds test rows"


def test_value_terms_are_built_only_from_the_env_fit_rows(spied):
    """The value terms' proxies fit and hold out the env's fit rows (+ kept rows), never validation/test rows."""
    assert {type(t).name for t in spied.value_terms} == {"value", "value_unseen"}, "no value term was built"
    X_fit, y_fit, X_val, _ = carve_validation(
        spied.split.X_train, spied.split.y_train, CONFIG.val_fraction, CONFIG.seed
    )
    kept, _ = spied.kept()
    fit_normals = X_fit[y_fit == 0]
    for term in spied.value_terms:
        rows = term.rows()
        _assert_same_rows(rows["anomalies"], None, X_fit[y_fit == 1], None, f"{term.name}: labeled anomalies")
        _assert_rows_among(rows["normals"], fit_normals, f"{term.name}: normals")
        assert len(rows["normals"]) == min(len(fit_normals), REFERENCE_NORMALS)
        _assert_rows_among(rows["kept"], kept, f"{term.name}: kept rows")
    # The loop's env: its value terms were told of every kept row.
    assert any(len(t.rows()["kept"]) == len(kept) > 0 for t in spied.value_terms)


def test_summary_test_metrics_equal_the_saved_detectors_on_the_test_split(spied):
    split = spied.split
    assert spied.summary["n_test"] == len(split.y_test)
    for name, file in (("swift_hydra", "detector.pt"), ("control", "control_detector.pt")):
        saved = _load_detector(spied.run_dir / file)
        expected = auc_scores(split.y_test, saved.decision_function(split.X_test))
        reported = spied.summary["test"][name]
        assert reported["auc_roc"] == pytest.approx(expected["auc_roc"], abs=1e-9), name
        assert reported["auc_pr"] == pytest.approx(expected["auc_pr"], abs=1e-9), name
    on_disk = json.loads((spied.run_dir / "summary.json").read_text())
    assert on_disk["test"] == spied.summary["test"]


def test_control_differs_from_the_deployment_only_by_the_synthetic_anomalies(spied):
    deployed = _fitted_instance(spied, _load_detector(spied.run_dir / "detector.pt"))
    control = _fitted_instance(spied, _load_detector(spied.run_dir / "control_detector.pt"))
    assert control is not deployed and type(control) is type(deployed)
    assert control.get_params() == deployed.get_params()  # hyperparameters and seed (random_state)
    call = spied.fits_of(control)[-1]
    assert not call.warm_start
    _assert_same_rows(call.X, call.y, spied.split.X_train, spied.split.y_train, "control training set")
    # Nothing else differs: the deployment recipe on the control's rows reproduces the control.
    again = type(deployed)(**deployed.get_params()).fit(spied.split.X_train, spied.split.y_train)
    np.testing.assert_allclose(
        again.decision_function(spied.split.X_test),
        control.decision_function(spied.split.X_test),
        rtol=0,
        atol=1e-6,
    )
