"""Names and expressions as a teacher writes them: Unicode and LaTeX.

Canonical names are ASCII (``a^(L-1)``, ``w_jk^(L)``, ``lambda``); this module turns
them into a⁽ᴸ⁻¹⁾, w_jk⁽ᴸ⁾, λ and a^{(L-1)}, w_{jk}^{(L)}, \\lambda (the name printers
live in :mod:`gradgraph.names`, below the lexer, and are public here too), and prints
expressions the way the slides do: ``x · σ′(z) · 2(a − y)``. It sits above the parser:
a string handed to a printer is read by the safe parser.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import mpmath
import sympy as sp
from sympy.printing.latex import LatexPrinter

from .names import (  # noqa: F401 - the name printers are public here too
    FROM_SUBSCRIPT,
    FROM_SUPERSCRIPT,
    GREEK,
    GREEK_TO_ASCII,
    SUBSCRIPT,
    SUPERSCRIPT,
    _index_like,
    from_superscript,
    latex_name,
    partial_latex,
    partial_unicode,
    split_name,
    unicode_name,
)
from .ops import OpFunction, PrimeFunction
from .parse import IndexSum, as_expr

# --- Unicode expression printer ------------------------------------------------------

_PREC_ADD, _PREC_MUL, _PREC_POW, _PREC_ATOM = 1, 2, 3, 4


def to_unicode(expr: sp.Expr, order: Mapping[str, int] | None = None) -> str:
    """Print ``expr`` as the slides write it: ``x · σ′(z) · 2(a − y)``.

    ``order`` ranks names by where the user first wrote them, so ``w*x + b`` prints
    as ``w·x + b`` and not in SymPy's alphabetical order. A string is read by
    gradgraph's parser (never ``sympify``, which runs Python).
    """
    return _u(reorder(as_expr(expr), order))[0]


def reorder(expr: sp.Expr, order: Mapping[str, int] | None) -> sp.Expr:
    """``expr`` rebuilt unevaluated, with terms and factors in the user's order."""
    if not expr.args or isinstance(expr, sp.Symbol | sp.Number):
        return expr
    args = [reorder(a, order) for a in expr.args]
    if isinstance(expr, sp.Add):
        args = _order_terms(args, order)
        return sp.Add(*args, evaluate=False)
    if isinstance(expr, sp.Mul):
        nums = [a for a in args if a.is_Number]
        rest = sorted((a for a in args if not a.is_Number), key=lambda a: _rank(a, order))
        return sp.Mul(*nums, *rest, evaluate=False)
    return expr.func(*args, evaluate=False) if isinstance(expr, sp.Pow) else expr.func(*args)


def _rank(e: sp.Expr, order: Mapping[str, int] | None) -> tuple[int, str]:
    names = [s.name for s in e.free_symbols]
    if order is None or not names:
        return (10**9 if not names else 0, sp.default_sort_key(e).__repr__() if order is None
                else "")
    return (min(order.get(n, 10**6) for n in names), "")


def _order_terms(terms: list[sp.Expr], order: Mapping[str, int] | None) -> list[sp.Expr]:
    if order is None:
        terms = list(sp.Add(*terms, evaluate=False).as_ordered_terms())
    else:
        terms = sorted(terms, key=lambda t: _rank(t, order))
    # "1 − a", not "−a + 1": lead with a term that has no minus sign.
    for i, t in enumerate(terms):
        if not t.could_extract_minus_sign():
            return [t, *terms[:i], *terms[i + 1:]] if i else terms
    return terms


def _u(e: sp.Expr) -> tuple[str, int]:
    """(text, precedence) of ``e``."""
    if isinstance(e, sp.Symbol):
        return unicode_name(e.name), _PREC_ATOM
    if isinstance(e, sp.Number):
        return _number(e)
    if isinstance(e, OpFunction):
        arg = _u(e.args[0])[0]
        if e.spec.unicode_form.startswith("√(") and _u(e.args[0])[1] == _PREC_ATOM:
            return f"√{arg}", _PREC_ATOM
        return e.spec.unicode_form.format(name=e.spec.unicode, arg=arg), _PREC_ATOM
    if isinstance(e, PrimeFunction):
        return f"{e.spec.unicode}′({_u(e.args[0])[0]})", _PREC_ATOM
    if isinstance(e, sp.Add):
        return _add(e), _PREC_ADD
    if isinstance(e, sp.Mul):
        return _mul(e)
    if isinstance(e, sp.Pow):
        return _pow(e)
    if isinstance(e, sp.KroneckerDelta):
        return "δ" + "".join(_subscript(str(a)) for a in e.args), _PREC_ATOM
    if _is_index_sum(e):
        return f"Σ{_subscript(str(e.args[1]))} {_u(e.args[0])[0]}", _PREC_ADD
    if isinstance(e, sp.Function):
        args = ", ".join(_u(a)[0] for a in e.args)
        return f"{type(e).__name__}({args})", _PREC_ATOM
    return str(e), _PREC_ATOM


def _subscript(letter: str) -> str:
    """``i`` -> ``ᵢ``; a letter without a subscript form stays ``_q``."""
    if all(c in SUBSCRIPT for c in letter):
        return "".join(SUBSCRIPT[c] for c in letter)
    return "_" + letter


def _is_index_sum(e: sp.Basic) -> bool:
    return isinstance(e, IndexSum)  # Σₖ term


_HUGE_BITS = 166  # about 50 digits: past this an integer prints as m×10ⁿ


