"""Finding lessons: the bundled ``lessons/`` folder, another folder, or one file.

Lesson files are named ``NN-name.toml`` (``01-chain-rule.toml``); a learner can ask for
a lesson by name (``chain-rule``), by number (``1``) or by path (``./my-lesson.toml``).
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import LessonError
from .loader import load_lesson, split_stem
from .model import Lesson

MAX_LESSON_FILES = 500


def default_folder() -> Path:
    """``$GRADGRAPH_LESSONS_DIR``, else ``lessons/`` beside the package (a checkout),
    else ``<prefix>/share/gradgraph/lessons`` (a regular install)."""
    explicit = os.environ.get("GRADGRAPH_LESSONS_DIR")
    if explicit:
        return Path(explicit)
    beside = Path(__file__).resolve().parents[2] / "lessons"
    installed = Path(sys.prefix) / "share" / "gradgraph" / "lessons"
    return beside if beside.is_dir() or not installed.is_dir() else installed


def lesson_files(folder: Path | None = None) -> list[Path]:
    """The ``*.toml`` lesson files in ``folder``, by number then name."""
    folder = folder or default_folder()
    if not folder.is_dir():
        raise LessonError(f"no lesson folder at {folder}; pass --dir or set "
                          "GRADGRAPH_LESSONS_DIR")
    files = [p for p in folder.glob("*.toml") if p.is_file()]
    if len(files) > MAX_LESSON_FILES:
        raise LessonError(f"{folder} has more than {MAX_LESSON_FILES} lesson files")

    def key(p: Path) -> tuple[int, str]:
        number, name = split_stem(p.stem)
        return (number if number is not None else 10**6, name)

    return sorted(files, key=key)


@dataclass(frozen=True)
class Entry:
    """One lesson file in a listing: the lesson, or why it could not be loaded."""

    path: Path
    lesson: Lesson | None
    error: str = ""


def catalog(folder: Path | None = None) -> list[Entry]:
    """Every lesson in ``folder``; a broken file is listed with its error, not raised."""
    out = []
    for path in lesson_files(folder):
        try:
            out.append(Entry(path, load_lesson(path)))
        except LessonError as e:
            out.append(Entry(path, None, str(e)))
    return out


def find(name: str, folder: Path | None = None) -> Path:
    """The file of the lesson called ``name`` (a name, a number or a path)."""
    given = Path(name)
    is_path = name.endswith(".toml") or os.sep in name or "/" in name
    if is_path and os.path.lexists(given):
        return given  # the loader says why, if it is not a lesson (a folder, binary, …)
    if is_path and (os.sep in name or "/" in name):
        raise LessonError(f"no lesson file {name}")
    files = lesson_files(folder)
    # ASCII digits only: str.isdigit() is also true of '₀' and '²', which int() refuses,
    # and a few digits only: int() refuses more than 4300 of them.
    asked = int(name) if re.fullmatch(r"[0-9]{1,6}", name) else None
    for path in files:
        number, stem_name = split_stem(path.stem)
        if name in (stem_name, path.stem, path.name) or (
                asked is not None and number is not None and asked == number):
            return path
    if name and os.path.lexists(given):  # a file named without .toml: read it as one
        return given
    names = [split_stem(p.stem)[1] for p in files]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else "; see 'gradgraph lesson list'"
    raise LessonError(f"no lesson called '{name}'{hint}")


def open_lesson(name: str, folder: Path | None = None) -> Lesson:
    return load_lesson(find(name, folder))
