"""The local partial on one edge of a graph, in the teacher's factored form.

A scalar edge's ∂child/∂parent is SymPy's diff of the child's definition, with the
common cases done directly (an op of its input, a product, a sum), worked out once per
graph (``Graph._partials``). A layer op with a Jacobian in the registry (softmax) gives
∂outᵢ/∂inⱼ at an index letter of its own; a softmax read only by a cross-entropy is
taken with it as one edge (:func:`fused_consumer`). :mod:`gradgraph.derive` multiplies
these factors along the paths.
"""

from __future__ import annotations

import sympy as sp

from . import ops
from .derivation import Factor
from .errors import DerivationError
from .graph import Graph, Node
from .parse import symbol
from .shapes import element_name
from .tensor_ops import JacobianContext


def local_partial(graph: Graph, child: str, parent: str) -> sp.Expr:
    """∂child/∂parent from the child's definition, in the teacher's factored form."""
    node = graph[child]
    if node.expr is None or parent not in node.parents:
        raise DerivationError(f"'{parent}' is not an input of '{child}'")
    if node.tspec is not None and node.tspec.jacobian is not None:
        return _jacobian(graph, node)[0]
    # Each edge's partial is worked out once per graph: compiling, drawing and deriving
    # all ask for it, and SymPy's diff of an op costs a millisecond or more.
    cache = graph._partials
    key = (child, parent)
    if key not in cache:
        partial = _diff(node.expr, graph[parent].element_symbol)
        cache[key] = partial if partial.is_Atom else sp.factor_terms(partial)
    return cache[key]


def _diff(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """``sympy.diff(expr, x)``, with the common cases (sums, products, x itself) done
    directly: SymPy's general machinery costs a millisecond an edge, which made
    drawing or deriving a 10,000-node graph take half a minute."""
    if expr == x:
        return sp.S.One
    if x not in expr.free_symbols:
        return sp.S.Zero
    if isinstance(expr, sp.Add):  # the terms without x add nothing
        terms = [_diff(a, x) for a in expr.args if x in a.free_symbols]
        return terms[0] if len(terms) == 1 else sp.Add(*terms)
    if isinstance(expr, sp.Mul):
        holding = [a for a in expr.args if x in a.free_symbols]
        if len(holding) == 1:
            rest = [a for a in expr.args if a is not holding[0]]
            if holding[0] == x:  # u·w by u is w: no multiplication by 1 to simplify
                return rest[0] if len(rest) == 1 else sp.Mul(*rest)
            return sp.Mul(*rest) * _diff(holding[0], x)
    if isinstance(expr, ops.OpFunction) and expr.args[0] == x:
        # σ(z) by z: the registry's partial or prime form, which is what SymPy's diff
        # returns (through fdiff) after a millisecond of general machinery.
        return expr.fdiff(1)
    return sp.diff(expr, x)


def _jacobian(graph: Graph, node: Node) -> tuple[sp.Expr, tuple[str, ...], str]:
    """(∂outᵢ/∂inⱼ, its summed letters, i) from the op's registry entry.

    The output's element takes a letter i the graph does not use and the input keeps
    the node's own letter j: the chain rule then reads Σᵢ ∂C/∂aᵢ · ∂aᵢ/∂zⱼ.
    """
    i = next(c for c in "ilmnpqrstuv" if c not in graph.letters)
    j = node.letters[0]
    args = node.tensor_expr.args

    def arg(k: int, letter: str) -> sp.Expr:
        return symbol(element_name(args[k].name, (letter,)))

    context = JacobianContext(lambda c: symbol(element_name(node.name, (c,))), arg,
                              lambda name: ops.lookup(name).func)
    expr, sums = node.tspec.jacobian(context, i, j)
    return expr, sums, i


def _edge(graph: Graph, child: str, parent: str) -> Factor:
    c, p = graph[child], graph[parent]
    if c.tspec is not None and c.tspec.jacobian is not None:
        expr, sums, i = _jacobian(graph, c)
        return Factor(child, parent, expr, element_name(c.name, (i,)), p.element, sums=sums)
    return Factor(child, parent, local_partial(graph, child, parent), c.element, p.element)


def _relabel(graph: Graph, factor: Factor, old: str, new: str) -> Factor:
    """``factor`` with index letter ``old`` renamed ``new`` (downstream of a Jacobian)."""
    def renamed(name: str) -> str:
        node = graph[name]
        return element_name(node.name, tuple(new if c == old else c for c in node.letters))

    nodes = [graph.element_node(s.name) for s in factor.expr.free_symbols]
    symbols = {n.element_symbol: symbol(renamed(n.name)) for n in nodes
               if n is not None and old in n.letters}  # only what the partial holds
    return Factor(factor.child, factor.parent, sp.factor_terms(factor.expr.xreplace(symbols)),
                  renamed(factor.child) if factor.child_el else "",
                  renamed(factor.parent) if factor.parent_el else "", factor.via,
                  factor.sums)


def _downstream(graph: Graph, t: Factor, rest: tuple[Factor, ...]) -> tuple[Factor, ...]:
    """The factors above a Jacobian edge speak of its output's element at letter i."""
    if not t.sums:
        return rest
    old = graph[t.child].letters[0]
    return tuple(_relabel(graph, f, old, t.sums[0]) for f in rest)


def fused_consumer(graph: Graph, a: Node) -> Node | None:
    """The op taken together with ``a`` (cross-entropy after a softmax), if any: ``a``'s
    only consumer, whose registry entry fuses with ``a``'s op, reading ``a`` first."""
    if a.tspec is None:
        return None
    kids = graph.children(a.name)
    if len(kids) != 1:
        return None
    c = graph[kids[0]]
    fusion = c.tspec.fusion if c.tspec is not None else None
    if fusion is not None and fusion.producer == a.op and c.tensor_expr.args[0] == a.symbol:
        return c
    return None


fused_cross_entropy = fused_consumer  # its former name
