"""Reading what was asked and what was answered: names, the derivative, the right side.

Everything here runs in the parent on the learner's text, through the safe parser only
(nothing reaches ``eval`` or ``sympify``); the symbolic work on the parsed answer runs
in the child.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import sympy as sp

from ..errors import CheckError, GraphError, ParseError
from ..graph import Graph
from ..notation import partial_unicode, split_name, unicode_name
from ..parse import parse_expression, parse_name

MAX_ANSWER = 2_000
MAX_QUESTION = 200
MAX_LIMIT, MAX_LIMIT_TEXT = 1e12, "1e12"  # the largest |value| a test range may reach

Q = TypeVar("Q")


def parse_question(graph: Graph, text: str) -> tuple[str, str]:
    """``"dC/dw"``, ``"∂C₀/∂w⁽ᴸ⁾"``, ``"dC0/dw^(L)"`` or ``"w"`` -> (of, wrt) node names."""
    text = question_text(text)
    if "/" not in text:
        return graph.cost, resolve_name(graph, text)
    if text.count("/") > 1:
        raise CheckError(f"the question '{text}' holds more than one '/'; ask for one "
                         "derivative, as dC/dw")
    top, _, bottom = text.partition("/")
    return derivative_part(graph, top, resolve_name), derivative_part(graph, bottom,
                                                                      resolve_name)


def question_text(text: str) -> str:
    """The question, stripped; an error when it is empty, too long or not one line of
    printable text (a line break, an escape sequence, a bidi override)."""
    text = text.strip()
    if not text:
        raise CheckError("the question is empty; write it as dC/dw")
    if len(text) > MAX_QUESTION:
        raise CheckError(f"the question is too long (limit {MAX_QUESTION} characters)")
    bad = next((c for c in text if not (c.isprintable() or c == "\t")), None)
    if bad is not None:
        what = "a line break" if bad in "\n\r\v\f\x85\u2028\u2029" else \
            f"the control character {shown(bad)}"
        raise CheckError(f"the question '{shown(text)}' holds {what}; write it on one "
                         "line, as dC/dw")
    return text


def shown(text: str) -> str:
    """``text`` as a message may echo it: every character that is not printable
    (line breaks, escape sequences, bidi overrides) written as its escape, so the
    message stays one line and cannot drive a terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def derivative_part(graph: Graph, part: str, resolve: Callable[[Graph, str], Q]) -> Q:
    """``∂C`` or ``dC`` -> what ``resolve`` makes of C (the node name, say)."""
    part = part.strip()
    if part.startswith("∂"):
        return resolve(graph, part[1:])
    if part.startswith("d") and len(part) > 1:
        try:
            return resolve(graph, part[1:])
        except CheckError:
            if exact_name(graph, part):  # a node really named "dC"
                return resolve(graph, part)
            raise
    raise CheckError(f"cannot read '{shown(part)}': write the question as dC/dw or ∂C/∂w")


def exact_name(graph: Graph, text: str) -> str | None:
    """The node named exactly ``text`` (or its canonical spelling), if any."""
    try:
        return graph.resolve(text)
    except GraphError:
        return None


