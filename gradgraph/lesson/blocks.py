"""A step as display blocks, shared by the terminal runner and the HTML export.

Each step kind turns into a few blocks (prose, math lines, a table, two columns, a
figure, a note); the two front ends only decide how a block looks. Work that can fail
for reasons outside the lesson (Graphviz missing, a module not installed yet) becomes
a :class:`Note`, never an exception, so a lesson always runs to the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..derive import adjoints, derive
from ..errors import GradgraphError
from ..notation import partial_unicode, unicode_name
from . import model as m
from .grading import format_number
from .step_reader import build_optimizer


@dataclass(frozen=True)
class Prose:
    text: str  # the lesson's Markdown-ish text


@dataclass(frozen=True)
class Math:
    lines: tuple[str, ...]  # Unicode, one equation a line
    latex: str = ""  # the same in LaTeX, for copying (HTML shows it folded away)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Columns:
    """Two versions side by side: the slides' form and the paper's."""

    left_title: str
    left: tuple[str, ...]
    right_title: str
    right: tuple[str, ...]


@dataclass(frozen=True)
class Figure:
    """A diagram (or the backward stepper's frames). ``frames`` are Rendering objects."""

    slug: str
    frames: tuple[Any, ...]
    captions: tuple[str, ...]
    caption: str = ""
    note: str = ""  # why there is no picture, when there is none


@dataclass(frozen=True)
class Note:
    text: str
    tone: str = "info"  # info | warn


@dataclass(frozen=True)
class Command:
    text: str  # a shell command the learner can run themselves


Block = Prose | Math | Table | Columns | Figure | Note | Command


@dataclass
class Context:
    """What building blocks may need besides the lesson."""

    lesson: m.Lesson
    index: int  # the step's position, for file names
    extras: Mapping[str, Any] = field(default_factory=dict)


def step_blocks(step: m.Step, ctx: Context) -> list[Block]:
    """The blocks of one (non-exercise) step; errors from the core become notes."""
    blocks: list[Block] = [Prose(step.text)] if step.text.strip() else []
    builder = _BUILDERS.get(type(step))
    if builder is None:
        return blocks
    try:
        blocks.extend(builder(step, ctx))
    except GradgraphError as e:
        blocks.append(Note(f"this step could not be shown: {e}", "warn"))
    return blocks


def values_table(values: Mapping[str, float]) -> Table:
    return Table(("node", "value"),
                 tuple((unicode_name(k), format_number(v)) for k, v in values.items()))


def _graph(step: m.GraphStep, ctx: Context) -> list[Block]:
    spec = ctx.lesson.graphs[step.graph]
    out: list[Block] = [Math(tuple(spec.graph.definitions().splitlines()),
                             _latex_definitions(spec.graph))]
    if step.values:
        values = ctx.lesson.values[step.values]
        forward = spec.graph.evaluate(values)
        shown = {n.name: forward[n.name] for n in spec.graph.nodes}
        out.append(values_table(shown))
    return out


def _latex_definitions(graph: Any) -> str:
    lines = [n.definition_latex(graph.order) for n in graph.nodes if not n.is_leaf]
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def _derive(step: m.DeriveStep, ctx: Context) -> list[Block]:
    graph = ctx.lesson.graphs[step.graph].graph
    d = derive(graph, step.of, step.wrt)
    lines: list[str] = []
    for form in step.forms:
        if form == "chain":
            lines.extend(str(d).splitlines())
        elif form == "cached":
            lines.append(d.cached_unicode())
            if d.reuses:
                reused = ", ".join(partial_unicode(d.of, r) for r in d.reuses)
                lines.append(f"   ↻ reuses {reused}")
        elif form == "expanded":
            lines.append(f"{d.head_unicode} = {d.expanded_unicode()}")
        elif form == "all":
            lines.extend(str(adjoints(graph, step.of)).splitlines())
        elif form == "matrix":
            lines.extend(d.matrix_unicode().splitlines())
        elif form == "value" and step.values:
            value = d.value(ctx.lesson.values[step.values])
            lines.append(f"{partial_unicode(d.of, d.wrt)} = {format_number(float(value))}"
                         "   (at the values above)")
    return [Math(tuple(lines), d.latex())]


def _diagram(step: m.DiagramStep, ctx: Context) -> list[Block]:
    slug = f"{ctx.lesson.name}-step{ctx.index + 1:02d}"
    # ``gradgraph.render`` is the function; the subpackage's names come from it directly.
    from ..render import render, steps

    graph = ctx.lesson.graphs[step.graph].graph
    values = ctx.lesson.values[step.values] if step.values else None
    kwargs: dict[str, Any] = {"of": step.of, "values": values}
    if step.show is not None:
        kwargs["show"] = step.show
    if step.steps:
        frames = steps(graph, **kwargs)
        captions = tuple(f"backward pass, edge {k} of {len(frames)}"
                         for k in range(1, len(frames) + 1))
    else:
        frames = [render(graph, wrt=step.wrt, view=step.view, **kwargs)]
        captions = ("",)
    return [Figure(slug, tuple(frames), captions, step.caption)]


def _equations(step: m.EquationsStep, ctx: Context) -> list[Block]:
    opt = build_optimizer(step)
    paper = tuple(opt.equations_text())
    title = step.label or repr(opt)
    out: list[Block] = []
    if step.slides:
        out.append(Columns("On the slides", step.slides, title, paper))
    else:
        out.append(Math(paper, "\\begin{aligned}\n" + " \\\\\n".join(opt.equations_latex())
                        + "\n\\end{aligned}"))
    if step.erratum.strip():
        out.append(Note(f"**Slides vs papers.** {step.erratum.strip()}", "warn"))
    return out


def _experiment_like(step: m.TrainStep | m.ExperimentStep, ctx: Context) -> list[Block]:
    # The run itself is the runner's job (it may take seconds and needs options such
    # as --quick); here only the command a learner can type is shown.
    return [Command(step.command)] if step.command else []


_BUILDERS: dict[type, Any] = {
    m.GraphStep: _graph,
    m.DeriveStep: _derive,
    m.DiagramStep: _diagram,
    m.EquationsStep: _equations,
    m.TrainStep: _experiment_like,
    m.ExperimentStep: _experiment_like,
}
