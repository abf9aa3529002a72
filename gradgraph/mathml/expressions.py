"""SymPy expressions as MathML, printed as :func:`gradgraph.notation.to_unicode` prints them.

Same order, same parentheses, ``·`` and implicit products (``2(a − y)``), so that the
MathML and the Unicode beside it always show the same maths. A :class:`Piece` carries a
formula's sibling elements with its precedence and the Unicode's first character, which
stands in for the Unicode printer's text tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy as sp

from ..notation import implicit_after, number_text, reorder, scientific, unicode_name
from ..ops import OpFunction, PrimeFunction
from ..parse import IndexSum
from .tokens import APPLY, MINUS, TIMES, escape, fence, mi, mn, mo, mrow, name_mathml, sum_over

PREC_ADD, PREC_MUL, PREC_POW, PREC_ATOM = 1, 2, 3, 4


@dataclass(frozen=True)
class Piece:
    """Printed piece: sibling elements, precedence, and the Unicode text's first character.

    ``lead`` stands in for the Unicode printer's text tests (starts with "−", with "(",
    with a digit), so the two printers make the same choices. When ``lead`` is "−",
    ``parts[0]`` is always ``<mo>−</mo>`` and can be dropped to negate the text.
    """

    parts: tuple[str, ...]
    prec: int
    lead: str


def paren(m: Piece) -> Piece:
    return Piece((fence("("), *m.parts, fence(")")), PREC_ATOM, "(")


def seq(*pieces: Piece | str, prec: int, lead: str) -> Piece:
    parts: list[str] = []
    for p in pieces:
        parts.extend(p.parts if isinstance(p, Piece) else (p,))
    return Piece(tuple(parts), prec, lead)


def expr_mathml(expr: sp.Expr, order: Mapping[str, int] | None = None) -> str:
    """``expr`` as inner MathML, printed as :func:`notation.to_unicode` prints it."""
    return mrow(piece(reorder(sp.sympify(expr), order)).parts)


def piece(e: sp.Expr) -> Piece:
    if isinstance(e, sp.Symbol):
        return Piece((name_mathml(e.name),), PREC_ATOM, unicode_name(e.name)[:1])
    if isinstance(e, sp.Number):
        return _number(e)
    if isinstance(e, OpFunction):
        return _op(e)
    if isinstance(e, PrimeFunction):
        name = f"<msup>{_op_name(e.spec.unicode)}{mo('′')}</msup>"
        return seq(name, mo(APPLY), paren(piece(e.args[0])), prec=PREC_ATOM,
                    lead=e.spec.unicode[:1])
    if isinstance(e, sp.Add):
        return _add(e)
    if isinstance(e, sp.Mul):
        return _mul(e)
    if isinstance(e, sp.Pow):
        return _pow(e)
    if isinstance(e, IndexSum):
        return _index_sum(e)
    if isinstance(e, sp.KroneckerDelta):
        low = mrow([p for arg in e.args for p in piece(arg).parts])
        return Piece((f"<msub>{mi('δ')}{low}</msub>",), PREC_ATOM, "δ")
    if isinstance(e, sp.Function):
        return _call(type(e).__name__, e.args)
    text = str(e)
    token = mi(text) if text.isalnum() else f"<mtext>{escape(text)}</mtext>"
    return Piece((token,), PREC_ATOM, text[:1])


def _op_name(text: str) -> str:
    """An op's display name: σ, tanh, swish as identifiers, √ as an operator."""
    return mi(text) if text.replace("_", "").isalnum() else mo(text)


def _call(name: str, args: Sequence[sp.Expr]) -> Piece:
    inner: list[str] = []
    for i, a in enumerate(args):
        if i:
            inner.append(mo(","))
        inner.extend(piece(a).parts)
    return seq(_op_name(name), mo(APPLY), fence("("), *inner, fence(")"),
                prec=PREC_ATOM, lead=name[:1])

_FORM = re.compile(r"\{name\}|\{arg\}|.", re.DOTALL)


def _op(e: OpFunction) -> Piece:
    spec = e.spec
    arg = piece(e.args[0])
    if spec.unicode_form.startswith("√("):
        return Piece((f"<msqrt>{mrow(arg.parts)}</msqrt>",), PREC_ATOM, "√")
    # The registry's print template ("{name}({arg})", "|{arg}|") read token by token,
    # so a new op's form prints here without code that knows its name.
    parts: list[str] = []
    for tok in _FORM.findall(spec.unicode_form):
        if tok == "{name}":
            parts.append(_op_name(spec.unicode))
            parts.append(mo(APPLY))
        elif tok == "{arg}":
            parts.extend(arg.parts)
        elif not tok.isspace():
            parts.append(fence(tok) if tok in "()|" else mo(tok))
    lead = spec.unicode_form.format(name=spec.unicode, arg="x")[:1]
    return Piece(tuple(parts), PREC_ATOM, lead)


