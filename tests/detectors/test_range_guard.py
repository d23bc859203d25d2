"""The out-of-range guard: rows far outside the training range score as anomalous (issues 14, 15)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from detectors import MambaDetector, MambaMoEDetector
from detectors.registry import read_state
from detectors.tokens import Standardize
from tests.detectors.conftest import TINY_MOE, TINY_SINGLE, save_legacy

FAMILIES = {"mamba": (MambaDetector, TINY_SINGLE), "mome": (MambaMoEDetector, {**TINY_MOE, "n_experts": 2})}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def fitted(request, wdbc_split):
    cls, kwargs = FAMILIES[request.param]
    return cls(random_state=0, **kwargs).fit(wdbc_split.X_train, wdbc_split.y_train)


def _median_training_score(det) -> float:
    return float(np.median(det.decision_scores_))


def test_far_rows_score_above_the_median_training_row(fitted, wdbc_split):
    X = wdbc_split.X_train
    median_row = X[np.argsort(fitted.decision_scores_)[len(X) // 2]]
    one_feature = median_row.copy()
    one_feature[0] = 1e6
    far = np.vstack([np.full(X.shape[1], 1e30), np.full(X.shape[1], -1e30), one_feature])
    scores = fitted.decision_function(far)
    assert np.isfinite(scores).all()
    assert (scores > _median_training_score(fitted)).all(), scores
    assert (fitted.predict(far) == 1).all()
    proba = fitted.predict_proba(far)
    assert np.isfinite(proba).all() and (proba[:, 1] > 0.5).all()


def test_rows_outside_the_minmax_range_rank_above_the_median_training_row(fitted, wdbc_split):
    rng = np.random.default_rng(0)
    n_features = wdbc_split.n_features
    above = rng.uniform(1.5, 3.0, size=(20, n_features))  # after MinMax scaling, training rows lie in [0, 1]
    below = rng.uniform(-2.0, -0.5, size=(20, n_features))
    scores = fitted.decision_function(np.vstack([above, below]))
    assert (scores > _median_training_score(fitted)).all()


def test_score_grows_with_distance_outside_the_range(fitted, wdbc_split):
    row = wdbc_split.X_train[np.argsort(fitted.decision_scores_)[len(wdbc_split.X_train) // 2]]
    rows = np.repeat(row[None], 4, axis=0)
    rows[:, 3] = [2.0, 5.0, 50.0, 5e4]
    assert np.all(np.diff(fitted.decision_function(rows)) > 0)


def test_hot_path_stays_finite_and_differentiable_far_out(fitted, wdbc_split):
    x = torch.tensor(
        np.vstack([np.full(wdbc_split.n_features, 1e30), wdbc_split.X_test[:4]]), dtype=torch.float32
    ).requires_grad_(True)
    p = fitted.anomaly_proba_torch(x)
    assert torch.isfinite(p).all() and float(p[0].detach()) > 0.5
    p.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_in_range_rows_are_unchanged(fitted, wdbc_split):
    """Without the guard the network gives bit-identical scores to every row inside the training range."""
    unguarded = copy.deepcopy(fitted)
    unguarded.network_.standardize.disable_range_guard()
    X = wdbc_split.X_train
    np.testing.assert_array_equal(unguarded.decision_function(X), fitted.decision_function(X))
    inside = ((wdbc_split.X_test >= X.min(0)) & (wdbc_split.X_test <= X.max(0))).all(axis=1)
    assert inside.sum() > 10
    X_in = wdbc_split.X_test[inside]
    np.testing.assert_array_equal(unguarded.decision_function(X_in), fitted.decision_function(X_in))


def test_training_is_unchanged_by_the_guard(monkeypatch, wdbc_split):
    """Training rows are in range, so a fit with the guard switched off learns exactly the same weights."""
    guarded = MambaDetector(random_state=0, **TINY_SINGLE).fit(wdbc_split.X_train, wdbc_split.y_train)
    original_fit = Standardize.fit

    def fit_without_guard(self, X):
        original_fit(self, X)
        self.disable_range_guard()
        return self

    monkeypatch.setattr(Standardize, "fit", fit_without_guard)
    plain = MambaDetector(random_state=0, **TINY_SINGLE).fit(wdbc_split.X_train, wdbc_split.y_train)
    np.testing.assert_array_equal(plain.decision_scores_, guarded.decision_scores_)


def test_guard_buffers_round_trip_and_old_checkpoints_load(fitted, wdbc_split, tmp_path):
    path = tmp_path / "det.pt"
    fitted.save(path)
    state = read_state(path)
    assert {"standardize.low", "standardize.high", "standardize.range_weight"} <= set(state["state_dict"])
    far = np.full((1, wdbc_split.n_features), 1e30)
    loaded = type(fitted).load(path)
    np.testing.assert_array_equal(loaded.decision_function(far), fitted.decision_function(far))
    # A checkpoint written before the guard existed loads, with that checkpoint's (unguarded) behaviour.
    for key in ("standardize.low", "standardize.high", "standardize.range_weight"):
        del state["state_dict"][key]
    del state["params"]["range_margin"], state["params"]["range_weight"]
    save_legacy(state, path)
    with pytest.warns(UserWarning, match="SHA-256"):
        old = type(fitted).load(path)
    unguarded = copy.deepcopy(fitted)
    unguarded.network_.standardize.disable_range_guard()
    X = np.vstack([wdbc_split.X_test, far])
    np.testing.assert_array_equal(old.decision_function(X), unguarded.decision_function(X))


def test_guarded_matches_the_clip_and_the_relu_excess_in_values_and_gradients():
    """`Standardize.guarded` (the hot path) = (clipped rows, weight * sum min(relu(z-high) + relu(low-z), cap))."""
    rng = np.random.default_rng(0)
    guard = Standardize(4, margin=0.5, weight=2.0).fit(rng.normal(size=(50, 4)))
    x = torch.tensor(
        np.vstack(
            [
                rng.normal(size=(6, 4)) * np.array([[0.3], [0.3], [0.3], [5], [5], [5]]),
                np.full(4, 1e30),
                -np.full(4, 1e30),
            ]
        ),
        dtype=torch.float32,
    ).requires_grad_(True)
    clipped, score = guard.guarded(x)
    z = (x - guard.mean) / guard.scale
    excess = (torch.relu(z - guard.high) + torch.relu(guard.low - z)).clamp(max=Standardize.EXCESS_CAP)
    reference = guard.range_weight * excess.sum(dim=-1)
    torch.testing.assert_close(clipped, guard(x), rtol=0, atol=0)
    torch.testing.assert_close(score, reference, rtol=0, atol=0)
    assert (score[:6] > 0).any() and (score[:6] == 0).any()  # rows inside and outside the range
    grad = torch.autograd.grad(score.sum(), x, retain_graph=True)[0]
    torch.testing.assert_close(grad, torch.autograd.grad(reference.sum(), x)[0], rtol=0, atol=0)
