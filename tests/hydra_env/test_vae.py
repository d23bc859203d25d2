"""ConditionalVAE: training lowers the loss, shapes, seeding, persistence, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from hydra_env import ConditionalVAE


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    normal = rng.uniform(0.2, 0.5, size=(180, 6))
    anomalies = rng.uniform(0.7, 1.0, size=(12, 6))
    return np.vstack([normal, anomalies]), np.r_[np.zeros(180), np.ones(12)].astype(int)


def small(**kw) -> ConditionalVAE:
    return ConditionalVAE(**{"latent_dim": 3, "hidden": (16,), "epochs": 25, "batch_size": 64, **kw})


@pytest.fixture(scope="module")
def fitted(data) -> ConditionalVAE:
    return small().fit(*data)


def test_loss_falls(fitted):
    history = fitted.loss_history_
    assert len(history) == 25
    assert history[-1] < 0.5 * history[0]


def test_shapes_and_range(fitted, data):
    X, _ = data
    mu, logvar = fitted.encode(X[:7], 1)
    assert mu.shape == logvar.shape == (7, 3)
    x = fitted.decode(mu, label=1)
    assert x.shape == (7, 6) and x.dtype == np.float32
    assert (x >= 0).all() and (x <= 1).all()  # sigmoid output
    with torch.inference_mode():
        xt = fitted.decode_torch(torch.as_tensor(mu), 1)
    np.testing.assert_allclose(xt.numpy(), x, atol=1e-6)


def test_label_conditions_decoder(fitted, data):
    """The anomaly label decodes towards the anomaly manifold (features near 0.85, normals near 0.35)."""
    z = np.zeros((50, 3), dtype=np.float32)
    assert fitted.decode(z, 1).mean() > fitted.decode(z, 0).mean() + 0.1  # measured +0.18


def test_same_seed_same_weights(data, fitted):
    twin = small().fit(*data)
    for a, b in zip(fitted.net_.state_dict().values(), twin.net_.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    other = small(random_state=1).fit(*data)
    assert not torch.equal(fitted.net_.to_mu.weight, other.net_.to_mu.weight)


def test_global_torch_rng_untouched(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    small(epochs=2).fit(*data)
    assert torch.equal(torch.rand(3), expected)


def test_save_load_identical_decode(fitted, tmp_path):
    path = tmp_path / "vae.pt"
    fitted.save(path)
    loaded = ConditionalVAE.load(path)
    z = np.random.default_rng(1).normal(size=(9, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.decode(z, 1), fitted.decode(z, 1))
    assert loaded.loss_history_ == fitted.loss_history_
    with pytest.raises(FileNotFoundError):
        ConditionalVAE.load(tmp_path / "missing.pt")


def test_warm_start_continues(data):
    vae = small(epochs=3).fit(*data)
    first = vae.net_.to_x.weight.clone()
    vae.fit(*data, warm_start=True)
    assert len(vae.loss_history_) == 6
    assert not torch.equal(first, vae.net_.to_x.weight)


def test_bad_input(fitted, data):
    X, y = data
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        small().fit(bad, y)
    with pytest.raises(ValueError, match="labels"):
        small().fit(X, np.full(len(X), 2))
    with pytest.raises(ValueError, match="label must be 0 or 1"):
        fitted.decode(np.zeros((1, 3)), label=3)
    with pytest.raises(ValueError, match="shape"):
        fitted.decode(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="exceeds float32 range"):
        small().fit(np.full_like(X, 1e39), y)


@pytest.mark.parametrize("method", ["encode", "decode", "decode_torch", "save"])
def test_unfitted_raises_not_fitted_error(method, tmp_path):
    args = {
        "encode": (np.zeros((1, 4)),),
        "decode": (np.zeros((1, 3)),),
        "decode_torch": (torch.zeros(1, 3),),
        "save": (tmp_path / "vae.pt",),
    }[method]
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(small(), method)(*args)


def test_clone_and_params(fitted):
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params() and not hasattr(twin, "net_")


def test_max_steps_per_epoch_caps_minibatches():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(3000, 4)).astype(np.float32)
    y = (rng.uniform(size=3000) < 0.05).astype(int)
    steps: list[int] = []
    vae = ConditionalVAE(latent_dim=2, epochs=2, batch_size=64, max_steps_per_epoch=3)
    vae.fit(X[:200], y[:200])
    original = vae.net_.encode
    vae.net_.encode = lambda x, onehot: (steps.append(len(x)), original(x, onehot))[1]
    vae.fit(X, y, warm_start=True)
    assert len(steps) == 2 * 3 and set(steps) == {64}
    with pytest.raises(ValueError, match="max_steps_per_epoch"):
        ConditionalVAE(max_steps_per_epoch=0).fit(X, y)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("latent_dim", 0),
        ("latent_dim", 1.5),
        ("epochs", 0),
        ("epochs", -1),
        ("batch_size", 0),
        ("lr", 0.0),
        ("beta", -1.0),
        ("output", "tanh"),
        ("anomaly_weight", "bogus"),
        ("anomaly_weight", -2.0),
        ("hidden", 64),
        ("max_steps_per_epoch", 0),
    ],
)
def test_impossible_settings_raise_naming_them_before_training(name, value, data):
    vae = small(**{name: value})
    with pytest.raises(ValueError, match=f"'{name}' parameter of ConditionalVAE"):
        vae.fit(*data)
    assert not hasattr(vae, "net_") and not hasattr(vae, "n_features_in_")


@pytest.mark.parametrize("hidden", [(), (16, 0), (16.5,)])
def test_hidden_widths_must_be_positive_integers(hidden, data):
    with pytest.raises(ValueError, match="hidden must be a non-empty sequence of positive integer widths"):
        small(hidden=hidden).fit(*data)


def test_a_damaged_vae_file_raises_a_named_error(fitted, tmp_path):
    import zipfile

    from detectors import DamagedFileError

    path = tmp_path / "vae.pt"
    fitted.save(path)
    blob = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        payload = archive.getinfo(next(n for n in archive.namelist() if n.endswith("/data/0")))
    blob[payload.header_offset + payload.compress_size // 2 + 200] ^= 0x5A  # inside the weights' bytes
    path.write_bytes(bytes(blob))
    with pytest.raises(DamagedFileError, match=str(path)):
        ConditionalVAE.load(path)


def test_vae_files_from_before_the_checksum_load_with_a_warning(fitted, tmp_path):
    path = tmp_path / "old.pt"
    legacy = {  # what save() wrote before the checksum: the bare dict
        "params": fitted.get_params(deep=False),
        "n_features_in": int(fitted.n_features_in_),
        "loss_history": list(fitted.loss_history_),
        "state_dict": fitted.net_.state_dict(),
    }
    torch.save(legacy, path)
    with pytest.warns(UserWarning, match="SHA-256"):
        loaded = ConditionalVAE.load(path)
    z = np.zeros((4, 3), dtype=np.float32)
    np.testing.assert_array_equal(loaded.decode(z, 1), fitted.decode(z, 1))
