"""Which variables' ranges an "undecided" check needs: the leaves inside a log, a
square root or another function defined on part of the line only.

Runs in the child with the rest of the message (the true derivative in the leaves
can be a huge tree on a deep graph, and user ops are probed), so the message can say
``--limit p=LOW:HIGH`` for the right p.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import sympy as sp

from .. import ops
from .numbers import evaluate
from .prepare import Prepared

_PROBE = np.linspace(-10.0, 10.0, 81)  # where an op's kernel shows its domain
_X = sp.Dummy("x")


def domain_leaves(prep: Prepared) -> tuple[str, ...]:
    """The names (as ``limits`` takes them) whose values decide where the true
    derivative is defined; every leaf it depends on when no such function shows."""
    inside: set[sp.Symbol] = set()
    every: set[sp.Symbol] = set()
    for expr in prep.canonicals:
        every |= expr.free_symbols
        for arg in _restricted_arguments(expr):
            inside |= arg.free_symbols
    names = _limit_names(prep, inside or every)
    return names or _limit_names(prep, every)


def _restricted_arguments(expr: sp.Expr) -> Iterator[sp.Expr]:
    """The arguments of functions in ``expr`` that are undefined for some real input."""
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.log):
            yield e.args[0]
        elif isinstance(e, sp.Pow) and e.exp.is_integer is not True:
            yield e.base
        elif isinstance(e, ops.OpFunction | ops.PrimeFunction) and _partial(e.func):
            yield e.args[0]


def _partial(func: type) -> bool:
    """Whether an op's kernel is undefined somewhere on [−10, 10] (log, sqrt, …)."""
    try:
        values = evaluate(func(_X), {_X: _PROBE}, _PROBE.size)
    except Exception:  # noqa: BLE001 - an op we cannot probe: do not blame its argument
        return False
    return not bool(np.all(np.isfinite(values)))


def _limit_names(prep: Prepared, symbols: set[sp.Symbol]) -> tuple[str, ...]:
    """The leaves among ``symbols``, named as ``limits`` takes them (a layer's tensor
    for its neurons), in the order the graph writes them."""
    leaves = set(prep.graph.leaves)
    names = {prep.limit_names.get(s.name, s.name) for s in symbols if s.name in leaves}
    return tuple(sorted(names, key=lambda n: (prep.order.get(n, 10**6), n)))
