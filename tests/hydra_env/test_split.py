"""ADBench's split protocol: sizes, stratification, scaling, la counting, thresholds, seeds."""

# ruff: noqa: NPY002  (the reference below uses the global RNG on purpose: that is what ADBench does)

from __future__ import annotations

from math import ceil

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from hydra_env.datasets import DEFAULT_DATASET, Split, adbench_split, load, load_split


def adbench_reference(X, y, la, seed):
    """ADBench's ``DataGenerator(seed).generator(X, y, la=la, at_least_one_labeled=True)``, written out
    plainly with the global NumPy RNG as ADBench uses it (its state is restored afterwards)."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)  # Utils.set_seed at the top of generator()
        if len(y) < 1000:
            np.random.seed(seed)
            idx_duplicate = np.random.choice(np.arange(len(y)), 1000, replace=True)
            X, y = X[idx_duplicate], y[idx_duplicate]
        if len(y) > 10000:
            np.random.seed(seed)
            idx_sample = np.random.choice(np.arange(len(y)), 10000, replace=False)
            X, y = X[idx_sample], y[idx_sample]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, shuffle=True, stratify=y)
        scaler = MinMaxScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        idx_normal = np.where(y_train == 0)[0]
        idx_anomaly = np.where(y_train == 1)[0]
        idx_labeled_anomaly = np.random.choice(idx_anomaly, ceil(la * len(idx_anomaly)), replace=False)
        idx_unlabeled = np.append(idx_normal, np.setdiff1d(idx_anomaly, idx_labeled_anomaly))
        y_train = y_train.copy()
        y_train[idx_unlabeled] = 0
        y_train[idx_labeled_anomaly] = 1
        return X_train, y_train, X_test, y_test
    finally:
        np.random.set_state(state)


def _blobs(n: int, n_anomalies: int, d: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, n_anomalies, replace=False)] = 1
    X[y == 1] += 3.0
    return X, y


@pytest.fixture(scope="module")
def cardio(shared_data_dir):
    return load("cardio", shared_data_dir)


def test_cardio_sizes_and_stratification(cardio):
    X, y = cardio
    split = adbench_split(X, y, la=0.1, seed=0, name="cardio")
    assert isinstance(split, Split) and split.name == "cardio"
    assert split.X_train.shape == (1281, 21) and split.X_test.shape == (550, 21)
    assert split.y_train.shape == (1281,) and split.y_test.shape == (550,)
    # stratified: 176 anomalies -> 123 train / 53 test, same ratio up to one row
    assert split.y_train_true.sum() + split.y_test.sum() == 176
    assert split.y_train_true.sum() == 123 and split.y_test.sum() == 53
    assert abs(split.y_train_true.mean() - split.y_test.mean()) < 1 / 550
    assert split.X_train.dtype == np.float64 and split.y_train.dtype == np.int64


def test_scaler_fit_on_train_only(cardio):
    X, y = cardio
    split = adbench_split(X, y, la=0.1, seed=3)
    varying = split.scaler.data_range_ > 0
    np.testing.assert_allclose(split.X_train[:, varying].min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(split.X_train[:, varying].max(axis=0), 1.0, atol=1e-12)
    # the scaler saw the training rows only: its bounds are theirs, and some test values leave [0, 1]
    raw_train = split.scaler.inverse_transform(split.X_train)
    np.testing.assert_allclose(split.scaler.data_min_, raw_train.min(axis=0))
    assert ((split.X_test < 0) | (split.X_test > 1)).any()


@pytest.mark.parametrize(
    ("la", "expected"), [(0.0, 0), (0.001, 1), (0.05, 7), (0.1, 13), (0.5, 62), (1.0, 123)]
)
def test_la_counting_ceil_and_at_least_one(cardio, la, expected):
    X, y = cardio
    split = adbench_split(X, y, la=la, seed=0)
    assert expected == ceil(la * 123)
    assert split.n_labeled_anomalies == expected == split.y_train.sum()
    # labeled rows are true anomalies; the others are relabeled 0 but stay in the training set
    assert np.all(split.y_train_true[split.y_train == 1] == 1)
    assert len(split.y_train) == 1281 and split.y_train_true.sum() == 123
    assert split.y_test.sum() == 53  # test labels untouched


def test_small_sets_resampled_to_1000():
    X, y = _blobs(300, 30)
    split = adbench_split(X, y, la=0.2, seed=0)
    assert len(split.y_train) + len(split.y_test) == 1000
    assert (len(split.y_train), len(split.y_test)) == (700, 300)
    X, y = _blobs(1000, 50)  # at the threshold: no resampling, every row used once
    split = adbench_split(X, y, la=0.2, seed=0)
    rows = np.vstack(
        [split.scaler.inverse_transform(split.X_train), split.scaler.inverse_transform(split.X_test)]
    )
    assert len(np.unique(np.round(rows, 9), axis=0)) == 1000


def test_large_sets_subsampled_to_10000():
    X, y = _blobs(12000, 600, d=3)
    split = adbench_split(X, y, la=0.1, seed=0)
    assert (len(split.y_train), len(split.y_test)) == (7000, 3000)
    X, y = _blobs(10000, 500, d=3)
    split = adbench_split(X, y, la=0.1, seed=0)
    assert (len(split.y_train), len(split.y_test)) == (7000, 3000)


def test_same_seed_same_split_and_seeds_differ():
    X, y = _blobs(1500, 100)
    a, b = adbench_split(X, y, 0.1, seed=7), adbench_split(X, y, 0.1, seed=7)
    for field in ("X_train", "y_train", "X_test", "y_test", "y_train_true"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = adbench_split(X, y, 0.1, seed=8)
    assert not np.array_equal(a.X_train, c.X_train)
    state = np.random.get_state()[1].copy()
    adbench_split(X, y, 0.1, seed=9)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched


@pytest.mark.parametrize(
    ("n", "n_anomalies", "la", "seed"),
    [(300, 25, 0.1, 0), (1500, 90, 0.05, 1), (1500, 90, 1.0, 2), (12000, 400, 0.2, 3)],
)
def test_row_for_row_equal_to_adbench_reference(n, n_anomalies, la, seed):
    X, y = _blobs(n, n_anomalies, d=3, seed=seed)
    split = adbench_split(X, y, la=la, seed=seed)
    ref = adbench_reference(X, y, la, seed)
    for got, want in zip((split.X_train, split.y_train, split.X_test, split.y_test), ref, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", [0, 4])
def test_row_for_row_on_real_data(cardio, seed):
    X, y = cardio
    split = adbench_split(X, y, la=0.1, seed=seed)
    ref = adbench_reference(X, y, 0.1, seed)
    for got, want in zip((split.X_train, split.y_train, split.X_test, split.y_test), ref, strict=True):
        np.testing.assert_array_equal(got, want)


def test_row_for_row_on_embedded_small_set():
    X, y = load("wine")  # 129 rows: goes through the resampling branch
    split = adbench_split(X, y, la=0.5, seed=11)
    ref = adbench_reference(X, y, 0.5, 11)
    for got, want in zip((split.X_train, split.y_train, split.X_test, split.y_test), ref, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("la", [-0.1, 1.01, float("nan"), 5])
def test_la_outside_unit_interval(la):
    X, y = _blobs(200, 20)
    with pytest.raises(ValueError, match="la must be in"):
        adbench_split(X, y, la=la, seed=0)


@pytest.mark.parametrize("la", ["0.1", None, True])
def test_la_not_a_number(la):
    X, y = _blobs(200, 20)
    with pytest.raises(TypeError, match="la must be a number"):
        adbench_split(X, y, la=la, seed=0)


def test_bad_seed_and_single_class():
    X, y = _blobs(200, 20)
    with pytest.raises(ValueError, match="seed"):
        adbench_split(X, y, 0.1, seed=-1)
    with pytest.raises(TypeError, match="seed"):
        adbench_split(X, y, 0.1, seed=1.5)
    with pytest.raises(ValueError, match="at least 2 normal rows and 2 anomalies"):
        adbench_split(X, np.zeros(200, dtype=int), 0.1, seed=0)


def test_bad_data_rejected_by_split():
    X, y = _blobs(200, 20)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        adbench_split(X, y, 0.1, seed=0)
    with pytest.raises(ValueError, match="binary"):
        adbench_split(np.ones((5, 2)), np.array([0, 1, 2, 0, 1]), 0.1, seed=0)


def test_load_split_defaults_to_embedded_wdbc():
    assert DEFAULT_DATASET == "wdbc"
    split = load_split(seed=2)
    assert split.name == "wdbc" and split.la == 0.1 and split.seed == 2
    assert (len(split.y_train), len(split.y_test)) == (700, 300)  # 367 rows resampled to 1000
    np.testing.assert_array_equal(split.X_train, adbench_split(*load("wdbc"), 0.1, 2).X_train)


# ------------------------------------------------------------------------------ label counts (issue 27)
@pytest.mark.parametrize("n_labeled", [1, 3, 10])
def test_n_labeled_keeps_exactly_k_and_the_same_rows(cardio, n_labeled):
    X, y = cardio
    by_count = adbench_split(X, y, 0.1, seed=2, n_labeled=n_labeled)
    by_fraction = adbench_split(X, y, 0.1, seed=2)
    assert by_count.n_labeled_anomalies == int(by_count.y_train.sum()) == n_labeled
    assert by_count.n_labeled == n_labeled and by_fraction.n_labeled is None
    # The count changes only which anomalies keep their label: same rows, same scaler, same test set.
    np.testing.assert_array_equal(by_count.X_train, by_fraction.X_train)
    np.testing.assert_array_equal(by_count.y_test, by_fraction.y_test)
    np.testing.assert_array_equal(by_count.y_train_true, by_fraction.y_train_true)
    assert set(np.flatnonzero(by_count.y_train)) <= set(np.flatnonzero(by_count.y_train_true))
    assert by_count.la == pytest.approx(n_labeled / by_count.y_train_true.sum())


def test_n_labeled_is_capped_deterministic_and_seeded(cardio):
    X, y = cardio
    everyone = adbench_split(X, y, 0.1, seed=1, n_labeled=10**6)
    assert everyone.n_labeled_anomalies == everyone.y_train_true.sum() and everyone.la == 1.0
    first, again = (adbench_split(X, y, 0.1, seed=1, n_labeled=3) for _ in range(2))
    np.testing.assert_array_equal(first.y_train, again.y_train)
    other = adbench_split(X, y, 0.1, seed=2, n_labeled=3)
    assert not np.array_equal(np.flatnonzero(first.y_train_true), np.flatnonzero(other.y_train_true))


@pytest.mark.parametrize(
    ("n_labeled", "error"), [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_bad_n_labeled_is_named(cardio, n_labeled, error):
    X, y = cardio
    with pytest.raises(error, match="n_labeled"):
        adbench_split(X, y, 0.1, seed=1, n_labeled=n_labeled)
