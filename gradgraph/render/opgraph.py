"""The op-graph view: a :class:`~gradgraph.graph.Graph` as DOT text.

Every node is an HTML-like table in the manner of micrograd's ``{ label | data | grad }``
records (name with its layer superscript, definition, forward value, adjoint); every edge
carries its local partial ∂child/∂parent as the slides write it, and its number when
values are given. ``wrt`` lights up the edges of the chain for ∂C/∂wrt and dims the rest;
the derivation is the caption. Ids are the graph's ``n0…nk``, so the same input gives
byte-identical DOT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..graph import Graph, Node
from ..notation import partial_unicode, unicode_name
from .arrays import element_value, indexed_text, one_example, shape_text, value_html
from .caption import derivation_rows
from .labels import (
    DIM,
    DIM_TEXT,
    DONE,
    HIGHLIGHT,
    INK,
    MUTED,
    ROLE_STYLE,
    attrs,
    caption_text,
    esc,
    fmt_number,
    header,
    layer_tag,
    legend,
    tag_label,
)
from .scene import Scene, edges_of

# ∂z/∂w for two names: a pure function of its strings, asked for on every edge and node
# of every frame the stepper draws, so each pair is spelt once.
_partial_text = lru_cache(maxsize=1 << 16)(partial_unicode)

# --- nodes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeLook:
    """How one node is drawn in one frame."""

    emphasis: str = "normal"  # normal | on | dim
    grad: Any = None  # the adjoint to print (None: no row)
    grad_pending: bool = False  # stepper: not reached yet, print "?"


def node_table(scene: Scene, node: Node, look: NodeLook) -> str:
    """The HTML-like table of one node: name / definition / value / adjoint.

    In a layer graph the name carries the shape (W⁽ᴸ⁾ ∈ ℝ²ˣ²), the definition is in
    index form (zⱼ = Σₖ Wⱼₖ·aₖ + bⱼ) and values are small vectors and matrices.
    """
    fill, line, _ = ROLE_STYLE[node.role]
    dim = look.emphasis == "dim"
    border, width = (HIGHLIGHT, 2) if look.emphasis == "on" else (DIM if dim else line, 1)
    text = DIM_TEXT if dim else INK
    tensor = scene.graph.is_tensor
    rows: list[str] = []
    show = scene.show
    if "names" in show:
        shape = esc(f" ∈ {shape_text(node.shape)}") if node.shape else ""
        rows.append(f'<TD COLSPAN="2" BGCOLOR="{fill}"><FONT POINT-SIZE="14" COLOR="{text}">'
                    f"<B>{esc(node.unicode)}</B>{shape}</FONT></TD>")
    body = _definition(scene, node, "names" in show) if "defs" in show else None
    if body is not None:
        rows.append(f'<TD COLSPAN="2" BGCOLOR="{"white" if rows else fill}">'
                    f'<FONT COLOR="{text}">{esc(body)}</FONT></TD>')
    if not rows:  # neither name nor definition: at least say which node this is
        rows.append(f'<TD COLSPAN="2" BGCOLOR="{fill}"><FONT COLOR="{text}">'
                    f"{esc(node.unicode)}</FONT></TD>")
    if "values" in show and scene.values is not None:
        value = scene.values[node.name]
        rows.append(_tensor_row("value", one_example(scene.graph, node.name, value), dim)
                    if tensor else _number_row("value", fmt_number(value), dim))
    if "grads" in show and (look.grad is not None or look.grad_pending):
        label = _partial_text(scene.of, node.name)
        if look.grad_pending:
            rows.append(_number_row(label, "?", dim))
        elif tensor:
            rows.append(_tensor_row(label, one_example(scene.graph, node.name, look.grad), dim))
        else:
            rows.append(_number_row(label, fmt_number(look.grad), dim))
    body = "<HR/>".join(f"<TR>{r}</TR>" for r in rows)
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" '
            f'COLOR="{border}" BGCOLOR="white">{body}</TABLE>>')


def _definition(scene: Scene, node: Node, named: bool) -> str | None:
    """``= w·x + b`` under the name; a layer's in index form, ``zⱼ = Σₖ Wⱼₖ·aₖ + bⱼ``."""
    if not scene.graph.is_tensor:
        if node.expr is None:
            return None
        rhs = scene.graph.unicode(node.expr)
        return f"= {rhs}" if named else f"{node.unicode} = {rhs}"
    if node.expr is None:  # a tensor leaf: name its entries, whose letters the edges use
        return f"entries {unicode_name(node.element)}" if node.shape else None
    text = node.definition(scene.graph.order)
    head = f"{node.unicode} = "
    if named and text.startswith(head):  # a scalar: the name is already above
        return "= " + text[len(head):]
    return text


def _number_row(label: str, number: str, dim: bool) -> str:
    colour = DIM_TEXT if dim else MUTED
    ink = DIM_TEXT if dim else INK
    return (f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{colour}">{esc(label)}</FONT></TD>'
            f'<TD ALIGN="RIGHT"><FONT COLOR="{ink}">{esc(number)}</FONT></TD>')


def _tensor_row(label: str, value: np.ndarray, dim: bool) -> str:
    colour = DIM_TEXT if dim else MUTED
    return (f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{colour}">{esc(label)}</FONT></TD>'
            f'<TD ALIGN="RIGHT">{value_html(value, DIM_TEXT if dim else INK)}</TD>')


def node_look(scene: Scene, node: Node) -> NodeLook:
    grad = scene.grads.get(node.name) if scene.grads is not None else None
    if not scene.highlight:
        return NodeLook("normal", grad)
    return NodeLook("on" if node.name in scene.path_nodes else "dim", grad)


