"""Maths fields ``{"unicode", "mathml"}``: the one place the server calls the MathML printer.

:mod:`gradgraph.mathml` prints presentation MathML from the same SymPy objects (and
derivations) the Unicode comes from, escaping every text node; nothing here builds
MathML from user strings except :func:`text`, which escapes its input into an
``<mtext>`` (for forms with no MathML printer yet, such as the matrix form).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import sympy as sp

from .. import mathml as mm
from ..derive import Derivation
from ..graph import Node
from ..notation import partial_unicode, to_unicode, unicode_name

Maths = dict[str, str]


def _field(unicode: str, inner: str, display: bool = False) -> Maths:
    return {"unicode": unicode, "mathml": mm.math(inner, display=display)}


def text(unicode: str, display: bool = False) -> Maths:
    """Unicode text shown as is, escaped into an ``<mtext>``."""
    return _field(unicode, f"<mtext>{html.escape(unicode, quote=True)}</mtext>", display)


def name(node: str) -> Maths:
    """A node name: a⁽ᴸ⁻¹⁾."""
    return _field(unicode_name(node), mm.name_mathml(node))


def expr(e: sp.Expr, order: Mapping[str, int] | None = None) -> Maths:
    """A SymPy expression in gradgraph's notation: x · σ′(z) · 2(a − y)."""
    return _field(to_unicode(e, order), mm.expr_mathml(e, order))


def partial(of: str, wrt: str) -> Maths:
    """∂C/∂w as a fraction."""
    return _field(partial_unicode(of, wrt), mm.partial_mathml(of, wrt))


def definition(node: Node, order: Mapping[str, int] | None = None) -> Maths:
    """``z = w·x + b`` (Σₖ, batch means and softmax as the node prints them)."""
    return _field(node.definition(order), mm.definition_mathml(node, order))


def accumulate(head: Maths, parts: list[Maths], values: list[Maths] | None = None) -> Maths:
    """``∂C/∂z += ∂a/∂z · ∂C/∂a = σ′(z) · ∂C/∂a``: one step of the backward pass.

    ``parts`` are the symbols multiplied in; ``values``, when given, the same product with
    the local partial written out, so a student sees what the symbol stands for.
    """
    unicode = f"{head['unicode']} += " + " · ".join(p["unicode"] for p in parts)
    inner = [_inner(head["mathml"]), mm.mo("+="), *_product(parts)]
    if values:
        unicode += " = " + " · ".join(v["unicode"] for v in values)
        inner += [mm.mo("="), *_product(values)]
    return _field(unicode, mm.mrow(inner))


def seed(of: str) -> Maths:
    """``∂C/∂C = 1``: where the backward pass starts."""
    head = partial(of, of)
    return _field(f"{head['unicode']} = 1", mm.mrow([_inner(head["mathml"]), mm.mo("="),
                                                     mm.mn("1")]))


def factor(e: sp.Expr, order: Mapping[str, int] | None = None) -> Maths:
    """:func:`expr`, bracketed when it is a sum, so it can stand in a product."""
    out = expr(e, order)
    if not isinstance(e, sp.Add):
        return out
    inner = mm.mrow([mm.fence("("), _inner(out["mathml"]), mm.fence(")")])
    return _field(f"({out['unicode']})", inner)


def one() -> Maths:
    return _field("1", mm.mn("1"))


def _product(parts: list[Maths]) -> list[str]:
    out: list[str] = []
    for i, p in enumerate(parts):
        out += ([mm.mo("·")] if i else []) + [_inner(p["mathml"])]
    return out


def derivation_forms(d: Derivation) -> dict[str, Maths]:
    """head ∂C/∂w, chain ∂z/∂w · ∂a/∂z · ∂C/∂a, product x · σ′(z) · 2(a − y), cached."""
    cached_rhs = d.cached_unicode().split(" = ", 1)[1]
    return {"head": _field(d.head_unicode, mm.head_mathml(d)),
            "chain": _broken(_field(d.chain_unicode(), mm.chain_mathml(d)), mm.chain_lines(d)),
            "product": _broken(_field(d.factors_unicode(), mm.factors_mathml(d)),
                               mm.factor_lines(d)),
            "cached": _broken(_field(cached_rhs, mm.cached_mathml(d)), mm.cached_lines(d))}


def _broken(field: Maths, lines: tuple[mm.Line, ...]) -> dict[str, object]:
    """A long sum of paths also as ``lines``, one a row, where the Unicode breaks it."""
    if lines:
        return {**field, "lines": [_field(text, inner) for _, inner, text in lines]}
    return field


def expanded(d: Derivation) -> Maths:
    return _field(d.expanded_unicode(), mm.expanded_mathml(d))


def _inner(math: str) -> str:
    """The content of a ``<math …>…</math>`` element made by :func:`_field`."""
    return math[math.index(">") + 1: math.rindex("</math>")]
