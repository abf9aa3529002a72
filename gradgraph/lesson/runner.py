"""Walking a learner through a lesson at the terminal, or grading a scripted run.

The runner never prints: it talks through a :class:`Console` (``write`` and ``ask``)
that the CLI implements with click, and tests with lists. Interactive: Enter goes on,
answers are checked as typed, ``?`` gives the next hint, ``reveal`` shows the answer
once the hints are used up. Scripted (``answers`` given): each exercise is graded once
with the answer from the file, feedback and hints are shown for wrong ones. Progress
is saved after every step, atomically, so Ctrl-C or ``q`` loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import GradgraphError
from . import markup
from .blocks import Block, Context, Figure, Math, Note, Prose, step_blocks, values_table
from .extras import run_experiment, run_train
from .grading import Verdict, expected, grade
from .model import ExerciseStep, ExperimentStep, Lesson, Step, TrainStep
from .progress import Progress
from .terminal import format_blocks, plain, plural, save_figure

HINT_WORDS = ("?", "hint", "h?")
REVEAL_WORDS = ("reveal", "answer?")
SKIP_WORDS = ("skip",)
QUIT_WORDS = ("q", "quit", "exit")
MARKS = {"correct": "✓", "revealed": "◇", "wrong": "✗", "skipped": "·", "invalid": "!",
         "undecided": "?"}


class Console(Protocol):
    def write(self, text: str = "") -> None: ...

    def ask(self, prompt: str) -> str | None:
        """The learner's line, or ``None`` at end of input (Ctrl-D)."""
        ...


@dataclass
class RunOptions:
    answers: Mapping[str, Any] | None = None  # scripted mode when given
    out_dir: Path | None = None  # where diagrams go; None: not drawn
    opener: Callable[[Path], None] | None = None  # e.g. click.launch
    run_extras: bool = True  # train / experiment steps
    quick: bool = False
    restart: bool = False
    color: bool = False
    solutions: bool = False  # show_lesson: print the expected answers

    @property
    def scripted(self) -> bool:
        return self.answers is not None


@dataclass
class Outcome:
    id: str
    status: str  # correct | revealed | wrong | skipped | invalid | undecided
    tries: int = 0
    message: str = ""


@dataclass
class Summary:
    lesson: Lesson
    outcomes: list[Outcome] = field(default_factory=list)
    finished: bool = False
    files: list[Path] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(o.status == "correct" for o in self.outcomes)

    @property
    def all_correct(self) -> bool:
        return self.correct == len(self.lesson.exercises)

    def text(self) -> str:
        head = f"Summary — {self.lesson.label}"
        lines = [head, "─" * len(head)]
        width = max((len(o.id) for o in self.outcomes), default=0)
        for o in self.outcomes:
            tries = f" after {o.tries} tries" if o.status == "correct" and o.tries > 1 else ""
            shown = o.message and o.status in ("wrong", "invalid", "undecided")
            detail = f": {o.message}" if shown else ""
            lines.append(f"  {MARKS[o.status]} {o.id.ljust(width)}  {o.status}{tries}{detail}")
        total = len(self.lesson.exercises)
        lines.append(f"{self.correct} of {plural(total, 'exercise')} correct"
                     + ("" if self.finished else " (lesson not finished; run it again to resume)"))
        if self.files:
            lines.append(f"diagrams written to {self.files[0].parent}")
        return "\n".join(lines)


