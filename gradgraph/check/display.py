"""Text for people: the learner's answer in the slides' typography, factors, numbers."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import sympy as sp

from .. import ops
from ..notation import SUBSCRIPT, SUPERSCRIPT, to_unicode, unicode_name
from ..parse import tokenize
from .numbers import close


def echo_unicode(text: str) -> str:
    """The learner's own text, in the slides' typography: ``x*sigma'(z)*2*(a-y)`` ->
    ``x · σ′(z) · 2(a − y)`` (their order and grouping, not SymPy's)."""
    toks = [t for t in tokenize(text) if t.kind not in ("NL", "EOF")]
    out: list[str] = []
    for i, tok in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        out.append(_echo_token(tok, prev, nxt))
    return "".join(out).strip()


def sum_letter(name: str) -> str | None:
    """``sum_j`` (or ``Σⱼ``, which reads as ``Sigma_j``) -> ``j``; anything else: None."""
    for head in ("sum_", "Sigma_"):
        rest = name[len(head):]
        if name.startswith(head) and len(rest) == 1 and rest.isalpha():
            return rest
    return None


def _echo_token(tok: Any, prev: Any, nxt: Any) -> str:
    if tok.kind == "NAME":
        letter = sum_letter(tok.text)
        if letter is not None:
            return ("·" if _juxtaposed(prev) else "") + f"Σ{SUBSCRIPT.get(letter, '_' + letter)} "
        spec = ops.lookup(tok.text)
        text = spec.unicode if spec is not None else unicode_name(tok.text)
        return ("·" if _juxtaposed(prev) else "") + text
    if tok.kind == "NUM":
        if prev is not None and prev.kind == "OP" and prev.text == "^" and tok.text.isdigit():
            return tok.text.translate(SUPERSCRIPT)
        return ("·" if _juxtaposed(prev) else "") + tok.text.replace("-", "−")  # 1e−12
    if tok.kind == "PRIME":
        return "′"
    t = tok.text
    if t == "(":
        return ("·" if prev is not None and prev.kind == "OP" and prev.text == ")" else "") + t
    if t == "*":
        return "" if prev is not None and prev.kind == "NUM" and nxt is not None \
            and (nxt.kind == "NAME" or nxt.text == "(") else " · "
    if t == "-":
        unary = prev is None or (prev.kind == "OP" and prev.text not in (")",))
        return "−" if unary else " − "
    if t == "^" and nxt is not None and nxt.kind == "NUM" and nxt.text.isdigit():
        return ""  # the exponent is written as superscript by the NUM that follows
    if t in ("+", "="):
        return f" {t} "
    return t


def _juxtaposed(prev: Any) -> bool:
    # "a (1 - a)" and "W x" are implicit products; "2x" needs no dot; "Σⱼ W" is a sum.
    if prev is not None and prev.kind == "NAME" and sum_letter(prev.text) is not None:
        return False
    return prev is not None and prev.kind in ("NAME", "PRIME") or (
        prev is not None and prev.kind == "OP" and prev.text == ")")


# --- factors -----------------------------------------------------------------------------


def factor_text(expr: sp.Expr, order: Mapping[str, int]) -> str:
    """One factor in Unicode, bracketed when it is a sum: ``(a − y)``."""
    text = to_unicode(expr, order)
    return f"({text})" if isinstance(expr, sp.Add) else text


def with_coeff(coeff: sp.Number, parts: list[sp.Expr], order: Mapping[str, int]) -> str:
    """``2(a − y)``: a number times the learner's factor(s)."""
    if coeff == 1:
        return factor_text(sp.Mul(*parts), order) if len(parts) == 1 else \
            to_unicode(sp.Mul(*parts, evaluate=False), order)
    return to_unicode(sp.Mul(coeff, *parts, evaluate=False), order)


def number_text(c: sp.Number) -> str:
    return to_unicode(c)


# --- numbers in messages -----------------------------------------------------------------


def nice_number(k: float) -> str:
    """``0.5`` -> ``1/2``; a number that is no simple fraction with 3 digits."""
    frac = Fraction(k).limit_denominator(100)
    if close(float(frac), k):
        text = str(frac)
    else:
        text = f"{k:.3g}"
    return text.replace("-", "−")


def leaf_number(v: float) -> str:
    return number(v, 3)


def pair(a: float | None, b: float | None) -> tuple[str, str]:
    """Both values with 2–3 significant digits, more only if needed to tell them apart
    (up to 17, which tells any two doubles apart)."""
    if a is None or b is None:
        return number(a, 2), number(b, 2)
    for digits in range(2, 18):
        sa, sb = number(a, digits), number(b, digits)
        if sa != sb:
            return sa, sb
    return number(a, 17), number(b, 17)


def number(v: float | None, digits: int) -> str:
    """``v`` with ``digits`` significant digits, a Unicode minus, and −0 as 0 (a
    value that underflowed keeps no sign worth showing)."""
    if v is None:
        return "undefined"
    if v == 0:
        return "0"
    return f"{v:.{digits}g}".replace("-", "−")