def _int_parts(n: int) -> list[str]:
    """An integer's tokens: ``<mn>12</mn>``, or 1.0×10⁵⁰⁰⁰ as the Unicode prints it."""
    sci = scientific(n)
    if sci is None:
        return [mn(str(n))]
    return [mn(sci[0]), mo("×"), f"<msup>{mn('10')}{mn(str(sci[1]))}</msup>"]


def _number(e: sp.Number) -> Piece:
    text = number_text(e)
    negative = text.startswith("-")
    text = text.lstrip("-")
    if isinstance(e, sp.Rational) and not isinstance(e, sp.Integer):
        bot = _int_parts(int(e.q))
        if len(bot) > 1:
            bot = [fence("("), *bot, fence(")")]
        parts = [*_int_parts(abs(int(e.p))), mo("/"), *bot]
        prec = PREC_MUL
    elif isinstance(e, sp.Integer) and scientific(int(e.p)) is not None:
        parts = _int_parts(abs(int(e.p)))
        prec = PREC_MUL
    else:
        parts = [mn(text.replace("-", MINUS))] if text[:1].isdigit() else [mi(text)]
        prec = PREC_ATOM
    if negative:
        return Piece((mo(MINUS), *parts), PREC_ADD, MINUS)
    return Piece(tuple(parts), prec, text[:1])


def _add(e: sp.Add) -> Piece:
    terms = [piece(t) for t in e.args]
    parts = list(terms[0].parts)
    for t in terms[1:]:
        if t.lead == MINUS:
            parts.extend((mo(MINUS), *t.parts[1:]))
        else:
            parts.extend((mo("+"), *t.parts))
    return Piece(tuple(parts), PREC_ADD, terms[0].lead)


def _mul(e: sp.Mul) -> Piece:
    if e.could_extract_minus_sign():
        inner = piece(-e)
        return seq(mo(MINUS), inner if inner.prec > PREC_ADD else paren(inner),
                    prec=PREC_ADD, lead=MINUS)
    num, den = sp.fraction(e, exact=True)
    if den != 1:
        top, bot = piece(num), piece(den)
        top = top if top.prec >= PREC_MUL else paren(top)
        bot = bot if bot.prec > PREC_MUL else paren(bot)
        return seq(top, mo("/"), bot, prec=PREC_MUL, lead=top.lead)
    return _join_factors([piece(f) for f in e.args], [implicit_after(f) for f in e.args])


def _join_factors(factors: Sequence[Piece], numbers: Sequence[bool]) -> Piece:
    """``a(1 − a)``, ``2(a − y)``, ``2x`` implicit; ``·`` elsewhere, as the Unicode has it.

    ``numbers[i]`` says factor ``i`` is a whole number the next factor may touch.
    """
    parts: list[str] = []
    lead = ""
    prev_number = False
    for f, is_number in zip(factors, numbers, strict=True):
        if f.prec <= PREC_ADD:
            f = paren(f)
        if not parts:
            lead = f.lead
        elif f.lead == "(" or (prev_number and not f.lead.isdigit()):
            parts.append(mo(TIMES))
        else:
            parts.append(mo("·"))
        parts.extend(f.parts)
        prev_number = is_number
    return Piece(tuple(parts), PREC_MUL, lead)


def _pow(e: sp.Pow) -> Piece:
    base, exp = e.as_base_exp()
    if exp == sp.Rational(1, 2):
        return Piece((f"<msqrt>{mrow(piece(base).parts)}</msqrt>",), PREC_ATOM, "√")
    if exp.is_negative:
        inv = piece(sp.Pow(base, -exp, evaluate=False) if exp != -1 else base)
        return seq(mn("1"), mo("/"), inv if inv.prec > PREC_MUL else paren(inv),
                    prec=PREC_MUL, lead="1")
    b = piece(base)
    if b.prec < PREC_ATOM or b.lead in (MINUS, "√"):  # (√x)², not √x²
        b = paren(b)
    if isinstance(exp, sp.Integer):
        upper = mn(str(exp))
    else:
        x = piece(exp)
        upper = mrow((x if x.prec == PREC_ATOM else paren(x)).parts)
    return Piece((f"<msup>{mrow(b.parts)}{upper}</msup>",), PREC_POW, b.lead)


def _index_sum(e: IndexSum) -> Piece:
    body = piece(e.args[0])
    body = body if body.prec > PREC_ADD else paren(body)
    return seq(sum_over(str(e.args[1])), body, prec=PREC_MUL, lead="Σ")


def join_terms(terms: Sequence[Piece]) -> str:
    parts = list(terms[0].parts)
    for t in terms[1:]:
        parts.extend((mo(MINUS), *t.parts[1:]) if t.lead == MINUS else (mo("+"), *t.parts))
    return mrow(parts)


def interleave(items: Sequence[str], sep: str) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(items):
        out.extend((sep, item) if i else (item,))
    return out