def resolve_name(graph: Graph, text: str) -> str:
    """The node a user means: exact, canonical (``b⁽ᴸ⁾``), ``C0`` for C₀, or the one
    node with that letter (``C`` for C₀, ``z`` for z⁽ᴸ⁾) when it is unambiguous."""
    text = text.strip()
    found = exact_name(graph, text)
    if found is not None:
        return found
    try:
        name = parse_name(text)
    except ParseError:
        raise CheckError(f"'{shown(text)}' is not a name") from None
    matches = _loose_matches(graph, name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = " or ".join(unicode_name(m) for m in matches)
        raise CheckError(f"'{text}' could be {names}; write which one, e.g. '{matches[0]}'")
    try:
        graph.resolve(name)
    except GraphError as e:
        raise CheckError(str(e)) from None
    raise CheckError(f"no node named '{shown(text)}'")  # pragma: no cover - resolve raised


def _loose_matches(graph: Graph, name: str) -> list[str]:
    base, sub, tag = split_name(name)
    out = []
    for node in graph.nodes:
        if node.generated:
            continue
        nbase, nsub, ntag = split_name(node.name)
        if nbase == base and (sub == nsub or not sub) and (tag == ntag or not tag):
            out.append(node.name)
    return out


# --- the answer --------------------------------------------------------------------------


def check_answer_text(answer: Any) -> None:
    """An error for an answer that is not text, is empty or is too long."""
    if not isinstance(answer, str) or not answer.strip():
        raise CheckError("the answer is empty")
    if len(answer) > MAX_ANSWER:
        raise CheckError(f"the answer is too long (limit {MAX_ANSWER} characters)")


def split_answer(question: str | None, answer: str, read: Callable[[str], Q],
                 show: Callable[[Q], str],
                 agree: Callable[[Q, Q], Q | None] = lambda a, g: a if a == g else None,
                 ) -> tuple[Q, str, int]:
    """(what is asked, the right side, its column offset) for ``dC/dw = …`` or ``…``.

    ``read`` reads a question; ``agree`` settles the question and the answer's own left
    side (None: they differ).
    """
    if answer.count("=") > 1:
        raise CheckError("write one equation, dC/dw = …, or just its right side")
    lhs, eq, rhs = answer.partition("=")
    if not eq:
        lhs, rhs = "", answer
    asked = read(question) if question and question.strip() else None
    if eq and "/" not in lhs:  # "x = 1" is an assignment, not an answer
        raise CheckError("the left side must be a derivative, as in 'dC/dw = …'")
    given = read(lhs) if eq else None
    if asked is None and given is None:
        raise CheckError("say which derivative: write 'dC/dw = …' or give the question")
    chosen = agree(asked, given) if asked is not None and given is not None else asked or given
    if chosen is None:
        raise CheckError(f"the answer's left side is {show(given)}, but the "  # type: ignore[arg-type]
                         f"question asks for {show(asked)}")  # type: ignore[arg-type]
    offset = len(lhs) + len(eq) + len(rhs) - len(rhs.lstrip())
    return chosen, rhs.strip(), offset


def show_pair(q: tuple[str, str]) -> str:
    return partial_unicode(*q)


def parse_answer(graph: Graph, rhs: str, offset: int) -> sp.Expr:
    """The right side on a graph of scalars, every name a node's symbol."""
    names = {n.name for n in graph.nodes}
    expr = parse_right_side(graph, rhs, offset, names)
    rename = {}
    for s in sorted(expr.free_symbols, key=lambda s: s.name):
        if s.name not in names:
            rename[s] = graph[answer_name(graph, s.name)].symbol
    return expr.xreplace(rename) if rename else expr


def answer_name(graph: Graph, name: str) -> str:
    """:func:`resolve_name` for a name in the answer (its error says so)."""
    try:
        return resolve_name(graph, name)
    except CheckError as e:
        raise CheckError(f"in the answer: {e}") from None


def parse_right_side(graph: Graph, rhs: str, offset: int, names: set[str]) -> sp.Expr:
    """The right side, parsed safely; errors point at the column in the whole answer."""
    if not rhs:
        raise CheckError("the answer has no right side")
    if "∂" in rhs or re.search(r"(^|[^A-Za-z0-9_])d[A-Za-z]\w*\s*/\s*d[A-Za-z]", rhs):
        raise CheckError("write the factors themselves, e.g. x·σ′(z)·2(a − y), "
                         "not the chain ∂z/∂w · ∂a/∂z · …")
    try:
        return parse_expression(rhs, user_ops=graph.user_ops, names=names)
    except ParseError as e:
        raise _shifted(e, offset) from None


def _shifted(e: ParseError, offset: int) -> CheckError:
    text = str(e)
    if e.column is not None and offset:
        text = text.replace(f"column {e.column}", f"column {e.column + offset}", 1)
    err = CheckError(f"cannot read the answer: {text.replace('at line 1, column', 'at column')}")
    err.column = None if e.column is None else e.column + offset  # type: ignore[attr-defined]
    return err


def resolve_limits(graph: Graph, limits: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """``{"p": (0.1, 5)}`` with each name resolved to its node; errors for bad bounds."""
    out = {}
    for name, bounds in limits.items():
        node = resolve_name(graph, name)
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise CheckError(f"limits for '{node}' must be two numbers (low, high)") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise CheckError(f"limits for '{node}' must be finite with low < high")
        if max(abs(lo), abs(hi)) > MAX_LIMIT:  # products of such values overflow float64
            raise CheckError(f"limits for '{node}' must lie within ±{MAX_LIMIT_TEXT} "
                             f"(got {lo:g} to {hi:g})")
        out[node] = (lo, hi)
    return out