class Runner:
    def __init__(self, lesson: Lesson, console: Console, options: RunOptions,
                 progress: Progress | None = None):
        self.lesson = lesson
        self.io = console
        self.opt = options
        # A scripted run grades a file; it is not the learner working through the
        # lesson, so it neither resumes from nor writes their progress.
        self.progress = None if options.scripted else progress
        self.style = _click_style if options.color else plain
        self.summary = Summary(lesson)

    # --- output helpers -------------------------------------------------------------

    def say(self, blocks: list[Block]) -> None:
        text = format_blocks(blocks, self.style, self.figure_lines)
        if text:
            self.io.write(text)

    def figure_lines(self, fig: Figure) -> list[str]:
        if self.opt.out_dir is None:
            return [f"[diagram{': ' + fig.caption if fig.caption else ''} — "
                    "write it with --out DIR]"]
        paths, note = save_figure(fig, self.opt.out_dir)
        self.summary.files.extend(paths)
        lines = [f"{fig.caption}" if fig.caption else ""]
        if len(paths) > 1:
            lines.append(f"diagram: {len(paths)} frames, {paths[0]} … {paths[-1].name}")
        elif paths:
            lines.append(f"diagram: {paths[0]}")
        if note:
            lines.append(self.style(f"⚠ {note}", fg="yellow"))
        if paths and self.opt.opener and paths[0].suffix == ".svg":
            self.opt.opener(paths[0])
        return [line for line in lines if line]

    def header(self, i: int, step: Step) -> None:
        n = len(self.lesson.steps)
        title = step.title or step.kind.capitalize()
        self.io.write("")
        self.io.write(self.style(f"── Step {i + 1}/{n} · {title} ", bold=True) + "─" * 8)

    def save(self, step: int, completed: bool | None = None,
             exercise: tuple[str, str] | None = None) -> None:
        if self.progress is None:
            return
        self.progress.record(self.lesson.name, step, len(self.lesson.steps), completed, exercise)
        self.progress.save()

    # --- the walk -------------------------------------------------------------------

    def run(self) -> Summary:
        self.io.write(self.style(self.lesson.label, bold=True))
        self.io.write(markup.to_terminal(self.lesson.summary))
        if self.lesson.requires:
            self.io.write(f"(best after: {', '.join(self.lesson.requires)})")
        start = self.start_step()
        for i in range(start, len(self.lesson.steps)):
            step = self.lesson.steps[i]
            self.header(i, step)
            if not self.show_step(i, step):
                self.save(i)
                return self.finish()
            self.save(i + 1, completed=(i == len(self.lesson.steps) - 1))
            last = i == len(self.lesson.steps) - 1
            if not self.opt.scripted and not isinstance(step, ExerciseStep) and not last:
                reply = self.io.ask("[Enter] next step · q quit")
                if reply is None or reply.strip().lower() in QUIT_WORDS:
                    return self.finish()
        self.summary.finished = True
        return self.finish()

    def finish(self) -> Summary:
        self.io.write(self.summary.text())
        return self.summary

    def start_step(self) -> int:
        if self.progress is None or self.opt.restart or self.opt.scripted:
            return 0
        p = self.progress.get(self.lesson.name)
        if p.completed or not 0 < p.step < len(self.lesson.steps):
            return 0
        reply = self.io.ask(f"Resume at step {p.step + 1} of {len(self.lesson.steps)}? [Y/n]")
        if reply is not None and reply.strip().lower() in ("n", "no"):
            return 0
        return p.step

    def show_step(self, i: int, step: Step) -> bool:
        """Show one step; False when the learner quits."""
        if isinstance(step, ExerciseStep):
            return self.exercise(step)
        self.say(step_blocks(step, Context(self.lesson, i)))
        if isinstance(step, TrainStep | ExperimentStep):
            return self.extra(step)
        return True

    def extra(self, step: TrainStep | ExperimentStep) -> bool:
        if not self.opt.run_extras:
            self.say([Note("skipped (run without --no-train to run it)")])
            return True
        if not self.opt.scripted:
            reply = self.io.ask("Run it now? [Y/n]")
            if reply is None:
                return False
            if reply.strip().lower() in ("n", "no"):
                return True
        self.io.write("running…")
        runner = run_train if isinstance(step, TrainStep) else run_experiment
        self.say(runner(step, quick=self.opt.quick))
        return True

    # --- exercises ------------------------------------------------------------------

    def exercise_blocks(self, ex: ExerciseStep) -> list[Block]:
        blocks: list[Block] = [Prose(ex.prompt)]
        if ex.graph is not None and ex.check == "derivative":
            graph = self.lesson.graphs[ex.graph].graph
            blocks.append(Math(tuple(graph.definitions().splitlines())))
        if ex.check == "number" and ex.values:
            blocks.append(values_table(self.lesson.values[ex.values]))
        if ex.choices:
            blocks.append(Math(tuple(f"{'abcdefghijkl'[k]}) {c}"
                                     for k, c in enumerate(ex.choices))))
        return blocks

    def exercise(self, ex: ExerciseStep) -> bool:
        self.say(([Prose(ex.text)] if ex.text.strip() else []) + self.exercise_blocks(ex))
        outcome = self.scripted_answer(ex) if self.opt.scripted else self.ask_answer(ex)
        if outcome is None:
            return False
        self.summary.outcomes.append(outcome)
        self.save(self.lesson.steps.index(ex), exercise=(ex.id, outcome.status))
        return True

    def verdict_line(self, v: Verdict) -> str:
        if v.correct is True:
            return self.style(f"✓ {v.message}", fg="green")
        if v.correct is False:
            return self.style(f"✗ {v.message}", fg="red")
        return self.style(f"{MARKS[v.status]} {v.status}: {v.message}", fg="yellow")

    def after_tries(self, v: Verdict, tries: int) -> None:
        """The reveal policy: the right form of a wrong factor only after the lesson's
        ``reveal_after`` wrong tries (before, the verdict names the factor and why)."""
        if v.correct is False and v.full and tries >= self.lesson.reveal_after:
            self.io.write(self.style(f"after {tries} tries: {v.full}", dim=True))

    def explain(self, ex: ExerciseStep) -> None:
        if ex.explain.strip():
            self.io.write(markup.to_terminal(ex.explain, None))

    def scripted_answer(self, ex: ExerciseStep) -> Outcome:
        assert self.opt.answers is not None
        if ex.id not in self.opt.answers:
            self.io.write(self.style(f"· no answer for '{ex.id}' in the answers file", dim=True))
            return Outcome(ex.id, "skipped")
        answer = str(self.opt.answers[ex.id])
        self.io.write(f"answer: {answer}")
        v = grade(self.lesson, ex, answer)
        self.io.write(self.verdict_line(v))
        if v.correct:
            self.explain(ex)
            return Outcome(ex.id, "correct", 1, v.message)
        self.after_tries(v, 1)
        for k, hint in enumerate(ex.hints, start=1):
            self.io.write(f"hint {k}: {markup.to_terminal(hint)}")
        return Outcome(ex.id, v.status, 1, v.message)

    def ask_answer(self, ex: ExerciseStep) -> Outcome | None:
        hints_shown, tries = 0, 0
        self.io.write(self.style("Type your answer · ? hint · reveal · skip · q quit", dim=True))
        while True:
            reply = self.io.ask("answer")
            if reply is None:
                return None
            word = reply.strip().lower()
            if not word:
                continue
            if word in QUIT_WORDS:
                return None
            if word in SKIP_WORDS:
                return Outcome(ex.id, "skipped", tries)
            if word in HINT_WORDS or word in REVEAL_WORDS:
                if hints_shown < len(ex.hints):
                    hints_shown += 1
                    left = len(ex.hints) - hints_shown
                    hint = markup.to_terminal(ex.hints[hints_shown - 1])
                    self.io.write(f"hint {hints_shown}: {hint}")
                    if word in REVEAL_WORDS:
                        note = (f"(hints first: {left} more before the answer)" if left else
                                "(that was the last hint; 'reveal' again shows the answer)")
                        self.io.write(self.style(note, dim=True))
                    continue
                if word in HINT_WORDS:
                    self.io.write("no more hints; type 'reveal' to see the answer")
                    continue
                self.io.write(f"answer: {expected(self.lesson, ex)}")
                self.explain(ex)
                return Outcome(ex.id, "revealed", tries)
            v = grade(self.lesson, ex, reply)
            self.io.write(self.verdict_line(v))
            if v.correct is None:
                continue
            tries += 1
            if v.correct:
                self.explain(ex)
                return Outcome(ex.id, "correct", tries, v.message)
            self.after_tries(v, tries)
            if tries >= 2 and hints_shown < len(ex.hints):
                self.io.write(self.style("(type ? for a hint)", dim=True))


