"""What a loaded lesson is: plain, frozen data, checked once by the loader.

A lesson is a title, some named graphs and value sets, and a list of steps. Each step
kind has its own dataclass; the runner and the HTML export only read these objects,
so a lesson file never reaches anything but the loader (which validates every key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..graph import Graph

STEP_KINDS = ("text", "graph", "derive", "diagram", "exercise", "equations", "train",
              "experiment")


@dataclass(frozen=True)
class Where:
    """A place in a lesson file, for error messages: ``lessons/x.toml, line 12``."""

    path: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}" if self.line else str(self.path)


@dataclass(frozen=True)
class Step:
    """Fields every step has; ``text`` is prose shown before the step's own content."""

    kind: str
    title: str
    text: str
    where: Where


@dataclass(frozen=True)
class TextStep(Step):
    pass


@dataclass(frozen=True)
class GraphStep(Step):
    graph: str
    values: str | None = None


@dataclass(frozen=True)
class DeriveStep(Step):
    graph: str
    wrt: str
    of: str | None = None
    forms: tuple[str, ...] = ("chain",)
    values: str | None = None


@dataclass(frozen=True)
class DiagramStep(Step):
    graph: str
    wrt: str | None = None
    of: str | None = None
    values: str | None = None
    view: str = "graph"
    steps: bool = False
    show: tuple[str, ...] | None = None
    caption: str = ""


@dataclass(frozen=True)
class ExerciseStep(Step):
    """One question. ``check`` is ``derivative`` (graded by :func:`gradgraph.check`),
    ``number`` (a value computed from the graph, never typed in by the author) or
    ``choice`` (one of ``choices``, answered by letter)."""

    id: str
    prompt: str
    check: str
    answer: str
    graph: str | None = None
    question: str | None = None  # "dC_0/dw^(L)" for derivatives
    value: str | None = None  # node name or "dC/dw" for numbers
    values: str | None = None
    choices: tuple[str, ...] = ()
    tolerance: float | None = None
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)  # checker's ranges
    hints: tuple[str, ...] = ()
    explain: str = ""
    answer_where: Where | None = None  # the model answer's line, for `lesson check`


@dataclass(frozen=True)
class EquationsStep(Step):
    """An optimizer's update rule (from :mod:`gradgraph.optim`) beside the slides' form."""

    optimizer: str
    options: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, Any] | None = None
    label: str = ""
    slides: tuple[str, ...] = ()
    erratum: str = ""


@dataclass(frozen=True)
class TrainStep(Step):
    """A training run, executed only when :mod:`gradgraph.nn` exists."""

    model: tuple[dict[str, Any], ...]
    optimizer: dict[str, Any]
    loss: str
    metrics: tuple[str, ...] = ("accuracy",)
    epochs: int = 1
    batch_size: int = 32
    data: str = "digits"
    command: str = ""


@dataclass(frozen=True)
class ExperimentStep(Step):
    """One of the papers' experiments, executed only when :mod:`gradgraph.experiments` exists."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    command: str = ""


@dataclass(frozen=True)
class GraphSpec:
    """A named graph of the lesson: its text (from ``text`` or an asset ``file``)."""

    name: str
    text: str
    graph: Graph
    source: str  # "inline" or the asset path relative to the lesson folder


@dataclass(frozen=True)
class Lesson:
    name: str
    number: int | None
    title: str
    summary: str
    path: Path
    slides: str
    requires: tuple[str, ...]
    graphs: dict[str, GraphSpec]
    values: dict[str, dict[str, float]]
    steps: tuple[Step, ...]
    # Wrong tries after which a wrong answer's feedback shows the right form (before
    # that, only which factor is wrong and why: gradgraph.check.guidance).
    reveal_after: int = 3

    @property
    def exercises(self) -> tuple[ExerciseStep, ...]:
        return tuple(s for s in self.steps if isinstance(s, ExerciseStep))

    @property
    def label(self) -> str:
        """``3. Backwards through layers``."""
        return f"{self.number}. {self.title}" if self.number is not None else self.title
