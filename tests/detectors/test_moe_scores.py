"""MoME's label-free score inputs (`detectors.scores`): the scores, persistence, hot path, quality."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from detectors import MambaMoEDetector
from detectors.scores import LabelFreeScores, reference_indices
from hydra_env.datasets import adbench_split, load
from tests.detectors.conftest import TINY_MOE

SCORED = {"label_free_scores": ("knn", "ecod"), "score_inputs": "skip"}


def test_knn_leaves_each_reference_row_out_and_ecod_grows_in_the_tails():
    rng = np.random.RandomState(0)
    z = torch.as_tensor(rng.normal(size=(200, 3)), dtype=torch.float32)
    scores = LabelFreeScores(3, ("knn", "ecod"), reference_rows=200, k=5).fit(z, np.arange(200))
    raw = scores._raw(z)
    d2 = torch.cdist(z.double(), z.double()).pow(2)
    d2.fill_diagonal_(float("inf"))
    loo = torch.log(d2.topk(5, dim=1, largest=False).values.mean(dim=1) + 1e-6)
    np.testing.assert_allclose(raw[:, 0].numpy(), loo.numpy(), atol=1e-3)
    line = torch.linspace(-6, 6, 41)[:, None].repeat(1, 3)
    ecod = scores._raw(line)[:, 1].numpy()
    assert (np.diff(ecod[20:]) >= -1e-6).all() and (np.diff(ecod[:21]) <= 1e-6).all()
    standardised = scores(z)
    np.testing.assert_allclose(standardised.mean(0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(standardised.std(0, unbiased=False).numpy(), 1.0, atol=1e-3)


def test_reference_rows_are_normal_rows():
    y = np.r_[np.zeros(50, dtype=int), np.ones(5, dtype=int)]
    assert set(reference_indices(y, 100, 0)) == set(range(50))
    sample = reference_indices(y, 20, 0)
    assert len(sample) == 20 and sample.max() < 50 and (np.diff(sample) > 0).all()


@pytest.mark.parametrize("inputs", ["skip", "tokens", "both"])
def test_scored_moe_batch_save_load_and_gradient(blobs, tmp_path, inputs):
    X, y = blobs
    det = MambaMoEDetector(
        n_experts=2, random_state=0, label_free_scores=("knn", "ecod"), score_inputs=inputs, **TINY_MOE
    ).fit(X, y)
    scores = det.decision_function(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()
    rows = X[::41]
    single = np.array([det.decision_function(r[None]) for r in rows]).ravel()
    np.testing.assert_allclose(single, scores[::41], rtol=1e-5, atol=1e-5)
    det.save(tmp_path / "scored.pt")
    loaded = MambaMoEDetector.load(tmp_path / "scored.pt")
    np.testing.assert_array_equal(loaded.decision_function(X), scores)
    np.testing.assert_array_equal(loaded.predict_proba(X), det.predict_proba(X))
    x = torch.as_tensor(rows[:1], dtype=torch.float32).requires_grad_(True)
    det.anomaly_proba_torch(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    again = MambaMoEDetector(
        n_experts=2, random_state=0, label_free_scores=("knn", "ecod"), score_inputs=inputs, **TINY_MOE
    ).fit(X, y)
    np.testing.assert_array_equal(again.decision_function(X), scores)


def test_warm_start_keeps_the_score_buffers(blobs):
    X, y = blobs
    det = MambaMoEDetector(n_experts=2, random_state=0, warm_start_epochs=1, **SCORED, **TINY_MOE).fit(X, y)
    reference = det.network_.scores.reference.clone()
    det.fit(X[:300], y[:300] if y[:300].any() else y[-300:], warm_start=True)
    torch.testing.assert_close(det.network_.scores.reference, reference)


def test_unknown_score_name_and_bad_inputs_setting(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="label-free score"):
        MambaMoEDetector(label_free_scores=("lof",), **TINY_MOE).fit(X, y)
    with pytest.raises(ValueError, match="score_inputs"):
        MambaMoEDetector(score_inputs="concat", **TINY_MOE).fit(X, y)


def test_without_scores_the_network_is_the_plain_moe(blobs):
    X, y = blobs
    det = MambaMoEDetector(n_experts=2, random_state=0, label_free_scores=(), **TINY_MOE).fit(X, y)
    assert "scores" not in det._network_config
    assert det.network_.scores is None and not any(k.startswith("score") for k in det.network_.state_dict())


def test_quality_floor_on_fault_partially_labeled(shared_data_dir):
    """12_fault at la = 0.1: the scores lift a 3-epoch MoME well above chance (0.61 without them on the
    full tables, 0.72 with them on the probe's seeds)."""
    split = adbench_split(*load("12_fault.npz", data_dir=shared_data_dir), la=0.1, seed=1)
    det = MambaMoEDetector(n_experts=2, random_state=0, **SCORED, **TINY_MOE).fit(
        split.X_train, split.y_train
    )
    assert roc_auc_score(split.y_test, det.decision_function(split.X_test)) > 0.65
