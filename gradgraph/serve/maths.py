"""Maths fields ``{"unicode", "mathml"}``: the one place the server calls the MathML printer.

:mod:`gradgraph.mathml` prints MathML from the same SymPy objects the Unicode comes
from. Where it is not installed (it is being written alongside the server), the MathML
is the Unicode text in an ``<mtext>``, escaped, so the page still shows every formula.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import sympy as sp

from ..notation import partial_unicode, to_unicode, unicode_name

try:  # pragma: no cover - depends on which modules have landed
    from .. import mathml as _mathml
except ImportError:  # pragma: no cover
    _mathml = None

Maths = dict[str, str]


def _wrap(unicode: str, inner: Any, display: bool = False) -> Maths:
    return {"unicode": unicode, "mathml": _mathml.math(inner, display=display)}


def text(unicode: str, display: bool = False) -> Maths:
    """Text already in Unicode (a chain of ∂ symbols, a Σ prefix), as an ``<mtext>``."""
    block = ' display="block"' if display else ""
    return {"unicode": unicode,
            "mathml": f"<math{block}><mtext>{html.escape(unicode, quote=True)}</mtext></math>"}


def name(node: str) -> Maths:
    """A node name: a⁽ᴸ⁻¹⁾."""
    if _mathml is None:
        return text(unicode_name(node))
    return _wrap(unicode_name(node), _mathml.name_mathml(node))


def expr(e: sp.Expr, order: Mapping[str, int] | None = None) -> Maths:
    """A SymPy expression in gradgraph's notation: x · σ′(z) · 2(a − y)."""
    unicode = to_unicode(e, order)
    if _mathml is None:
        return text(unicode)
    return _wrap(unicode, _mathml.expr_mathml(e, order))


def partial(of: str, wrt: str) -> Maths:
    """∂C/∂w as a fraction."""
    unicode = partial_unicode(of, wrt)
    if _mathml is None:
        return text(unicode)
    return _wrap(unicode, _mathml.partial_mathml(of, wrt))


def equation(lhs: Maths, *rhs: Maths, display: bool = True) -> Maths:
    """``lhs = rhs₁ = rhs₂`` from maths fields already made."""
    unicode = " = ".join([lhs["unicode"], *(r["unicode"] for r in rhs)])
    if _mathml is None:
        return text(unicode, display)
    parts = [_inner(lhs["mathml"])]
    for r in rhs:
        parts += ["<mo>=</mo>", _inner(r["mathml"])]
    return _wrap(unicode, "<mrow>" + "".join(parts) + "</mrow>", display)


def _inner(math: str) -> str:
    """The content of a ``<math …>…</math>`` element this module made."""
    start = math.index(">") + 1
    return math[start: math.rindex("</math>")]


def _joined(items: list[Maths], mo: str, unicode_sep: str) -> Maths:
    unicode = unicode_sep.join(i["unicode"] for i in items)
    if _mathml is None:
        return text(unicode)
    inner = f"<mo>{mo}</mo>".join(_inner(i["mathml"]) for i in items)
    return _wrap(unicode, f"<mrow>{inner}</mrow>")


def product(items: list[Maths]) -> Maths:
    """``a · b · c``."""
    return _joined(items, "·", " · ") if items else text("1")


def sum_of_products(terms: list[list[Maths]]) -> Maths:
    """``a · b + c · d``: one product per chain-rule path."""
    return _joined([product(t) for t in terms], "+", " + ")


def accumulate(head: Maths, parts: list[Maths]) -> Maths:
    """``∂C/∂z += ∂a/∂z · ∂C/∂a``: one step of the backward pass."""
    rhs = product(parts)
    unicode = f"{head['unicode']} += {rhs['unicode']}"
    if _mathml is None:
        return text(unicode)
    return _wrap(unicode, f"<mrow>{_inner(head['mathml'])}<mo>+=</mo>"
                          f"{_inner(rhs['mathml'])}</mrow>")
