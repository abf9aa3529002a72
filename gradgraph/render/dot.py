"""The op graph as DOT text: the names this module used to hold, from where they live now.

The code is split by what it draws: :mod:`.labels` (escaping, numbers, DOT assembly),
:mod:`.scene` (what a diagram shows), :mod:`.opgraph` (nodes and edges), :mod:`.caption`
(the derivation), :mod:`.collapse` (one box per layer), :mod:`.steps` (the backward
pass frame by frame) and :mod:`.arrays` (tensor values). Imports from here keep working.
"""

from __future__ import annotations

from .caption import MAX_CAPTION_CHARS, MAX_CAPTION_FACTORS, MAX_CAPTION_PATHS, derivation_rows
from .collapse import MAX_LISTED, collapsed_dot, collapsed_size, collapsed_units
from .labels import (
    DIM,
    DIM_TEXT,
    DONE,
    FONT,
    HIGHLIGHT,
    INK,
    MUTED,
    ROLE_STYLE,
    SHOW_ALL,
    attrs,
    caption_text,
    esc,
    fmt_number,
    header,
    layer_tag,
    legend,
    parse_show,
    tag_label,
)
from .opgraph import (
    EdgeLook,
    NodeLook,
    assemble,
    edge_label,
    edge_line,
    edge_look,
    layer_groups,
    legend_html,
    node_look,
    node_table,
)
from .opgraph import op_graph_dot as _full_graph_dot
from .scene import RANKDIRS, Scene, build_scene, chain_between, edges_of, numeric_value, plain
from .steps import backward_edges, step_dots

__all__ = [
    "DIM", "DIM_TEXT", "DONE", "FONT", "HIGHLIGHT", "INK", "MAX_CAPTION_CHARS",
    "MAX_CAPTION_FACTORS", "MAX_CAPTION_PATHS", "MAX_LISTED", "MUTED", "RANKDIRS",
    "ROLE_STYLE", "SHOW_ALL", "EdgeLook", "NodeLook", "Scene", "assemble", "attrs",
    "backward_edges", "build_scene", "caption_text", "chain_between", "collapsed_dot",
    "collapsed_size", "collapsed_units", "derivation_rows", "edge_label", "edge_line",
    "edge_look", "edges_of", "esc", "fmt_number", "header", "layer_groups", "layer_tag",
    "legend", "legend_html", "node_look", "node_table", "numeric_value", "op_graph_dot",
    "parse_show", "plain", "step_dots", "tag_label",
]


def op_graph_dot(scene: Scene, collapse: bool = False) -> str:
    """DOT text of the op-graph view (``collapse``: one box per layer tag)."""
    return collapsed_dot(scene) if collapse else _full_graph_dot(scene)
