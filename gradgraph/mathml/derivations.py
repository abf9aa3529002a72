"""Derivations as MathML: the chain, the product of local partials, the cached form,
the expanded form and every adjoint, laid out as ``str(d)`` and ``str(adjoints)`` print
them, a long sum of paths broken where the Unicode breaks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sympy as sp

from ..derivation import broken_rows
from ..notation import partial_unicode, reorder
from .equations import Line, Row, table
from .expressions import (
    PREC_ADD,
    PREC_ATOM,
    Piece,
    expr_mathml,
    interleave,
    join_terms,
    paren,
    piece,
)
from .tokens import MINUS, math, mn, mo, mrow, partial_mathml, sum_over

if TYPE_CHECKING:
    from ..derive import Adjoint, Adjoints, Derivation, Factor
    from ..graph import Graph


def _summed_letters(graph: Graph, names: tuple[str, ...], wrt: str, of: str,
                    extra: tuple[str, ...] = ()) -> list[str]:
    """The letters a path sums over (Σⱼ): exactly derive's choice, read from its prefix."""
    from ..derive import _sigma_prefix
    from ..notation import FROM_SUBSCRIPT

    prefix = _sigma_prefix(graph, names, wrt, of, extra)
    return [FROM_SUBSCRIPT.get(p[1:], p[2:]) for p in prefix.split()]


def _path_sums(d: Derivation, fs: tuple[Factor, ...]) -> list[str]:
    names = tuple(f.child for f in fs) + tuple(f.via for f in fs if f.via)
    extra = tuple(c for f in fs for c in f.sums)
    return [sum_over(c) for c in _summed_letters(d.graph, names, d.wrt, d.of, extra)]


def factor_symbol_mathml(f: Factor) -> str:
    """The edge's partial ∂z/∂w (between elements for layers: ∂zⱼ/∂Wⱼₖ)."""
    return partial_mathml(f.child_el or f.child, f.parent_el or f.parent)


def head_mathml(d: Derivation) -> str:
    """``∂C/∂w``; for layers between elements, ``∂C/∂Wⱼₖ``."""
    return partial_mathml(d.graph[d.of].element, d.graph[d.wrt].element)


def chain_mathml(d: Derivation) -> str:
    """``∂z/∂w · ∂a/∂z · ∂C/∂a``; several paths added, Σⱼ where a path sums an index."""
    return join_terms(_chain_terms(d))


def _chain_terms(d: Derivation) -> list[Piece]:
    if not d.factors:
        return [Piece((mn("0"),), PREC_ATOM, "0")]
    terms = []
    for fs in d.factors:
        parts = _path_sums(d, fs)
        symbols = [factor_symbol_mathml(f) for f in fs] or [mn("1")]
        parts.extend(interleave(symbols, mo("·")))
        terms.append(Piece(tuple(parts), PREC_ADD, "∂"))
    return terms


def chain_lines(d: Derivation) -> tuple[Line, ...]:
    """:func:`chain_mathml` a path a row when the Unicode breaks it (else ``()``)."""
    return broken_lines(_chain_terms(d), d.chain_terms())


def factor_lines(d: Derivation) -> tuple[Line, ...]:
    """:func:`factors_mathml` a path a row when the Unicode breaks it (else ``()``)."""
    return broken_lines(_factor_terms(d), d.factor_terms())


def cached_lines(d: Derivation) -> tuple[Line, ...]:
    """:func:`cached_mathml` a term a row when it is too long for one line."""
    adj = d._all.adjoints.get(d.wrt)
    return broken_lines(_cached_terms(adj), _cached_texts(adj)) if adj is not None else ()


def broken_lines(terms: Sequence[Piece], texts: Sequence[str]) -> tuple[Line, ...]:
    """A sum of paths one term a row, each ending in the next one's sign, where
    :func:`gradgraph.derivation.broken_rows` breaks its Unicode ``texts``; ``()`` when
    it fits on one line. The first row's relation is "=", the others have none."""
    rows = broken_rows(list(texts))
    if len(rows) == 1:
        return ()
    lines: list[Line] = []
    for i, (t, text) in enumerate(zip(terms, rows, strict=True)):
        parts = list(t.parts[1:] if i and t.lead == MINUS else t.parts)
        if i + 1 < len(terms):
            parts.append(mo(MINUS if terms[i + 1].lead == MINUS else "+"))
        lines.append(("" if i else "=", mrow(parts), text))
    return tuple(lines)


def factors_mathml(d: Derivation) -> str:
    """``x · σ′(z) · 2(a − y)``: each edge's local partial, in the user's order."""
    return join_terms(_factor_terms(d))


def _factor_terms(d: Derivation) -> list[Piece]:
    if not d.factors:
        return [Piece((mn("0"),), PREC_ATOM, "0")]
    order = d.graph.order
    grouped = len(d.factors) > 1
    terms = []
    for fs in d.factors:
        sums = _path_sums(d, fs)
        pieces: list[Piece] = []
        for f in fs:
            m = piece(reorder(sp.sympify(f.expr), order))
            pieces.append(paren(m) if (grouped or len(fs) > 1) and isinstance(f.expr, sp.Add)
                          else m)
        if not pieces:
            pieces = [Piece((mn("1"),), PREC_ATOM, "1")]
        parts = [*sums]
        for i, p in enumerate(pieces):
            parts.extend((mo("·"), *p.parts) if i else p.parts)
        terms.append(Piece(tuple(parts), PREC_ADD, "Σ" if sums else pieces[0].lead))
    return terms


