"""The graph as one straight-line numpy program: forward, then backward.

:func:`compile_graph` prints every node's definition and every edge's local partial
(the very expressions :mod:`gradgraph.derive` shows) as numpy code, shares common
subexpressions between the partials (``sympy.cse``), and compiles the result once.
The source is generated from node *ids* (``n3``, ``g3``) and registry kernels, never
from user text, so nothing a user typed is ever executed; ``compiled.source`` shows it.

Batches: data inputs may carry a leading batch axis. Every node's adjoint is per
example (∂Cₖ/∂node); a parameter's is the batch mean (1/n) Σₖ ∂Cₖ/∂w, the slides'
average over training examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from . import ops
from .derive import adjoints
from .errors import ValueInputError
from .graph import Graph
from .parse import symbol


@dataclass
class Result:
    """What one run of a compiled graph gives."""

    loss: Any  # the output, averaged over the batch
    values: dict[str, Any]  # every node's forward value
    gradients: dict[str, Any]  # every node's adjoint (parameters: batch mean)


class CompiledGraph:
    """A graph compiled for one output: ``compiled(values)`` -> :class:`Result`."""

    def __init__(self, graph: Graph, of: str):
        self.graph = graph
        self.of = graph.resolve(of)
        self.source = _generate(graph, self.of)
        namespace: dict[str, Any] = {"numpy": np}
        namespace.update({f"_k_{k}": v for k, v in ops.numeric_kernels().items()})
        # The source holds only ids, kernel names and printed numbers (see _generate).
        exec(compile(self.source, "<gradgraph>", "exec"), namespace)  # noqa: S102
        self._program = namespace["program"]
        self._forward = namespace["forward"]

    def _leaf_values(self, values: Mapping[str, Any]) -> list[Any]:
        given = {self.graph.resolve(k): v for k, v in values.items()}
        out = []
        batch = None
        for name in self.graph.leaves:
            if name not in given:
                raise ValueInputError(f"no value given for '{name}'")
            arr = np.asarray(given[name], dtype=float)
            if not np.all(np.isfinite(arr)):
                raise ValueInputError(f"the value of '{name}' is not finite")
            if arr.ndim > 1:
                raise ValueInputError(f"'{name}' must be a number or a 1-D batch, "
                                      f"got shape {arr.shape}")
            if arr.ndim == 1:
                if batch is not None and arr.shape[0] != batch:
                    raise ValueInputError(f"'{name}' has {arr.shape[0]} examples, "
                                          f"other inputs have {batch}")
                batch = arr.shape[0]
            out.append(arr if arr.ndim else float(arr))
        return out

    def forward(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every node's value."""
        results = self._forward(*self._leaf_values(values))
        return {n.name: _plain(v) for n, v in zip(self.graph.nodes, results, strict=True)}

    def __call__(self, values: Mapping[str, Any]) -> Result:
        leaves = self._leaf_values(values)
        fwd, grads = self._program(*leaves)
        names = [n.name for n in self.graph.nodes]
        value = {name: _plain(v) for name, v in zip(names, fwd, strict=True)}
        gradient = {}
        for node, g in zip(self.graph.nodes, grads, strict=True):
            if g is None:
                continue
            if node.role in ("param", "const"):
                g = np.mean(g)
            gradient[node.name] = _plain(g)
        return Result(float(np.mean(value[self.of])), value, gradient)


def _plain(v: Any) -> Any:
    """A Python float for a 0-d result, the array otherwise."""
    arr = np.asarray(v)
    return float(arr) if arr.ndim == 0 else arr


def compile_graph(graph: Graph, of: str | None = None) -> CompiledGraph:
    """Compile ``graph`` for output ``of`` once; later calls reuse the program."""
    name = graph.resolve(of or graph.cost)
    cache = graph._compiled
    if name not in cache:
        cache[name] = CompiledGraph(graph, name)
    return cache[name]


def _generate(graph: Graph, of: str) -> str:
    """Python source of ``forward(...)`` and ``program(...)`` over node ids."""
    ids = {n.name: n.id for n in graph.nodes}
    rename = {symbol(n.name): sp.Symbol(n.id) for n in graph.nodes}
    printer = NumPyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    leaves = [ids[n] for n in graph.leaves]
    forward = []
    for n in graph.nodes:
        if n.expr is not None:
            forward.append(f"    {n.id} = {printer.doprint(n.expr.xreplace(rename))}")
    all_ids = ", ".join(n.id for n in graph.nodes)
    head = f"def forward({', '.join(leaves)}):\n"
    fwd_src = head + "\n".join(forward) + f"\n    return ({all_ids},)\n"
    back = _backward_lines(graph, of, rename, printer)
    grads = ", ".join(_grad_id(n.id) if n.name in back.reached else "None" for n in graph.nodes)
    prog = (
        f"def program({', '.join(leaves)}):\n" + "\n".join(forward) + "\n"
        + "\n".join(back.lines) + f"\n    return ({all_ids},), ({grads},)\n"
    )
    return fwd_src + "\n\n" + prog


def _grad_id(node_id: str) -> str:
    return "g" + node_id[1:]


@dataclass
class _Backward:
    lines: list[str]
    reached: set[str]


def _backward_lines(graph: Graph, of: str, rename: dict, printer: NumPyPrinter) -> _Backward:
    adj = adjoints(graph, of)
    partials = [(t.child, name, t.expr.xreplace(rename))
                for name, a in adj.adjoints.items() for t in a.terms]
    temps, reduced = sp.cse([p[2] for p in partials], symbols=sp.numbered_symbols("t"),
                            optimizations=None)
    lines = [f"    {t} = {printer.doprint(e)}" for t, e in temps]
    out_id = graph[of].id
    lines.append(f"    {_grad_id(out_id)} = numpy.ones_like({out_id})")
    by_node: dict[str, list[str]] = {}
    for (child, parent, _), e in zip(partials, reduced, strict=True):
        term = f"{_grad_id(graph[child].id)}*({printer.doprint(e)})"
        by_node.setdefault(parent, []).append(term)
    for name in adj.adjoints:
        if name == of:
            continue
        terms = by_node.get(name)
        rhs = " + ".join(terms) if terms else "0.0"
        lines.append(f"    {_grad_id(graph[name].id)} = {rhs}")
    return _Backward(lines, set(adj.adjoints))
