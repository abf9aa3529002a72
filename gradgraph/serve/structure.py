"""Graphs and derivations as the JSON of docs/serve-api.md (run inside the sandbox child).

Every function here starts from graph *text* and returns plain data, so it can run in
the killable child of :mod:`gradgraph.sandbox` and send its result back pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..derive import Derivation, Factor, derive, local_partial
from ..errors import DerivationError, GradgraphError
from ..graph import Graph, Node
from ..numeric import compile_graph
from ..render.steps import backward_edges
from . import maths
from .numbers import batch_size, defaults, leaf_values, plain


def build(text: str, params: str | None = None, of: str | None = None) -> Graph:
    return Graph.from_text(text, params=params or None, cost=of or None)


def edge_id(graph: Graph, parent: str, child: str) -> str:
    """``e_<parent id>_<child id>``: the id of the edge's ``<g>`` in the SVG too."""
    return f"e_{graph[parent].id}_{graph[child].id}"


def graph_info(text: str, params: str | None = None, of: str | None = None) -> dict[str, Any]:
    """The structure a page draws and steps through: nodes, edges, backward order."""
    graph = build(text, params, of)
    target = graph.resolve(of) if of else graph.cost
    return {
        "cost": target,
        "nodes": [_node(graph, n, target) for n in graph.nodes],
        "edges": [_edge(graph, p, n.name) for n in graph.nodes for p in n.parents],
        "leaves": list(graph.leaves), "params": list(graph.params),
        "inputs": list(graph.inputs), "is_tensor": graph.is_tensor,
        "defaults": defaults(graph),
        "seed": maths.seed(graph[target].element),
        "backward": _backward(graph, target),
    }


def _node(graph: Graph, node: Node, cost: str) -> dict[str, Any]:
    role = "cost" if node.name == cost else node.role
    return {"id": node.id, "name": node.name, **maths.name(node.element), "role": role,
            "is_leaf": node.is_leaf, "shape": list(node.shape),
            "definition": None if node.is_leaf else maths.definition(node, graph.order)}


def _edge(graph: Graph, parent: str, child: str) -> dict[str, Any]:
    try:
        partial = maths.expr(local_partial(graph, child, parent), graph.order)
    except DerivationError:
        partial = None
    return {"id": edge_id(graph, parent, child), "parent": parent, "child": child,
            "symbol": maths.partial(graph[child].element, graph[parent].element),
            "partial": partial}


def _backward(graph: Graph, of: str) -> list[dict[str, Any]]:
    """One step per edge in the order reverse mode uses them (frame i of /api/render).

    Each reads as a teacher says it: the parent's adjoint gains the local partial times
    the child's adjoint, then the same with the local partial written out. An edge into
    the output multiplies by ∂C/∂C, which the seed (``seed``) sets to 1.
    """
    out = []
    head_of = graph[of].element
    for parent, child in backward_edges(graph, of):
        p_el, c_el = graph[parent].element, graph[child].element
        head, local = maths.partial(head_of, p_el), maths.partial(c_el, p_el)
        upstream = maths.partial(head_of, c_el)
        written = _local_factor(graph, parent, child)
        values = None
        if written is not None:
            values = [written, maths.one() if child == of else upstream]
        step = maths.accumulate(head, [local, upstream], values)
        out.append({"edge": edge_id(graph, parent, child), "child": child, "parent": parent,
                    "text": step["unicode"], "mathml": step["mathml"]})
    return out


def _local_factor(graph: Graph, parent: str, child: str) -> maths.Maths | None:
    try:
        return maths.factor(local_partial(graph, child, parent), graph.order)
    except DerivationError:
        return None


def evaluate_info(graph: Graph, values: Mapping[str, Any]) -> dict[str, Any]:
    """Forward values and adjoints of every node (parameter adjoints: batch means)."""
    given = leaf_values(graph, values)
    result = compile_graph(graph, graph.cost)(given)  # one run: values and adjoints
    return {"values": {k: plain(v) for k, v in result.values.items()},
            "adjoints": {k: plain(v) for k, v in result.gradients.items()},
            "cost": graph.cost, "batch": batch_size(graph, given)}


def evaluate_text(text: str, params: str | None, of: str | None,
                  values: Mapping[str, Any]) -> dict[str, Any]:
    return evaluate_info(build(text, params, of), values)


def derive_text(text: str, params: str | None, of: str | None, wrt: str, expand: bool,
                values: Mapping[str, Any] | None) -> dict[str, Any]:
    graph = build(text, params, of)
    return derivation_info(derive(graph, of or None, wrt), expand, values)


def derivation_info(d: Derivation, expand: bool = False,
                    values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The Derivation object of the contract."""
    forms = maths.derivation_forms(d)
    out: dict[str, Any] = {
        "of": d.of, "wrt": d.wrt, "head": forms["head"],
        "paths": [list(p) for p in d.paths],
        "chain": forms["chain"], "product": forms["product"],
        "factors": [[_factor(d.graph, f) for f in fs] for fs in d.factors],
        "cached": {**forms["cached"], "reuses": list(d.reuses)},
        "matrix": _matrix(d),
        "text": str(d),
        "value": _value(d, values),
    }
    if expand:
        out["expanded"] = maths.expanded(d)
    return out


def _factor(graph: Graph, f: Factor) -> dict[str, Any]:
    parent_to = f.via or f.child
    return {"edge": edge_id(graph, f.parent, parent_to),
            "symbol": maths.partial(f.child_el or f.child, f.parent_el or f.parent),
            "expr": maths.expr(f.expr, graph.order)}


def _matrix(d: Derivation) -> dict[str, str] | None:
    if not d.graph.is_tensor:
        return None
    try:
        return {"unicode": d.matrix_unicode()}
    except DerivationError:
        return None


def _value(d: Derivation, values: Mapping[str, Any] | None) -> Any:
    if not values:
        return None
    given = leaf_values(d.graph, values)
    if any(leaf not in given for leaf in d.graph.leaves):
        return None
    try:
        return plain(d.value(given))
    except GradgraphError:
        return None


def accept(text: str, params: str | None, of: str | None) -> bool:
    """Build, compile and run the graph once (in the child): the test a text must pass
    before the server process builds it for itself."""
    build_compiled(text, params, of)
    return True


def build_compiled(text: str, params: str | None, of: str | None) -> Graph:
    """The graph with its numeric program compiled (by one run at the default values)."""
    graph = build(text, params, of)
    graph.gradients(leaf_values(graph, defaults(graph)))
    return graph
