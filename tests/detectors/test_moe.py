"""MambaMoEDetector: contract, routing, choice of K, quality floors, persistence, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from detectors import MambaDetector, MambaMoEDetector, NotFittedError
from detectors.moe import choose_n_experts
from detectors.registry import read_state
from hydra_env.datasets import adbench_split, load
from tests.detectors.conftest import TINY_MOE, TINY_SINGLE, save_legacy


@pytest.fixture(scope="module")
def blob_moe(blobs):
    X, y = blobs
    return MambaMoEDetector(n_experts=4, random_state=0, **TINY_MOE).fit(X, y)


def test_contract_after_fit(blob_moe, blobs):
    X, _ = blobs
    assert blob_moe.n_experts_ == 4 and blob_moe.n_features_in_ == X.shape[1]
    assert blob_moe.decision_scores_.shape == (len(X),) and blob_moe.labels_.shape == (len(X),)
    proba = blob_moe.predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.min() >= 0 and proba.max() <= 1
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(blob_moe.predict(X))) <= {0, 1}


def test_routing_uses_every_expert_on_clustered_data(blob_moe, blobs):
    X, y = blobs
    counts = np.bincount(blob_moe.assign_experts(X[y == 0]), minlength=4)
    assert (counts > 0).all(), counts


def test_batched_inference_equals_row_by_row(blob_moe, blobs):
    """Gathering rows per expert must give each row the score its own expert gives it alone."""
    X, _ = blobs
    rows = X[::37]
    batched = blob_moe.decision_function(rows)
    single = np.array([blob_moe.decision_function(r[None]) for r in rows]).ravel()
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-5)
    x = torch.as_tensor(rows, dtype=torch.float32)
    with torch.inference_mode():
        np.testing.assert_allclose(
            blob_moe.anomaly_proba_torch(x).numpy(), blob_moe.predict_proba(rows)[:, 1], atol=1e-5
        )


def test_auto_k_finds_the_clusters(blobs):
    X, y = blobs
    X_std = (X - X.mean(0)) / X.std(0)
    k, _ = choose_n_experts(X_std[y == 0], max_experts=8, seed=0)
    assert k == 4
    k_noise, _ = choose_n_experts(np.random.RandomState(0).normal(size=(300, 6)), max_experts=8, seed=0)
    assert k_noise == 1


def test_quality_floor_on_wdbc_and_distillation():
    split = adbench_split(*load("wdbc"), la=1.0, seed=1)
    moe = MambaMoEDetector(n_experts=2, random_state=0, **TINY_MOE).fit(split.X_train, split.y_train)
    auc = roc_auc_score(split.y_test, moe.decision_function(split.X_test))
    assert auc > 0.9, auc
    teacher = MambaDetector(random_state=0, **TINY_SINGLE).fit(split.X_train, split.y_train)
    student = MambaMoEDetector(n_experts=2, teacher=teacher, random_state=0, **TINY_MOE)
    student.fit(split.X_train, split.y_train)
    assert roc_auc_score(split.y_test, student.decision_function(split.X_test)) > 0.9


def test_quality_floor_on_cardio_partially_labeled(shared_data_dir):
    split = adbench_split(*load("6_cardio.npz", data_dir=shared_data_dir), la=0.1, seed=1)
    moe = MambaMoEDetector(n_experts=2, random_state=0, **TINY_MOE).fit(split.X_train, split.y_train)
    auc = roc_auc_score(split.y_test, moe.decision_function(split.X_test))
    assert auc > 0.8, auc


def test_same_seed_same_scores_and_save_load(blob_moe, blobs, tmp_path):
    X, y = blobs
    again = MambaMoEDetector(n_experts=4, random_state=0, **TINY_MOE).fit(X, y)
    np.testing.assert_array_equal(again.decision_scores_, blob_moe.decision_scores_)
    blob_moe.save(tmp_path / "moe.pt")
    loaded = MambaMoEDetector.load(tmp_path / "moe.pt")
    assert loaded.n_experts_ == 4
    np.testing.assert_array_equal(loaded.decision_function(X), blob_moe.decision_function(X))
    with pytest.raises(ValueError, match="MambaDetector"):
        MambaDetector.load(tmp_path / "moe.pt")


def test_warm_start_changes_scores_and_keeps_experts(blobs):
    X, y = blobs
    det = MambaMoEDetector(n_experts=4, random_state=0, warm_start_epochs=2, **TINY_MOE).fit(X, y)
    before = det.decision_function(X)
    extra = np.random.RandomState(1).uniform(-25, 25, size=(20, X.shape[1]))
    det.fit(np.vstack([X, extra]), np.r_[y, np.ones(20, dtype=int)], warm_start=True)
    assert det.n_experts_ == 4 and not np.allclose(before, det.decision_function(X))


def test_bad_input_errors(blob_moe, blobs):
    X, y = blobs
    with pytest.raises(NotFittedError):
        MambaMoEDetector().predict(X)
    with pytest.raises(ValueError, match="features"):
        blob_moe.predict(X[:, :3])
    bad = X.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        blob_moe.decision_function(bad)
    with pytest.raises(ValueError, match="one class only"):
        MambaMoEDetector(**TINY_MOE).fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="n_experts"):
        MambaMoEDetector(n_experts=0, **TINY_MOE).fit(X, y)


def test_gate_activation_new_fits_fast_old_files_exact(blob_moe, blobs, tmp_path):
    """New fits use tanh-GELU in the gate; a file saved before the option existed loads with exact GELU."""
    from torch import nn

    from detectors.moe import MoMENetwork

    X, _ = blobs
    assert blob_moe._network_config["gate_activation"] == "gelu_tanh"
    assert blob_moe.network_.gate[1].approximate == "tanh"
    blob_moe.save(tmp_path / "new.pt")
    state = read_state(tmp_path / "new.pt")
    del state["network_config"]["gate_activation"]  # as written by the earlier version
    save_legacy(state, tmp_path / "old.pt")
    with pytest.warns(UserWarning, match="before files carried a SHA-256 checksum"):
        old = MambaMoEDetector.load(tmp_path / "old.pt")
    gate_act = old.network_.gate[1]
    assert isinstance(gate_act, nn.GELU) and gate_act.approximate == "none"
    # same weights, exact vs approximate GELU: scores agree closely (the two differ by < 1e-3)
    np.testing.assert_allclose(old.decision_function(X), blob_moe.decision_function(X), atol=5e-2)
    with pytest.raises(ValueError, match="gate_activation"):
        MoMENetwork(4, 2, gate_hidden=8, gate_noise=1.0, gate_activation="relu6", d_model=8, n_layers=1,
                    d_state=4, max_tokens=4)  # fmt: skip


def test_batch_one_path_routes_top1_and_stays_differentiable(blob_moe, blobs):
    X, _ = blobs
    net = blob_moe.network_
    rows = torch.as_tensor(X[::53], dtype=torch.float32)
    with torch.no_grad():
        z, u, offset = net._inputs(rows)  # offset: range score + label-free score term
        choice, gate_prob = net.route(z)
        batched = net(rows)
        for i in range(len(rows)):
            expected = net.experts[int(choice[i])](u[i : i + 1]) * gate_prob[i] + offset[i]
            np.testing.assert_allclose(net(rows[i : i + 1]).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(net(rows[i : i + 1]).numpy(), batched[i : i + 1].numpy(), atol=1e-5)
    x = rows[:1].clone().requires_grad_(True)
    net(x).sum().backward()  # the env's gradient policy differentiates P(anomaly) w.r.t. the row
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("embedding", ["periodic", "piecewise_linear"])
def test_numeric_embeddings_fit_save_and_load(tmp_path, embedding):
    """Periodic and piecewise-linear tokens: same contract as the linear ones, and the file remembers them."""
    from detectors import load_detector
    from detectors.tokens import NUMERIC_EMBEDDINGS

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (np.abs(X[:, 0]) > 1.8).astype(int)  # a band, not a direction: what these tokens are for
    det = MambaMoEDetector(numeric_embedding=embedding, n_experts=2, epochs=2, random_state=0).fit(X, y)
    assert all(isinstance(e.tokenizer, NUMERIC_EMBEDDINGS[embedding]) for e in det.network_.experts)
    det.save(tmp_path / "m.pt")
    again = load_detector(tmp_path / "m.pt")
    assert again.numeric_embedding == embedding
    np.testing.assert_allclose(again.decision_function(X), det.decision_function(X), rtol=1e-5, atol=1e-6)
    twin = MambaMoEDetector(numeric_embedding=embedding, n_experts=2, epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(twin.decision_function(X), det.decision_function(X))
    with pytest.raises(ValueError, match="numeric_embedding"):
        MambaMoEDetector(numeric_embedding="bogus").fit(X, y)


def test_piecewise_linear_tokens_learn_a_band_that_linear_tokens_miss():
    """Quality floor: anomalies in a band of one feature (|x0| > 1.6), held-out rows, same budget."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    X = rng.normal(size=(1200, 5)).astype(np.float32)
    y = (np.abs(X[:, 0]) > 1.6).astype(int)
    aucs = {}
    for embedding in ("linear", "piecewise_linear"):
        det = MambaMoEDetector(numeric_embedding=embedding, n_experts=1, epochs=8, random_state=0)
        aucs[embedding] = roc_auc_score(y[800:], det.fit(X[:800], y[:800]).decision_function(X[800:]))
    assert aucs["piecewise_linear"] >= 0.9, aucs  # 0.94 when written; linear tokens 0.74
    assert aucs["piecewise_linear"] > aucs["linear"], aucs


