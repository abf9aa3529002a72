"""Atomic, pickle-free persistence of parameters and histories.

A save writes a temporary file in the target's directory, flushes and fsyncs it,
``os.replace``-s it over the target (atomic on POSIX) and fsyncs the directory, so a
crash or Ctrl-C leaves either the old file or the new one, never half of one.
Arrays go to ``.npz`` (never pickle) with a JSON sidecar holding a schema version,
the array names, shapes and dtypes, and the SHA-256 of the ``.npz`` bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import FileFormatError

__all__ = ["atomic_write_bytes", "atomic_write_text", "save_npz", "load_npz", "SCHEMA_VERSION"]

SCHEMA = "gradgraph.arrays"
SCHEMA_VERSION = 1
_ARRAY_KINDS = "biufc"  # bool, integers, floats, complex: nothing that needs pickle


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically.

    The temporary file lives in the same directory (``os.replace`` is atomic only
    within one file system) and is removed if anything fails; the original error is
    re-raised. The new file keeps the old file's permissions, or gets 0o644.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise FileFormatError(f"cannot write {path}: directory {parent} does not exist")
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o644
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0o600
        os.replace(tmp, path)
    except BaseException:  # includes KeyboardInterrupt: never leave the temp file behind
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(parent)


def read_bounded(path: str | Path, cap: int) -> bytes | None:
    """The bytes of ``path``, or ``None`` when it holds more than ``cap``.

    At most ``cap + 1`` bytes are read, whatever ``stat()`` says, so a device such as
    /dev/zero or a file that grows while it is read cannot exhaust memory. OS errors
    (missing file, a directory, no permission) propagate for the caller to word.
    """
    with Path(path).open("rb") as fh:
        data = fh.read(cap + 1)
    return None if len(data) > cap else data


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
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror})") from None
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
