"""Printers that show an update rule the way the paper writes it (Unicode and LaTeX)."""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from .symbols import Maximum, SafeDiv

# SymPy draws "gbar" with a combining overline; the precomposed letter reads better.
_UNICODE_NAMES = {"gbar": "ḡ"}

_SUPERSCRIPT = str.maketrans("0123456789tn", "⁰¹²³⁴⁵⁶⁷⁸⁹ᵗⁿ")
_SUPERSCRIPT_CHARS = set("0123456789tn")


def _is_reciprocal(x: sp.Basic) -> bool:
    return x.is_Pow and x.exp == -1


def _split_neg(term: sp.Basic) -> tuple[bool, sp.Basic]:
    """(True, x) for a term built as ``_neg(x)``; (False, term) otherwise."""
    if term.is_Mul and term.args[0] is sp.S.NegativeOne:
        rest = term.args[1:]
        return True, rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
    return False, term


def _is_fraction(x: sp.Basic) -> bool:
    return isinstance(x, SafeDiv) or (x.is_Mul and any(_is_reciprocal(a) for a in x.args))


class _DisplayMixin:
    """Shared Add/Mul layout for the display printers.

    The display trees are built unevaluated in the paper's order; SymPy's own Add and
    Mul printers would negate or re-sort terms (and so re-evaluate them), so the
    layout is done here: signs from ``_neg``, fractions from ``_div``.
    """

    minus = "-"

    def _wrap(self, text: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _product(self, factors: list[str]) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fraction(self, num: str, den: str, den_expr: sp.Basic) -> str:  # pragma: no cover
        raise NotImplementedError

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        out = ""
        for i, term in enumerate(expr.args):
            neg, body = _split_neg(term)
            text = self._print(body)
            if neg and body.is_Add:
                text = self._wrap(text)
            if i == 0:
                out = f"{self.minus}{text}" if neg else text
            else:
                out += f" {self.minus} {text}" if neg else f" + {text}"
        return out

    def _print_Mul(self, expr: sp.Mul) -> str:
        neg, body = _split_neg(expr)
        if neg:
            text = self._print(body)
            return self.minus + (self._wrap(text) if body.is_Add else text)
        num = [a for a in expr.args if not _is_reciprocal(a)]
        den = [a.base for a in expr.args if _is_reciprocal(a)]
        factors = []
        for a in num:
            text = self._print(a)
            factors.append(self._wrap(text) if a.is_Add else text)
        top = self._product(factors) if factors else "1"
        if not den:
            return top
        bottom_expr = den[0] if len(den) == 1 else sp.Mul(*den, evaluate=False)
        return self._fraction(top, self._print(bottom_expr), bottom_expr)


class _UnicodePrinter(_DisplayMixin, StrPrinter):
    """One-line Unicode: ``m ← β₁·m + (1 − β₁)·g``, ``√v̂``, ``β₁ᵗ``, ``|g|``."""

    _default_settings = {**StrPrinter._default_settings, "order": "none"}
    minus = "−"

    def _wrap(self, text: str) -> str:
        return f"({text})"

    def _product(self, factors: list[str]) -> str:
        return "·".join(factors)

    def _fraction(self, num: str, den: str, den_expr: sp.Basic) -> str:
        if den_expr.is_Add or den_expr.is_Mul or _is_fraction(den_expr):
            den = f"({den})"
        return f"{num}/{den}"

    def _print_Mul(self, expr: sp.Mul) -> str:
        # A fraction inside a product is the paper's grouping: (α/(1 − β₁ᵗ))·m/u.
        neg, _ = _split_neg(expr)
        if not neg and any(a.is_Mul and _is_fraction(a) for a in expr.args):
            parts = [
                f"({self._print(a)})" if a.is_Mul and _is_fraction(a) else self._print(a)
                for a in expr.args
            ]
            return "·".join(parts)
        return super()._print_Mul(expr)

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return _UNICODE_NAMES.get(expr.name) or pretty_symbol(expr.name)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp == sp.S.Half:
            inner = self._print(base)
            return f"√{inner}" if base.is_Atom else f"√({inner})"
        text = self._print(exp)
        if exp.is_Atom and set(text) <= _SUPERSCRIPT_CHARS:
            base_text = self._print(base)
            if not base.is_Atom:
                base_text = f"({base_text})"
            return base_text + text.translate(_SUPERSCRIPT)
        return super()._print_Pow(expr, rational)

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Maximum(self, expr: Maximum) -> str:
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_sign(self, expr: sp.sign) -> str:
        return f"sign({self._print(expr.args[0])})"

    def _print_SafeDiv(self, expr: SafeDiv) -> str:
        num, den = expr.args
        return self._fraction(self._print(num), self._print(den), den)


class _LatexPrinter(_DisplayMixin, LatexPrinter):
    _default_settings = {**LatexPrinter._default_settings, "order": "none"}

    def _wrap(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _product(self, factors: list[str]) -> str:
        # Juxtaposition, but a visible dot between fractions: \frac{α}{…} \cdot \frac{m}{u}.
        joiner = r" \cdot " if any(f.startswith(r"\frac") for f in factors) else " "
        return joiner.join(factors)

    def _fraction(self, num: str, den: str, den_expr: sp.Basic) -> str:
        return rf"\frac{{{num}}}{{{den}}}"

    def _print_SafeDiv(self, expr: SafeDiv) -> str:
        num, den = (self._print(a) for a in expr.args)
        return rf"\frac{{{num}}}{{{den}}}"

    def _print_Maximum(self, expr: Maximum) -> str:
        return r"\max\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)"


def _eq_text(eq: sp.Eq) -> str:
    printer = _UnicodePrinter()
    return f"{printer.doprint(eq.lhs)} ← {printer.doprint(eq.rhs)}"


def _eq_latex(eq: sp.Eq) -> str:
    printer = _LatexPrinter()
    return f"{printer.doprint(eq.lhs)} \\leftarrow {printer.doprint(eq.rhs)}"
