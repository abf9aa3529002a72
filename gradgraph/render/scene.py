"""What one diagram shows: the scene (values, adjoints, the lit chain) and the numbers.

:func:`build_scene` resolves names and runs the forward pass, the adjoints and the
derivation once; every view draws from the :class:`Scene`. :func:`numeric_value` puts a
number on an edge's partial without generating code from user text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..derive import Derivation, derive, local_partial
from ..errors import RenderError, ValueInputError
from ..expr_numbers import NotNumeric, value_by_name
from ..graph import Graph
from ..notation import to_unicode
from .labels import parse_show

RANKDIRS = ("LR", "BT", "TB", "RL")
_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --- numbers on edges ----------------------------------------------------------------

def numeric_value(expr: sp.Expr, env: Mapping[str, Any]) -> Any:
    """``expr`` at the node values ``env`` (floats or 1-D batches); ``None`` if unknown.

    The one evaluator (:mod:`gradgraph.expr_numbers`, the registry's kernels), so a
    label's number is computed the way the compiled program computes it, without
    generating code from user text; a head it has no kernel for shows no number.
    """
    try:
        return value_by_name(expr, env)
    except (NotNumeric, TypeError, ValueError):
        return None


def plain(value: Any) -> Any:
    """A 0-d array as a float, so labels and tests see plain numbers."""
    arr = np.asarray(value)
    return float(arr) if arr.ndim == 0 else arr


# --- what one diagram shows ----------------------------------------------------------


@dataclass
class Scene:
    """Everything a diagram of ``graph`` shows, computed once from the arguments."""

    graph: Graph
    of: str
    show: frozenset[str]
    values: dict[str, Any] | None = None  # forward value of every node
    grads: dict[str, Any] | None = None  # adjoint ∂(of)/∂node where it exists
    derivation: Derivation | None = None
    path_edges: frozenset[tuple[str, str]] = frozenset()  # (parent, child)
    path_nodes: frozenset[str] = frozenset()
    rankdir: str = "LR"
    _partials: dict[tuple[str, str], sp.Expr] = field(default_factory=dict, repr=False)
    _edge_values: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def highlight(self) -> bool:
        return self.derivation is not None

    def partial(self, parent: str, child: str) -> sp.Expr:
        key = (parent, child)
        if key not in self._partials:
            self._partials[key] = local_partial(self.graph, child, parent)
        return self._partials[key]

    def edge_value(self, parent: str, child: str) -> Any:
        """The local partial's number at the values (``None`` without values)."""
        if self.values is None:
            return None
        key = (parent, child)
        if key not in self._edge_values:  # the stepper asks once per frame
            self._edge_values[key] = numeric_value(self.partial(parent, child), self.values)
        return self._edge_values[key]

    def unicode(self, expr: sp.Expr) -> str:
        return to_unicode(expr, self.graph.order)


def build_scene(graph: Graph, wrt: str | None = None, of: str | None = None,
                values: Mapping[str, Any] | None = None,
                show: str | Iterable[str] | None = None, rankdir: str = "LR") -> Scene:
    """Resolve names, run the numbers and the derivation a diagram needs."""
    if rankdir not in RANKDIRS:
        raise RenderError(f"rankdir must be one of {', '.join(RANKDIRS)}, not '{rankdir}'")
    bad = next((n.id for n in graph.nodes if not _DOT_ID.match(n.id)), None)
    if bad is not None:  # ids are written into DOT unquoted
        raise RenderError(f"node id {bad!r} is not a plain identifier")
    target = graph.resolve(of or graph.cost)
    scene = Scene(graph, target, parse_show(show), rankdir=rankdir)
    if values is not None:
        check_values(graph, values)
        scene.values = {k: plain(v) for k, v in graph.evaluate(values).items()}
        scene.grads = {k: plain(v) for k, v in graph.gradients(values, of=target).items()}
    if wrt is not None:
        d = derive(graph, target, wrt)
        scene.derivation = d
        scene.path_nodes, scene.path_edges = chain_between(graph, d.wrt, target)
    return scene


def check_values(graph: Graph, values: Mapping[str, Any]) -> None:
    """Refuse values a diagram would silently drop or lack: each leaf once, only leaves.

    The forward pass reads the leaves only, so a value for a computed node would be
    ignored without a word, and the picture would not show the number the user gave.
    """
    seen: dict[str, str] = {}
    for name in values:
        node = graph[graph.resolve(name)]
        if not node.is_leaf:
            raise ValueInputError(f"{name} is computed from its inputs; give values for "
                                  f"the leaves: {', '.join(graph.leaves)}")
        if node.name in seen:
            raise ValueInputError(f"{node.name} is given twice (as {seen[node.name]} and "
                                  f"{name})")
        seen[node.name] = name
    missing = [leaf for leaf in graph.leaves if leaf not in seen]
    if missing:
        raise ValueInputError(f"no value given for {', '.join(missing)}")


def chain_between(graph: Graph, start: str, end: str
                  ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Nodes and edges on any path from ``start`` up to ``end``.

    By reachability (descendants of start ∩ ancestors of end), not by listing the
    paths, whose number can grow exponentially with the graph.
    """
    down = _reach(start, graph.children)
    up = _reach(end, lambda n: graph[n].parents)
    nodes = frozenset(down & up)
    edges = frozenset((p, c) for p, c in edges_of(graph) if p in nodes and c in nodes)
    return nodes, edges


def _reach(start: str, step: Callable[[str], Iterable[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in step(stack.pop()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def edges_of(graph: Graph) -> list[tuple[str, str]]:
    """Every (parent, child) edge, in topological order of the child."""
    return [(p, n.name) for n in graph.nodes for p in n.parents]

