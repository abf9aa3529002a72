"""Lessons: TOML files -> steps -> a terminal walkthrough or a self-contained HTML page.

Modules: :mod:`.model` (the data), :mod:`.toml_source` and :mod:`.loader` (safe reading
and validation), :mod:`.catalog` (finding lessons), :mod:`.blocks` (a step as display
blocks), :mod:`.grading` (answers), :mod:`.runner` and :mod:`.terminal` (the terminal),
:mod:`.html_export`, :mod:`.progress` and :mod:`.extras` (training and experiments),
:mod:`.answers` (answers files for scripted runs) and :mod:`.authoring` (``gradgraph
lesson check``: model answers graded, every step built).
The format is documented in ``lessons/README.md``.
"""

from __future__ import annotations

from .answers import AnswerSheet, read_answers
from .authoring import Problem, check_lesson
from .catalog import Entry, catalog, default_folder, find, lesson_files, open_lesson
from .grading import Verdict, expected, grade
from .html_export import export_html, export_index, lesson_html
from .loader import load_lesson
from .model import ExerciseStep, Lesson, Step
from .progress import Progress, state_dir
from .runner import Console, Outcome, RunOptions, Summary, run_lesson, show_lesson

__all__ = [
    "AnswerSheet",
    "Console",
    "Entry",
    "ExerciseStep",
    "Lesson",
    "Outcome",
    "Problem",
    "Progress",
    "RunOptions",
    "Step",
    "Summary",
    "Verdict",
    "catalog",
    "check_lesson",
    "default_folder",
    "expected",
    "export_html",
    "export_index",
    "find",
    "grade",
    "lesson_files",
    "lesson_html",
    "load_lesson",
    "open_lesson",
    "read_answers",
    "run_lesson",
    "show_lesson",
    "state_dir",
]
