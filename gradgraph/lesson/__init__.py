"""Lessons: TOML files -> steps -> a terminal walkthrough or a self-contained HTML page.

Modules: :mod:`.model` (the data), :mod:`.toml_source`, :mod:`.loader` and
:mod:`.step_reader` (safe reading and validation; a derivative is read by
``gradgraph.check``'s one question reader), :mod:`.values` (a graph's numbers, under a
deadline), :mod:`.catalog` (finding lessons), :mod:`.blocks` (a step as display
blocks), :mod:`.grading` (answers), :mod:`.runner` and :mod:`.terminal` (the terminal),
:mod:`.html_export` and :mod:`.html_blocks` (the HTML page), :mod:`.progress` and
:mod:`.extras` (training and experiments), :mod:`.answers` (answers files for scripted
runs), :mod:`.spoilers` and :mod:`.authoring` (``gradgraph lesson check``: model
answers graded, every step built, nothing given away early).
The format is documented in ``lessons/README.md``.
"""

from __future__ import annotations

from .. import lazy

# Public name -> (module, attribute), imported on first use, so that ``gradgraph lesson
# list`` (catalog, progress) imports neither the loader, grading and blocks nor SymPy.
_LAZY: dict[str, tuple[str, str | None]] = {
    "AnswerSheet": (".answers", "AnswerSheet"), "read_answers": (".answers", "read_answers"),
    "Problem": (".authoring", "Problem"), "check_lesson": (".authoring", "check_lesson"),
    "Entry": (".catalog", "Entry"), "catalog": (".catalog", "catalog"),
    "default_folder": (".catalog", "default_folder"), "find": (".catalog", "find"),
    "lesson_files": (".catalog", "lesson_files"), "open_lesson": (".catalog", "open_lesson"),
    "Verdict": (".grading", "Verdict"), "expected": (".grading", "expected"),
    "grade": (".grading", "grade"),
    "export_html": (".html_export", "export_html"),
    "export_index": (".html_export", "export_index"),
    "lesson_html": (".html_export", "lesson_html"),
    "load_lesson": (".loader", "load_lesson"),
    "ExerciseStep": (".model", "ExerciseStep"), "Lesson": (".model", "Lesson"),
    "Step": (".model", "Step"),
    "Progress": (".progress", "Progress"), "state_dir": (".progress", "state_dir"),
    "Console": (".runner", "Console"), "Outcome": (".runner", "Outcome"),
    "RunOptions": (".runner", "RunOptions"), "Summary": (".runner", "Summary"),
    "run_lesson": (".runner", "run_lesson"), "show_lesson": (".runner", "show_lesson"),
}  # fmt: skip
lazy.install(__name__, _LAZY)

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
