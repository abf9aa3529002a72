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

import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .. import mathml as mm
from ..derive import adjoints, derive
from ..errors import GradgraphError, LessonError, RenderError
from ..fileio import atomic_write_text
from ..notation import partial_unicode
from . import markup
from .blocks import (
    Block,
    Columns,
    Command,
    Context,
    Figure,
    Math,
    Note,
    Prose,
    Table,
    step_blocks,
    values_table,
)
from .grading import expected, format_number
from .model import DeriveStep, ExerciseStep, ExperimentStep, GraphStep, Lesson, Step, TrainStep

_ACTIVE = re.compile(r"<\s*(script|a|foreignObject|iframe|image|use)\b|\son\w+\s*=|javascript:",
                     re.IGNORECASE)
_RELATION = re.compile(r"^(?P<lhs>.*?)\s*(?<![<>!])(?P<rel>=|←|≈|≤)\s+(?P<rhs>.*)$")
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)

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


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def safe_svg(svg: str) -> str:
    """Graphviz SVG ready to inline; :class:`RenderError` if it has active content."""
    body = _PROLOG.sub("", svg).strip()
    if _ACTIVE.search(body) or not body.startswith("<svg"):
        raise RenderError("refusing to inline an SVG with active content")
    return body


def prose(text: str) -> str:
    """Lesson prose as HTML, with display blocks drawn as aligned equations."""
    return markup.to_html(text, pre=math_html)


def block_html(block: Block, step_id: str) -> str:
    if isinstance(block, Prose):
        return prose(block.text)
    if isinstance(block, Math):
        out = math_html(block.lines)
        if block.latex:
            out += (f'<details class="latex"><summary>LaTeX</summary><pre>{_e(block.latex)}'
                    "</pre></details>")
        return out
    if isinstance(block, Table):
        head = "".join(f"<th>{_e(h)}</th>" for h in block.header)
        rows = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>"
                       for r in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if isinstance(block, Columns):
        left, right = _e("\n".join(block.left)), _e("\n".join(block.right))
        return (f'<table class="columns"><thead><tr><th class="slides">{_e(block.left_title)}'
                f"</th><th>{_e(block.right_title)}</th></tr></thead><tbody><tr><td>{left}</td>"
                f"<td>{right}</td></tr></tbody></table>")
    if isinstance(block, Note):
        cls = "note warn" if block.tone == "warn" else "note"
        return f'<div class="{cls}">{prose(block.text)}</div>'
    if isinstance(block, Command):
        return f'<pre class="command">$ {_e(block.text)}</pre>'
    if isinstance(block, Figure):
        return figure_html(block, step_id)
    raise TypeError(f"unknown block {type(block).__name__}")  # pragma: no cover


def math_html(lines: Sequence[str]) -> str:
    """Equations in a proportional font, aligned on their first relation sign.

    Monospace would keep the terminal's alignment but spaces out superscripts
    (``z ⁽ ᴸ ⁾``); a three-column table aligns ``=`` instead. A run of three or more
    spaces after an equation starts a comment column (``↻ reuses …``, ``// normalise``).
    """
    return f'<div class="math"><table class="eq">{"".join(map(_text_row, lines))}</table></div>'


def _text_row(line: str) -> str:
    if not line.strip():
        return '<tr class="gap"><td colspan="4"></td></tr>'
    hit = _RELATION.match(line)
    if hit is None:
        return f'<tr><td class="lhs"></td><td colspan="3" class="rhs">{_e(line.strip())}</td></tr>'
    rhs, *comment = re.split(r"\s{3,}", hit.group("rhs").strip(), maxsplit=1)
    return (f'<tr><td class="lhs">{_e(hit.group("lhs").strip())}</td>'
            f'<td class="rel">{_e(hit.group("rel"))}</td><td class="rhs">{_e(rhs)}</td>'
            f'<td class="comment">{_e(" ".join(comment))}</td></tr>')


