"""Diagrams of a graph: the op graph with partials on its edges, or neurons in layers.

>>> from gradgraph import examples
>>> r = render(examples.chain(1), wrt="w^(L)", values=examples.SLIDES_VALUES)
>>> r.source.startswith("digraph gradgraph {")
True

``r.save("chain.svg")`` (or .png, .pdf, .dot) writes the picture through Graphviz
``dot``; in Jupyter ``r`` displays itself. :func:`steps` draws the backward pass one
edge at a time. Graphs with layers are drawn in index form (zⱼ = Σₖ Wⱼₖ·aₖ + bⱼ, values
as small matrices), and their network view draws the Dense layers unit by unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import RenderError
from ..graph import Graph
from .collapse import NO_LAYER_TAGS, collapsed_dot, collapsed_size, has_layer_tags
from .dense import dense_dot, dense_size, detect_dense
from .labels import SHOW_ALL
from .network import detect_network, network_dot
from .opgraph import op_graph_dot
from .output import (
    DEFAULT_TIMEOUT,
    FORMATS,
    Oversize,
    Rendering,
    find_dot,
    run_dot,
    write_atomic,
)
from .scene import build_scene
from .steps import backward_edges, step_dots
from .views import ViewOptions, ViewOversize, plan_view, view_dot

# Chosen from benchmarks/render_scaling.py (one CPU core, dot 2.43). dot's layout time
# is driven by edges and crossings: at 400 edges the worst shape measured (a dense random
# graph, 3 edges a node) takes ~1.4 s, a random one 0.3 s, the slides' chain 0.1 s; past
# it dense graphs grow steeply (5 s at 578 edges, 53 s at 1478, >60 s at 2978). A 400-node
# diagram is past reading anyway, so the user is sent to --collapse instead of waiting.
# Only the layout is capped: the DOT text of a large graph takes seconds, not minutes.
# DEFAULT_TIMEOUT (30 s) stays as the safety net for slower machines.
MAX_DRAWN_NODES = 400
MAX_DRAWN_EDGES = 400
MAX_STEP_FRAMES = 200
VIEWS = ("graph", "network")

__all__ = [
    "DEFAULT_TIMEOUT",
    "FORMATS",
    "MAX_DRAWN_EDGES",
    "MAX_DRAWN_NODES",
    "SHOW_ALL",
    "Oversize",
    "Rendering",
    "ViewOptions",
    "check_size",
    "find_dot",
    "render",
    "run_dot",
    "steps",
    "write_atomic",
]


def render(graph: Graph, wrt: str | None = None, of: str | None = None,
           values: Mapping[str, Any] | None = None,
           show: str | Iterable[str] | None = SHOW_ALL, view: str = "graph",
           collapse: bool = False, *, rankdir: str = "LR",
           timeout: float = DEFAULT_TIMEOUT, path_only: bool = False,
           around: str | None = None, hops: int | None = None, repeat: bool = False,
           wrap: int | None = None, sums: bool | None = None) -> Rendering:
    """Draw ``graph``.

    Parameters
    ----------
    wrt : highlight the chain for ∂(of)/∂(wrt) and write the derivation as the caption.
    of : the output (default: the graph's cost).
    values : leaf values (``{"w": 2, "x": 0.48, ...}``), one for every leaf and only for
        leaves; nodes then show their forward value and adjoint, edges the number of
        their local partial.
    show : any of ``names, defs, values, grads, partials`` (a list or a comma string).
    view : ``"graph"`` (the op graph) or ``"network"`` (neurons in layers; for a layer
        graph, its Dense layers unit by unit, wide ones cut to their first units).
    collapse : op graph only: one box per layer tag (``a^(L-1)`` is in layer L-1);
        long chains of layers wrap into rows.
    rankdir : ``LR`` (default) or ``BT``/``TB``/``RL``: the direction values flow.
    timeout : seconds ``dot`` may run when the picture is made.
    path_only, around, hops, repeat, wrap, sums : views of a big graph (op graph only,
        see :mod:`.views`): only the nodes on paths from ``wrt`` to the output; only
        those within ``hops`` (default 2) edges of ``around``; repeated layers or units
        folded into one "× N" box; the drawn nodes wrapped into rows of at most
        ``wrap``; sums of many terms drawn as "Σ (N terms)" (``sums=None``, the
        default, does so wherever a sum has 8 or more terms; ``False`` never).

    A picture past :data:`MAX_DRAWN_NODES` / :data:`MAX_DRAWN_EDGES` still has its DOT
    text, but ``dot`` is not run on it: ``save``/``pipe`` to svg, png or pdf raise
    :class:`RenderError` suggesting ``collapse`` (see ``Rendering.oversize``).
    Raises :class:`RenderError` for a graph that is not a layered network
    (``view="network"``), ``collapse`` without layer tags or with the network view,
    or an unknown option.
    """
    if view not in VIEWS:
        raise RenderError(f"unknown view '{view}'; choose graph or network")
    opts = ViewOptions(path_only, around, hops, repeat, wrap, sums)
    if _uses_views(graph, opts, view, collapse):
        plan = plan_view(graph, opts, wrt, of)
        scene = build_scene(graph, wrt, of, values, show, rankdir)
        return Rendering(view_dot(scene, plan), timeout, view_oversize(*plan.size))
    if collapse and view == "network":
        raise RenderError("collapse draws the op graph one box per layer; it does not "
                          "apply to the network view")
    if collapse and not has_layer_tags(graph):
        raise RenderError(NO_LAYER_TAGS)
    if view == "network" and graph.is_tensor:  # Dense layers, drawn unit by unit
        dense = detect_dense(graph)
        scene = build_scene(graph, wrt, of, values, show, rankdir)
        return _rendering(dense_dot(scene, dense), timeout, graph, dense_size(graph, dense),
                          "network")
    if view == "network":
        net = detect_network(graph)
        scene = build_scene(graph, wrt, of, values, show, rankdir)
        return _rendering(network_dot(scene, net), timeout, graph, net.size, "network")
    scene = build_scene(graph, wrt, of, values, show, rankdir)
    if collapse:
        return _rendering(collapsed_dot(scene), timeout, graph, collapsed_size(graph),
                          "collapsed graph")
    return _rendering(op_graph_dot(scene), timeout, graph, graph_size(graph), "graph")


def _uses_views(graph: Graph, opts: ViewOptions, view: str, collapse: bool) -> bool:
    """Whether the picture goes through :mod:`.views`: a view was asked for, or a plain
    scalar op graph has a sum wide enough to draw as a Σ node."""
    if opts.any:
        if view != "graph" or collapse:
            raise RenderError("path_only, around, hops, repeat, wrap and sums are views of "
                              "the op graph; they do not apply to the network view or "
                              "collapse")
        return True
    if view != "graph" or collapse or opts.sums is False or graph.is_tensor:
        return False
    from .views import wide_sums
    return bool(wide_sums(graph, (n.name for n in graph.nodes if n.expr is not None)))


def view_oversize(nodes: int, edges: int) -> Oversize | None:
    """Why a view's picture is refused at layout (the same caps), or ``None``."""
    if nodes <= MAX_DRAWN_NODES and edges <= MAX_DRAWN_EDGES:
        return None
    return ViewOversize("view", nodes, edges, MAX_DRAWN_NODES, MAX_DRAWN_EDGES, False)


def graph_size(graph: Graph) -> tuple[int, int]:
    """(nodes, edges) of the op-graph view, counted without drawing anything."""
    return len(graph.nodes), sum(len(n.parents) for n in graph.nodes)


def check_size(graph: Graph, view: str = "graph", collapse: bool = False,
               views: ViewOptions | None = None, wrt: str | None = None,
               of: str | None = None) -> Oversize | None:
    """Why a picture of ``graph`` would be refused at layout, known before any drawing.

    :func:`render` builds the DOT text (labels, partials, captions) first, which takes
    seconds on a graph of thousands of nodes; a caller that wants a picture, not the
    text, asks here first and refuses in well under a second. ``views`` (with ``wrt``
    and ``of``, which the path-only view needs) sizes a view instead.
    """
    if views is not None and _uses_views(graph, views, view, collapse):
        return view_oversize(*plan_view(graph, views, wrt, of).size)
    if view == "network" and graph.is_tensor:
        return oversize(graph, *dense_size(graph, detect_dense(graph)), "network")
    if view == "network":
        return oversize(graph, *detect_network(graph).size, "network")
    if collapse:
        if not has_layer_tags(graph):
            raise RenderError(NO_LAYER_TAGS)
        return oversize(graph, *collapsed_size(graph), "collapsed graph")
    return oversize(graph, *graph_size(graph), "graph")


def steps(graph: Graph, of: str | None = None, values: Mapping[str, Any] | None = None,
          show: str | Iterable[str] | None = SHOW_ALL, *, rankdir: str = "LR",
          timeout: float = DEFAULT_TIMEOUT) -> list[Rendering]:
    """The backward pass one edge at a time: one frame per edge, in reverse
    topological order, the active edge lit and the adjoint it produces shown.
    """
    # Every frame is a whole-graph layout, so the caps hold for the DOT text too.
    nodes, edges = graph_size(graph)
    if nodes > MAX_DRAWN_NODES or edges > MAX_DRAWN_EDGES:
        raise RenderError(f"graph too large to step through ({nodes} nodes, {edges} edges; "
                          f"the caps are {MAX_DRAWN_NODES} and {MAX_DRAWN_EDGES}): every "
                          "frame draws the whole graph")
    count = len(backward_edges(graph, graph.resolve(of or graph.cost)))
    if count > MAX_STEP_FRAMES:
        raise RenderError(f"the backward pass has {count} edges; the stepper draws at most "
                          f"{MAX_STEP_FRAMES} frames (one per edge)")
    scene = build_scene(graph, None, of, values, show, rankdir)
    return [Rendering(source, timeout) for source in step_dots(scene)]


def oversize(graph: Graph, nodes: int, edges: int, what: str) -> Oversize | None:
    """Why ``dot`` should not lay out a picture of this size, or ``None`` when it may."""
    if nodes <= MAX_DRAWN_NODES and edges <= MAX_DRAWN_EDGES:
        return None
    return Oversize(what, nodes, edges, MAX_DRAWN_NODES, MAX_DRAWN_EDGES,
                    has_layer_tags(graph))


def _rendering(source: str, timeout: float, graph: Graph, size: tuple[int, int],
               what: str) -> Rendering:
    return Rendering(source, timeout, oversize(graph, *size, what))
