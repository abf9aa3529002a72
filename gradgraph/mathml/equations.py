"""Equations as rows aligned on "=": a graph's definitions, and the table they go in.

A :class:`Row` is ``lhs = rhs`` as inner MathML with its Unicode beside it; :func:`table`
lays rows out as an ``<mtable>`` of left, "=", right, a long right-hand side going on in
the rows below (its :data:`Line` s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from ..notation import reorder, split_name
from .expressions import paren, piece
from .tokens import APPLY, MINUS, fence, mi, mn, mo, mrow, name_mathml, sum_over

if TYPE_CHECKING:
    from ..graph import Graph, Node


@dataclass(frozen=True)
class Row:
    """One line of equations: ``lhs = rhs`` as inner MathML, with its Unicode beside it.

    ``note`` is a remark after the equation (the cached adjoints it reuses); an empty
    ``lhs`` continues the previous row (``      = x · σ′(z) · 2(a − y)``). ``lines``
    is the right-hand side broken as the Unicode breaks a long sum of paths, one
    :data:`Line` a row (empty when it fits on one): ``rhs`` stays the one-line form.
    """

    lhs: str
    rhs: str
    lhs_text: str
    rhs_text: str
    note: str = ""
    note_text: str = ""
    lines: tuple[Line, ...] = ()


# One row of a broken right-hand side: (relation, inner MathML, its Unicode). The
# relation is "=" where a side starts and "" where a sum goes on after its + sign.
Line = tuple[str, str, str]


def definition_mathml(node: Node, order: Mapping[str, int] | None = None) -> str:
    """``z = w·x + b``, as :meth:`Node.definition` prints it (Σₖ, batch means, softmax)."""
    head = name_mathml(node.element)
    if node.expr is None:
        return head
    return mrow([head, mo("="), definition_rhs_mathml(node, order)])


def definition_rhs_mathml(node: Node, order: Mapping[str, int] | None = None) -> str:
    """The right-hand side of the node's definition (``w·x + b``); leaves have none."""
    from .. import ops

    if node.expr is None:
        return ""
    if node.tspec is not None and node.tspec.display.mean_over_batch:
        inner = node.expr * ops.BATCH_SIZE
        body = piece(reorder(inner, order))
        body = paren(body) if isinstance(inner, sp.Add) else body
        mean = [fence("("), mn("1"), mo("/"), mi("m"), fence(")"),
                f"<munder>{mo('∑')}{mi('B')}</munder>"]
        return mrow([*mean, *body.parts])
    return mrow([*_summed(node, order), *_softmax_tail(node)])


def definition_rows(graph: Graph) -> list[Row]:
    """One row per computed node, as ``graph.definitions()`` prints them."""
    rows = []
    for n in graph.nodes:
        if n.is_leaf:
            continue
        lhs_text, _, rhs_text = n.definition(graph.order).partition(" = ")
        rows.append(Row(name_mathml(n.element), definition_rhs_mathml(n, graph.order),
                        lhs_text, rhs_text))
    return rows


def _summed(node: Node, order: Mapping[str, int] | None) -> list[str]:
    if not node.sums:
        return list(piece(reorder(node.expr, order)).parts)
    terms = node.expr.args if isinstance(node.expr, sp.Add) else (node.expr,)
    inner = [t for t in terms if any(c in split_name(s.name)[1]
                                     for s in t.free_symbols for c in node.sums)]
    outer = [t for t in terms if t not in inner]
    summed = sp.Add(*inner)
    negative = len(inner) == 1 and summed.could_extract_minus_sign()
    body = piece(reorder(-summed if negative else summed, order))
    if len(inner) > 1:
        body = paren(body)
    parts = [mo(MINUS)] if negative else []
    parts.extend(sum_over(c) for c in node.sums)
    parts.extend(body.parts)
    for t in outer:
        parts.extend((mo("+"), *piece(reorder(t, order)).parts))
    return parts


def _softmax_tail(node: Node) -> list[str]:
    normaliser = node.tspec.display.normaliser if node.tspec is not None else None
    if normaliser is None:
        return []
    from ..shapes import element_name

    z = element_name(node.tensor_expr.args[0].name, ("i",))
    return [mo("/"), sum_over("i"), mi(normaliser), mo(APPLY), fence("("), name_mathml(z),
            fence(")")]


def table(rows: Sequence[Row]) -> str:
    """Equations aligned on "=": an ``<mtable>`` of left, "=", right; a long sum of
    paths goes on in the right column of the rows below, as the Unicode breaks it."""
    empty = "<mrow></mrow>"
    cells = "".join(
        f"<mtr><mtd>{r.lhs if i == 0 and r.lhs else empty}</mtd>"
        f"<mtd>{mo(rel) if rel else empty}</mtd><mtd>{rhs}</mtd></mtr>"
        for r in rows for i, (rel, rhs, _) in enumerate(r.lines or (("=", r.rhs, ""),)))
    # displaystyle: full-size fractions and Σ with its index under it (MathML Core makes
    # a table compact by default). columnalign is honoured by Firefox and Safari; in
    # Chromium, the page aligns them with CSS on mtable.gg-eq mtd.
    return (f'<mtable class="gg-eq" displaystyle="true" columnalign="right center left">'
            f"{cells}</mtable>")
