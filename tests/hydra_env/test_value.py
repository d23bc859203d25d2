"""The ``value`` and ``value_unseen`` reward terms (issue 26): held-out AUC gain of a cross-fitted proxy."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
import torch

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env.rewards import REWARD_TERMS, Reward
from hydra_env.value import UnseenValueTerm, ValueTerm

CPU = torch.device("cpu")
# Normal rows around the centre; labeled anomalies shifted along the first two columns, overlapping
# the normals, so the proxy's held-out AUC (about 0.68) has room to move both ways.
GOOD = torch.tensor([[0.85, 0.85, 0.5, 0.5]])  # deeper in the anomalies' region than any labeled one
BAD = torch.tensor([[0.4, 0.4, 0.5, 0.5]])  # a normal-looking row, on the far side from the anomalies
CENTRES = np.array(
    [[0.95, 0.5, 0.5, 0.5], [0.5, 0.95, 0.5, 0.5], [0.5, 0.5, 0.95, 0.5], [0.5, 0.5, 0.5, 0.95]]
)


def _rows(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    normals = rng.normal(0.5, 0.12, (240, 4))
    anomalies = rng.normal(0.5, 0.12, (10, 4)) + [0.15, 0.15, 0.0, 0.0]
    return torch.as_tensor(normals, dtype=torch.float32), torch.as_tensor(anomalies, dtype=torch.float32)


@pytest.fixture(scope="module")
def term() -> ValueTerm:
    return ValueTerm(*_rows(), 3, CPU)


@pytest.fixture(scope="module")
def unseen() -> UnseenValueTerm:
    rng = np.random.default_rng(1)
    normals = torch.as_tensor(rng.normal(0.5, 0.12, (240, 4)), dtype=torch.float32)
    groups = np.repeat(CENTRES, 3, axis=0) + rng.normal(0, 0.02, (12, 4))
    return UnseenValueTerm(normals, torch.as_tensor(groups, dtype=torch.float32), 3, CPU)


def _refit_with(term: ValueTerm, x: torch.Tensor) -> ValueTerm:
    other = copy.deepcopy(term)
    other.add_anomalies(x)
    return other


def test_both_terms_are_registered():
    assert REWARD_TERMS["value"] is ValueTerm and REWARD_TERMS["value_unseen"] is UnseenValueTerm


def test_row_that_raises_held_out_auc_earns_more_than_one_that_lowers_it(term):
    # Ground truth: refit the proxies with the row (exactly, not one step) and score the held-out rows.
    auc = term.held_out_auc()
    assert _refit_with(term, GOOD).held_out_auc() > auc > _refit_with(term, BAD).held_out_auc()
    good, bad = float(term(GOOD, None)[0]), float(term(BAD, None)[0])
    assert good > 0.5 > bad
    assert float(term.raw_value(GOOD)[0]) > 0 > float(term.raw_value(BAD)[0])


def test_one_step_value_ranks_rows_like_an_exact_refit(term):
    rng = np.random.default_rng(2)
    x = torch.as_tensor(rng.uniform(0.3, 0.9, (12, 4)), dtype=torch.float32)
    loss = term.held_out_loss()
    exact = np.array([loss - _refit_with(term, row[None]).held_out_loss() for row in x])
    estimate = term.raw_value(x).numpy()
    assert np.corrcoef(np.argsort(np.argsort(estimate)), np.argsort(np.argsort(exact)))[0, 1] > 0.8


def test_value_unseen_pays_most_on_the_group_the_proxy_never_saw(unseen):
    # The folds are the k-means groups: each planted group is one fold.
    folds = unseen.anomaly_fold.numpy().reshape(4, 3)
    assert (folds == folds[:, :1]).all() and len(set(folds[:, 0])) == 4 == len(unseen.folds)
    near = torch.as_tensor(CENTRES, dtype=torch.float32)
    per_fold = unseen.fold_values(near)
    assert per_fold.argmax(dim=1).tolist() == folds[:, 0].tolist()  # the fold that held its group out
    # ... but that fold holds out each row's twin, so the reward does not credit it (the twin rule).
    others = (per_fold.sum(dim=1) - per_fold.max(dim=1).values) / 3
    torch.testing.assert_close(unseen.raw_value(near), others)
    assert (unseen.raw_value(near) < per_fold.mean(dim=1)).all() and float(unseen(BAD, None)[0]) < 0.5


def test_near_copies_earn_nothing_from_the_fold_of_their_twin(term):
    # Without the twin rule a copy of a held-out labeled anomaly made it easy and scored as value.
    _, anomalies = _rows()
    copies = anomalies + 0.001
    per_fold = term.fold_values(copies)
    own = term.anomaly_fold.tolist()
    leaked = per_fold[torch.arange(len(own)), own]  # each copy's value on its twin's fold
    assert float(leaked.mean()) > 0 and float(leaked.mean()) > float(per_fold.mean())
    allowed = torch.ones_like(per_fold, dtype=torch.bool)
    allowed[torch.arange(len(own)), own] = False
    expected = (per_fold * allowed).sum(dim=1) / allowed.sum(dim=1)
    torch.testing.assert_close(term.raw_value(copies), expected)
    assert float(term.raw_value(copies).mean()) < float(per_fold.mean(dim=1).mean())


def test_batched_finite_deterministic(term, unseen):
    x = torch.cat([torch.rand(30, 4), torch.full((1, 4), 50.0), torch.full((1, 4), -50.0)])
    for t in (term, unseen):
        batch = t(x, None)
        assert batch.shape == (32,) and torch.isfinite(batch).all() and ((batch >= 0) & (batch <= 1)).all()
        torch.testing.assert_close(batch[:5], torch.cat([t(x[[i]], None) for i in range(5)]))
    again = ValueTerm(*_rows(), 3, CPU)
    torch.testing.assert_close(again(x, None), term(x, None), rtol=0, atol=0)
    # Row chunking (a large batch) gives the same values as one pass.
    import hydra_env.value as value_module

    small = copy.deepcopy(term)
    chunk, value_module._CHUNK_PAIRS = value_module._CHUNK_PAIRS, 1
    try:
        torch.testing.assert_close(small(x, None), term(x, None))
    finally:
        value_module._CHUNK_PAIRS = chunk


def test_smooth_is_differentiable_and_climbing_it_raises_the_value(term):
    x = torch.cat([torch.tensor([[0.55, 0.55, 0.5, 0.5], [0.6, 0.45, 0.5, 0.5]]), BAD]).requires_grad_(True)
    normals, anomalies = _rows()
    reward = Reward({"value": 1.0}, normals.numpy(), anomalies.numpy())  # the same term, through the Reward
    smooth = reward.smooth(x, torch.zeros(3))
    assert (smooth.argsort() == term(x.detach(), None).argsort()).all()  # the reward's order
    (grad,) = torch.autograd.grad(smooth.sum(), x)  # nonzero even where the reward saturates (BAD)
    assert torch.isfinite(grad).all() and (grad.abs().sum(dim=1) > 0).all()
    with torch.inference_mode():
        assert (
            term(x.detach() + 0.01 * grad / grad.norm(dim=1, keepdim=True), None) > term(x.detach(), None)
        ).all()


def test_kept_rows_join_the_fit_so_a_copy_is_worth_less(term):
    before = float(term.raw_value(GOOD)[0])
    kept = _refit_with(term, GOOD.repeat(3, 1))
    assert len(kept.rows()["kept"]) == 3
    assert float(kept.raw_value(GOOD)[0]) < before
    kept.refresh(object())  # the proxy ignores the env's detector
    assert float(kept.raw_value(GOOD)[0]) < before


def test_degenerate_row_sets():
    normals, anomalies = _rows()
    for rows in ((normals, anomalies[:0]), (normals[:0], anomalies), (normals[:0], anomalies[:0])):
        none = ValueTerm(*rows, 3, CPU)  # no held-out AUC to measure: 0.5 everywhere
        torch.testing.assert_close(none(torch.rand(3, 4), None), torch.full((3,), 0.5))
    for cls in (ValueTerm, UnseenValueTerm):
        one = cls(normals, anomalies[:1], 3, CPU)  # the single labeled anomaly is held out once ...
        assert len(one.folds) == 1 and float(one.fold_values(anomalies[:1] + 0.05)[0, 0]) > 0
        # ... and it is every row's twin: no evidence independent of the source, 0.5 everywhere.
        torch.testing.assert_close(one(torch.cat([anomalies[:1] + 0.05, BAD]), None), torch.full((2,), 0.5))


def test_gym_make_with_value_weights_reports_the_term():
    env = gym.make("SwiftHydra-v0", reward_weights={"value": 1.0}, vae_epochs=2, detector_epochs=1)
    env.reset(seed=0)
    for _ in range(3):
        _, reward, _, _, info = env.step(env.action_space.sample())
        assert 0.0 <= info["reward_value"] <= 1.0
        assert reward == pytest.approx(info["reward_value"], abs=1e-6)
        assert info["reward_weights"] == {"value": 1.0}
    env.close()
    vec = gym.make_vec(
        "SwiftHydra-v0", num_envs=3, vectorization_mode="vector_entry_point",
        reward_weights="value_unseen:1,miss:1", vae_epochs=2, detector_epochs=1,
    )  # fmt: skip
    vec.reset(seed=0)
    _, rewards, _, _, infos = vec.step(vec.action_space.sample())
    assert infos["reward_value_unseen"].shape == (3,) and np.isfinite(rewards).all()
    vec.close()
