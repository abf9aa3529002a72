"""Atomic, pickle-free persistence of parameters and histories.

A save writes a temporary file in the target's directory, flushes and fsyncs it,
``os.replace``-s it over the target (atomic on POSIX) and fsyncs the directory, so a
crash or Ctrl-C leaves either the old file or the new one, never half of one.
Arrays go to ``.npz`` (never pickle) with a JSON sidecar holding a schema version,
the array names, shapes and dtypes, and the SHA-256 of the ``.npz`` bytes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import secrets
import stat
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileFormatError, GradgraphError

__all__ = [
    "OutputPathError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable",
    "check_writable_folder",
    "read_file",
    "remove_stale_temps",
    "save_npz",
    "load_npz",
    "SCHEMA_VERSION",
]

SCHEMA = "gradgraph.arrays"
SCHEMA_VERSION = 1
_ARRAY_KINDS = "biufc"  # bool, integers, floats, complex: nothing that needs pickle


class OutputPathError(FileFormatError):
    """An output path that cannot be written: a missing or read-only folder, a folder or
    device where a file should go, or an OS error while writing (disk full, …)."""


# Temporary files are named ``.<target>.gradgraph-tmp-<pid>-<8 hex>``: hidden, never
# ending in the target's suffix (so ``*.npz`` never matches one), and carrying the pid
# of the writer, so the next save can tell a dead writer's leftovers from a live one's.
TEMP_TAG = ".gradgraph-tmp-"
_TEMP = re.compile(r"^\.(?P<target>.+)\.gradgraph-tmp-(?P<pid>\d{1,10})-[0-9a-f]{8}$")
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def temp_name(target: str) -> str:
    """A fresh temporary file name for writing ``target`` (a file name, not a path)."""
    return f".{target}{TEMP_TAG}{os.getpid()}-{secrets.token_hex(4)}"


def is_temp_file(path: str | Path) -> bool:
    """Whether ``path`` is named like one of gradgraph's temporary files."""
    return _TEMP.match(Path(path).name) is not None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _check_folder(folder: Path, target: Path) -> None:
    """``folder`` (where ``target`` goes) must exist and be a folder."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        raise OutputPathError(f"cannot write '{target}': folder '{folder}' does not "
                              "exist") from None
    except NotADirectoryError:
        raise OutputPathError(f"cannot write '{target}': '{folder}' is not a folder") from None
    except OSError as exc:
        raise OutputPathError(f"cannot write '{target}': {_reason(exc)}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise OutputPathError(f"cannot write '{target}': '{folder}' is not a folder")


def _probe(folder: Path, name: str, head: str) -> None:
    """Create and remove a temporary file in ``folder``: the only sure test that a
    file can be written there (permissions, read-only mounts, /proc, quotas, ACLs).
    ``head`` starts the error message (``cannot write 'x.npz'``)."""
    probe = folder / temp_name(name)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
    except OSError as exc:
        raise OutputPathError(f"{head}: folder '{folder}' does not accept new files "
                              f"({_reason(exc)})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def check_writable(path: str | Path) -> Path:
    """Check, before any work starts, that a file can be written at ``path``.

    The folder must exist and be a folder that accepts new files (tested by creating
    and removing a temporary file there), and ``path`` must not be a folder, a device,
    a pipe or a socket. Returns ``path`` as a :class:`~pathlib.Path`; raises
    :class:`OutputPathError` (one line, naming the path and the reason) otherwise.
    """
    target = Path(path)
    if not target.name or str(path).endswith(("/", os.sep)):
        raise OutputPathError(f"cannot write '{path}': give a file name, not a folder")
    folder = target.parent
    _check_folder(folder, target)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputPathError(f"cannot write '{target}': {_reason(exc)}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputPathError(f"cannot write '{target}': it is a folder")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputPathError(f"cannot write '{target}': it is not a regular file (a device, "
                              "pipe or socket)")
    _probe(folder, target.name, f"cannot write '{target}'")
    return target


def check_writable_folder(folder: str | Path) -> Path:
    """Check that files can be written in ``folder``, or that it can be created.

    An existing ``folder`` must be a folder that accepts new files; a missing one
    needs its nearest existing ancestor to be one. Returns ``folder`` as a Path;
    raises :class:`OutputPathError` otherwise. Nothing is created.
    """
    folder = Path(folder)
    existing = folder
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    try:
        is_dir = stat.S_ISDIR(os.stat(existing).st_mode)
    except OSError as exc:
        raise OutputPathError(f"cannot write into '{folder}': {_reason(exc)}") from None
    if not is_dir:
        raise OutputPathError(f"cannot write into '{folder}': '{existing}' is not a folder")
    _probe(existing, "probe", f"cannot write into '{folder}'")
    return folder


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a pid we may not signal exists too)."""
    if pid < 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError, OSError):
        return False
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove the temporary files a killed save to ``path`` left beside it.

    Only names matching gradgraph's pattern for this very target are touched, and
    only when the pid in the name is no longer running. Returns the files removed.
    """
    path = Path(path)
    folder = path.parent
    removed = []
    prefix = f".{path.name}{TEMP_TAG}"
    try:
        names = [e.name for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return removed
    for name in names:
        hit = _TEMP.match(name)
        if hit is None or hit.group("target") != path.name or _alive(int(hit.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(folder / name)
            removed.append(folder / name)
    return removed


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically.

    The temporary file lives in the same directory (``os.replace`` is atomic only
    within one file system), is named by :func:`temp_name` and is removed if anything
    fails; leftovers of a killed earlier save to ``path`` are removed first. An OS
    error becomes :class:`OutputPathError` (the path and the OS's reason); anything
    else (Ctrl-C) is re-raised. The new file keeps the old file's permissions, or
    gets 0o644.
    """
    path = Path(path)
    parent = path.parent
    _check_folder(parent, path)
    remove_stale_temps(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o644
    except OSError:
        mode = 0o644
    tmp = parent / temp_name(path.name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
    except OSError as exc:
        raise OutputPathError(f"cannot write '{path}': {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:  # includes KeyboardInterrupt: never leave the temp file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputPathError(f"cannot write '{path}': {_reason(exc)}") from None
        raise
    _fsync_directory(parent)


def read_bounded(path: str | Path, cap: int) -> bytes | None:
    """The bytes of ``path``, or ``None`` when it holds more than ``cap``.

    At most ``cap + 1`` bytes are read, whatever ``stat()`` says, so a device such as
    /dev/zero or a file that grows while it is read cannot exhaust memory, and the
    file is opened without blocking, so a FIFO with no writer cannot hang. OS errors
    (missing file, a directory, no permission) propagate for the caller to word.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC)
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(cap + 1)
    return None if len(data) > cap else data


def read_file(path: str | Path, cap: int, what: str = "file",
              error: type[GradgraphError] = FileFormatError) -> bytes:
    """The bytes of the regular file ``path`` (at most ``cap``), or ``error`` with one line.

    The file is opened without blocking and checked with ``fstat`` on the open
    descriptor, so a FIFO, a device such as /dev/zero, a folder or a file swapped
    after a check is refused with a message saying which, never read or waited on.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {_reason(exc)}") from None
    info = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(info.st_mode):
        problem = f"is a folder, not a {what}"
    elif not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file (a device, pipe or socket)" + (
            f", so not a {what}" if what != "file" else "")
    elif info.st_size > cap:
        problem = f"{what} too large ({info.st_size} bytes; the limit is {cap})"
    if problem is not None:
        os.close(fd)
        raise error(f"{path}: {problem}")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(cap + 1)
        except OSError as exc:
            raise error(f"{path}: cannot read the {what}: {_reason(exc)}") from None
    if len(data) > cap:  # it grew since fstat
        raise error(f"{path}: {what} too large (over {cap} bytes)")
    return data


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; best effort (not possible on every OS/file system)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _npz_bytes(arrays: Mapping[str, Any]) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """Serialise arrays as an .npz in memory, refusing anything that would need pickle."""
    listing: dict[str, dict[str, Any]] = {}
    buffer = io.BytesIO()
    # Written entry by entry (as np.savez does) so any name works, even "file".
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, value in arrays.items():
            if not isinstance(name, str) or not name or any(c in name for c in "/\\\0"):
                raise FileFormatError(f"array name {name!r} cannot be saved (no '/', '\\', NUL)")
            arr = np.asarray(value)
            if arr.dtype.kind not in _ARRAY_KINDS:
                raise FileFormatError(
                    f"array {name!r} has dtype {arr.dtype}; only numeric arrays are saved "
                    "(anything else would need pickle)"
                )
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
            listing[name] = {"shape": list(arr.shape), "dtype": arr.dtype.str}
    return buffer.getvalue(), listing


def save_npz(path: str | Path, arrays: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
    """Save ``arrays`` to ``path`` (.npz) and a JSON sidecar ``path + '.json'``, atomically.

    The sidecar holds ``schema``, ``schema_version``, each array's shape and dtype, the
    SHA-256 of the .npz bytes and the user ``metadata`` (JSON without NaN/Inf). Both
    files are written atomically, .npz first; if a crash falls between the two, the
    hash no longer matches and :func:`load_npz` reports it rather than loading a mix.
    """
    path = Path(path)
    data, listing = _npz_bytes(arrays)
    record = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "arrays": listing,
        "sha256": hashlib.sha256(data).hexdigest(),
        "metadata": dict(metadata),
    }
    try:
        text = json.dumps(record, allow_nan=False, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"metadata for {path} cannot be saved as JSON: {exc}") from None
    atomic_write_bytes(path, data)
    atomic_write_text(_sidecar(path), text + "\n")


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    side = _sidecar(path)
    if not side.is_file():
        return None
    try:
        record = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(f"{side}: corrupt metadata ({exc.__class__.__name__})") from None
    ok = (
        isinstance(record, dict)
        and record.get("schema") == SCHEMA
        and isinstance(record.get("arrays"), dict)
        and isinstance(record.get("sha256"), str)
        and isinstance(record.get("metadata", {}), dict)
    )
    if not ok:
        raise FileFormatError(f"{side}: not a gradgraph metadata file")
    version = record.get("schema_version")
    if version != SCHEMA_VERSION:
        raise FileFormatError(
            f"{side}: schema version {version!r} is not supported (this gradgraph reads "
            f"{SCHEMA_VERSION})"
        )
    return record


_MAX_UNPACKED = 4 << 30  # bytes: refuse zip bombs before numpy inflates them


def _load_npz_bytes(path: Path, data: bytes) -> dict[str, np.ndarray]:
    """Every array of an in-memory .npz, without pickle; FileFormatError otherwise."""
    if data[:1] == b"\x80":  # the pickle protocol opcode
        raise FileFormatError(f"{path}: is a pickle; refused (pickle can run code)")
    if data.startswith(b"\x93NUMPY"):
        raise FileFormatError(f"{path}: is a single .npy array, not an .npz archive")
    if not data.startswith(b"PK"):
        raise FileFormatError(f"{path}: corrupt file (not an .npz archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > _MAX_UNPACKED:
            raise FileFormatError(f"{path}: unpacks to {unpacked} bytes; refused as too large")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            raise FileFormatError(
                f"{path}: contains a pickled (object) array; refused (pickle can run code)"
            ) from None
        raise FileFormatError(f"{path}: corrupt file ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
        raise FileFormatError(f"{path}: corrupt or truncated file ({type(exc).__name__})") from None


def load_npz(
    path: str | Path, expected_shapes: Mapping[str, tuple[int, ...]] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load arrays saved by :func:`save_npz`; all or nothing.

    Refuses pickled/object data, checks the SHA-256 and the listing against the JSON
    sidecar when it is present, and each array in ``expected_shapes`` against its
    shape. Any problem raises :class:`FileFormatError` with a one-line message.

    Returns
    -------
    arrays : dict of name -> ndarray
    metadata : dict
        The user metadata saved with the arrays ({} without a sidecar).
    """
    path = Path(path)
    if is_temp_file(path):
        raise FileFormatError(f"{path}: is the temporary file of an unfinished save, not a "
                              "saved model")
    data = read_file(path, _MAX_UNPACKED)
    if not data:
        raise FileFormatError(f"{path}: empty file")
    record = _read_sidecar(path)
    if record is not None and hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise FileFormatError(
            f"{path}: contents do not match the SHA-256 in {_sidecar(path).name} "
            "(corrupt, or the two files come from different saves)"
        )
    arrays = _load_npz_bytes(path, data)
    for name, arr in arrays.items():
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise FileFormatError(f"{path}: array {name!r} has unsupported dtype {arr.dtype}")
    if record is not None:
        for name, info in record["arrays"].items():
            if name not in arrays:
                raise FileFormatError(f"{path}: array {name!r} listed in the metadata is missing")
            if not isinstance(info, dict) or list(arrays[name].shape) != info.get("shape"):
                raise FileFormatError(f"{path}: array {name!r} does not match its metadata")
    for name, shape in (expected_shapes or {}).items():
        if name not in arrays:
            raise FileFormatError(f"{path}: missing array {name!r}")
        if tuple(arrays[name].shape) != tuple(shape):
            raise FileFormatError(
                f"{path}: array {name!r} has shape {tuple(arrays[name].shape)}, "
                f"expected {tuple(shape)}"
            )
    return arrays, dict(record.get("metadata", {})) if record is not None else {}