# --- edges -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeLook:
    """How one edge is drawn in one frame."""

    state: str = "normal"  # normal | on | dim | active | done


EDGE_STYLE = {  # state -> (line colour, text colour, pen width, bold label)
    "normal": (MUTED, INK, 1.2, False),
    "on": (HIGHLIGHT, HIGHLIGHT, 2.8, True),
    "active": (HIGHLIGHT, HIGHLIGHT, 3.2, True),
    "done": (DONE, DONE, 1.8, False),
    "dim": (DIM, DIM_TEXT, 1.0, False),
}


def edge_label(scene: Scene, parent: str, child: str, bold: bool) -> str | None:
    """``∂z/∂w = a⁽ᴸ⁻¹⁾`` and, with values, ``= 0.48`` under it."""
    if "partials" not in scene.show:
        return None
    expr = scene.partial(parent, child)
    numbers = "values" in scene.show and not expr.is_Number  # "∂z/∂b = 1 = 1" says nothing
    g = scene.graph
    if g.is_tensor:  # between elements, ∂zⱼ/∂Wⱼₖ = aₖ, and the numbers for every j, k
        c, p = g[child], g[parent]
        lines = [f"{_partial_text(c.element, p.element)} = {g.unicode(expr)}"]
        found = element_value(g, expr, scene.values, c.letters + p.letters) \
            if numbers and scene.values is not None else None
        if found is not None:
            lines.append(f"= {indexed_text(*found)}")
    else:
        lines = [f"{_partial_text(child, parent)} = {g.unicode(expr)}"]
        value = scene.edge_value(parent, child) if numbers else None
        if value is not None:
            lines.append(f"= {fmt_number(value)}")
    body = "<BR/>".join(esc(line) for line in lines)
    return f"<<B>{body}</B>>" if bold else f"<{body}>"


def edge_line(scene: Scene, parent: str, child: str, look: EdgeLook) -> str:
    colour, text, width, bold = EDGE_STYLE[look.state]
    g = scene.graph
    src, dst = g[parent].id, g[child].id
    return f"  {src} -> {dst}" + attrs(
        id=f"e_{src}_{dst}", class_=look.state, color=colour, fontcolor=text,
        penwidth=width, label=edge_label(scene, parent, child, bold),
    )


def edge_look(scene: Scene, parent: str, child: str) -> EdgeLook:
    if not scene.highlight:
        return EdgeLook("normal")
    return EdgeLook("on" if (parent, child) in scene.path_edges else "dim")



def legend_html(scene: Scene, extra: Iterable[tuple[str, str]] = ()) -> str:
    roles = [r for r in ROLE_STYLE if any(n.role == r for n in scene.graph.nodes)]
    path = []
    if scene.derivation is not None:
        path = [(HIGHLIGHT, f"chain for {partial_unicode(scene.of, scene.derivation.wrt)}")]
    return legend(roles, [*path, *extra])



# --- the whole op graph ----------------------------------------------------------------


def op_graph_dot(scene: Scene) -> str:
    """DOT text of the op-graph view (one box per layer: :mod:`.collapse`)."""
    caption = caption_text(derivation_rows(scene), legend_html(scene))
    looks = {n.name: node_look(scene, n) for n in scene.graph.nodes}
    edges = [edge_line(scene, p, c, edge_look(scene, p, c)) for p, c in edges_of(scene.graph)]
    return assemble(scene, caption, looks, edges)


def assemble(scene: Scene, caption: str, looks: Mapping[str, NodeLook],
             edge_lines: list[str], tables: dict[tuple, str] | None = None) -> str:
    """Header, nodes (inside their layer clusters), edges, closing brace.

    ``tables`` keeps node boxes between the frames of one scene (the stepper's): a node
    whose look repeats is not laid out again.
    """
    lines = header("gradgraph", scene.rankdir, caption)
    groups = layer_groups(scene.graph)
    use_clusters = len([t for t in groups if t]) >= 2
    for i, (tag, members) in enumerate(groups.items()):
        indent = "  "
        if tag and use_clusters:
            lines.append(f"  subgraph cluster_{i} {{")
            lines.append(f"    graph{attrs(label=f'<{esc(tag_label(tag))}>', style='rounded,dashed', color='#B0B0B0', fontcolor=MUTED, fontsize=11, labeljust='l', labelloc='t')}")  # noqa: E501
            indent = "    "
        for node in members:
            look = looks[node.name]
            lines.append(f"{indent}{node.id}" + attrs(
                id=node.id, class_=f"{node.role} {look.emphasis}",
                label=_table(scene, node, look, tables)))
        if tag and use_clusters:
            lines.append("  }")
    lines.extend(edge_lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _table(scene: Scene, node: Node, look: NodeLook, tables: dict[tuple, str] | None
           ) -> str:
    """:func:`node_table`, kept in ``tables`` when the look is hashable (a scalar
    adjoint or none; an array is laid out each time)."""
    grad = look.grad
    if tables is None or not (grad is None or isinstance(grad, int | float)):
        return node_table(scene, node, look)
    key = (node.name, look.emphasis, grad, look.grad_pending)
    table = tables.get(key)
    if table is None:
        table = tables[key] = node_table(scene, node, look)
    return table


def layer_groups(graph: Graph) -> dict[str, list[Node]]:
    """Nodes by layer tag, in order of first appearance ('' holds the untagged)."""
    groups: dict[str, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(layer_tag(node.name), []).append(node)
    return groups