def test_an_ensemble_trains_each_member_and_scores_their_mean(tmp_path):
    """``ensemble_size=M``: members' logits ``(n, M)`` in training, their mean at inference, one file."""
    from detectors import load_detector

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 2.0).astype(int)
    det = MambaMoEDetector(ensemble_size=3, n_experts=2, epochs=2, random_state=0).fit(X, y)
    net = det.network_
    u = torch.as_tensor(X[:16])
    net.train()
    logits, _, _ = net.training_forward(u)
    assert logits.shape == (16, 3) and not torch.allclose(logits[:, 0], logits[:, 1])
    net.eval()
    with torch.no_grad():
        expert = net.experts[0]
        z = net.standardize(u)
        expert.train()
        members = expert(z)
        expert.eval()
        torch.testing.assert_close(expert(z), members.mean(dim=1))
        torch.testing.assert_close(expert(z, 0.25), members.mean(dim=1) * 0.25)  # the gate prob, folded in
        batched = net(u)
        for i in range(len(u)):  # the batch-1 path (gate in Python, prob inside the head) agrees
            torch.testing.assert_close(net(u[i : i + 1]), batched[i : i + 1], rtol=1e-5, atol=1e-5)
    det.save(tmp_path / "m.pt")
    np.testing.assert_allclose(
        load_detector(tmp_path / "m.pt").decision_function(X), det.decision_function(X), rtol=1e-5, atol=1e-6
    )
    single = MambaMoEDetector(n_experts=2, epochs=1, random_state=0).fit(X, y)
    assert not any("member_scale" in k for k in single.network_.state_dict())  # M = 1: the old layout


