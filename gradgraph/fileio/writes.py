"""Atomic writes: a crash or Ctrl-C leaves either the old file or the new one.

Each file is written to a temporary file in the target's folder, flushed and fsynced,
then ``os.replace``-d over the target (atomic on POSIX within one file system) and the
folder fsynced. Files that belong together (an .npz and its JSON sidecar) are written in
full first and renamed one after the other, so only the moment between two renames can
separate them (and :mod:`gradgraph.fileio.arrays` detects that on load).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from .paths import (
    _O_CLOEXEC,
    OutputPathError,
    _check_folder,
    _check_target,
    _reason,
    remove_stale_temps,
    temp_name,
)

__all__ = ["atomic_write_bytes", "atomic_write_files", "atomic_write_text"]


def _mode_for(path: Path) -> int:
    """The new file keeps the old file's permissions, or gets 0o644 (not mkstemp's 0o600)."""
    try:
        return stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o644
    except OSError:
        return 0o644


def _write_temp(path: Path, data: bytes) -> Path:
    """``data`` in a fresh temporary file beside ``path`` (whose folder is checked), on
    disk, with its final mode."""
    parent = path.parent
    remove_stale_temps(path)
    mode = _mode_for(path)
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
    except BaseException as exc:  # includes KeyboardInterrupt: never leave the temp file
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputPathError(f"cannot write '{path}': {_reason(exc)}") from None
        raise
    return tmp


def atomic_write_files(files: Sequence[tuple[str | Path, bytes]]) -> None:
    """Replace each path with its bytes: all written in full first, then renamed in order.

    A target that is a folder, a device or a pipe is refused before anything is written.
    Every temporary file is removed if anything fails (a renamed one is the target by
    then); leftovers of a killed earlier save to a path are removed first. An OS error
    becomes :class:`OutputPathError` (the path and the OS's reason); anything else
    (Ctrl-C) is re-raised.
    """
    for target, _ in files:  # a folder or device at any target: refused before any write
        _check_folder(Path(target).parent, Path(target))
        _check_target(Path(target))
    temps: list[tuple[Path, Path]] = []
    try:
        for target, data in files:
            path = Path(target)
            temps.append((path, _write_temp(path, data)))
        for path, tmp in temps:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OutputPathError(f"cannot write '{path}': {_reason(exc)}") from None
    except BaseException:
        for _, tmp in temps:  # a temp already renamed is gone: nothing to remove
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for folder in dict.fromkeys(path.parent for path, _ in temps):
        _fsync_directory(folder)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_write_files`).

    The temporary file lives in the same folder (``os.replace`` is atomic only within
    one file system) and is named by :func:`~gradgraph.fileio.temp_name`. The new file
    keeps the old file's permissions, or gets 0o644.
    """
    atomic_write_files([(path, data)])


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))


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
