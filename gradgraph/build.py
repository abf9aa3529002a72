"""Building graphs: text or SymPy -> :class:`~gradgraph.graph.Graph` (the builder
itself is :mod:`gradgraph.builder`), and graph-to-graph transforms (one scalar node per
neuron).

The graph IR (graph.py, shapes.py) sits below this module: it imports them, they do
not import it (``Graph.from_text`` reaches here lazily, in graph.py's one marked block).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import sympy as sp

from . import ops
from .builder import _Builder
from .errors import GraphError, ShapeError
from .graph import Graph
from .node import _has_letters
from .parse import (
    Assign,
    Declare,
    parse_expression,
    parse_name,
    parse_program,
    symbol,
)
from .shapes import (
    MAX_EXPANDED_UNITS,
    _elementwise,
    scalar_name,
)


def from_text(text: str, params: str | Iterable[str] | None = None,
              cost: str | None = None) -> Graph:
    """:meth:`Graph.from_text`."""
    program = parse_program(text)
    return _Builder(program.statements, params, cost, program.order, program.typed).build()


def from_expr(expr: sp.Expr | str, params: str | Iterable[str] | None = None,
              name: str = "C") -> Graph:
    """:meth:`Graph.from_expr`."""
    if isinstance(expr, str):
        expr = parse_expression(expr)
    adopted = _adopt(ops.checked_expr(expr, "the expression given to from_expr"))
    return _Builder([Assign(name, adopted, 1)], params, name).build()


def _adopt(expr: sp.Expr) -> sp.Expr:
    """A user's SymPy expression in gradgraph's terms: real symbols, registered ops."""
    heads = {head: ops.get(name) for head, name in ops.SYMPY_HEADS.items()}  # the one table

    def walk(e: sp.Expr) -> sp.Expr:
        if isinstance(e, sp.Symbol):
            return symbol(parse_name(e.name))
        if isinstance(e, ops.OpFunction | ops.PrimeFunction) or not e.args:
            return e
        args = [walk(a) for a in e.args]
        if e.func in heads:
            return heads[e.func].func(*args)
        if isinstance(e, sp.Add | sp.Mul | sp.Pow):
            return e.func(*args)
        raise GraphError(f"gradgraph has no op for {type(e).__name__}")

    return walk(expr)


# --- scalar expansion: one node per neuron --------------------------------------------


def expand_to_scalars(graph: Any) -> Any:
    """The same network with one scalar node per neuron (and per weight).

    ``z_j = Σ_k W_jk x_k + b_j`` becomes ``z_0 = W_00 x_0 + W_01 x_1 + b_0``, … —
    the micrograd view; numbers and derivatives are the same as the layered graph's.
    """
    statements: list[Any] = []
    order: dict[str, int] = {}
    for node in graph.nodes:
        if node.tspec is not None and node.tspec.reduces_batch:
            raise ShapeError(f"'{node.name}' is a mean over the batch; a network with batch "
                             f"statistics cannot be expanded to one node per neuron")
        if any(d > MAX_EXPANDED_UNITS for d in node.shape):
            raise ShapeError(f"'{node.name}' has shape {node.shape}: expanding to scalars is "
                             f"for layers of at most {MAX_EXPANDED_UNITS} units")
        for index in itertools.product(*(range(d) for d in node.shape)):
            name = scalar_name(node.name, index)
            order[name] = graph.order.get(node.name, 0) * 1000 + len(order)
            if node.expr is None:
                statements.append(Declare((name,), node.role, (), 1))
            else:
                statements.append(Assign(name, _expand(graph, node, index), 1))
    return _Builder(statements, None, graph.cost, order).build()


def _expand(graph: Any, node: Any, index: tuple[int, ...]) -> sp.Expr:
    """The element of ``node`` at ``index`` as a scalar formula in scalar names."""
    values = dict(zip(node.letters, index, strict=True))
    spec = node.tspec
    if spec is not None and spec.scalar_expand is not None:
        args = [[symbol(scalar_name(a.name, i)) for i in itertools.product(
            *(range(d) for d in graph[a.name].shape))] for a in node.tensor_expr.args]
        return spec.scalar_expand(args, index, _elementwise)
    terms = node.expr.args if isinstance(node.expr, sp.Add) else (node.expr,)
    inner = sp.Add(*(t for t in terms if _has_letters(t, node.sums)))
    outer = sp.Add(*(t for t in terms if not _has_letters(t, node.sums)))
    total = _at(graph, outer, values, node)
    ranges = [range(_extent(graph, node, c)) for c in node.sums]
    for summed in itertools.product(*ranges):
        letters = {**values, **dict(zip(node.sums, summed, strict=True))}
        total += _at(graph, inner, letters, node)
    return total


def _extent(graph: Any, node: Any, letter: str) -> int:
    for p in node.parents:
        parent = graph[p]
        if letter in parent.letters:
            return parent.shape[parent.letters.index(letter)]
    raise ShapeError(f"no extent for index {letter} in '{node.name}'")


def _at(graph: Any, expr: sp.Expr, letters: dict[str, int], node: Any) -> sp.Expr:
    """``expr`` (in element symbols) at given index values, in scalar names."""
    subs = {}
    for p in node.parents:
        parent = graph[p]
        if any(c not in letters for c in parent.letters):
            continue  # not in this part of the formula
        index = tuple(letters[c] for c in parent.letters)
        subs[parent.element_symbol] = symbol(scalar_name(parent.name, index))
    return expr.xreplace(subs)
