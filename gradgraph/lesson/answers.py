"""Answers files for scripted runs: ``id = "answer"``, optionally in ``[lesson-name]`` tables.

One file may hold a whole course, so a run of one lesson reads its own table and leaves
the others alone; but an id that no exercise has (``dc-dw-vlue``) or a table that names
no lesson would otherwise be ignored without a word, and the learner would read
"no answer for 'dc-dw-value'" with no idea why. :func:`read_answers` returns such
problems as warnings (with the line and a did-you-mean) for the caller to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LessonError
from .fields import did_you_mean
from .model import Lesson, Where
from .toml_source import MAX_LESSON_BYTES, KeyLines, parse_toml, read_capped


@dataclass(frozen=True)
class AnswerSheet:
    """The answers for one lesson, and what in the file looked like a mistake."""

    answers: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def read_answers(path: Path, lesson: Lesson,
                 others: Iterable[Lesson] = ()) -> AnswerSheet:
    """``lesson``'s answers in ``path``; ``others`` are the other lessons of the course,
    whose tables are checked too (and whose names are not mistaken for typos). ``others``
    may be lazy (a generator): it is consumed only if the sheet has other tables."""
    text = read_capped(path, MAX_LESSON_BYTES, "answers file")
    data = parse_toml(text, path)
    lines = KeyLines(text)
    ids = {lesson.name: _ids(lesson)}
    # The other lessons are read only when the sheet has their tables: loading the whole
    # course checks every lesson's numbers, which a one-lesson sheet does not need.
    if any(isinstance(v, dict) and k != lesson.name for k, v in data.items()):
        ids.update({other.name: _ids(other) for other in others if other.name != lesson.name})
    own = data.get(lesson.name, data)
    if not isinstance(own, dict):
        raise LessonError(f"{path}: [{lesson.name}] must be a table of id = \"answer\"")
    answers = _scalars(own, path)
    table = (lesson.name,) if lesson.name in data else ()
    warnings = _unknown_ids(answers, ids[lesson.name], lesson.name, _Lines(path, lines, table))
    if table:  # the lesson has its own table, so answers outside every table are not read
        top = _Lines(path, lines, ())
        warnings.extend(f"{top.at(key)}: '{key}' is outside [{lesson.name}] (ignored)"
                        for key in _scalars(data, path))
    return AnswerSheet(answers, warnings + _other_tables(data, lesson.name, ids, path, lines))


def _other_tables(data: Mapping[str, Any], lesson: str, ids: Mapping[str, tuple[str, ...]],
                  path: Path, lines: KeyLines) -> list[str]:
    out: list[str] = []
    for name, value in data.items():
        if isinstance(value, dict) and name != lesson:
            out.extend(_other_table(name, value, ids, _Lines(path, lines, (name,))))
    return out


class _Lines:
    """Lines in the answers file, for warnings (``answers.toml, line 3``)."""

    def __init__(self, path: Path, lines: KeyLines, table: tuple[str, ...]):
        self.path, self.lines, self.table = path, lines, table

    def at(self, key: str | None = None) -> str:
        return str(Where(self.path, self.lines.line(self.table, key)))


def _ids(lesson: Lesson) -> tuple[str, ...]:
    return tuple(ex.id for ex in lesson.exercises)


def _scalars(table: Mapping[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            continue  # another lesson's table
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise LessonError(f"{path}: the answer to '{key}' must be text or a number")
        out[key] = value
    return out


def _unknown_ids(answers: Mapping[str, Any], known: tuple[str, ...], lesson: str,
                 where: _Lines) -> list[str]:
    out = []
    for key in answers:
        if key not in known:
            out.append(f"{where.at(key)}: '{key}' is not an exercise of {lesson} "
                       f"(ignored){did_you_mean(key, known)}")
    return out


def _other_table(name: str, table: Mapping[str, Any], ids: Mapping[str, tuple[str, ...]],
                 where: _Lines) -> list[str]:
    if name in ids:  # another lesson of the course: check its ids as well
        return _unknown_ids(_scalars(table, where.path), ids[name], name, where)
    return [f"{where.at()}: [{name}] is not a lesson (ignored)"
            f"{did_you_mean(name, tuple(ids))}"]