def test_unlabeled_bootstrap_softens_only_the_rows_labeled_zero():
    """b = 0 is the class-weighted BCE bit for bit; b > 0 pushes a confident row labeled 0 down less, a labeled 1 alike."""
    import torch.nn.functional as F

    logits = torch.tensor([[4.0, 3.0], [-2.0, -1.0], [1.0, 2.0]], requires_grad=True)
    y = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    pos_weight = torch.tensor(5.0)
    plain = MambaMoEDetector(unlabeled_bootstrap=0.0)._label_loss(logits, y, pos_weight)
    torch.testing.assert_close(
        plain, F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight), rtol=0, atol=0
    )
    (g_plain,) = torch.autograd.grad(plain, logits)
    (g_boot,) = torch.autograd.grad(
        MambaMoEDetector(unlabeled_bootstrap=0.5)._label_loss(logits, y, pos_weight), logits
    )
    assert (g_boot[0] < g_plain[0]).all() and (g_boot[0] > 0).all()  # still pushed down, less hard
    torch.testing.assert_close(g_boot[2], g_plain[2])  # labeled anomalies: unchanged
    with pytest.raises(ValueError, match="unlabeled_bootstrap"):
        MambaMoEDetector(unlabeled_bootstrap=1.5).fit(
            np.random.default_rng(0).normal(size=(40, 3)), np.r_[np.ones(4), np.zeros(36)]
        )


def test_selection_metric_auc_minimises_one_minus_the_validation_auc():
    """``selection_metric="auc"``: early stopping reads 1 - AUC-ROC (0 for a perfect ranking, 1 reversed)."""
    import torch.nn.functional as F

    y = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0])
    ranked = torch.tensor([-2.0, -1.0, 3.0, 0.0, 2.0])
    pos_weight = torch.tensor(1.5)
    by_auc = MambaMoEDetector(selection_metric="auc")
    assert by_auc._validation_loss(ranked, y, pos_weight) == 0.0
    assert by_auc._validation_loss(-ranked, y, pos_weight) == 1.0
    by_loss = MambaMoEDetector()._validation_loss(ranked, y, pos_weight)
    assert by_loss == pytest.approx(
        float(F.binary_cross_entropy_with_logits(ranked, y, pos_weight=pos_weight))
    )
    with pytest.raises(ValueError, match="selection_metric"):
        MambaMoEDetector(selection_metric="bogus").fit(
            np.random.default_rng(0).normal(size=(40, 3)), np.r_[np.ones(4), np.zeros(36)]
        )


def test_auto_numeric_embedding_follows_the_labeled_count_and_the_file_remembers_the_choice(tmp_path):
    """``numeric_embedding="auto"``: piecewise-linear from AUTO_PIECEWISE_MIN_LABELED labels, linear below."""
    from detectors import load_detector
    from detectors.moe import AUTO_PIECEWISE_MIN_LABELED
    from detectors.tokens import FeatureTokenizer, PiecewiseLinearTokenizer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5)).astype(np.float32)
    order = np.argsort(-np.abs(X[:, 0]))
    for n_labeled, kind, name in (
        (AUTO_PIECEWISE_MIN_LABELED, PiecewiseLinearTokenizer, "piecewise_linear"),
        (AUTO_PIECEWISE_MIN_LABELED - 1, FeatureTokenizer, "linear"),
    ):
        y = np.zeros(len(X), dtype=int)
        y[order[:n_labeled]] = 1
        det = MambaMoEDetector(numeric_embedding="auto", n_experts=1, epochs=1, random_state=0).fit(X, y)
        assert det.numeric_embedding_ == name and isinstance(det.network_.experts[0].tokenizer, kind)
        det.save(tmp_path / f"{name}.pt")
        again = load_detector(tmp_path / f"{name}.pt")
        assert again.numeric_embedding == "auto" and again.numeric_embedding_ == name
        np.testing.assert_allclose(again.decision_function(X), det.decision_function(X), rtol=1e-5, atol=1e-6)
    with pytest.raises(NotFittedError):
        _ = MambaMoEDetector().numeric_embedding_