def scientific(n: int) -> tuple[str, int] | None:
    """``10**5000`` -> (``"1.0"``, 5000); None for an integer short enough to print whole.

    Python refuses ``str`` of an int over ~4,300 digits, and 50 digits are unreadable.
    """
    if abs(n).bit_length() <= _HUGE_BITS:
        return None
    mant, _, exp = mpmath.nstr(mpmath.mpf(abs(n)), 6, min_fixed=1, max_fixed=0).partition("e")
    mant = mant if "." in mant else mant + ".0"
    return ("-" if n < 0 else "") + mant, int(exp)


def _int_text(n: int) -> str:
    sci = scientific(n)
    return str(n) if sci is None else f"{sci[0]}×10{str(sci[1]).translate(SUPERSCRIPT)}"


def number_text(e: sp.Number) -> str:
    """A number as printed: floats as their shortest exact decimal, huge integers as m×10ⁿ."""
    if isinstance(e, sp.Float):
        x = float(e)
        if not math.isfinite(x):
            return mpmath.nstr(e._to_mpmath(53), 6)
        # Six digits read best, but never at the price of the value: a checker message
        # must not print 2.0000002 as 2 beside the true 2.
        text = repr(float(f"{x:.6g}")) if float(f"{x:.6g}") == x else repr(x)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(e, sp.Rational) and e.q != 1:
        bot = _int_text(e.q)
        return f"{_int_text(e.p)}/{bot if bot.isdigit() else f'({bot})'}"
    if isinstance(e, sp.Integer):
        return _int_text(e.p)
    return str(e)


def _number(e: sp.Number) -> tuple[str, int]:
    text = number_text(e).replace("-", "−")
    prec = _PREC_MUL if "/" in text or "×" in text else _PREC_ATOM
    return text, (_PREC_ADD if text.startswith("−") else prec)


def _add(e: sp.Add) -> str:
    terms = list(e.args)
    out = _u(terms[0])[0]
    for t in terms[1:]:
        text = _u(t)[0]
        out += f" − {text[1:]}" if text.startswith("−") else f" + {text}"
    return out


def _mul(e: sp.Mul) -> tuple[str, int]:
    if e.could_extract_minus_sign():
        inner, prec = _u(-e)
        return "−" + (inner if prec > _PREC_ADD else f"({inner})"), _PREC_ADD
    num, den = sp.fraction(e, exact=True)
    if den != 1:
        top, tprec = _u(num)
        bot, bprec = _u(den)
        top = top if tprec >= _PREC_MUL else f"({top})"
        bot = bot if bprec > _PREC_MUL else f"({bot})"
        return f"{top}/{bot}", _PREC_MUL
    return _join_factors(list(e.args)), _PREC_MUL


def implicit_after(f: sp.Expr) -> bool:
    """Whether a factor may touch the next one: ``2x``, but ``0.5·x`` and ``1.0×10⁵⁰·x``."""
    return isinstance(f, sp.Number) and number_text(f).isdigit()


def _join_factors(parts: list[sp.Expr]) -> str:
    out = ""
    prev_number = False
    for f in parts:
        text, prec = _u(f)
        if prec <= _PREC_ADD:
            text = f"({text})"
        if not out:
            out = text
        elif text.startswith("(") or (prev_number and not text[0].isdigit()):
            out += text  # a(1 − a), 2(a − y), 2x
        else:
            out += "·" + text
        prev_number = implicit_after(f)
    return out


def _pow(e: sp.Pow) -> tuple[str, int]:
    base, exp = e.as_base_exp()
    if exp == sp.Rational(1, 2):
        text, prec = _u(base)
        return (f"√{text}" if prec == _PREC_ATOM else f"√({text})"), _PREC_ATOM
    if exp.is_negative:
        inv = sp.Pow(base, -exp, evaluate=False) if exp != -1 else base
        text, prec = _u(inv)
        return f"1/{text if prec > _PREC_MUL else f'({text})'}", _PREC_MUL
    btext, bprec = _u(base)
    if bprec < _PREC_ATOM or btext.startswith(("−", "√")):  # (√x)², not √x²
        btext = f"({btext})"
    if isinstance(exp, sp.Integer):
        return btext + str(exp).translate(SUPERSCRIPT), _PREC_POW
    etext, eprec = _u(exp)
    return f"{btext}^{etext if eprec == _PREC_ATOM else f'({etext})'}", _PREC_POW


# --- LaTeX ---------------------------------------------------------------------------


class _Latex(LatexPrinter):
    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:  # noqa: ARG002
        return latex_name(expr.name)

    def _print_Integer(self, expr: sp.Integer) -> str:
        sci = scientific(int(expr.p))
        return str(expr.p) if sci is None else rf"{sci[0]} \times 10^{{{sci[1]}}}"

    def _print_Rational(self, expr: sp.Rational) -> str:
        if scientific(int(expr.p)) is None and scientific(int(expr.q)) is None:
            return super()._print_Rational(expr)
        top = self._print_Integer(sp.Integer(expr.p))
        return rf"\frac{{{top}}}{{{self._print_Integer(sp.Integer(expr.q))}}}"

    def _print_KroneckerDelta(self, expr: sp.Expr, exp: Any = None) -> str:  # noqa: ARG002
        return rf"\delta_{{{''.join(str(a) for a in expr.args)}}}"

    def _print_Function(self, expr: sp.Expr, exp: Any = None) -> str:
        if _is_index_sum(expr):
            return rf"\sum_{{{expr.args[1]}}} {self._print(expr.args[0])}"
        return super()._print_Function(expr, exp)


def to_latex(expr: sp.Expr, order: Mapping[str, int] | None = None) -> str:
    """LaTeX of ``expr`` with gradgraph names (a^{(L-1)}) and ops (\\sigma')."""
    return _Latex({"order": "none"}).doprint(reorder(as_expr(expr), order))
