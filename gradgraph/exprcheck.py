"""What a SymPy object handed to gradgraph may hold: symbols with names the lexer
accepts, numbers of bounded size, ``+ × ^`` and registered ops, in a tree of bounded
size (counted on the shared DAG, never expanded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from .errors import GraphError, ParseError
from .lexer import parse_name
from .opspec import REGISTRY, OpFunction, PrimeFunction

MAX_EXPR_SIZE = 100_000  # nodes of an expression tree (counted, never expanded)
MAX_INT_DIGITS = 30  # as the parser's integer literals
MAX_INT_BITS = 100  # 30 digits, checked without printing the number
# SymPy's own functions that are registered ops under other names (Graph.from_expr maps them).
SYMPY_HEADS: dict[type, str] = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sp.Abs: "abs"}


def checked_expr(expr: object, what: str = "the expression", symbols: bool = True
                 ) -> sp.Expr:
    """``expr`` when it holds only what gradgraph knows, else :class:`GraphError`.

    Allowed: symbols (whose names the parser accepts, when ``symbols``), integers,
    rationals and finite floats, ``+ × ^``, and registered ops (and their primes, and
    SymPy's exp/log/tanh/Abs). Anything else (strings, ``Dummy``, ``pi``, ``oo``,
    ``sin``, ``Lambda``, ``Matrix``, …) is refused, as is a tree of more than
    :data:`MAX_EXPR_SIZE` nodes (counted on the shared DAG, never expanded).
    """
    if isinstance(expr, str):
        raise GraphError(f"{what} is a string; parse it with gradgraph.parse.parse_expression")
    if not isinstance(expr, sp.Basic):
        raise GraphError(f"{what} must be a SymPy expression, got {type(expr).__name__}")
    seen: set[sp.Basic] = set()
    todo = [expr]
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.add(e)
        _check_node(e, what, symbols)
        todo.extend(e.args)
    if tree_size(expr) > MAX_EXPR_SIZE:
        raise GraphError(f"{what} is too large (more than {MAX_EXPR_SIZE:,} nodes)")
    return expr  # type: ignore[return-value]


def _check_node(e: sp.Basic, what: str, symbols: bool) -> None:
    if type(e) is sp.Symbol:  # Dummy and Wild are subclasses: refused below
        if symbols:
            _check_name(e.name, what)
        return
    if isinstance(e, sp.Integer | sp.Rational):
        if max(abs(e.p).bit_length(), e.q.bit_length()) > MAX_INT_BITS:
            raise GraphError(f"{what} holds a number with more than {MAX_INT_DIGITS} digits")
        return
    if isinstance(e, sp.Float):
        if not e.is_finite:
            raise GraphError(f"{what} holds a number that is not finite")
        return
    if isinstance(e, sp.Add | sp.Mul | sp.Pow) or type(e) in SYMPY_HEADS:
        return
    if isinstance(e, OpFunction | PrimeFunction):
        spec = e.spec
        if spec.user_defined or REGISTRY.get(spec.name) is spec:
            return
    raise GraphError(f"{what} holds {type(e).__name__}, which is not a gradgraph op; "
                     f"the ops are {', '.join(REGISTRY)}")


def _check_name(name: str, what: str) -> None:
    try:
        parse_name(name)
    except ParseError:
        raise GraphError(f"{what} holds a symbol named {name[:40]!r}, which is not a "
                         "name gradgraph accepts") from None


def tree_size(expr: sp.Basic, cap: int = MAX_EXPR_SIZE) -> int:
    """Nodes of ``expr`` as a tree, counted on its DAG (shared parts once each).

    Counts stop at ``cap + 1``: a DAG of depth 60 can stand for a tree of 2⁶⁰ nodes,
    which printing, evaluating or simplifying would walk node by node.
    """
    return fold_dag(expr, lambda e, memo: min(1 + sum(memo[a] for a in e.args), cap + 1))


def fold_dag(expr: sp.Basic, combine: Callable[[sp.Basic, dict], Any]) -> Any:
    """``combine(e, memo)`` for every subexpression, children first, each once (an
    iterative post-order walk, so depth never meets Python's recursion limit)."""
    memo: dict[sp.Basic, Any] = {}
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in memo:
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in memo)
            continue
        memo[e] = combine(e, memo)
    return memo[expr]
