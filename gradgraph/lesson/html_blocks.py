"""HTML for one display block of a lesson page: prose, equations, tables, figures.

Everything here is escaped (:func:`esc`) or comes from its own templates: prose goes
through :mod:`markup`, equations are MathML printed by :mod:`gradgraph.mathml` with the
terminal's Unicode beside them, and Graphviz SVG is inlined only after
:func:`safe_svg` has checked it for active content. The backward stepper is pure CSS
(radio buttons). :mod:`.html_export` puts blocks together into pages; the tutor
(:mod:`gradgraph.serve`) draws the same blocks.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from .. import mathml as mm
from ..derive import adjoints, derive
from ..errors import RenderError
from ..notation import partial_unicode
from . import markup
from .blocks import Block, Columns, Command, Figure, Math, Note, Prose, Table
from .grading import format_number
from .model import DeriveStep, GraphStep, Lesson, Step

_ACTIVE = re.compile(r"<\s*(script|a|foreignObject|iframe|image|use)\b|\son\w+\s*=|javascript:",
                     re.IGNORECASE)
_RELATION = re.compile(r"^(?P<lhs>.*?)\s*(?<![<>!])(?P<rel>=|←|≈|≤)\s+(?P<rhs>.*)$")
_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)


def esc(text: object) -> str:
    """``text`` escaped for HTML text and attribute values."""
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
            out += (f'<details class="latex"><summary>LaTeX</summary><pre>{esc(block.latex)}'
                    "</pre></details>")
        return out
    if isinstance(block, Table):
        head = "".join(f"<th>{esc(h)}</th>" for h in block.header)
        rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
                       for r in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if isinstance(block, Columns):
        left, right = esc("\n".join(block.left)), esc("\n".join(block.right))
        return (f'<table class="columns"><thead><tr><th class="slides">{esc(block.left_title)}'
                f"</th><th>{esc(block.right_title)}</th></tr></thead><tbody><tr><td>{left}</td>"
                f"<td>{right}</td></tr></tbody></table>")
    if isinstance(block, Note):
        cls = "note warn" if block.tone == "warn" else "note"
        return f'<div class="{cls}">{prose(block.text)}</div>'
    if isinstance(block, Command):
        return f'<pre class="command">$ {esc(block.text)}</pre>'
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
        return f'<tr><td class="lhs"></td><td colspan="3" class="rhs">{esc(line.strip())}</td></tr>'
    rhs, *comment = re.split(r"\s{3,}", hit.group("rhs").strip(), maxsplit=1)
    return (f'<tr><td class="lhs">{esc(hit.group("lhs").strip())}</td>'
            f'<td class="rel">{esc(hit.group("rel"))}</td><td class="rhs">{esc(rhs)}</td>'
            f'<td class="comment">{esc(" ".join(comment))}</td></tr>')


def _math(inner: str, text: str) -> str:
    return mm.math(inner, text=text, namespace=False)


def _math_row(row: mm.Row) -> str:
    """One equation; a long sum of paths as several rows, broken where the Unicode breaks
    it (the left side on the first, the note on the last)."""
    lhs = _math(row.lhs, row.lhs_text) if row.lhs else ""
    note = f"↻ reuses {_math(row.note, row.note_text)}" if row.note else esc(row.note_text)
    lines = row.lines or (("=", row.rhs, row.rhs_text),)
    out = []
    for k, (rel, rhs, text) in enumerate(lines):
        last = k == len(lines) - 1
        out.append(f'<tr><td class="lhs">{lhs if k == 0 else ""}</td><td class="rel">'
                   f'{esc(rel)}</td><td class="rhs">{_math(rhs, text)}</td>'
                   f'<td class="comment">{note if last else ""}</td></tr>')
    return "".join(out)


def equations_html(rows: Sequence[mm.Row | str], text: Sequence[str], latex: str = "") -> str:
    """MathML equations aligned on "=", then the same as Unicode (and LaTeX) to copy.

    ``rows`` are MathML rows or, for forms with no SymPy behind them (the matrix form),
    Unicode lines; ``text`` is the terminal's Unicode for the whole block.
    """
    body = "".join(_math_row(r) if isinstance(r, mm.Row) else _text_row(r) for r in rows)
    out = (f'<div class="math"><table class="eq">{body}</table></div>'
           f'<details class="latex"><summary>Unicode</summary><pre>{esc(chr(10).join(text))}'
           "</pre></details>")
    if latex:
        out += (f'<details class="latex"><summary>LaTeX</summary><pre>{esc(latex)}'
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


def figure_html(fig: Figure, step_id: str) -> str:
    svgs: list[str] = []
    for frame in fig.frames:
        try:
            svgs.append(safe_svg(frame.svg()))
        except RenderError as e:
            return (f'<div class="note warn"><p>Diagram not drawn: {esc(e)}</p><details>'
                    f"<summary>DOT source</summary><pre>{esc(fig.frames[0].source)}</pre>"
                    "</details></div>")
    caption = f"<figcaption>{esc(fig.caption)}</figcaption>" if fig.caption else ""
    if len(svgs) == 1:
        return f"<figure>{svgs[0]}{caption}</figure>"
    return stepper_html(svgs, fig.captions, f"{step_id}-frames", caption)


def stepper_html(svgs: Sequence[str], captions: Sequence[str], sid: str, caption: str) -> str:
    """Frames with numbered buttons; CSS shows the frame whose radio is checked."""
    radios = "".join(f'<input type="radio" name="{sid}" id="{sid}-{k}"'
                     f'{" checked" if k == 1 else ""}>' for k in range(1, len(svgs) + 1))
    labels = "".join(f'<label for="{sid}-{k}">{k}</label>' for k in range(1, len(svgs) + 1))
    frames = "".join(f'<figure class="frame f{k}">{svg}<figcaption>{esc(captions[k - 1])}'
                     "</figcaption></figure>" for k, svg in enumerate(svgs, start=1))
    rules = ",".join(f"#{sid}-{k}:checked~.frames .f{k}" for k in range(1, len(svgs) + 1))
    marks = ",".join(f'#{sid}-{k}:checked~.controls label[for="{sid}-{k}"]'
                     for k in range(1, len(svgs) + 1))
    style = (f"<style>{rules}{{display:block}}{marks}{{background:#D55E00;color:#fff;"
             "border-color:#D55E00}</style>")
    return (f'<div class="stepper">{style}{radios}<div class="controls">{labels}</div>'
            f'<div class="frames">{frames}</div>{caption}</div>')
