"""Numbers a lesson computes: a node's or a derivative's value at a value set, and the
number a learner typed.

Both are work on symbolic input a lesson file or a learner chose, so both are bounded:
a graph's numbers are computed in a child process killed at :data:`DEADLINE`
(:mod:`gradgraph.sandbox`; nested user ops can make compiling a graph's program take
minutes), and a typed number whose user ops would expand past ``ops.MAX_OP_SIZE``
operations is refused before any evaluation (its size is counted, never expanded).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from .. import ops, sandbox
from ..check.question import parse_question
from ..errors import GradgraphError, ValueInputError
from ..expr_numbers import value_by_name
from ..graph import Graph

ARITHMETIC_ERRORS = (OverflowError, ZeroDivisionError, FloatingPointError)
DEADLINE = 3.0  # seconds for one value of a lesson's graph, as the checker's default
MEMORY_MB = 1024


def node_value(graph: Graph, what: str, values: Mapping[str, float]) -> float:
    """The value of a node, or of ``dC/dw`` (read as ``gradgraph check`` reads it), at
    ``values``; computed under :data:`DEADLINE` where the platform can fork."""
    if not sandbox.FORK_AVAILABLE:  # spawn would pickle the graph: compute it here
        return _node_value(graph, what, dict(values))
    try:
        return float(sandbox.run(_node_value, (graph, what, dict(values)),
                                 timeout=DEADLINE, memory_mb=MEMORY_MB))
    except sandbox.SandboxTimeout:
        raise ValueInputError(f"computing {what} at these values took too long (more than "
                              f"{DEADLINE:g} s)") from None


Job = tuple[Graph, str, Mapping[str, float]]  # a graph, what (a node or dC/dw), values


def node_values(jobs: Sequence[Job]) -> list[float | str]:
    """Each job's value, or why it cannot be computed, as one line (a lesson's checks at
    load time). All in one child under :data:`DEADLINE`, so a graph is compiled once;
    if that child is stopped, the jobs again one by one, each under the deadline, to
    find the one that is slow (:func:`node_value` raises for it)."""
    if not jobs:
        return []
    plain = [(g, what, dict(v)) for g, what, v in jobs]
    if sandbox.FORK_AVAILABLE:
        try:
            return list(sandbox.run(_each, (plain, _node_value), timeout=DEADLINE,
                                    memory_mb=MEMORY_MB))
        except sandbox.SandboxError:
            pass  # which job is slow: one by one, below
    return _each(plain, node_value)


def _each(jobs: Sequence[Job], compute: Callable[[Graph, str, Mapping[str, float]], float]
          ) -> list[float | str]:
    """``compute`` of each job, or its error's message."""
    out: list[float | str] = []
    for graph, what, values in jobs:
        try:
            out.append(compute(graph, what, values))
        except GradgraphError as e:
            out.append(str(e))
    return out


def _node_value(graph: Graph, what: str, values: Mapping[str, float]) -> float:
    try:
        if "/" in what:
            of, wrt = parse_question(graph, what)
            # a node that ``of`` does not depend on has no adjoint: its partial is 0
            return float(np.asarray(graph.gradients(values, of=of).get(wrt, 0.0)))
        return float(np.asarray(graph.evaluate(values)[graph.resolve(what)]))
    except ARITHMETIC_ERRORS as e:  # scalar programs raise where arrays give inf
        raise ValueInputError(f"computing {what} at these values overflows or divides by "
                              f"zero ({type(e).__name__})") from None
    except RecursionError:
        raise ValueInputError(f"computing {what} at these values: the formula is nested "
                              "too deeply") from None


def real_value(expr: sp.Expr) -> float:
    """``expr`` (no symbols) as a float through the op registry's numpy kernels;
    NaN where it is not a real number (log(−1), 1/0, 0/0), ±inf where it overflows.

    A plain ``float(expr)`` fails on σ(0.66) (SymPy cannot evaluate an op) and on
    complex results. User ops that would expand past ``ops.MAX_OP_SIZE`` operations
    raise :class:`ValueInputError` before anything is evaluated.
    """
    size, uses = ops.expanded_size(expr)
    if size + uses > ops.MAX_OP_SIZE:
        raise ValueInputError(f"this number would expand to {size + uses:,} operations "
                              f"(the limit is {ops.MAX_OP_SIZE:,})")
    try:
        return float(np.asarray(value_by_name(expr, {}), dtype=float))
    except (GradgraphError, TypeError, ValueError, ArithmeticError):
        return math.nan
