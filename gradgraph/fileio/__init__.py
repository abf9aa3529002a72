"""Atomic, pickle-free persistence of parameters and histories; safe reads; output paths.

A save writes a temporary file in the target's directory, flushes and fsyncs it,
``os.replace``-s it over the target (atomic on POSIX) and fsyncs the directory, so a
crash or Ctrl-C leaves either the old file or the new one, never half of one.
Arrays go to ``.npz`` (never pickle) with a JSON sidecar holding a schema version,
the array names, shapes and dtypes, the SHA-256 of the ``.npz`` bytes and a save id
that the ``.npz`` repeats, so a pair from two different saves is refused on load.

- :mod:`.paths`: output paths checked before the work; temporary file names.
- :mod:`.writes`: atomic writes of one file or of files that belong together.
- :mod:`.reads`: bounded reads that refuse devices, pipes and folders.
- :mod:`.arrays`: ``.npz`` + sidecar saves and loads.
"""

from __future__ import annotations

from .arrays import SCHEMA, SCHEMA_VERSION, load_npz, save_npz
from .arrays import _load_npz_bytes as _load_npz_bytes  # data.py reads .npz bytes with it
from .paths import (
    TEMP_TAG,
    OutputPathError,
    check_writable,
    check_writable_folder,
    is_temp_file,
    remove_stale_temps,
    temp_name,
)
from .reads import read_bounded, read_file
from .writes import atomic_write_bytes, atomic_write_files, atomic_write_text

__all__ = [
    "OutputPathError",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TEMP_TAG",
    "atomic_write_bytes",
    "atomic_write_files",
    "atomic_write_text",
    "check_writable",
    "check_writable_folder",
    "is_temp_file",
    "load_npz",
    "read_bounded",
    "read_file",
    "remove_stale_temps",
    "save_npz",
    "temp_name",
]
