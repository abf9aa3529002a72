"""Progress between runs: one small JSON file, written atomically.

It lives in ``$GRADGRAPH_STATE_DIR`` (tests point this at a temporary folder), else
``$XDG_STATE_HOME/gradgraph``, else ``~/.local/state/gradgraph``. A corrupt file is set
aside as ``progress.json.corrupt`` (never silently overwritten) and progress starts
afresh, so a bad file can never stop a lesson.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GradgraphError, LessonError
from ..fileio import atomic_write_text, read_file

SCHEMA = 1
MAX_PROGRESS_BYTES = 1_000_000
STATUSES = ("correct", "revealed", "wrong", "skipped", "invalid", "undecided")


def state_dir() -> Path:
    """Where gradgraph keeps state (progress) for this user."""
    explicit = os.environ.get("GRADGRAPH_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "gradgraph"


@dataclass
class LessonProgress:
    step: int = 0  # the next step to show
    steps: int = 0  # how many steps the lesson had when saved
    completed: bool = False
    exercises: dict[str, str] = field(default_factory=dict)
    updated: float = 0.0


@dataclass
class Progress:
    """Every lesson's progress; ``save()`` after each change."""

    path: Path
    lessons: dict[str, LessonProgress] = field(default_factory=dict)
    warning: str = ""  # set when the file on disk could not be read

    @classmethod
    def load(cls, path: Path | None = None) -> Progress:
        path = path or state_dir() / "progress.json"
        if not os.path.lexists(path):
            return cls(path)
        try:  # read_file refuses a folder, a FIFO or a device without waiting on it
            data = read_file(path, MAX_PROGRESS_BYTES, "progress file", LessonError)
            return cls(path, _parse(json.loads(data.decode("utf-8"))))
        except LessonError as e:
            return cls._set_aside(path, str(e).removeprefix(f"{path}: "))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            return cls._set_aside(path, type(e).__name__)

    @classmethod
    def _set_aside(cls, path: Path, why: str) -> Progress:
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
            note = f"progress file {path} could not be read ({why}); kept it as {aside}"
        except OSError:
            note = f"progress file {path} could not be read ({why})"
        return cls(path, warning=note + " and started afresh")

    def get(self, lesson: str) -> LessonProgress:
        return self.lessons.setdefault(lesson, LessonProgress())

    def save(self) -> None:
        doc = {"schema": SCHEMA, "lessons": {
            name: {"step": p.step, "steps": p.steps, "completed": p.completed,
                   "exercises": dict(p.exercises), "updated": p.updated}
            for name, p in sorted(self.lessons.items())
        }}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        except (OSError, GradgraphError) as e:
            raise LessonError(f"cannot save progress to {self.path}: {e}") from None

    def record(self, lesson: str, step: int, steps: int, completed: bool | None = None,
               exercise: tuple[str, str] | None = None) -> None:
        p = self.get(lesson)
        p.step, p.steps, p.updated = step, steps, time.time()
        if completed is not None:
            p.completed = p.completed or completed
        if exercise is not None:
            p.exercises[exercise[0]] = exercise[1]


def _parse(raw: Any) -> dict[str, LessonProgress]:
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise ValueError("unknown schema")
    out = {}
    for name, p in raw["lessons"].items():
        exercises = {str(k): str(v) for k, v in dict(p.get("exercises", {})).items()
                     if v in STATUSES}
        out[str(name)] = LessonProgress(int(p.get("step", 0)), int(p.get("steps", 0)),
                                        bool(p.get("completed", False)), exercises,
                                        float(p.get("updated", 0.0)))
    return out
