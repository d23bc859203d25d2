"""The one detector contract: NotFittedError, float32 range, PyOD's API, registry loading, atomic save."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from pyod.models import combination
from pyod.utils.utility import standardizer
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from detectors import MambaDetector, MambaMoEDetector, load_detector
from detectors.adapters import PYOD_DETECTORS, SUPERVISED_KINDS, PyODAdapter, SupervisedAdapter
from detectors.devnet import DevNet
from tests.detectors.conftest import TINY_MOE, TINY_SINGLE

UNFITTED = (
    [MambaDetector(), MambaMoEDetector(), DevNet()]
    + [PyODAdapter(name) for name in PYOD_DETECTORS]
    + [SupervisedAdapter(kind) for kind in SUPERVISED_KINDS]
)


@pytest.fixture(scope="module")
def mome(wdbc_split):
    return MambaMoEDetector(random_state=0, n_experts=2, **TINY_MOE).fit(
        wdbc_split.X_train, wdbc_split.y_train
    )


@pytest.mark.parametrize(
    "det",
    UNFITTED,
    ids=lambda d: (
        f"{type(d).__name__}-{d.get_params().get('name_or_estimator', d.get_params().get('kind', ''))}"
    ),
)
@pytest.mark.parametrize("method", ["decision_function", "predict", "predict_proba", "predict_confidence"])
def test_every_benchmarked_family_raises_not_fitted_error(det, method):
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(det, method)(np.zeros((2, 3)))


@pytest.mark.parametrize("det", UNFITTED[:4], ids=lambda d: type(d).__name__)
def test_save_before_fit_raises_not_fitted_error(det, tmp_path):
    with pytest.raises(NotFittedError):
        det.save(tmp_path / "x.pt")


def test_values_beyond_float32_are_named(wdbc_split):
    X, y = wdbc_split.X_train.copy(), wdbc_split.y_train
    X[5, 2] = 1e39
    for det in (MambaDetector(**TINY_SINGLE), DevNet(epochs=1), PyODAdapter("ecod")):
        with pytest.raises(ValueError, match="exceeds float32 range"):
            det.fit(X, y)
    fitted = MambaDetector(**TINY_SINGLE).fit(wdbc_split.X_train, y)
    with pytest.raises(ValueError, match="exceeds float32 range"):
        fitted.decision_function(X)
    with pytest.raises(ValueError, match="exceeds float32 range"):
        fitted.predict(np.full((1, X.shape[1]), -1e39))


def test_pyod_api(mome, wdbc_split):
    X = wdbc_split.X_test
    assert np.array_equal(mome.labels_, (mome.decision_scores_ > mome.threshold_).astype(int))
    assert mome.threshold_ == pytest.approx(
        np.percentile(mome.decision_scores_, 100 * (1 - wdbc_split.y_train.mean()))
    )
    scores = mome.decision_function(X)
    for method in ("calibrated", "linear", "unify"):
        proba = mome.predict_proba(X, method=method)
        assert proba.shape == (len(X), 2) and (proba >= 0).all() and (proba <= 1).all()
        np.testing.assert_allclose(proba.sum(1), 1.0)
        order = np.argsort(scores)
        assert np.all(np.diff(proba[order, 1]) >= -1e-12), method  # monotone in the score
    with pytest.raises(ValueError, match="method"):
        mome.predict_proba(X, method="bogus")
    confidence = mome.predict_confidence(X)
    assert confidence.shape == (len(X),) and (confidence >= 0).all() and (confidence <= 1).all()
    labels, conf = mome.predict(X, return_confidence=True)
    np.testing.assert_array_equal(conf, confidence)
    det = MambaDetector(random_state=0, **TINY_SINGLE)
    np.testing.assert_array_equal(det.fit_predict(wdbc_split.X_train, wdbc_split.y_train), det.labels_)


def test_linear_unify_and_confidence_match_pyod_itself():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[:15] += 5
    det = PyODAdapter("iforest", random_state=0, contamination=0.05).fit(X)
    X_test = rng.normal(size=(50, 4)) * 2
    for method in ("linear", "unify"):
        np.testing.assert_allclose(
            det.predict_proba(X_test, method=method), det.estimator_.predict_proba(X_test, method=method)
        )
    np.testing.assert_allclose(det.predict_confidence(X_test), det.estimator_.predict_confidence(X_test))


def test_mome_drops_into_pyod_score_combination(mome, wdbc_split):
    iforest = PyODAdapter("iforest", random_state=0).fit(wdbc_split.X_train)
    train = np.column_stack([mome.decision_scores_, iforest.decision_scores_])
    test = np.column_stack(
        [mome.decision_function(wdbc_split.X_test), iforest.decision_function(wdbc_split.X_test)]
    )
    train_norm, test_norm = standardizer(train, test)
    for combine in (combination.average, combination.maximization):
        combined = combine(test_norm)
        assert combined.shape == (len(wdbc_split.X_test),)
        assert roc_auc_score(wdbc_split.y_test, combined) > 0.9


def test_load_resolves_the_class_by_name(mome, tmp_path):
    path = tmp_path / "det.pt"
    mome.save(path)
    assert type(load_detector(path)) is MambaMoEDetector
    assert type(MambaMoEDetector.load(path)) is MambaMoEDetector
    with pytest.raises(ValueError, match="holds a MambaMoEDetector, not a MambaDetector"):
        MambaDetector.load(path)
    assert [p.name for p in tmp_path.iterdir()] == ["det.pt"]  # no temporary file left behind


def test_save_is_atomic(mome, tmp_path, monkeypatch):
    path = tmp_path / "det.pt"
    mome.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        mome.save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["det.pt"]


def _bad_files(tmp_path, good: bytes):
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "truncated.pt").write_bytes(good[: len(good) // 2])
    (tmp_path / "garbage.pt").write_bytes(b"\x00not a checkpoint" * 10)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # needs unpickling of code objects
    with open(tmp_path / "pickle.pt", "wb") as fh:
        pickle.dump(object(), fh)
    return ["empty.pt", "truncated.pt", "garbage.pt", "foreign.pt", "module.pt", "pickle.pt"]


def test_corrupt_empty_or_foreign_files_are_named(mome, tmp_path):
    mome.save(tmp_path / "good.pt")
    for name in _bad_files(tmp_path, (tmp_path / "good.pt").read_bytes()):
        for load in (MambaDetector.load, MambaMoEDetector.load, DevNet.load, load_detector):
            with pytest.raises(ValueError, match="not a saved swift-hydra detector") as err:
                load(tmp_path / name)
            assert str(tmp_path / name) in str(err.value) and "weights_only" not in str(err.value)
    with pytest.raises(FileNotFoundError):
        load_detector(tmp_path / "missing.pt")