def _math(inner: str, text: str) -> str:
    return mm.math(inner, text=text, namespace=False)


def _math_row(row: mm.Row) -> str:
    lhs = _math(row.lhs, row.lhs_text) if row.lhs else ""
    note = f"↻ reuses {_math(row.note, row.note_text)}" if row.note else _e(row.note_text)
    return (f'<tr><td class="lhs">{lhs}</td><td class="rel">=</td><td class="rhs">'
            f'{_math(row.rhs, row.rhs_text)}</td><td class="comment">{note}</td></tr>')


def equations_html(rows: Sequence[mm.Row | str], text: Sequence[str], latex: str = "") -> str:
    """MathML equations aligned on "=", then the same as Unicode (and LaTeX) to copy.

    ``rows`` are MathML rows or, for forms with no SymPy behind them (the matrix form),
    Unicode lines; ``text`` is the terminal's Unicode for the whole block.
    """
    body = "".join(_math_row(r) if isinstance(r, mm.Row) else _text_row(r) for r in rows)
    out = (f'<div class="math"><table class="eq">{body}</table></div>'
           f'<details class="latex"><summary>Unicode</summary><pre>{_e(chr(10).join(text))}'
           "</pre></details>")
    if latex:
        out += (f'<details class="latex"><summary>LaTeX</summary><pre>{_e(latex)}'
                "</pre></details>")
    return out


def formula_rows(lesson: Lesson, step: Step) -> list[mm.Row | str] | None:
    """MathML rows for a derive or graph step's equations; ``None`` for other steps."""
    if isinstance(step, GraphStep):
        return list(mm.definition_rows(lesson.graphs[step.graph].graph))
    if isinstance(step, DeriveStep):
        return derive_rows(lesson, step)
    return None


def derive_rows(lesson: Lesson, step: DeriveStep) -> list[mm.Row | str]:
    """The forms a derive step asks for, in its order, as the terminal shows them."""
    graph = lesson.graphs[step.graph].graph
    d = derive(graph, step.of, step.wrt)
    head, head_text = mm.head_mathml(d), d.head_unicode
    rows: list[mm.Row | str] = []
    for form in step.forms:
        if form == "chain":
            rows.extend(mm.derivation_rows(d))
        elif form == "cached":
            reuses = ", ".join(partial_unicode(d.of, r) for r in d.reuses)
            rows.append(mm.Row(head, mm.cached_mathml(d), head_text,
                               d.cached_unicode().split(" = ", 1)[1],
                               mm.reuses_mathml(d), reuses))
        elif form == "expanded":
            rows.append(mm.Row(head, mm.expanded_mathml(d), head_text, d.expanded_unicode()))
        elif form == "all":
            rows.extend(mm.adjoints_rows(adjoints(graph, step.of)))
        elif form == "matrix":
            rows.extend(d.matrix_unicode().splitlines())
        elif form == "value" and step.values:
            value = format_number(float(d.value(lesson.values[step.values])))
            rows.append(mm.Row(mm.partial_mathml(d.of, d.wrt), mm.mn(value),
                               partial_unicode(d.of, d.wrt), value,
                               note_text="(at the values above)"))
    return rows


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


def figure_html(fig: Figure, step_id: str) -> str:
    svgs: list[str] = []
    for frame in fig.frames:
        try:
            svgs.append(safe_svg(frame.svg()))
        except RenderError as e:
            return (f'<div class="note warn"><p>Diagram not drawn: {_e(e)}</p><details>'
                    f"<summary>DOT source</summary><pre>{_e(fig.frames[0].source)}</pre>"
                    "</details></div>")
    caption = f"<figcaption>{_e(fig.caption)}</figcaption>" if fig.caption else ""
    if len(svgs) == 1:
        return f"<figure>{svgs[0]}{caption}</figure>"
    return stepper_html(svgs, fig.captions, f"{step_id}-frames", caption)