def _click_style(text: str, **kw: Any) -> str:
    import click

    return click.style(text, **kw)


def run_lesson(lesson: Lesson, console: Console, options: RunOptions | None = None,
               progress: Progress | None = None) -> Summary:
    """Run ``lesson`` through ``console``; returns the summary (also written)."""
    return Runner(lesson, console, options or RunOptions(), progress).run()


def show_lesson(lesson: Lesson, write: Callable[[str], None],
                options: RunOptions | None = None) -> None:
    """The whole lesson at once, non-interactive (exercises with their hints)."""
    opt = options or RunOptions()

    class _Silent:
        def write(self, text: str = "") -> None:
            write(text)

        def ask(self, prompt: str) -> str | None:  # pragma: no cover - never asked
            return ""

    r = Runner(lesson, _Silent(), opt)
    write(r.style(lesson.label, bold=True))
    write(markup.to_terminal(lesson.summary))
    for i, step in enumerate(lesson.steps):
        r.header(i, step)
        if isinstance(step, ExerciseStep):
            r.say(([Prose(step.text)] if step.text.strip() else []) + r.exercise_blocks(step))
            for k, hint in enumerate(step.hints, start=1):
                write(f"hint {k}: {markup.to_terminal(hint)}")
            if opt.solutions:
                try:
                    write(f"answer: {expected(lesson, step)}")
                except GradgraphError as e:
                    write(f"answer: (cannot compute: {e})")
                r.explain(step)
        else:
            r.say(step_blocks(step, Context(lesson, i)))
