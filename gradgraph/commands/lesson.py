"""``gradgraph lesson``: list, show, run (interactive or scripted) and export lessons."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import CommandError, run_safely

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..lesson.model import Lesson

DIR_OPTION = click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
                          help="Folder of lesson files (default: the bundled lessons/).")


class ClickConsole:
    """The runner's console: click.echo out, click.prompt in (None at end of input)."""

    def write(self, text: str = "") -> None:
        click.echo(text)

    def ask(self, prompt: str) -> str | None:
        """The reply; ``None`` at end of input (Ctrl-D), like ``q``. Ctrl-C is not a
        reply: it propagates, and the command exits 130 (progress is already saved)."""
        try:
            return click.prompt(prompt, default="", show_default=False, prompt_suffix=" › ")
        except click.Abort as e:  # click turns both Ctrl-C and Ctrl-D into Abort
            if isinstance(e.__context__, KeyboardInterrupt):
                raise KeyboardInterrupt from None
            click.echo()
            return None


@click.group("lesson")
def lesson_group() -> None:
    """Lessons that walk through the deck: the chain rule to Adam, with exercises.

    \b
    Examples:
      gradgraph lesson list
      gradgraph lesson run chain-rule
      gradgraph lesson run chain-rule --answers my-answers.toml
      gradgraph lesson export chain-rule --html out/
      gradgraph lesson check lessons/16-my-lesson.toml
    """


@lesson_group.command("list")
@DIR_OPTION
@run_safely
def list_command(folder: Path | None) -> None:
    """List the lessons, with your progress."""
    # Headers only: no graph is built, so a listing needs no SymPy.
    from ..lesson.catalog import headers
    from ..lesson.progress import Progress
    from ..lesson.toml_source import one_line

    progress = Progress.load()
    for entry in headers(folder):
        if entry.header is None:
            click.echo(f"  !  {entry.path.name}: {one_line(entry.error)}")
            continue
        lesson = entry.header
        p = progress.lessons.get(lesson.name)
        mark = "✓" if p and p.completed else (f"{p.step}/{lesson.steps}" if p and p.step
                                              else "")
        number = f"{lesson.number:>2}" if lesson.number is not None else " -"
        exercises = f"{lesson.exercises} exercise{'' if lesson.exercises == 1 else 's'}"
        click.echo(f"{number}  {lesson.name:<24} {lesson.title}  ({exercises}) "
                   f"{mark}".rstrip())


@lesson_group.command("show")
@click.argument("name")
@click.option("--solutions", is_flag=True, help="Also print each exercise's answer.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the diagrams into this folder.")
@DIR_OPTION
@run_safely
def show_command(name: str, solutions: bool, out_dir: Path | None, folder: Path | None) -> None:
    """Print the whole lesson NAME at once (no questions asked)."""
    from ..lesson.catalog import open_lesson
    from ..lesson.runner import RunOptions, show_lesson

    _check_folder(out_dir, "--out")
    lesson = open_lesson(name, folder)
    show_lesson(lesson, click.echo, RunOptions(out_dir=out_dir, solutions=solutions,
                                               color=_color()))


@lesson_group.command("run")
@click.argument("name")
@click.option("--answers", "answers_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Grade the answers in this TOML file (id = \"answer\") instead of asking.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write diagrams here (default: the state folder's diagrams/NAME).")
@click.option("--open", "open_", is_flag=True, help="Open each diagram in your viewer.")
@click.option("--restart", is_flag=True, help="Start at step 1 even if you stopped midway.")
@click.option("--quick", is_flag=True, help="Train for one epoch; run experiments quickly.")
@click.option("--no-train", is_flag=True, help="Skip training runs and experiments.")
@DIR_OPTION
@run_safely
def run_command(name: str, answers_file: Path | None, out_dir: Path | None, open_: bool,
                restart: bool, quick: bool, no_train: bool, folder: Path | None) -> None:
    """Work through lesson NAME: Enter to go on, answers checked as you type them.

    q (or Ctrl-D) stops and keeps your place for next time (exit status 0); Ctrl-C
    stops too, with exit status 130.

    With --answers FILE the run is scripted: every exercise is graded once with the
    answer from FILE, and the exit status is 1 unless all are correct. A scripted run
    leaves your own progress alone.
    """
    from ..lesson.catalog import open_lesson
    from ..lesson.progress import Progress, state_dir
    from ..lesson.runner import RunOptions, run_lesson

    _check_folder(out_dir, "--out")
    lesson = open_lesson(name, folder)
    if out_dir is None:
        out_dir = state_dir() / "diagrams" / lesson.name
        _check_folder(out_dir, "the diagram folder (choose another with --out)")
    answers = scripted_answers(answers_file, lesson, folder) if answers_file else None
    progress = None
    if answers is None:  # only the learner's own runs read and write their progress
        progress = Progress.load()
        if progress.warning:
            click.echo(progress.warning, err=True)
    options = RunOptions(
        answers=answers,
        out_dir=out_dir,
        opener=(lambda p: click.launch(str(p))) if open_ else None,
        run_extras=not no_train, quick=quick, restart=restart, color=_color(),
    )
    summary = run_lesson(lesson, ClickConsole(), options, progress)
    if answers is not None and not summary.all_correct:
        sys.exit(1)