def adjoint_cached_mathml(adj: Adjoint) -> str:
    """``∂z/∂b · ∂C/∂z``: the local partial times the child's cached adjoint."""
    return join_terms(_cached_terms(adj))


def _cached_texts(adj: Adjoint) -> list[str]:
    """The Unicode of each term of ``adj.cached_unicode()`` (its + joins them)."""
    return adj.cached_unicode().split(" + ")


def _cached_terms(adj: Adjoint) -> list[Piece]:
    if not adj.terms:
        return [Piece((mn("1" if adj.node == adj.of else "0"),), PREC_ATOM, "1")]
    graph = adj.graph
    of_el = graph[adj.of].element if graph is not None else adj.of
    terms = []
    for t in adj.terms:
        parts = ([sum_over(c) for c in _summed_letters(graph, (t.child,), adj.node, adj.of,
                                                       t.sums)]
                 if graph is not None else [])
        parts.append(factor_symbol_mathml(t))
        if t.child != adj.of:
            parts.extend((mo("·"), partial_mathml(of_el, t.child_el)))
        terms.append(Piece(tuple(parts), PREC_ADD, "∂"))
    return terms


def cached_mathml(d: Derivation) -> str:
    """The right-hand side of ``∂C/∂b = ∂z/∂b · ∂C/∂z`` (the form that reuses ∂C/∂z)."""
    adj = d._all.adjoints.get(d.wrt)
    return adjoint_cached_mathml(adj) if adj is not None else mn("0")


def reuses_mathml(d: Derivation) -> str:
    """``∂C/∂z, …``: the cached adjoints the derivation reuses ("" when none)."""
    of_el = d.graph[d.of].element
    items = [partial_mathml(of_el, d.graph[r].element) for r in d.reuses]
    return mrow(interleave(items, mo(","))) if items else ""


def expanded_mathml(d: Derivation) -> str:
    """``expanded`` in the leaves; for layers each path keeps its Σ over summed indices."""
    order = d.graph.order
    if not d.graph.is_tensor:
        return expr_mathml(d.expanded, order)
    if not d.factors:
        return mn("0")
    terms = []
    for fs in d.factors:
        body = piece(reorder(sp.Mul(*(f.expr for f in fs)).xreplace(d._definitions), order))
        sums = _path_sums(d, fs)
        terms.append(Piece((*sums, *body.parts), PREC_ADD, "Σ" if sums else body.lead))
    return join_terms(terms)


def derivation_rows(d: Derivation) -> list[Row]:
    """The lines of ``str(d)``: ``∂C/∂w = chain``, then ``= factors`` when they differ."""
    head, head_text = head_mathml(d), d.head_unicode
    chain = d.chain_unicode()
    chain_terms, factor_terms = _chain_terms(d), _factor_terms(d)
    factors = Row(head if chain == head_text else "", join_terms(factor_terms),
                  head_text if chain == head_text else "", d.factors_unicode(),
                  lines=broken_lines(factor_terms, d.factor_terms()))
    if chain == head_text:  # one edge straight into the output
        return [factors]
    rows = [Row(head, join_terms(chain_terms), head_text, chain,
                lines=broken_lines(chain_terms, d.chain_terms()))]
    if factors.rhs_text != chain:
        rows.append(factors)
    return rows


def derivation_mathml(d: Derivation) -> str:
    """The whole derivation as ``str(d)`` shows it, a complete block ``<math>`` element."""
    return math(table(derivation_rows(d)), display=True, text=str(d))


def adjoints_rows(all_: Adjoints) -> list[Row]:
    """One row per node, as ``str(adjoints(...))`` prints them, backwards from the output.

    The right-hand side is ``cached = factors`` with the Unicode's rules: no tautology
    (∂C/∂a = ∂C/∂a), and the factors dropped when equal to the cached form or too long.
    """
    from ..derive import MAX_LINE

    rows = []
    graph = all_.graph
    of_el = graph[all_.of].element
    for name, adj in all_.adjoints.items():
        if name == all_.of:
            continue
        d = all_.derivation(name)
        cached = _cached_terms(adj)
        pieces = [(adj.cached_unicode(), cached, _cached_texts(adj)),
                  (d.factors_unicode(), _factor_terms(d), d.factor_terms())]
        pieces = [p for p in pieces if p[0] != d.head_unicode]
        if len(pieces) == 2 and (pieces[0][0] == pieces[1][0] or len(pieces[1][0]) > MAX_LINE):
            pieces.pop()
        rhs = mrow(interleave([join_terms(t) for _, t, _ in pieces], mo("="))) if pieces else ""
        reused = [partial_mathml(of_el, graph[c].element) for c in adj.reuses]
        reused_text = ", ".join(partial_unicode(of_el, graph[c].element) for c in adj.reuses)
        rows.append(Row(head_mathml(d), rhs, d.head_unicode, " = ".join(u for u, _, _ in pieces),
                        mrow(interleave(reused, mo(","))) if reused else "", reused_text,
                        _side_lines(pieces)))
    return rows


def _side_lines(sides: Sequence[tuple[str, Sequence[Piece], Sequence[str]]]) -> tuple[Line, ...]:
    """The sides ``cached = factors`` a row each (a long one broken): only when one of
    them is too long for one line, as the LaTeX of ``--all`` lays them out."""
    broken = [broken_lines(terms, texts) for _, terms, texts in sides]
    if not any(broken):
        return ()
    return tuple(line for b, (text, terms, _) in zip(broken, sides, strict=True)
                 for line in (b or (("=", join_terms(terms), text),)))
