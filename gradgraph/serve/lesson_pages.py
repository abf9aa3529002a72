"""``/api/lessons``: the lessons of one folder as data for the page; answers graded here.

Only files that the lesson catalog lists in the server's lessons folder are reachable,
by their plain name (``chain-rule``); a request never names a path. Exercises are sent
without their answers; derivative answers go to :func:`gradgraph.check` (with the wrong
edge named), numbers and choices to the lesson's own grader. Progress is kept by the
page (``localStorage``); the server keeps no state per learner.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request

from .. import mathml as mm
from ..derive import derive
from ..errors import GradgraphError
from ..lesson import html_blocks as hx
from ..lesson import model as m
from ..lesson.blocks import Context, Figure, Math, step_blocks, values_table
from ..lesson.catalog import catalog, default_folder, lesson_files
from ..lesson.grading import grade
from ..lesson.loader import load_lesson
from ..lesson.toml_source import split_stem
from . import checking
from .drawing import picture
from .http import JSON, HTTPProblem, read_json
from .structure import derivation_info

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$")


def folder(server: Any) -> Path:
    return server.lessons_dir or default_folder()


def lesson_path(server: Any, name: str) -> Path:
    """The file of lesson ``name`` among the folder's lesson files (404 otherwise)."""
    if _NAME.match(name):
        for path in lesson_files(folder(server)):
            if split_stem(path.stem)[1] == name or path.stem == name:
                return path
    raise HTTPProblem(404, "LessonError", f"no lesson called '{name}'")


def load(server: Any, name: str) -> m.Lesson:
    """The lesson, loaded once per version of its file."""
    path = lesson_path(server, name)
    key = ("lesson", str(path), path.stat().st_mtime_ns)
    cache = server.extra.setdefault("lessons", {})
    if key not in cache:
        cache[key] = load_lesson(path)
    return cache[key]


def summaries(server: Any) -> list[dict[str, Any]]:
    out = []
    for entry in catalog(folder(server)):
        lesson = entry.lesson
        if lesson is None:
            out.append({"name": split_stem(entry.path.stem)[1], "number": None,
                        "title": entry.path.stem, "summary": "", "exercises": 0,
                        "error": entry.error})
            continue
        out.append({"name": lesson.name, "number": lesson.number, "title": lesson.title,
                    "summary": lesson.summary, "exercises": len(lesson.exercises)})
    return out


def page(server: Any, name: str) -> dict[str, Any]:
    lesson = load(server, name)
    key = ("page", name, id(lesson))
    cache = server.extra.setdefault("pages", {})
    if key not in cache:
        cache[key] = {"name": lesson.name, "number": lesson.number, "title": lesson.title,
                      "summary": lesson.summary,
                      "steps": [step_dict(lesson, i, s, server.deadline)
                                for i, s in enumerate(lesson.steps)]}
    return cache[key]


def step_dict(lesson: m.Lesson, i: int, step: m.Step, deadline: float) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": step.kind, "title": step.title or step.kind.capitalize()}
    if isinstance(step, m.ExerciseStep):
        out["text_html"] = hx.prose(step.text) if step.text.strip() else ""
        out.update(exercise_fields(lesson, step))
        return out
    blocks = step_blocks(step, Context(lesson, i))
    out["text_html"] = "\n".join(block_html(lesson, step, b, i) for b in blocks
                                 if not isinstance(b, Figure))
    for b in blocks:
        if isinstance(b, Figure):
            out.update(figure_fields(b))
    out.update(kind_fields(lesson, step))
    return out


def block_html(lesson: m.Lesson, step: m.Step, block: Any, i: int) -> str:
    """A block as the HTML export writes it, equations as MathML (figures go apart, as
    ``svg``/``frames``: the export's CSS stepper needs inline styles the CSP forbids)."""
    rows = hx.formula_rows(lesson, step) if isinstance(block, Math) else None
    if rows is None:
        return hx.block_html(block, f"step-{i + 1}")
    return hx.equations_html(rows, block.lines, block.latex)


def figure_fields(fig: Figure) -> dict[str, Any]:
    frames = [picture(f) for f in fig.frames]
    out: dict[str, Any] = {**frames[0], "caption": fig.caption}
    if len(frames) > 1:
        out["frames"] = [f["svg"] for f in frames]
    return out


