"""``gradgraph lesson``: list, show, run (interactive or scripted) and export lessons."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import LessonError
from ..lesson import (
    Progress,
    RunOptions,
    catalog,
    export_html,
    export_index,
    open_lesson,
    run_lesson,
    show_lesson,
    state_dir,
)
from ..lesson.loader import MAX_LESSON_BYTES
from ..lesson.toml_source import parse_toml, read_capped
from .common import CommandError, run_safely

DIR_OPTION = click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
                          help="Folder of lesson files (default: the bundled lessons/).")


class ClickConsole:
    """The runner's console: click.echo out, click.prompt in (None at end of input)."""

    def write(self, text: str = "") -> None:
        click.echo(text)

    def ask(self, prompt: str) -> str | None:
        try:
            return click.prompt(prompt, default="", show_default=False, prompt_suffix=" › ")
        except click.Abort:  # Ctrl-D / Ctrl-C: stop, progress is already saved
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
    """


@lesson_group.command("list")
@DIR_OPTION
@run_safely
def list_command(folder: Path | None) -> None:
    """List the lessons, with your progress."""
    progress = Progress.load()
    for entry in catalog(folder):
        if entry.lesson is None:
            click.echo(f"  !  {entry.path.name}: {entry.error}")
            continue
        lesson = entry.lesson
        p = progress.lessons.get(lesson.name)
        mark = "✓" if p and p.completed else (f"{p.step}/{len(lesson.steps)}" if p and p.step
                                              else "")
        number = f"{lesson.number:>2}" if lesson.number is not None else " -"
        click.echo(f"{number}  {lesson.name:<24} {lesson.title}  "
                   f"({len(lesson.exercises)} exercises) {mark}".rstrip())


@lesson_group.command("show")
@click.argument("name")
@click.option("--solutions", is_flag=True, help="Also print each exercise's answer.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the diagrams into this folder.")
@DIR_OPTION
@run_safely
def show_command(name: str, solutions: bool, out_dir: Path | None, folder: Path | None) -> None:
    """Print the whole lesson NAME at once (no questions asked)."""
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

    With --answers FILE the run is scripted: every exercise is graded once with the
    answer from FILE, and the exit status is 1 unless all are correct.
    """
    lesson = open_lesson(name, folder)
    answers = read_answers(answers_file, lesson.name) if answers_file else None
    progress = Progress.load()
    if progress.warning:
        click.echo(progress.warning, err=True)
    options = RunOptions(
        answers=answers,
        out_dir=out_dir or state_dir() / "diagrams" / lesson.name,
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
    if all_ == bool(names):
        raise click.UsageError("give lesson NAMEs, or --all")
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


def read_answers(path: Path, lesson: str) -> dict[str, Any]:
    """``id = "answer"`` pairs from a TOML file (or from its ``[lesson-name]`` table)."""
    data = parse_toml(read_capped(path, MAX_LESSON_BYTES, "answers file"), path)
    table = data.get(lesson, data)
    if not isinstance(table, dict):
        raise LessonError(f"{path}: [{lesson}] must be a table of id = \"answer\"")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            continue  # another lesson's table
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise LessonError(f"{path}: the answer to '{key}' must be text or a number")
        out[key] = value
    return out


def _color() -> bool:
    return sys.stdout.isatty()
