"""Output paths: checked before the work, and the names of temporary files.

Every output (a saved model, a plot, an HTML export, a folder of diagrams) is checked
with :func:`check_writable` or :func:`check_writable_folder` before any work starts, so
a bad path costs a second, not a training run. Temporary files of a save are named so
that they can be told from real files and cleaned up after a killed writer.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from pathlib import Path

from ..errors import FileFormatError

__all__ = ["OutputPathError", "TEMP_TAG", "check_writable", "check_writable_folder",
           "is_temp_file", "remove_stale_temps", "temp_name"]


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
    _check_target(target)
    _probe(folder, target.name, f"cannot write '{target}'")
    return target


def _check_target(target: Path) -> None:
    """``target`` is missing or a regular file that a rename may replace."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputPathError(f"cannot write '{target}': {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise OutputPathError(f"cannot write '{target}': it is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise OutputPathError(f"cannot write '{target}': it is not a regular file (a device, "
                              "pipe or socket)")


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


