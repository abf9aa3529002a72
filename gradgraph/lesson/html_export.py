"""One self-contained HTML page per lesson: inline SVG, MathML, no network.

Everything on the page comes from this module's templates or is escaped: lesson
prose goes through :mod:`markup` (escape first, then bold/italic/code), equations and
tables through ``html.escape``. Derivations and graph definitions are MathML printed by
:mod:`gradgraph.mathml` from the same SymPy objects as the terminal's Unicode (which
rides along in each formula's annotation and in a "Unicode" box for copying); the
lesson's own display maths, written in Unicode, stay Unicode. Diagrams are Graphviz
SVG, whose labels gradgraph's renderer has already escaped; they are inlined only after
a second check for active content. A Content-Security-Policy forbids scripts and remote
loads outright, so even a mistake upstream cannot make a page run code or call home.
The backward stepper is pure CSS (radio buttons), and hints and answers are ``<details>`` elements.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .. import mathml as mm
from ..errors import GradgraphError, LessonError
from ..fileio import atomic_write_text
from . import markup
from .blocks import Context, Math, step_blocks, values_table
from .grading import expected
from .html_blocks import (
    block_html,
    equations_html,
    esc,
    formula_rows,
    math_html,
    prose,
)
from .model import ExerciseStep, ExperimentStep, Lesson, Step, TrainStep

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "base-uri 'none'; form-action 'none'")

CSS = """
:root { --ink:#222; --muted:#666; --accent:#D55E00; --blue:#0072B2; --bg:#fff;
  --soft:#f6f6f3; --line:#ddd; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 17px/1.55 "Charter","Georgia","DejaVu Serif",serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
header h1 { font-size: 2rem; line-height:1.2; margin: .2rem 0 .6rem; }
.kicker { color: var(--accent); font: 600 .85rem/1 system-ui,"DejaVu Sans",sans-serif;
  letter-spacing:.06em; text-transform: uppercase; margin:0; }
.summary { font-size: 1.1rem; color:#333; }
.slides { color: var(--muted); font-size: .9rem; }
ol.steps { list-style:none; padding:0; margin: 2rem 0 0; counter-reset: step; }
li.step { border-top: 1px solid var(--line); padding: 1.2rem 0 .6rem; }
li.step h2 { font: 600 1.15rem/1.3 system-ui,"DejaVu Sans",sans-serif; margin: 0 0 .6rem; }
li.step h2 .num { display:inline-block; min-width:1.9rem; color: var(--muted); }
pre, code { font-family: "DejaVu Sans Mono","Menlo","Consolas",monospace; }
pre.math, div.math { background: var(--soft); border-left: 3px solid var(--blue);
  padding: .6rem 1rem; overflow-x: auto; margin: .8rem 0; }
pre.math { font-size: .95rem; line-height:1.6; white-space: pre; }
pre.code { background: var(--soft); border-left: 3px solid var(--line); padding: .6rem 1rem;
  margin: .8rem 0; font-size: .85rem; line-height: 1.5; white-space: pre; overflow-x: auto; }
.math, table.columns td, .answer pre {
  font-family: "DejaVu Sans","Cambria Math","STIX Two Math","Segoe UI Symbol",sans-serif; }
table.eq { margin: 0; font-size: 1rem; border: 0; }
table.eq td { border: 0; padding: .12rem .3rem; white-space: nowrap; vertical-align: baseline; }
table.eq td.lhs { text-align: right; padding-left: 0; }
table.eq td.rel { text-align: center; padding: .12rem .15rem; }
table.eq td.comment { color: var(--muted); font-size: .88rem; padding-left: 1.2rem; }
table.eq tr.gap td { height: .5rem; }
code { background: var(--soft); padding: 0 .25em; border-radius: 3px; font-size:.92em; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .95rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .8rem; text-align:left; }
th { font-family: system-ui,"DejaVu Sans",sans-serif; font-weight:600; }
table.columns td { vertical-align: top; white-space: pre; line-height: 1.7; }
table.columns th.slides { color: var(--accent); }
.note { border-left: 3px solid var(--blue); background:#eef5fb; padding:.5rem .9rem; }
.note.warn { border-color: var(--accent); background:#fdf1e8; }
figure { margin: 1rem 0; text-align:center; }
figure svg { max-width:100%; height:auto; }
figcaption { color: var(--muted); font-size:.9rem; }
.exercise { background: var(--soft); border-radius: 6px; padding: .9rem 1.1rem; }
.exercise .label { font: 600 .8rem system-ui,"DejaVu Sans",sans-serif; color: var(--accent);
  text-transform: uppercase; letter-spacing:.05em; margin:0 0 .3rem; }
details { margin: .4rem 0; }
details summary { cursor: pointer; font-family: system-ui,"DejaVu Sans",sans-serif; }
details.latex summary { color: var(--muted); font-size:.85rem; }
details.latex pre { white-space: pre; overflow-x: auto; }
math { font-family: "STIX Two Math","Cambria Math","Latin Modern Math","DejaVu Math TeX Gyre",
  math; font-size: 1.12em; }
table.eq math { math-style: normal; }
table.eq td.rhs math, table.eq td.comment math { text-align: left; }
.stepper input { position:absolute; opacity:0; pointer-events:none; }
.stepper .controls { display:flex; flex-wrap:wrap; gap:.3rem; justify-content:center; }
.stepper label { font: .85rem system-ui,"DejaVu Sans",sans-serif; border:1px solid var(--line);
  border-radius: 4px; padding: .1rem .5rem; cursor:pointer; }
.stepper .frame { display:none; }
footer { margin-top: 3rem; color: var(--muted); font-size: .9rem; }
@media print { .stepper .frame { display:block; } .stepper .controls { display:none; } }
"""


def step_html(lesson: Lesson, step: Step, index: int) -> list[str]:
    """A non-exercise step's blocks; its equations (derivations, definitions) as MathML."""
    sid = f"step-{index + 1}"
    out: list[str] = []
    for block in step_blocks(step, Context(lesson, index)):
        rows = formula_rows(lesson, step) if isinstance(block, Math) else None
        if rows is None:
            out.append(block_html(block, sid))
        else:
            out.append(equations_html(rows, block.lines, block.latex))
    return out


def exercise_html(lesson: Lesson, ex: ExerciseStep) -> str:
    parts = [f'<div class="exercise"><p class="label">Exercise · {esc(ex.id)}</p>',
             prose(ex.prompt)]
    if ex.graph is not None and ex.check == "derivative":
        graph = lesson.graphs[ex.graph].graph
        parts.append(equations_html(mm.definition_rows(graph), graph.definitions().splitlines()))
    if ex.check == "number" and ex.values:
        parts.append(block_html(values_table(lesson.values[ex.values]), ex.id))
    if ex.choices:
        items = "".join(f"<li>{markup.inline_html(c)}</li>" for c in ex.choices)
        parts.append(f'<ol type="a">{items}</ol>')
    for k, hint in enumerate(ex.hints, start=1):
        parts.append(f"<details><summary>Hint {k}</summary>{prose(hint)}</details>")
    parts.append(_slips_html(lesson, ex))
    try:
        answer = expected(lesson, ex)
    except GradgraphError as e:
        answer = f"(cannot compute: {e})"
    explain = prose(ex.explain) if ex.explain.strip() else ""
    parts.append(f'<details class="answer"><summary>Show the answer</summary>'
                 f"{math_html([answer])}{explain}</details>")
    parts.append(f'<p class="check">Check your own answer: <code>gradgraph lesson run '
                 f"{esc(lesson.name)}</code></p></div>")
    return "\n".join(parts)


def _slips_html(lesson: Lesson, ex: ExerciseStep) -> str:
    """The slips the question invites (the reveal policy's words: the edge and the kind,
    never the right form), for a page that cannot check an answer."""
    if ex.check != "derivative" or ex.graph is None or ex.question is None:
        return ""
    graph = lesson.graphs[ex.graph].graph
    if graph.is_tensor:
        return ""
    try:
        from ..check.guidance import slip_notes

        notes = slip_notes(graph, ex.question)
    except (ImportError, GradgraphError):
        return ""
    if not notes:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f'<details class="slips"><summary>Slips to check for</summary><ul>{items}</ul></details>'


def lesson_html(lesson: Lesson) -> str:
    """The whole page as a string."""
    from .. import __version__

    steps: list[str] = []
    for i, step in enumerate(lesson.steps):
        sid = f"step-{i + 1}"
        title = esc(step.title or step.kind.capitalize())
        body: list[str] = []
        if isinstance(step, ExerciseStep):
            if step.text.strip():
                body.append(prose(step.text))
            body.append(exercise_html(lesson, step))
        else:
            body.extend(step_html(lesson, step, i))
            if isinstance(step, TrainStep | ExperimentStep):
                body.append(f'<div class="note"><p>Run it at the terminal: <code>gradgraph '
                            f"lesson run {esc(lesson.name)}</code></p></div>")
        steps.append(f'<li class="step kind-{esc(step.kind)}" id="{sid}"><h2><span class="num">'
                     f'{i + 1}</span>{title}</h2>\n' + "\n".join(body) + "</li>")
    kicker = "gradgraph lesson" + (f" {lesson.number}" if lesson.number is not None else "")
    slides = f'<p class="slides">Slides: {esc(lesson.slides)}</p>' if lesson.slides else ""
    if lesson.requires:
        slides += f'<p class="slides">Best after: {esc(", ".join(lesson.requires))}</p>'
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{esc(lesson.title)} · gradgraph</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header><p class="kicker">{esc(kicker)}</p><h1>{esc(lesson.title)}</h1>
<p class="summary">{markup.inline_html(lesson.summary)}</p>{slides}</header>
<ol class="steps">
{chr(10).join(steps)}
</ol>
<footer>Made with gradgraph {esc(__version__)}. Work through it with the answers checked:
<code>gradgraph lesson run {esc(lesson.name)}</code>.</footer>
</main>
</body>
</html>
"""


def export_html(lesson: Lesson, folder: str | Path) -> Path:
    """Write ``folder/<name>.html`` atomically; the folder is created if needed."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LessonError(f"cannot create {folder}: {e.strerror}") from None
    path = folder / f"{lesson.name}.html"
    atomic_write_text(path, lesson_html(lesson))
    return path


def export_index(lessons: Iterable[Lesson], folder: str | Path) -> Path:
    """``index.html`` linking every exported lesson page (relative links only)."""
    items = "".join(f'<li><a href="{esc(lesson.name)}.html">{esc(lesson.label)}</a> — '
                    f"{markup.inline_html(lesson.summary)}</li>" for lesson in lessons)
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta '
            f'http-equiv="Content-Security-Policy" content="{CSP}"><title>gradgraph lessons'
            f"</title><style>{CSS}</style></head><body><main><header><p class=\"kicker\">"
            f"gradgraph</p><h1>Lessons</h1></header><ol class=\"steps\">{items}</ol></main>"
            "</body></html>\n")
    path = Path(folder) / "index.html"
    atomic_write_text(path, page)
    return path
