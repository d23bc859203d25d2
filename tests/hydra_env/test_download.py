"""Downloading ADBench files from a local HTTP server: success, checksum mismatch, offline, table."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from functools import partial

import numpy as np
import pytest

from hydra_env import download as dl
from hydra_env.datasets import ADBENCH_CLASSICAL, load
from hydra_env.datasets_cli import main as cli_main


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/served on 127.0.0.1; yields (base_url, folder, request log)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder, handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def _fixture_npz(folder, stem="6_cardio", n=50):
    rng = np.random.default_rng(1)
    path = folder / f"{stem}.npz"
    np.savez(path, X=rng.normal(size=(n, 4)), y=(np.arange(n) % 10 == 0).astype(np.int64))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_download_verifies_and_writes(server, tmp_path, monkeypatch):
    url, folder, requests = server
    source, digest = _fixture_npz(folder)
    monkeypatch.setattr(dl, "expected_sha256", lambda: {"6_cardio": digest})
    target = tmp_path / "data"
    paths = dl.download(["cardio"], data_dir=target, base_url=url, timeout=5)
    assert paths == [target / "6_cardio.npz"]
    assert paths[0].read_bytes() == source.read_bytes()
    assert load("cardio", target)[0].shape == (50, 4)
    assert sorted(p.name for p in target.iterdir()) == ["6_cardio.npz"]  # no temporary file left
    dl.download("6_cardio.npz", data_dir=target, base_url=url, timeout=5)
    assert requests == ["/6_cardio.npz"]  # a verified copy is not fetched again
    dl.download("cardio", data_dir=target, base_url=url, timeout=5, force=True)
    assert len(requests) == 2


def test_checksum_mismatch_writes_nothing(server, tmp_path, monkeypatch):
    url, folder, _ = server
    _fixture_npz(folder)
    monkeypatch.setattr(dl, "expected_sha256", lambda: {"6_cardio": "0" * 64})
    target = tmp_path / "data"
    with pytest.raises(dl.ChecksumError, match="checksum mismatch for 6_cardio.npz") as err:
        dl.download("cardio", data_dir=target, base_url=url, timeout=5)
    assert "0" * 64 in str(err.value)
    assert not target.exists()  # the folder this call created is removed again


def test_corrupt_local_copy_is_replaced(server, tmp_path, monkeypatch):
    url, folder, requests = server
    source, digest = _fixture_npz(folder)
    monkeypatch.setattr(dl, "expected_sha256", lambda: {"6_cardio": digest})
    target = tmp_path / "data"
    target.mkdir()
    (target / "6_cardio.npz").write_bytes(b"half a file")
    dl.download("cardio", data_dir=target, base_url=url, timeout=5)
    assert (target / "6_cardio.npz").read_bytes() == source.read_bytes() and len(requests) == 1


def test_unreachable_server_is_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/adbench"
    with pytest.raises(dl.DownloadError, match="could not download .*6_cardio.npz.*offline"):
        dl.download("cardio", data_dir=tmp_path, base_url=url, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_http_error(server, tmp_path):
    url, _, _ = server
    with pytest.raises(dl.DownloadError, match="HTTP 404"):
        dl.download("cardio", data_dir=tmp_path, base_url=url, timeout=5)


def test_unverified_files_warn(server, tmp_path, monkeypatch):
    url, folder, _ = server
    _fixture_npz(folder, stem="3_backdoor")
    monkeypatch.setenv(dl.URL_ENV, url)  # base URL from the environment
    with pytest.warns(UserWarning, match="no SHA-256 is known for 3_backdoor.npz"):
        (path,) = dl.download("backdoor", data_dir=tmp_path, timeout=5)
    assert load(path)[0].shape == (50, 4)


def test_unverified_file_must_be_an_npz(server, tmp_path):
    url, folder, _ = server
    (folder / "13_fraud.npz").write_bytes(b"<html>not found</html>")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="not a readable .npz"):
        dl.download("fraud", data_dir=tmp_path / "d", base_url=url, timeout=5)
    assert not (tmp_path / "d").exists()


def test_unknown_name_before_any_request(server, tmp_path):
    url, _, requests = server
    with pytest.raises(ValueError, match="not one of ADBench's 47"):
        dl.download(["cardio", "cardoi"], data_dir=tmp_path, base_url=url)
    assert requests == []


def test_shipped_checksum_table():
    table = dl.expected_sha256()
    assert len(table) == 43 and set(table) <= set(ADBENCH_CLASSICAL)
    assert not {"3_backdoor", "9_census", "13_fraud", "36_speech"} & set(table)
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in table.values())


def test_shipped_checksums_match_shared_files(shared_data_dir):
    table = dl.expected_sha256()
    files = sorted(shared_data_dir.glob("*.npz"))
    assert files
    for path in files:
        assert dl.file_sha256(path) == table[path.stem], path.name


def test_cli_download(server, tmp_path, monkeypatch, capsys):
    url, folder, _ = server
    _, digest = _fixture_npz(folder, stem="45_wine")
    monkeypatch.setattr(dl, "expected_sha256", lambda: {"45_wine": digest})
    assert cli_main(["download", "45_wine", "--dir", str(tmp_path / "d"), "--url", url]) == 0
    assert "45_wine.npz" in capsys.readouterr().out
    assert (
        cli_main(
            ["download", "wine", "--dir", str(tmp_path / "d"), "--url", f"http://127.0.0.1:{_free_port()}"]
        )
        == 0
    )
    monkeypatch.setattr(dl, "expected_sha256", lambda: {"45_wine": "1" * 64})
    assert cli_main(["download", "wine", "--dir", str(tmp_path / "e"), "--url", url]) == 1
    assert "checksum mismatch" in capsys.readouterr().err


def test_a_silent_server_fails_after_the_connect_timeout_and_leaves_no_new_dir(tmp_path):
    import socket
    import time

    with socket.socket() as silent:  # completes the TCP handshake (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/adbench"
        target = tmp_path / "new" / "data"
        started = time.perf_counter()
        with pytest.raises(dl.DownloadError, match="could not download"):
            dl.download("cardio", data_dir=target, base_url=url, timeout=60, connect_timeout=0.5)
        assert time.perf_counter() - started < 10  # not the 60 s read timeout
    assert not (tmp_path / "new").exists()  # both folders this call made are gone
    assert tmp_path.is_dir()


def test_a_failed_download_keeps_a_dir_it_did_not_create(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/adbench"
    (tmp_path / "data").mkdir()
    with pytest.raises(dl.DownloadError):
        dl.download("cardio", data_dir=tmp_path / "data", base_url=url, timeout=5)
    assert (tmp_path / "data").is_dir()
