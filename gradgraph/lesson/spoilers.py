"""No spoilers: what each exercise asks for, and the earlier steps that already show it.

An exercise asks for an expression (a derivative exercise: ∂of/∂wrt on a graph) or a
number (a node's value or a derivative's, at a value set). A step before it spoils it
when it shows that: a derive step of that derivative (or of a chain whose factors
include it), a diagram that draws the derivation, or at the same values the node's
value or the adjoint; a graph step's table of values; or prose with the number written
to two or more significant figures. ``gradgraph lesson check`` reports each.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..check.question import parse_question
from ..derive import derive
from ..errors import GradgraphError
from ..notation import partial_unicode, unicode_name
from . import model as m
from .grading import expected_number, format_number

SHOW_ALL = ("names", "defs", "values", "grads", "partials")
SHOWS_FACTORS = ("chain", "cached", "all", "expanded", "matrix")
_NUMBER = re.compile(r"(?<![\w.⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉])[-−]?\d*\.?\d+(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Asked:
    """What an exercise asks for: ``kind`` "expression" (∂of/∂wrt on ``graph``) or
    "number" (``of`` a node, or ∂of/∂wrt, at the value set ``values``: ``target``)."""

    kind: str
    graph: str
    of: str
    wrt: str = ""
    values: str = ""
    target: float | None = None


def asked(lesson: m.Lesson, ex: m.ExerciseStep) -> Asked | None:
    """What ``ex`` asks for (None: a choice, which no step can give away by showing)."""
    if ex.graph is None:
        return None
    graph = lesson.graphs[ex.graph].graph
    if ex.check == "derivative" and ex.question is not None:
        return Asked("expression", ex.graph, *parse_question(graph, ex.question))
    if ex.check == "number" and ex.value is not None and ex.values is not None:
        try:
            target = expected_number(lesson, ex)
        except GradgraphError:
            target = None  # `lesson check` reports that on its own
        if "/" in ex.value:
            return Asked("number", ex.graph, *parse_question(graph, ex.value), ex.values,
                         target)
        return Asked("number", ex.graph, graph.resolve(ex.value), "", ex.values, target)
    return None


def spoilers(lesson: m.Lesson) -> list[tuple[int, str]]:
    """(index of the spoiling step, why) for every exercise something before it shows."""
    out = []
    for i, ex in enumerate(lesson.steps):
        if not isinstance(ex, m.ExerciseStep):
            continue
        a = asked(lesson, ex)
        if a is None:
            continue
        for j in range(i + 1):
            what = _shows(lesson, lesson.steps[j], a, own=(j == i))
            if what:
                out.append((j, f"shows {what}, which exercise '{ex.id}' (step {i + 1}) asks "
                               "for; move it after the exercise or hide it"))
    return out


def _shows(lesson: m.Lesson, step: m.Step, a: Asked, own: bool) -> str:
    """What of ``a`` the step shows ("" when nothing)."""
    if own:  # the exercise's own prompt is shown with it
        return _in_text(step.text + " " + getattr(step, "prompt", ""), a)
    found = _in_text(_prose(step), a)
    if found or getattr(step, "graph", None) != a.graph:
        return found
    if isinstance(step, m.DeriveStep):
        return _derive_shows(lesson, step, a)
    if isinstance(step, m.DiagramStep):
        return _diagram_shows(lesson, step, a)
    if isinstance(step, m.GraphStep) and a.kind == "number" and not a.wrt \
            and step.values == a.values:
        return f"the value of {unicode_name(a.of)} in its table"
    return ""


def _prose(step: m.Step) -> str:
    parts = [step.text, getattr(step, "caption", "")]
    if isinstance(step, m.ExerciseStep):  # an earlier exercise: its prompt and explanation
        parts += [step.prompt, step.explain]
    return " ".join(parts)


def _in_text(text: str, a: Asked) -> str:
    if a.kind != "number" or a.target is None or not text:
        return ""
    for written in _NUMBER.findall(text):
        if _same_number(written, a.target):
            return f"the number {written.replace('-', '−')} in its text"
    return ""


def _same_number(written: str, target: float) -> bool:
    """Whether ``written`` is ``target`` rounded to the significant figures written
    (two at least: "1" or "0.5" say too little to give a value away)."""
    digits = written.lstrip("-−").split("e")[0].split("E")[0].replace(".", "").lstrip("0")
    if len(digits) < 2 or target == 0 or not math.isfinite(target):
        return False
    try:
        x = abs(float(written.replace("−", "-")))
    except ValueError:
        return False
    exponent = math.floor(math.log10(abs(target)))
    decimals = len(digits) - 1 - exponent
    return round(abs(target), decimals) == round(x, decimals) and \
        abs(x - abs(target)) <= 0.5 * 10 ** (-decimals) * 1.0001


def _derive_shows(lesson: m.Lesson, step: m.DeriveStep, a: Asked) -> str:
    graph = lesson.graphs[step.graph].graph
    of = graph.resolve(step.of) if step.of else graph.cost
    wrt = graph.resolve(step.wrt)
    label = partial_unicode(a.of, a.wrt)
    if a.kind == "number":
        same = a.wrt and (of, wrt) == (a.of, a.wrt) and step.values == a.values
        return f"the value of {label}" if same and "value" in step.forms else ""
    if (of, wrt) == (a.of, a.wrt):
        return f"the derivation of {label}"
    if "all" in step.forms and of == a.of:
        return f"every adjoint of {unicode_name(a.of)}, {label} among them"
    if any(f in SHOWS_FACTORS for f in step.forms) and a.of in graph \
            and a.wrt in graph[a.of].parents and _on_chain(lesson, step, of, wrt, a):
        return f"the factor {label} in its chain"
    return ""


def _on_chain(lesson: m.Lesson, step: m.DeriveStep, of: str, wrt: str, a: Asked) -> bool:
    try:
        d = derive(lesson.graphs[step.graph].graph, of, wrt)
    except GradgraphError:
        return False
    return any((f.child, f.parent) == (a.of, a.wrt) for fs in d.factors for f in fs)


def _diagram_shows(lesson: m.Lesson, step: m.DiagramStep, a: Asked) -> str:
    graph = lesson.graphs[step.graph].graph
    show = set(step.show if step.show is not None else SHOW_ALL)
    of = graph.resolve(step.of) if step.of else graph.cost
    if a.kind == "expression":
        wrt = graph.resolve(step.wrt) if step.wrt else None
        if wrt is not None and (of, wrt) == (a.of, a.wrt):
            return f"the derivation of {partial_unicode(a.of, a.wrt)} in its caption"
        return ""
    if step.values != a.values:
        return ""
    if not a.wrt:
        return f"the value of {unicode_name(a.of)}" if "values" in show else ""
    label = partial_unicode(a.of, a.wrt)
    if of == a.of and "grads" in show:
        return f"the adjoint {label} = {format_number(a.target or 0)}"
    if "partials" in show and a.of in graph and a.wrt in graph[a.of].parents:
        return f"the local partial {label} on its edge"
    return ""