def stepper_html(svgs: Sequence[str], captions: Sequence[str], sid: str, caption: str) -> str:
    """Frames with numbered buttons; CSS shows the frame whose radio is checked."""
    radios = "".join(f'<input type="radio" name="{sid}" id="{sid}-{k}"'
                     f'{" checked" if k == 1 else ""}>' for k in range(1, len(svgs) + 1))
    labels = "".join(f'<label for="{sid}-{k}">{k}</label>' for k in range(1, len(svgs) + 1))
    frames = "".join(f'<figure class="frame f{k}">{svg}<figcaption>{_e(captions[k - 1])}'
                     "</figcaption></figure>" for k, svg in enumerate(svgs, start=1))
    rules = ",".join(f"#{sid}-{k}:checked~.frames .f{k}" for k in range(1, len(svgs) + 1))
    marks = ",".join(f'#{sid}-{k}:checked~.controls label[for="{sid}-{k}"]'
                     for k in range(1, len(svgs) + 1))
    style = (f"<style>{rules}{{display:block}}{marks}{{background:#D55E00;color:#fff;"
             "border-color:#D55E00}</style>")
    return (f'<div class="stepper">{style}{radios}<div class="controls">{labels}</div>'
            f'<div class="frames">{frames}</div>{caption}</div>')


def exercise_html(lesson: Lesson, ex: ExerciseStep) -> str:
    parts = [f'<div class="exercise"><p class="label">Exercise · {_e(ex.id)}</p>',
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
                 f"{_e(lesson.name)}</code></p></div>")
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
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return f'<details class="slips"><summary>Slips to check for</summary><ul>{items}</ul></details>'


def lesson_html(lesson: Lesson) -> str:
    """The whole page as a string."""
    from .. import __version__

    steps: list[str] = []
    for i, step in enumerate(lesson.steps):
        sid = f"step-{i + 1}"
        title = _e(step.title or step.kind.capitalize())
        body: list[str] = []
        if isinstance(step, ExerciseStep):
            if step.text.strip():
                body.append(prose(step.text))
            body.append(exercise_html(lesson, step))
        else:
            body.extend(step_html(lesson, step, i))
            if isinstance(step, TrainStep | ExperimentStep):
                body.append(f'<div class="note"><p>Run it at the terminal: <code>gradgraph '
                            f"lesson run {_e(lesson.name)}</code></p></div>")
        steps.append(f'<li class="step kind-{_e(step.kind)}" id="{sid}"><h2><span class="num">'
                     f'{i + 1}</span>{title}</h2>\n' + "\n".join(body) + "</li>")
    kicker = "gradgraph lesson" + (f" {lesson.number}" if lesson.number is not None else "")
    slides = f'<p class="slides">Slides: {_e(lesson.slides)}</p>' if lesson.slides else ""
    if lesson.requires:
        slides += f'<p class="slides">Best after: {_e(", ".join(lesson.requires))}</p>'
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{_e(lesson.title)} · gradgraph</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header><p class="kicker">{_e(kicker)}</p><h1>{_e(lesson.title)}</h1>
<p class="summary">{markup.inline_html(lesson.summary)}</p>{slides}</header>
<ol class="steps">
{chr(10).join(steps)}
</ol>
<footer>Made with gradgraph {_e(__version__)}. Work through it with the answers checked:
<code>gradgraph lesson run {_e(lesson.name)}</code>.</footer>
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
    items = "".join(f'<li><a href="{_e(lesson.name)}.html">{_e(lesson.label)}</a> — '
                    f"{markup.inline_html(lesson.summary)}</li>" for lesson in lessons)
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta '
            f'http-equiv="Content-Security-Policy" content="{CSP}"><title>gradgraph lessons'
            f"</title><style>{CSS}</style></head><body><main><header><p class=\"kicker\">"
            f"gradgraph</p><h1>Lessons</h1></header><ol class=\"steps\">{items}</ol></main>"
            "</body></html>\n")
    path = Path(folder) / "index.html"
    atomic_write_text(path, page)
    return path
