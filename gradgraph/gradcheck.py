"""Every adjoint against central differences in float64.

For a leaf the check perturbs its value; for an intermediate node it cuts the graph
there (the node becomes an input of the part above it, the rest held at their forward
values) and perturbs that. Big tensors are checked at a seeded sample of elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .errors import GraphError
from .graph import Graph, Node
from .numeric import compile_graph

# Checking an intermediate node compiles the part of the graph above it, so checking
# every node costs the graph's size squared (200 nodes took 17 s). Past this many
# nodes the caller names the ones to check.
MAX_CHECKED = 150


# Stated in the report, so its numbers read the same as Graph.gradients'.
CONVENTION = ("over a batch: parameters show the batch mean (1/n) Σₖ ∂Cₖ/∂w; "
              "other nodes show, per example k, ∂Cₖ/∂nodeₖ (not divided by n)")


@dataclass(frozen=True)
class Row:
    """One node's check: the worst element's two values and their errors."""

    node: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool


@dataclass
class GradcheckReport:
    """Per-node results; ``ok`` when every node passes, ``worst`` the largest error."""

    rows: list[Row]
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def worst(self) -> Row:
        return max(self.rows, key=lambda r: (not r.ok, r.rel_error))

    def __str__(self) -> str:
        head = f"{'node':<14} {'where':<10} {'analytic':>13} {'numeric':>13} {'rel. error':>10}"
        lines = [head]
        for r in self.rows:
            mark = "" if r.ok else "  ✗"
            where = ",".join(map(str, r.index)) or "-"
            lines.append(f"{r.node:<14} {where:<10} {r.analytic:>13.6g} {r.numeric:>13.6g} "
                         f"{r.rel_error:>10.2e}{mark}")
        w = self.worst
        verdict = "all adjoints agree" if self.ok else f"'{w.node}' disagrees"
        lines.append(f"{verdict}; worst relative error {w.rel_error:.2e} at '{w.node}'")
        lines.append(CONVENTION)
        return "\n".join(lines)


def gradcheck(graph: Graph, values: Mapping[str, Any], of: str | None = None,
              eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8,
              samples: int = 12, seed: int = 0,
              nodes: Iterable[str] | None = None) -> GradcheckReport:
    """Compare every node's adjoint (or those in ``nodes``) with a central difference of
    the batch-mean output. A graph of more than :data:`MAX_CHECKED` nodes needs
    ``nodes`` (each checked node costs a compile of the graph above it).

    Numbers follow :meth:`Graph.gradients`: a parameter's adjoint is the batch mean
    (1/n) Σₖ ∂Cₖ/∂w; a per-example node (an input, or computed from one) shows
    ∂Cₖ/∂nodeₖ per example k, so its central difference of the mean is multiplied by n.
    """
    of = graph.resolve(of or graph.cost)
    chosen = _chosen(graph, nodes)
    result = compile_graph(graph, of)(values)
    rng = np.random.default_rng(seed)
    rows = []
    for node in graph.nodes:
        if node.name == of or node.name not in result.gradients or node.name not in chosen:
            continue
        loss = _loss_of(graph, node, of, result.values, values)
        rows.append(_check_node(node, result, loss, eps, rtol, atol, samples, rng))
    return GradcheckReport(rows, rtol, atol)


def _chosen(graph: Graph, nodes: Iterable[str] | None) -> set[str]:
    if nodes is None:
        if len(graph) > MAX_CHECKED:
            raise GraphError(f"the graph has {len(graph)} nodes; gradcheck checks at most "
                             f"{MAX_CHECKED} unless told which (nodes=[...]), since each "
                             "node compiles the graph above it")
        return {n.name for n in graph.nodes}
    names = [nodes] if isinstance(nodes, str) else list(nodes)
    chosen = {graph.resolve(n) for n in names}
    if len(chosen) > MAX_CHECKED:
        raise GraphError(f"gradcheck checks at most {MAX_CHECKED} nodes at a time")
    return chosen


def _loss_of(graph: Graph, node: Node, of: str, forward: dict, values: Mapping) -> Any:
    """The batch-mean output as a function of ``node``'s value, all else held fixed."""
    if node.is_leaf:
        compiled = compile_graph(graph, of)
        base = dict(values)
        return lambda v: compiled(dict(base, **{node.name: v})).loss
    cut = _cut(graph, node.name)
    compiled = compile_graph(cut, of)
    fixed = {n: forward[n] for n in cut.leaves}
    return lambda v: compiled(dict(fixed, **{node.name: v})).loss


def _cut(graph: Graph, name: str) -> Graph:
    """The part of the graph above ``name``, with ``name`` and its side inputs as leaves."""
    above = {name}
    for n in graph.nodes:
        if any(p in above for p in n.parents):
            above.add(n.name)
    keep = [n for n in graph.nodes if n.name in above]
    needed = {p for n in keep if n.name != name for p in n.parents} | above
    nodes = []
    for i, n in enumerate(x for x in graph.nodes if x.name in needed):
        if n.name == name or n.name not in above:
            role = "input" if graph.is_batched(n.name) else (
                "param" if n.role == "param" else "const")
            n = replace(n, expr=None, parents=(), op=None, tensor_expr=None, sums=(), role=role)
        nodes.append(replace(n, id=f"n{i}"))
    return Graph(tuple(nodes), graph.cost, graph.user_ops, dict(graph.order))


def _check_node(node: Node, result: Any, loss: Any, eps: float, rtol: float,
                atol: float, samples: int, rng: np.random.Generator) -> Row:
    value = np.array(result.values[node.name], dtype=float)
    grad = np.asarray(result.gradients[node.name], dtype=float)
    batch = value.shape[0] if value.ndim > len(node.shape) else 1
    worst: Row | None = None
    for index in _sample(value.shape, samples, rng):
        up, down = value.copy(), value.copy()
        up[index] += eps
        down[index] -= eps
        numeric = (loss(up if up.ndim else float(up)) - loss(down if down.ndim
                                                              else float(down))) / (2 * eps)
        # The one convention (as Graph.gradients): a per-example node's adjoint is
        # ∂Cₖ/∂nodeₖ, its own example's cost. The loss is the mean over the batch, so
        # its difference is that divided by the batch size: scale it back.
        numeric *= batch
        analytic = float(grad[index])
        err = abs(analytic - numeric)
        rel = err / max(abs(analytic), abs(numeric), 1e-12)
        row = Row(node.name, tuple(int(i) for i in index), analytic, numeric, err, rel,
                  err <= atol + rtol * abs(numeric))
        if worst is None or (not row.ok, row.rel_error) > (not worst.ok, worst.rel_error):
            worst = row
    assert worst is not None
    return worst


def _sample(shape: tuple[int, ...], samples: int, rng: np.random.Generator) -> list[tuple]:
    every = list(np.ndindex(*shape)) if shape else [()]
    if len(every) <= samples:
        return every
    picks = rng.choice(len(every), size=samples, replace=False)
    return [every[i] for i in sorted(picks)]
