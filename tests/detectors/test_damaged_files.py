"""A detector file damaged after saving raises `DamagedFileError` on load; an intact one loads exactly.

The damage is placed inside the zip members that hold tensor data (found from the zip's own member
offsets), where torch's reader does not look at CRCs: before the checksum such a file loaded silently
and scored like a random model.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors import DamagedFileError, MambaDetector, load_detector
from detectors.adapters import PyODAdapter
from detectors.persistence import write_checked
from detectors.registry import read_state
from tests.detectors.conftest import TINY_SINGLE, save_legacy

_LOCAL_HEADER = 30  # bytes of a zip local file header before the name and extra field
FACTORIES = {
    "mamba": lambda: MambaDetector(random_state=0, **{**TINY_SINGLE, "epochs": 1}),
    "iforest": lambda: PyODAdapter("iforest", random_state=0, n_estimators=10),
}


def member_spans(blob: bytes) -> dict[str, tuple[int, int]]:
    """Byte span ``[start, end)`` of every zip member's stored data in ``blob``."""
    spans = {}
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for info in archive.infolist():
            offset = info.header_offset
            name_len, extra_len = struct.unpack("<HH", blob[offset + 26 : offset + _LOCAL_HEADER])
            start = offset + _LOCAL_HEADER + name_len + extra_len
            spans[info.filename] = (start, start + info.compress_size)
    return spans


def tensor_spans(blob: bytes, base: int = 0) -> list[tuple[int, int]]:
    """Spans of every tensor data member (``.../data/N``), also inside a nested torch zip payload."""
    spans = []
    for name, (start, end) in member_spans(blob).items():
        if re.search(r"/data/\d+$", name) and end > start:
            spans.append((base + start, base + end))
            inner = blob[start:end]
            if zipfile.is_zipfile(io.BytesIO(inner)):
                spans += tensor_spans(inner, base + start)
    return spans


def flipped(blob: bytes, position: int, length: int = 1, mask: int = 0xFF) -> bytes:
    damaged = bytearray(blob)
    for i in range(position, min(position + length, len(blob))):
        damaged[i] ^= mask
    return bytes(damaged)


@functools.cache
def _fit(name: str):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5))
    X[:12] += 4.0
    y = np.r_[np.ones(12, dtype=int), np.zeros(108, dtype=int)]
    return FACTORIES[name]().fit(X, y), X


@pytest.fixture(params=sorted(FACTORIES))
def saved(request, tmp_path):
    detector, X = _fit(request.param)
    path = tmp_path / "detector.pt"
    detector.save(path)
    return detector, X, path


def _assert_damaged(path: Path, blob: bytes) -> None:
    path.write_bytes(blob)
    with pytest.raises(DamagedFileError) as err:
        load_detector(path)
    assert str(path) in str(err.value)
    assert isinstance(err.value, ValueError) and err.value.path == path


def test_the_error_survives_pickling(tmp_path):
    import pickle

    err = pickle.loads(pickle.dumps(DamagedFileError(tmp_path / "x.pt", "payload SHA-256 mismatch")))
    assert isinstance(err, DamagedFileError) and err.path == tmp_path / "x.pt"
    assert "payload SHA-256 mismatch" in str(err) and str(tmp_path / "x.pt") in str(err)


def test_intact_file_loads_and_scores_identically_without_warning(saved):
    detector, X, path = saved
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = load_detector(path)
    assert type(again) is type(detector)
    np.testing.assert_array_equal(again.decision_function(X), detector.decision_function(X))
    np.testing.assert_array_equal(again.labels_, detector.labels_)


def test_the_file_has_tensor_data_to_damage(saved):
    *_, path = saved
    spans = tensor_spans(path.read_bytes())
    assert spans and all(end > start for start, end in spans)
    if isinstance(saved[0], MambaDetector):  # the payload plus the network's own weight tensors
        assert len(spans) > 5


@pytest.mark.parametrize("where", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_a_byte_changed_in_any_tensor_data_member_is_named(saved, where):
    *_, path = saved
    good = path.read_bytes()
    for start, end in tensor_spans(good):
        position = start + int(where * (end - start - 1))
        _assert_damaged(path, flipped(good, position))


def test_the_issue_case_200_bytes_flipped_mid_file(saved):
    *_, path = saved
    good = path.read_bytes()
    _assert_damaged(path, flipped(good, len(good) // 2, length=200))


def test_the_checksum_catches_what_fresh_zip_crcs_would_hide(saved):
    """Damage re-zipped with valid CRCs (e.g. rewritten by a tool) still fails the SHA-256."""
    *_, path = saved
    outer = torch.load(path, weights_only=True)
    outer["payload"] = outer["payload"].clone()
    outer["payload"][len(outer["payload"]) // 2] ^= 0x01
    torch.save(outer, path)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # the zip itself is consistent
    with pytest.raises(DamagedFileError, match="SHA-256"):
        load_detector(path)


def test_a_payload_of_another_class_is_refused(saved):
    detector, _, path = saved
    write_checked(read_state(path), path, kind="SomethingElse")
    with pytest.raises(DamagedFileError, match="recorded class"):
        load_detector(path)


def test_files_from_before_the_checksum_load_with_a_warning(saved):
    detector, X, path = saved
    save_legacy(read_state(path), path)
    with pytest.warns(UserWarning, match="before files carried a SHA-256 checksum"):
        again = load_detector(path)
    np.testing.assert_array_equal(again.decision_function(X), detector.decision_function(X))


def test_damaged_files_from_before_the_checksum_fail_their_zip_crc(saved):
    *_, path = saved
    save_legacy(read_state(path), path)
    good = path.read_bytes()
    # The largest member: the weights, or the adapter's pickle (format 1 had no payload tensor).
    start, end = max(member_spans(good).values(), key=lambda span: span[1] - span[0])
    _assert_damaged(path, flipped(good, (start + end) // 2))


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(FACTORIES)),
    span=st.integers(0, 10_000),
    fraction=st.floats(0.0, 1.0),
    mask=st.integers(1, 255),
)
def test_property_any_changed_tensor_byte_is_named(name, span, fraction, mask):
    detector, _ = _fit(name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "detector.pt"
        detector.save(path)
        good = path.read_bytes()
        spans = tensor_spans(good)
        start, end = spans[span % len(spans)]
        _assert_damaged(path, flipped(good, start + int(fraction * (end - start - 1)), mask=mask))
