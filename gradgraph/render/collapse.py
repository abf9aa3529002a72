"""Collapsed layers: one box per layer tag, edges between boxes merged and counted.

A long chain of layers wraps like text: more than :data:`WRAP_AFTER` boxes are cut into
lines (rows when values flow left to right), so ``chain(20)`` is a page, not a strip
fourteen thousand pixels wide.
"""

from __future__ import annotations

import math

from ..graph import Graph, Node
from .arrays import short_value
from .caption import derivation_rows
from .labels import (
    HIGHLIGHT,
    MUTED,
    ROLE_STYLE,
    attrs,
    caption_text,
    esc,
    header,
    tag_label,
)
from .opgraph import EDGE_STYLE, edge_label, layer_groups, legend_html, node_look, node_table
from .scene import Scene, edges_of

MAX_LISTED = 8  # members written inside one collapsed layer box
WRAP_AFTER = 6  # layer boxes in one line before the picture wraps
NO_LAYER_TAGS = ("the graph has no layer tags to collapse by (a tag is the (L-1) in "
                 "a^(L-1), or the (1) in W^(1))")
# The wrapped picture turns the flow direction: lines follow each other along it, and
# the boxes inside a line are laid out across it (left to right, or top to bottom).
_WRAPPED_RANKDIR = {"LR": "TB", "RL": "TB", "TB": "LR", "BT": "LR"}


def has_layer_tags(graph: Graph) -> bool:
    """True when some node carries a layer tag, so a collapsed view exists."""
    return any(layer_groups(graph))


def collapsed_units(graph: Graph) -> dict[str, str]:
    """node name -> the id of the box that draws it (``layer_k`` or its own ``nk``)."""
    unit: dict[str, str] = {}
    for i, (tag, members) in enumerate(layer_groups(graph).items()):
        for node in members:
            unit[node.name] = f"layer_{i}" if tag else node.id
    return unit


def collapsed_size(graph: Graph) -> tuple[int, int]:
    """(boxes, edges) the collapsed view draws."""
    unit = collapsed_units(graph)
    pairs = {(unit[p], unit[c]) for p, c in edges_of(graph) if unit[p] != unit[c]}
    return len(set(unit.values())), len(pairs)


def collapsed_dot(scene: Scene) -> str:
    """One box per layer tag; untagged nodes drawn as usual; edges merged and counted."""
    graph = scene.graph
    unit = collapsed_units(graph)
    rows = wrapped_lines(graph, unit)
    rankdir = _WRAPPED_RANKDIR[scene.rankdir] if len(rows) > 1 else scene.rankdir
    lines = header("gradgraph", rankdir,
                   caption_text(derivation_rows(scene), legend_html(scene)))
    for i, (tag, members) in enumerate(layer_groups(graph).items()):
        if tag:
            lines.append(f"  layer_{i}" + attrs(id=f"layer_{i}", class_="layer",
                                                label=layer_box(scene, tag, members)))
        else:
            for node in members:
                look = node_look(scene, node)
                lines.append(f"  {node.id}" + attrs(id=node.id, class_=f"{node.role} "
                                                    f"{look.emphasis}",
                                                    label=node_table(scene, node, look)))
    merged: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for p, c in edges_of(graph):
        if unit[p] != unit[c]:
            merged.setdefault((unit[p], unit[c]), []).append((p, c))
    for (src, dst), under in merged.items():
        lines.append(merged_edge(scene, src, dst, under))
    if len(rows) > 1:
        lines += wrap_lines(rows)
    lines.append("}")
    return "\n".join(lines) + "\n"


def wrapped_lines(graph: Graph, unit: dict[str, str]) -> list[list[str]]:
    """The layer boxes in the order values flow, cut into lines of at most WRAP_AFTER.

    One line (no wrap) for up to WRAP_AFTER boxes; else lines of nearly equal length.
    """
    boxes = sorted({u for u in unit.values() if u.startswith("layer_")},
                   key=_depths(graph, unit).__getitem__)
    if len(boxes) <= WRAP_AFTER:
        return [boxes]
    per_line = math.ceil(len(boxes) / math.ceil(len(boxes) / WRAP_AFTER))
    return [boxes[i:i + per_line] for i in range(0, len(boxes), per_line)]


