"""Arrays saved as an ``.npz`` (never pickle) with a JSON sidecar ``path + '.json'``.

The sidecar holds a schema version, the array names, shapes and dtypes, the SHA-256 of
the ``.npz`` bytes, a save id and the user's metadata; the ``.npz`` repeats the save id
in its zip comment (which numpy ignores). The two files are written together (both in
full, then renamed one after the other), and a load checks that they belong together:
a kill between the renames, or one file copied over without the other, is reported as
"come from different saves", a damaged ``.npz`` as corrupt, never loaded as a mix.

Schema versions: 1 has the SHA-256 but no save id (still read); 2 adds the save id.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FileFormatError
from .paths import is_temp_file
from .reads import read_file
from .writes import atomic_write_files

__all__ = ["SCHEMA_VERSION", "load_npz", "save_npz"]

SCHEMA = "gradgraph.arrays"
SCHEMA_VERSION = 2
_READABLE = (1, 2)  # schema versions this gradgraph loads
_ARRAY_KINDS = "biufc"  # bool, integers, floats, complex: nothing that needs pickle
_MAX_UNPACKED = 4 << 30  # bytes: refuse zip bombs before numpy inflates them
_MAX_SIDECAR = 64 << 20  # bytes: a sidecar is a few kB of JSON
_ID = re.compile(r"^[0-9a-f]{32}$")
_COMMENT = re.compile(rb"^gradgraph\.arrays save ([0-9a-f]{32})$")


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _npz_bytes(arrays: Mapping[str, Any],
               save_id: str | None = None) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """Serialise arrays as an .npz in memory, refusing anything that would need pickle.

    ``save_id`` goes into the zip comment, where the sidecar's copy can be compared.
    """
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
        if save_id is not None:
            archive.comment = f"{SCHEMA} save {save_id}".encode("ascii")
    return buffer.getvalue(), listing


def save_npz(path: str | Path, arrays: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
    """Save ``arrays`` to ``path`` (.npz) and a JSON sidecar ``path + '.json'``, atomically.

    The sidecar holds ``schema``, ``schema_version``, each array's shape and dtype, the
    SHA-256 of the .npz bytes, the save id the .npz also carries, and the user
    ``metadata`` (JSON without NaN/Inf). Both files are written in full before either
    replaces its target; :func:`load_npz` refuses a pair from two different saves.
    """
    path = Path(path)
    save_id = secrets.token_hex(16)
    data, listing = _npz_bytes(arrays, save_id)
    record = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "save_id": save_id,
        "arrays": listing,
        "sha256": hashlib.sha256(data).hexdigest(),
        "metadata": dict(metadata),
    }
    try:
        text = json.dumps(record, allow_nan=False, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"metadata for {path} cannot be saved as JSON: {exc}") from None
    atomic_write_files([(path, data), (_sidecar(path), (text + "\n").encode("utf-8"))])


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    """The sidecar's record; ``None`` when there is none. Its bytes are read bounded, so
    a folder, a device or a pipe named ``m.npz.json`` is refused, not read or ignored."""
    side = _sidecar(path)
    if not os.path.lexists(side):
        return None
    raw = read_file(side, _MAX_SIDECAR, "metadata file")
    try:
        record = json.loads(raw.decode("utf-8"))
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
    if type(version) is not int or version not in _READABLE:  # not True, not 2.0
        raise FileFormatError(
            f"{side}: schema version {version!r} is not supported (this gradgraph reads "
            f"{', '.join(map(str, _READABLE))})"
        )
    if version >= 2 and not (isinstance(record.get("save_id"), str)
                             and _ID.match(record["save_id"])):
        raise FileFormatError(f"{side}: not a gradgraph metadata file (no save id)")
    return record


def _save_id(data: bytes) -> tuple[bool, str | None]:
    """(whether ``data`` is an intact zip archive, the save id in its comment or None).

    A comment that is not a save id's counts as damage: saves write none other."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            comment = archive.comment
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False, None
    found = _COMMENT.match(comment)
    if found is None:
        return not comment, None
    return True, found.group(1).decode("ascii")


def _check_pair(path: Path, data: bytes, record: Mapping[str, Any]) -> None:
    """The .npz bytes are the ones the sidecar describes; else say why they are not.

    With a save id on both sides a mismatch is told apart: a different id (or an intact
    archive with none) means another save's file, the same id means damage.
    """
    if hashlib.sha256(data).hexdigest() == record["sha256"]:
        return
    side = _sidecar(path).name
    readable, found = _save_id(data)
    saved = record.get("save_id")
    if readable and found != saved and (saved is not None or found is not None):
        raise FileFormatError(
            f"{path} and {side} come from different saves (a save was cut short, or one "
            "file was copied without the other); save again"
        )
    if saved is not None:
        raise FileFormatError(
            f"{path}: corrupt file (its bytes do not match the SHA-256 in {side})"
        )
    raise FileFormatError(  # schema 1: no save id to tell the two cases apart
        f"{path}: contents do not match the SHA-256 in {side} (corrupt, or the two files "
        "come from different saves); save again"
    )


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


def _check_arrays(path: Path, arrays: Mapping[str, np.ndarray],
                  record: Mapping[str, Any] | None,
                  expected_shapes: Mapping[str, tuple[int, ...]]) -> None:
    """Dtypes numeric, the sidecar's listing present, ``expected_shapes`` met."""
    for name, arr in arrays.items():
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise FileFormatError(f"{path}: array {name!r} has unsupported dtype {arr.dtype}")
    for name, info in (record["arrays"] if record is not None else {}).items():
        if name not in arrays:
            raise FileFormatError(f"{path}: array {name!r} listed in the metadata is missing")
        if not isinstance(info, dict) or list(arrays[name].shape) != info.get("shape"):
            raise FileFormatError(f"{path}: array {name!r} does not match its metadata")
    for name, shape in expected_shapes.items():
        if name not in arrays:
            raise FileFormatError(f"{path}: missing array {name!r}")
        if tuple(arrays[name].shape) != tuple(shape):
            raise FileFormatError(
                f"{path}: array {name!r} has shape {tuple(arrays[name].shape)}, "
                f"expected {tuple(shape)}"
            )


def load_npz(
    path: str | Path, expected_shapes: Mapping[str, tuple[int, ...]] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load arrays saved by :func:`save_npz`; all or nothing.

    Refuses pickled/object data; when the JSON sidecar is present, checks that the two
    files come from one save (SHA-256 and save id) and the listing; checks each array
    in ``expected_shapes`` against its shape. Any problem raises
    :class:`FileFormatError` with a one-line message.

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
    if record is not None:
        _check_pair(path, data, record)
    arrays = _load_npz_bytes(path, data)
    _check_arrays(path, arrays, record, expected_shapes or {})
    return arrays, dict(record.get("metadata", {})) if record is not None else {}