def kind_fields(lesson: m.Lesson, step: m.Step) -> dict[str, Any]:
    from .train_options import step_options

    out: dict[str, Any] = {}
    if isinstance(step, m.GraphStep | m.DiagramStep | m.DeriveStep):
        out["graph"] = lesson.graphs[step.graph].text
        out["values"] = dict(lesson.values[step.values]) if step.values else None
    if isinstance(step, m.DiagramStep | m.DeriveStep):
        out["wrt"] = step.wrt
    if isinstance(step, m.DeriveStep):
        try:
            d = derive(lesson.graphs[step.graph].graph, step.of, step.wrt)
            out["derivation"] = derivation_info(d, "expanded" in step.forms, out["values"])
        except GradgraphError:
            out["derivation"] = None
    if isinstance(step, m.TrainStep):
        out["train"] = step_options(step)
    if isinstance(step, m.TrainStep | m.ExperimentStep):
        out["command"] = step.command
    return out


def exercise_fields(lesson: m.Lesson, ex: m.ExerciseStep) -> dict[str, Any]:
    """What the page needs to ask the question; never the answer."""
    prompt = hx.prose(ex.prompt)
    if ex.graph is not None and ex.check == "derivative":
        graph = lesson.graphs[ex.graph].graph
        prompt += hx.equations_html(mm.definition_rows(graph),
                                    graph.definitions().splitlines())
    if ex.check == "number" and ex.values:
        prompt += hx.block_html(values_table(lesson.values[ex.values]), ex.id)
    return {"id": ex.id, "prompt_html": prompt, "check": ex.check,
            "choices": list(ex.choices), "hints_count": len(ex.hints),
            "question": ex.question, "graph": lesson.graphs[ex.graph].text if ex.graph
            else None}


def exercise(lesson: m.Lesson, ident: str) -> m.ExerciseStep:
    for ex in lesson.exercises:
        if ex.id == ident:
            return ex
    raise HTTPProblem(404, "LessonError", f"lesson '{lesson.name}' has no exercise "
                                          f"'{ident}'")


def grade_answer(lesson: m.Lesson, ex: m.ExerciseStep, answer: str,
                 deadline: float) -> dict[str, Any]:
    """The Verdict object: derivatives with factor feedback, the rest by the grader."""
    if ex.check == "derivative" and ex.graph is not None and answer.strip():
        out = checking.verdict(lesson.graphs[ex.graph].graph, ex.question, answer,
                               ex.limits, deadline)
        if out["correct"] is False:
            out = checking.without_answer(out)
    else:
        v = grade(lesson, ex, answer)
        status = {"wrong": "not equal"}.get(v.status, v.status)
        out = {"verdict": status, "correct": v.correct, "message": v.message,
               "factors": [], "counterexample": None, "wrong_edges": [],
               "slips": []}
    if out["correct"] is True and ex.explain.strip():
        out["explain"] = ex.explain
        out["explain_html"] = hx.prose(ex.explain)
    return out


# --- handlers ----------------------------------------------------------------------


async def list_lessons(server: Any, request: Request) -> JSON:
    return JSON(await anyio.to_thread.run_sync(summaries, server))


async def lesson(server: Any, request: Request) -> JSON:
    name = request.path_params["name"]
    return JSON(await anyio.to_thread.run_sync(page, server, name))


async def answer(server: Any, request: Request) -> JSON:
    body = await read_json(request, {"exercise": (str, True), "answer": (str, True)})
    lesson = await anyio.to_thread.run_sync(load, server, request.path_params["name"])
    ex = exercise(lesson, body["exercise"])
    return JSON(await server.jobs.in_thread(grade_answer, lesson, ex, body["answer"],
                                            server.deadline))


async def hint(server: Any, request: Request) -> JSON:
    body = await read_json(request, {"exercise": (str, True), "shown": (int, False)})
    lesson = await anyio.to_thread.run_sync(load, server, request.path_params["name"])
    ex = exercise(lesson, body["exercise"])
    shown = max(0, body.get("shown") or 0)
    if shown >= len(ex.hints):
        return JSON({"hint": None, "hint_html": None, "left": 0})
    return JSON({"hint": ex.hints[shown], "hint_html": hx.prose(ex.hints[shown]),
                 "left": len(ex.hints) - shown - 1})