@lesson_group.command("export")
@click.argument("names", nargs=-1)
@click.option("--html", "html_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the HTML pages (created if needed).")
@click.option("--all", "all_", is_flag=True, help="Export every lesson, plus index.html.")
@DIR_OPTION
@run_safely
def export_command(names: tuple[str, ...], html_dir: Path, all_: bool,
                   folder: Path | None) -> None:
    """Write lesson NAME as one self-contained HTML page (diagrams inline, no network)."""
    from ..lesson.catalog import catalog, open_lesson
    from ..lesson.html_export import export_html, export_index

    if all_ == bool(names):
        raise click.UsageError("give lesson NAMEs, or --all")
    _check_folder(html_dir, "--html")
    if all_:
        entries = catalog(folder)
        broken = [e for e in entries if e.lesson is None]
        if broken:
            raise CommandError(broken[0].error)
        lessons = [e.lesson for e in entries if e.lesson is not None]
    else:
        lessons = [open_lesson(n, folder) for n in names]
    for lesson in lessons:
        click.echo(f"wrote {export_html(lesson, html_dir)}")
    if all_:
        click.echo(f"wrote {export_index(lessons, html_dir)}")


@lesson_group.command("check")
@click.argument("names", nargs=-1)
@DIR_OPTION
@run_safely
def check_command(names: tuple[str, ...], folder: Path | None) -> None:
    """Check lessons as their author: every exercise's model answer, every step.

    NAMES are lesson names, numbers or files (default: every lesson in the folder).
    Loading refuses unknown keys and nodes; this also grades each derivative
    exercise's model answer with 'gradgraph check', computes each number exercise's
    value and builds each step. Exit status 1 if anything is wrong.
    """
    from ..errors import LessonError
    from ..lesson.authoring import check_lesson
    from ..lesson.catalog import find, lesson_files
    from ..lesson.loader import load_lesson
    from ..lesson.terminal import plural
    from ..lesson.toml_source import one_line

    paths = [find(n, folder) for n in names] if names else lesson_files(folder)
    bad = 0
    for path in paths:
        try:
            problems = [str(p) for p in check_lesson(load_lesson(path))]
        except LessonError as e:
            problems = [str(e)]
        bad += bool(problems)
        click.echo(f"{'✗' if problems else '✓'} {path}")
        for problem in problems:
            click.echo(f"  {one_line(problem)}")
    if bad:
        click.echo(f"problems in {bad} of {plural(len(paths), 'lesson')}")
        sys.exit(1)


def scripted_answers(path: Path, lesson: Lesson, folder: Path | None) -> dict[str, object]:
    """The answers for ``lesson`` in ``path``; ids and tables that match nothing in the
    course are warned about on stderr (they would otherwise be ignored silently)."""
    from ..lesson.answers import AnswerSheet, read_answers
    from ..lesson.catalog import catalog

    def course() -> Iterator[Lesson]:  # loaded only if the sheet names other lessons
        yield from (e.lesson for e in catalog(folder) if e.lesson is not None)

    others = course() if _in_folder(lesson, folder) else ()
    sheet: AnswerSheet = read_answers(path, lesson, others)
    for warning in sheet.warnings:
        click.echo(f"warning: {warning}", err=True)
    return sheet.answers


def _in_folder(lesson: Lesson, folder: Path | None) -> bool:
    """Whether ``lesson`` is one of the course's (not a file named by its path)."""
    from ..errors import LessonError
    from ..lesson.catalog import lesson_files

    try:
        return any(p.resolve() == lesson.path.resolve() for p in lesson_files(folder))
    except LessonError:
        return False


def _check_folder(folder: Path | None, what: str) -> None:
    """An output folder must be writable (or creatable) before any lesson is loaded."""
    if folder is None:
        return
    from ..fileio import OutputPathError, check_writable_folder

    try:
        check_writable_folder(folder)
    except OutputPathError as e:
        raise CommandError(f"{what}: {e}") from None


def _color() -> bool:
    return sys.stdout.isatty()
