"""Checking a lesson as its author would: ``gradgraph lesson check``.

Loading a lesson already refuses what can be checked quickly (keys, node names, value
sets, graphs that do not evaluate). What takes the checker's time is left to this
module, which a teacher runs once after editing a file: every derivative exercise's
model ``answer`` is graded by :func:`gradgraph.check` against the graph (a wrong model
answer would be what ``reveal`` shows, and every right answer would be marked wrong),
every number exercise's value is computed, every step is built as a page shows it, and
no step gives away what a later exercise asks for (:mod:`.spoilers`).
Running it at every load would slow ``gradgraph lesson list`` by seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import GradgraphError
from .blocks import Context, Note, step_blocks
from .grading import Verdict, expected_number, grade
from .model import ExerciseStep, Lesson
from .spoilers import spoilers

SHOWN_FAILURE = "this step could not be shown"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lesson, with the file and line of the step."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_lesson(lesson: Lesson) -> list[Problem]:
    """Everything wrong with ``lesson`` that loading it does not catch; [] when none."""
    problems: list[Problem] = []
    for i, step in enumerate(lesson.steps):
        where = step.where
        if isinstance(step, ExerciseStep):
            message = exercise_problem(lesson, step)
            where = step.answer_where or where
        else:
            message = step_problem(lesson, i)
        if message:
            problems.append(Problem(str(where), f"step {i + 1} ({step.kind}): {message}"))
    for j, why in spoilers(lesson):
        step = lesson.steps[j]
        problems.append(Problem(str(step.where), f"step {j + 1} ({step.kind}): {why}"))
    return problems


def exercise_problem(lesson: Lesson, ex: ExerciseStep) -> str:
    """Why the exercise's own answer is not right, or ``""``."""
    if ex.check == "number":
        try:
            expected_number(lesson, ex)
        except GradgraphError as e:
            return f"exercise '{ex.id}': its value cannot be computed: {e}"
        return ""
    if ex.check != "derivative":
        return ""  # a choice's letter is checked when the lesson is loaded
    verdict: Verdict = grade(lesson, ex, ex.answer)
    if verdict.correct:
        return ""
    return (f"exercise '{ex.id}': the model answer {ex.answer!r} is {verdict.status} "
            f"for {ex.question}: {verdict.message}")


def step_problem(lesson: Lesson, index: int) -> str:
    """Why step ``index`` cannot be shown, or ``""``."""
    for block in step_blocks(lesson.steps[index], Context(lesson, index)):
        if isinstance(block, Note) and block.text.startswith(SHOWN_FAILURE):
            return block.text
    return ""
