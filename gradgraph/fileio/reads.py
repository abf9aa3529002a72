"""Bounded reads: a device, a pipe, a folder or a huge file is refused, never waited on."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import FileFormatError, GradgraphError
from .paths import _O_CLOEXEC, _reason

__all__ = ["read_bounded", "read_file"]


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
