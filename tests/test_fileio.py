"""Atomic writes and pickle-free .npz + JSON persistence, with fault injection."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from gradgraph import fileio
from gradgraph.errors import FileFormatError, GradgraphError


def listing(directory):
    return sorted(p.name for p in directory.iterdir())


def test_atomic_write_replaces_content(tmp_path):
    path = tmp_path / "a.txt"
    fileio.atomic_write_text(path, "old")
    fileio.atomic_write_text(path, "new ✓")
    assert path.read_text(encoding="utf-8") == "new ✓"
    fileio.atomic_write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert listing(tmp_path) == ["a.txt"]
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def test_failed_replace_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "params.txt"
    fileio.atomic_write_text(path, "old")

    def boom(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        fileio.atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert listing(tmp_path) == ["params.txt"]


def test_interrupt_during_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p.bin"
    fileio.atomic_write_bytes(path, b"old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert listing(tmp_path) == ["p.bin"]


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(GradgraphError, match="does not exist"):
        fileio.atomic_write_text(tmp_path / "nope" / "x.txt", "hi")


def sample():
    return {"W": np.arange(6.0).reshape(2, 3), "b": np.zeros(3, dtype=np.float32)}


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    fileio.save_npz(path, sample(), {"epoch": 3, "optimizer": "adam", "loss": 0.25})
    assert listing(tmp_path) == ["model.npz", "model.npz.json"]
    record = json.loads((tmp_path / "model.npz.json").read_text())
    assert record["schema_version"] == fileio.SCHEMA_VERSION
    assert record["arrays"]["W"] == {"shape": [2, 3], "dtype": "<f8"}
    assert len(record["sha256"]) == 64
    arrays, meta = fileio.load_npz(path, expected_shapes={"W": (2, 3), "b": (3,)})
    np.testing.assert_array_equal(arrays["W"], sample()["W"])
    assert arrays["b"].dtype == np.float32
    assert meta == {"epoch": 3, "optimizer": "adam", "loss": 0.25}
    # Also an ordinary .npz: numpy itself can read it without pickle.
    with np.load(path, allow_pickle=False) as plain:
        assert sorted(plain.files) == ["W", "b"]


def test_save_refuses_nan_metadata_and_object_arrays(tmp_path):
    with pytest.raises(FileFormatError, match="JSON"):
        fileio.save_npz(tmp_path / "m.npz", sample(), {"loss": float("nan")})
    with pytest.raises(FileFormatError, match="pickle"):
        fileio.save_npz(tmp_path / "m.npz", {"o": np.array([{}], dtype=object)}, {})
    assert listing(tmp_path) == []


def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {"epoch": 1})

    def boom(src, dst):
        raise OSError("no space left")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        fileio.save_npz(path, {"W": np.ones((2, 3)), "b": np.ones(3)}, {"epoch": 2})
    monkeypatch.undo()
    arrays, meta = fileio.load_npz(path)
    assert meta == {"epoch": 1} and arrays["W"][0, 1] == 1.0
    assert listing(tmp_path) == ["m.npz", "m.npz.json"]


class Payload:
    """Unpickling this object creates the canary file."""

    def __init__(self, canary):
        self.canary = canary

    def __reduce__(self):
        return (self.canary.__class__.touch, (self.canary,))


def test_the_payload_really_would_run(tmp_path):
    # Control: proves the canary check below can fail.
    canary = tmp_path / "CANARY"
    pickle.loads(pickle.dumps(Payload(canary)))
    assert canary.exists()


@pytest.mark.parametrize("kind", ["npy", "npz", "raw-pickle"])
def test_pickled_files_are_refused_and_run_nothing(tmp_path, kind):
    canary = tmp_path / "CANARY"
    path = tmp_path / "evil.npz"
    evil = np.array([Payload(canary)], dtype=object)
    if kind == "npy":
        with open(path, "wb") as handle:
            np.save(handle, evil, allow_pickle=True)
    elif kind == "npz":
        np.savez(path, W=evil)
    else:
        path.write_bytes(pickle.dumps(evil))
    with pytest.raises(FileFormatError) as info:
        fileio.load_npz(path)
    assert "\n" not in str(info.value)
    assert not canary.exists()


def test_truncated_file_is_corrupt_and_nothing_is_returned(tmp_path):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, {"W": np.ones((40, 40))}, {})
    (tmp_path / "m.npz.json").unlink()  # no hash to catch it: the zip reader must
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(FileFormatError, match="corrupt"):
        fileio.load_npz(path)
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        fileio.load_npz(path)


def test_hash_mismatch(tmp_path):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="SHA-256"):
        fileio.load_npz(path)


def test_mixed_saves_are_detected(tmp_path):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {"epoch": 1})
    old_json = (tmp_path / "m.npz.json").read_text()
    fileio.save_npz(path, {"W": np.ones((2, 3)), "b": np.ones(3)}, {"epoch": 2})
    (tmp_path / "m.npz.json").write_text(old_json)  # as if a crash fell between the two
    with pytest.raises(FileFormatError, match="SHA-256"):
        fileio.load_npz(path)


def test_shape_mismatch_and_missing_array(tmp_path):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    with pytest.raises(FileFormatError, match=r"'W' has shape \(2, 3\), expected \(3, 2\)"):
        fileio.load_npz(path, expected_shapes={"W": (3, 2)})
    with pytest.raises(FileFormatError, match="missing array 'V'"):
        fileio.load_npz(path, expected_shapes={"V": (1,)})


@pytest.mark.parametrize(
    ("content", "match"),
    [("{not json", "corrupt metadata"), ('{"schema": "other"}', "not a gradgraph")],
)
def test_corrupt_sidecar(tmp_path, content, match):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    (tmp_path / "m.npz.json").write_text(content)
    with pytest.raises(FileFormatError, match=match):
        fileio.load_npz(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        fileio.load_npz(tmp_path / "nothing.npz")
