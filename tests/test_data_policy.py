"""Data tests skip on a user's machine without the ADBench files, and fail in CI (REQUIRE_DATA)."""

from __future__ import annotations

import pytest

import tests.conftest as conftest


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("SWIFT_HYDRA_DATA", str(tmp_path / "missing"))
    monkeypatch.setattr(conftest, "DEFAULT_SHARED", tmp_path / "also-missing")
    return tmp_path


def test_missing_data_skips_on_a_users_machine(no_data, monkeypatch):
    monkeypatch.delenv("SWIFT_HYDRA_REQUIRE_DATA", raising=False)
    with pytest.raises(pytest.skip.Exception, match="ADBench files not found"):
        conftest.locate_shared_data()


@pytest.mark.parametrize("value", ["1", "true"])
def test_missing_data_fails_when_required(no_data, monkeypatch, value):
    monkeypatch.setenv("SWIFT_HYDRA_REQUIRE_DATA", value)
    with pytest.raises(pytest.fail.Exception, match="SWIFT_HYDRA_REQUIRE_DATA=1"):
        conftest.locate_shared_data()


def test_present_data_is_found(no_data, monkeypatch):
    folder = no_data / "Classical"
    folder.mkdir()
    (folder / "6_cardio.npz").write_bytes(b"")
    monkeypatch.setenv("SWIFT_HYDRA_DATA", str(folder))
    monkeypatch.setenv("SWIFT_HYDRA_REQUIRE_DATA", "1")
    assert conftest.locate_shared_data() == folder


def test_ci_requires_the_data():
    ci = (conftest.REPO_ROOT / ".ci" / "run").read_text()
    assert "export SWIFT_HYDRA_REQUIRE_DATA=1" in ci
