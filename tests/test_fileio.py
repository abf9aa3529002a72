"""Atomic writes and pickle-free .npz + JSON persistence, with fault injection."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys

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
    with pytest.raises(fileio.OutputPathError, match="cannot write .*params.txt.*disk on fire"):
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
    with pytest.raises(fileio.OutputPathError, match="no space left"):
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


@pytest.mark.parametrize("where", [200, -30], ids=["array-data", "zip-comment"])
def test_a_damaged_npz_beside_its_own_sidecar_is_corrupt_not_a_mix(tmp_path, where):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    data = bytearray(path.read_bytes())
    data[where] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="corrupt file .*SHA-256 in m.npz.json"):
        fileio.load_npz(path)


# --- the .npz and its sidecar belong together (issue #11) --------------------------------

DIFFERENT = r"m.npz and m.npz.json come from different saves .*; save again$"


def two_saves(tmp_path):
    """(old sidecar text, new sidecar text) after saving epoch 1 then epoch 2 to m.npz."""
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {"epoch": 1})
    old_json = (tmp_path / "m.npz.json").read_text()
    fileio.save_npz(path, {"W": np.ones((2, 3)), "b": np.ones(3)}, {"epoch": 2})
    return old_json, (tmp_path / "m.npz.json").read_text()


def test_an_old_sidecar_beside_a_new_npz_is_from_different_saves(tmp_path):
    old_json, _ = two_saves(tmp_path)
    (tmp_path / "m.npz.json").write_text(old_json)  # as if a crash fell between the two
    with pytest.raises(FileFormatError, match=DIFFERENT) as info:
        fileio.load_npz(tmp_path / "m.npz")
    assert "\n" not in str(info.value)


def test_a_kill_between_the_two_renames_is_caught_on_load(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {"epoch": 1})
    real_replace, calls = os.replace, []

    def killed_before_the_sidecar(src, dst):
        calls.append(dst)
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt  # stands for SIGKILL: nothing after this runs
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_before_the_sidecar)
    with pytest.raises(KeyboardInterrupt):
        fileio.save_npz(path, {"W": np.ones((2, 3)), "b": np.ones(3)}, {"epoch": 2})
    monkeypatch.undo()
    assert [os.path.basename(c) for c in calls] == ["m.npz", "m.npz.json"]
    assert listing(tmp_path) == ["m.npz", "m.npz.json"]  # no temp left either
    with pytest.raises(FileFormatError, match=DIFFERENT):
        fileio.load_npz(path)
    fileio.save_npz(path, sample(), {"epoch": 3})  # "save again" mends it
    assert fileio.load_npz(path)[1] == {"epoch": 3}


def test_both_files_are_on_disk_before_either_replaces_its_target(tmp_path, monkeypatch):
    # The window in which a kill separates the pair is one rename, not a whole write.
    real_replace, temps_seen = os.replace, []

    def spy(src, dst):
        if not temps_seen:
            temps_seen.extend(p.name for p in tmp_path.iterdir() if fileio.is_temp_file(p))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    fileio.save_npz(tmp_path / "m.npz", sample(), {})
    assert sorted(n.split(".gradgraph-tmp-")[0] for n in temps_seen) == [".m.npz",
                                                                        ".m.npz.json"]


def test_a_sidecar_path_that_cannot_be_written_leaves_the_old_npz(tmp_path):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    before = path.read_bytes()
    (tmp_path / "m.npz.json").unlink()
    (tmp_path / "m.npz.json").mkdir()  # where the sidecar should go
    with pytest.raises(fileio.OutputPathError, match=r"m.npz.json': it is a folder"):
        fileio.save_npz(path, {"W": np.ones((2, 3))}, {})
    assert path.read_bytes() == before  # refused before either file was renamed
    assert listing(tmp_path) == ["m.npz", "m.npz.json"]


def test_a_swapped_sidecar_or_npz_is_from_different_saves(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    fileio.save_npz(a / "m.npz", sample(), {"model": "a"})
    fileio.save_npz(b / "m.npz", sample(), {"model": "b"})  # same arrays, another save
    (a / "m.npz.json").write_bytes((b / "m.npz.json").read_bytes())
    with pytest.raises(FileFormatError, match=DIFFERENT):
        fileio.load_npz(a / "m.npz")
    np.savez(b / "plain.npz", **sample())  # numpy's own file copied over a saved one
    (b / "m.npz").write_bytes((b / "plain.npz").read_bytes())
    with pytest.raises(FileFormatError, match=DIFFERENT):
        fileio.load_npz(b / "m.npz")


def test_a_renamed_pair_still_loads(tmp_path):
    fileio.save_npz(tmp_path / "m.npz", sample(), {"epoch": 1})
    (tmp_path / "m.npz").rename(tmp_path / "best.npz")
    (tmp_path / "m.npz.json").rename(tmp_path / "best.npz.json")
    assert fileio.load_npz(tmp_path / "best.npz")[1] == {"epoch": 1}


def write_schema_1_pair(path, arrays, metadata):
    """A pair as gradgraph wrote it before save ids: no zip comment, no ``save_id``."""
    data, names = fileio.arrays._npz_bytes(arrays)
    path.write_bytes(data)
    record = {"schema": "gradgraph.arrays", "schema_version": 1, "arrays": names,
              "sha256": hashlib.sha256(data).hexdigest(), "metadata": metadata}
    (path.parent / (path.name + ".json")).write_text(json.dumps(record))


def test_schema_1_pairs_still_load_and_their_mismatches_are_refused(tmp_path):
    path = tmp_path / "m.npz"
    write_schema_1_pair(path, sample(), {"epoch": 1})
    arrays, meta = fileio.load_npz(path, expected_shapes={"W": (2, 3)})
    assert meta == {"epoch": 1} and arrays["W"][1, 2] == 5.0
    old_json = (tmp_path / "m.npz.json").read_text()
    write_schema_1_pair(path, {"W": np.ones((2, 3)), "b": np.ones(3)}, {"epoch": 2})
    (tmp_path / "m.npz.json").write_text(old_json)
    with pytest.raises(FileFormatError, match="do not match the SHA-256 in m.npz.json "
                                              r"\(corrupt, or .*different saves\); save again"):
        fileio.load_npz(path)
    fileio.save_npz(path, sample(), {"epoch": 3})  # a new npz beside a schema-1 sidecar
    (tmp_path / "m.npz.json").write_text(old_json)
    with pytest.raises(FileFormatError, match=DIFFERENT):
        fileio.load_npz(path)


@pytest.mark.parametrize(("change", "match"), [
    ({"schema_version": 3}, "schema version 3 is not supported"),
    ({"schema_version": True}, "schema version True is not supported"),
    ({"schema_version": 2.0}, "schema version 2.0 is not supported"),
    ({"save_id": None}, "no save id"),
    ({"save_id": "../../etc"}, "no save id"),
])
def test_a_sidecar_of_another_version_or_without_a_save_id_is_refused(tmp_path, change,
                                                                     match):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    side = tmp_path / "m.npz.json"
    side.write_text(json.dumps({**json.loads(side.read_text()), **change}))
    with pytest.raises(FileFormatError, match=match):
        fileio.load_npz(path)


def test_a_sidecar_that_is_a_folder_or_a_device_is_refused_not_ignored(tmp_path):
    path = tmp_path / "m.npz"
    fileio.save_npz(path, sample(), {})
    side = tmp_path / "m.npz.json"
    side.unlink()
    side.mkdir()
    with pytest.raises(FileFormatError, match="m.npz.json: is a folder, not a metadata file"):
        fileio.load_npz(path)
    side.rmdir()
    side.symlink_to("/dev/zero")
    with pytest.raises(FileFormatError, match="m.npz.json: is not a regular file"):
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


# --- output paths checked before the work (issue #11, item 6) ----------------------------


def test_check_writable_accepts_a_new_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "model.npz"
    assert fileio.check_writable(str(target)) == target
    assert listing(tmp_path) == []
    target.write_text("old")  # an existing regular file may be replaced
    assert fileio.check_writable(target) == target
    assert listing(tmp_path) == ["model.npz"]


def unwritable_cases(tmp_path):
    (tmp_path / "plain").write_text("x")
    (tmp_path / "sub").mkdir()
    return [
        (tmp_path / "missing" / "m.npz", "folder .*missing' does not exist"),
        (tmp_path / "plain" / "m.npz", "plain' is not a folder"),
        ("/proc/m.npz", "folder '/proc' does not accept new files"),
        (tmp_path / "sub", "it is a folder"),
        ("/dev/null", "not a regular file"),
        (f"{tmp_path}/", "give a file name"),
    ]


def test_check_writable_refuses_each_unwritable_path_in_one_line(tmp_path):
    for path, message in unwritable_cases(tmp_path):
        with pytest.raises(fileio.OutputPathError, match=message) as info:
            fileio.check_writable(path)
        assert "\n" not in str(info.value) and isinstance(info.value, GradgraphError)
    assert sorted(listing(tmp_path)) == ["plain", "sub"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_writable_refuses_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(fileio.OutputPathError, match="Permission denied"):
            fileio.check_writable(folder / "m.npz")
        with pytest.raises(fileio.OutputPathError, match="Permission denied"):
            fileio.atomic_write_text(folder / "m.txt", "x")
        with pytest.raises(fileio.OutputPathError, match="Permission denied"):
            fileio.check_writable_folder(folder / "diagrams")
    finally:
        folder.chmod(0o755)


def test_check_writable_folder(tmp_path):
    assert fileio.check_writable_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert listing(tmp_path) == []  # nothing created
    (tmp_path / "f").write_text("x")
    with pytest.raises(fileio.OutputPathError, match="'.*f' is not a folder"):
        fileio.check_writable_folder(tmp_path / "f" / "out")
    with pytest.raises(fileio.OutputPathError, match="does not accept new files"):
        fileio.check_writable_folder("/proc/out")


def test_writers_never_let_an_os_error_through(tmp_path, monkeypatch):
    with pytest.raises(fileio.OutputPathError, match="/proc/m.npz"):
        fileio.save_npz("/proc/m.npz", sample(), {})
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(fileio.OutputPathError, match="d.npz"):
        fileio.save_npz(tmp_path / "d.npz", sample(), {})
    path = tmp_path / "m.txt"
    fileio.atomic_write_text(path, "old")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(fileio.OutputPathError, match="m.txt': No space left on device"):
        fileio.atomic_write_text(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert sorted(listing(tmp_path)) == ["d.npz", "m.txt"]


# --- temporary files: recognisable, cleaned up (item 7) -----------------------------------


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_names_are_recognisable_and_never_look_like_the_target():
    name = fileio.temp_name("model.npz")
    assert name.startswith(".model.npz.gradgraph-tmp-") and not name.endswith(".npz")
    assert fileio.is_temp_file(name) and f"-{os.getpid()}-" in name
    assert not fileio.is_temp_file("model.npz")


def test_a_save_removes_stale_temps_of_dead_writers_only(tmp_path):
    dead, live = dead_pid(), os.getpid()
    names = {
        "stale": f".m.npz.gradgraph-tmp-{dead}-0123abcd",
        "stale-sidecar": f".m.npz.json.gradgraph-tmp-{dead}-0123abcd",
        "live": f".m.npz.gradgraph-tmp-{live}-0123abcd",
        "other": f".n.npz.gradgraph-tmp-{dead}-0123abcd",
        "user": ".m.npz.gradgraph-tmp-notes",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    fileio.save_npz(tmp_path / "m.npz", sample(), {})
    left = set(listing(tmp_path))
    assert names["stale"] not in left and names["stale-sidecar"] not in left
    assert {names["live"], names["other"], names["user"], "m.npz", "m.npz.json"} == left


def test_a_temp_file_is_never_loaded_as_a_model(tmp_path):
    temp = tmp_path / f".m.npz.gradgraph-tmp-{dead_pid()}-0123abcd"
    np.savez(temp, W=np.ones(2))  # even a complete one (numpy adds .npz): name it back
    (tmp_path / (temp.name + ".npz")).rename(temp)
    with pytest.raises(FileFormatError, match="temporary file of an unfinished save"):
        fileio.load_npz(temp)
    assert list(tmp_path.glob("*.npz")) == []


# --- reading: devices, pipes and folders are named as such (item 8) -----------------------


def test_load_refuses_devices_pipes_and_folders_by_name(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    cases = [("/dev/zero", "not a regular file"), (fifo, "not a regular file"),
             (tmp_path, "is a folder"), (tmp_path / "none.npz", "no such file")]
    for path, message in cases:
        with pytest.raises(FileFormatError, match=message):
            fileio.load_npz(path)


def test_read_bounded_does_not_wait_on_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert fileio.read_bounded(fifo, 10) == b""  # no writer: end of file, not a hang
    assert fileio.read_bounded("/dev/zero", 10) is None


def test_read_file_caps_and_words_errors(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileFormatError, match="data file too large .11 bytes; the limit is 10"):
        fileio.read_file(path, 10, "data file")
    assert fileio.read_file(path, 11) == b"x" * 11


def test_a_folder_that_refuses_new_files_is_named_with_the_os_reason(tmp_path, monkeypatch):
    # As root the chmod test above is skipped: make the OS refuse the probe instead.
    real_open = os.open

    def refuse(path, flags, *args):
        if ".gradgraph-tmp-" in str(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(fileio.OutputPathError, match=r"cannot write '.*m.npz': folder '.*' "
                                                     r"does not accept new files \(Permission"):
        fileio.check_writable(tmp_path / "m.npz")
    with pytest.raises(fileio.OutputPathError, match="m.npz': Permission denied"):
        fileio.save_npz(tmp_path / "m.npz", sample(), {})
    assert listing(tmp_path) == []
