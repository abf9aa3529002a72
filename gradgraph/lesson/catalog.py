"""Finding lessons: the bundled ``lessons/`` folder, another folder, or one file.

Lesson files are named ``NN-name.toml`` (``01-chain-rule.toml``); a learner can ask for
a lesson by name (``chain-rule``), by number (``1``) or by path (``./my-lesson.toml``).

A listing (:func:`headers`) reads each file's header only (title, summary, the count
of steps and exercises) without building its graphs, so ``gradgraph lesson list``
needs no SymPy; the full loader (:func:`catalog`, :func:`open_lesson`)
validates everything.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LessonError
from .toml_source import split_stem

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class Header:
    """What a listing shows of a lesson, read without building its graphs."""

    name: str
    number: int | None
    title: str
    summary: str
    steps: int
    exercises: int


@dataclass(frozen=True)
class HeaderEntry:
    """One lesson file in a light listing: its header, or why it could not be read."""

    path: Path
    header: Header | None
    error: str = ""


def read_header(path: Path) -> Header:
    """The header of the lesson file ``path``: read as safely as the loader reads it
    (size cap, TOML only, printable strings), but its graphs, values and steps are not
    checked. :class:`LessonError` if the file, its title or its summary is bad."""
    from .fields import Fields
    from .toml_source import MAX_LESSON_BYTES, KeyLines, parse_toml, read_capped

    text = read_capped(path, MAX_LESSON_BYTES)
    data = parse_toml(text, path)
    fields = Fields(path, KeyLines(text))
    number, name = split_stem(path.stem)
    title = fields.string(data, "title", (), limit=200)
    summary = fields.string(data, "summary", (), limit=1000)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise fields.fail((), "steps", "a lesson needs at least one [[steps]] table")
    exercises = sum(isinstance(s, Mapping) and s.get("kind") == "exercise" for s in steps)
    return Header(name, number, title, summary, len(steps), exercises)


def headers(folder: Path | None = None) -> list[HeaderEntry]:
    """Every lesson's header in ``folder``; a broken file is listed with its error."""
    out = []
    for path in lesson_files(folder):
        try:
            out.append(HeaderEntry(path, read_header(path)))
        except LessonError as e:
            out.append(HeaderEntry(path, None, str(e)))
    return out


def catalog(folder: Path | None = None) -> list[Entry]:
    """Every lesson in ``folder``; a broken file is listed with its error, not raised."""
    from .loader import load_lesson

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
    from .loader import load_lesson

    return load_lesson(find(name, folder))