def wrap_lines(rows: list[list[str]]) -> list[str]:
    """DOT that holds each line of boxes on one rank and starts every line at the
    same place: an invisible, heavy edge from each line's first box to the next's."""
    out = ["  { rank=same; " + "; ".join(row) + " }" for row in rows]
    out += [f"  {a[0]} -> {b[0]}" + attrs(style="invis", weight=20)
            for a, b in zip(rows, rows[1:], strict=False)]
    return out


def _depths(graph: Graph, unit: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Per box: (longest path of boxes leading to it, first member's position).

    Relaxed until nothing changes; bounded by the number of boxes, so a cycle between
    boxes (possible with odd tags) cannot loop forever.
    """
    first: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        first.setdefault(unit[node.name], i)
    depth = dict.fromkeys(first, 0)
    # In edge order, not a set's: with a cycle the result must not vary between runs.
    pairs = list(dict.fromkeys((unit[p], unit[c]) for p, c in edges_of(graph)
                               if unit[p] != unit[c]))
    for _ in range(len(depth)):
        changed = False
        for a, b in pairs:
            if depth[b] < depth[a] + 1:
                depth[b], changed = depth[a] + 1, True
        if not changed:
            break
    return {u: (depth[u], first[u]) for u in depth}


def layer_box(scene: Scene, tag: str, members: list[Node]) -> str:
    """A layer as one table: its name, then its first members (and their values)."""
    on = scene.highlight and any(n.name in scene.path_nodes for n in members)
    border = HIGHLIGHT if on else MUTED
    rows = [f'<TD COLSPAN="2" BGCOLOR="#F2F2F2"><B>'
            f'{esc(tag_label(tag))}</B> <FONT POINT-SIZE="10" COLOR="{MUTED}">'
            f"({len(members)} node{'' if len(members) == 1 else 's'})</FONT></TD>"]
    for node in members[:MAX_LISTED]:
        text = node.definition(scene.graph.order) if "defs" in scene.show else node.unicode
        value = short_value(scene, node.name, scene.values[node.name]) if scene.values is not None \
            and "values" in scene.show else ""
        tint = ROLE_STYLE[node.role][0]  # each member keeps its role's colour
        rows.append(f'<TD ALIGN="LEFT" BGCOLOR="{tint}">{esc(text)}</TD>'
                    f'<TD ALIGN="RIGHT">{esc(value)}</TD>')
    if len(members) > MAX_LISTED:
        rows.append(f'<TD COLSPAN="2" ALIGN="LEFT"><FONT COLOR="{MUTED}">'
                    f"… and {len(members) - MAX_LISTED} more</FONT></TD>")
    body = "".join(f"<TR>{r}</TR>" for r in rows)
    return (f'<<TABLE BORDER="{2 if on else 1}" CELLBORDER="0" CELLSPACING="1" '
            f'CELLPADDING="3" COLOR="{border}" BGCOLOR="white">{body}</TABLE>>')


def merged_edge(scene: Scene, src: str, dst: str, under: list[tuple[str, str]]) -> str:
    """One drawn edge for the edges ``under`` it; a single edge keeps its partial."""
    on = any(e in scene.path_edges for e in under)
    state = ("on" if on else "dim") if scene.highlight else "normal"
    colour, text, width, bold = EDGE_STYLE[state]
    if len(under) == 1:
        label = edge_label(scene, *under[0], bold)
    else:
        label = f"<{esc(f'{len(under)} edges')}>"
    return f"  {src} -> {dst}" + attrs(id=f"e_{src}_{dst}", class_=state, color=colour,
                                        fontcolor=text, penwidth=width, label=label)

