"""Views that bring a huge graph down to a picture a student can read.

Each view is a transform from the graph to a smaller drawn scene, applied in this order:

* **selection** — ``path_only``: only the nodes on paths from ``wrt`` to the output;
  ``around``: only the nodes within ``hops`` edges (either direction) of one node;
* **repeat** — runs of structurally identical blocks (a layer, or a node with the leaves
  only it reads) drawn as the first block, one "× N" box for the N in between, the last;
  a *chain* run (each block reads the one before) and a *parallel* one (same depth, same
  kinds of neighbours: the units of a wide layer) are both found (:mod:`.repeats`);
* **Σ nodes** — a sum of :data:`WIDE_SUM` or more terms shows "Σ (40 terms)" instead of
  its formula, fed by its terms;
* **wrap** — the drawn units, in the order values flow, packed into rows of at most
  ``wrap`` (a layer or block is not cut unless it alone is longer than a row).

Drawn nodes keep the graph's ids (``n17``), so pages that hook into the SVG still find
them; a "× N" box is ``rep_k``. Everything is decided by :func:`plan_view` without a
scene (no values, no derivation), so the size of a view is known before any drawing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import sympy as sp

from ..errors import RenderError
from ..graph import Graph, Node
from ..notation import unicode_name
from .caption import derivation_rows
from .collapse import _WRAPPED_RANKDIR, merged_edge, wrap_lines
from .labels import DIM_TEXT, HIGHLIGHT, INK, MUTED, attrs, caption_text, esc, header, layer_tag
from .opgraph import NodeLook, legend_html, node_look, node_table
from .output import Oversize
from .repeats import MIN_REPEAT, WIDE_SUM, blocks_of, find_runs
from .scene import Scene, chain_between

MIN_WRAP = 2


@dataclass(frozen=True)
class ViewOptions:
    """The view transforms asked for (all off: the whole op graph)."""

    path_only: bool = False
    around: str | None = None
    hops: int | None = None
    repeat: bool = False
    wrap: int | None = None
    sums: bool | None = None  # None: Σ nodes wherever a sum is wide; False: never

    @property
    def any(self) -> bool:
        return (self.path_only or self.around is not None or self.hops is not None
                or self.repeat or self.wrap is not None or bool(self.sums))


@dataclass(frozen=True)
class Rep:
    """One "× N" box: the blocks folded between the first and the last of a run."""

    id: str
    count: int
    kind: str  # "chain" or "parallel"
    members: tuple[str, ...]  # every node name it stands for
    first: str  # the lead node of the first and last folded block, for the label
    last: str


@dataclass
class Plan:
    """What a view draws: units (node names or rep ids) and edges between them."""

    graph: Graph
    unit: dict[str, str]  # kept node name -> unit id (its node id, or a rep id)
    order: list[str]  # unit ids in the order values flow
    reps: dict[str, Rep] = field(default_factory=dict)
    sums: frozenset[str] = frozenset()  # node names drawn as Σ nodes
    edges: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    rows: list[list[str]] = field(default_factory=list)
    centre: str | None = None  # the node a neighbourhood view is drawn around

    @property
    def size(self) -> tuple[int, int]:
        return len(self.order), len(self.edges)


# --- selection -----------------------------------------------------------------------


def select(graph: Graph, opts: ViewOptions, wrt: str | None, of: str | None) -> list[str]:
    """The node names a view keeps, in graph order."""
    keep: set[str] | None = None
    if opts.path_only:
        if wrt is None:
            raise RenderError("the path-only view needs wrt (the parameter whose paths "
                              "to the cost are drawn)")
        target = graph.resolve(of or graph.cost)
        keep = set(chain_between(graph, graph.resolve(wrt), target)[0])
        if len(keep) <= 1:
            raise RenderError(f"no path from {wrt} to {target}: the path-only view "
                              "would be empty")
    if opts.around is not None:
        near = neighbourhood(graph, opts.around, 2 if opts.hops is None else opts.hops)
        keep = near if keep is None else keep & near
    if keep is None:
        return [n.name for n in graph.nodes]
    return [n.name for n in graph.nodes if n.name in keep]


def neighbourhood(graph: Graph, name: str, hops: int) -> set[str]:
    """Nodes at most ``hops`` edges from ``name``, following edges either way."""
    if hops < 0:
        raise RenderError(f"hops must be 0 or more, not {hops}")
    start = graph.resolve(name)
    seen, frontier = {start}, [start]
    for _ in range(hops):
        nxt = []
        for n in frontier:
            for m in (*graph[n].parents, *graph.children(n)):
                if m not in seen:
                    seen.add(m)
                    nxt.append(m)
        frontier = nxt
    return seen


def wide_sums(graph: Graph, names: Iterable[str]) -> frozenset[str]:
    """Scalar nodes defined as a sum of at least :data:`WIDE_SUM` terms."""
    if graph.is_tensor:  # a layer is already drawn in index form, Σₖ
        return frozenset()
    return frozenset(n for n in names if isinstance(graph[n].expr, sp.Add)
                     and len(graph[n].expr.args) >= WIDE_SUM)


# --- the plan ------------------------------------------------------------------------


def plan_view(graph: Graph, opts: ViewOptions, wrt: str | None = None,
              of: str | None = None) -> Plan:
    """Which units and edges a view draws; raises :class:`RenderError` for a view that
    does not apply to this graph."""
    names = select(graph, opts, wrt, of)
    unit = {n: graph[n].id for n in names}
    plan = Plan(graph, unit, [])
    if opts.around is not None:
        plan.centre = graph.resolve(opts.around)
    if opts.repeat:
        _fold(plan, names)
    plan.sums = frozenset() if opts.sums is False else wide_sums(
        graph, [n for n in names if unit[n] == graph[n].id])
    if opts.sums and not plan.sums:
        raise RenderError(f"no drawn node is a sum of {WIDE_SUM} or more terms to draw "
                          "as a Σ node")
    first = {}
    for i, n in enumerate(names):
        first.setdefault(unit[n], i)
    plan.order = sorted(first, key=first.__getitem__)
    for n in names:
        for p in graph[n].parents:
            if p in unit and unit[p] != unit[n]:
                plan.edges.setdefault((unit[p], unit[n]), []).append((p, n))
    if opts.wrap is not None:
        plan.rows = _rows(_unit_blocks(plan, names), opts.wrap)
    return plan


def _unit_blocks(plan: Plan, names: list[str]) -> list[list[str]]:
    """The drawn units grouped as :func:`blocks_of` groups their nodes (a "× N" box on
    its own), in drawing order: a row is cut between blocks, so a layer stays whole."""
    block_of: dict[str, int] = {}
    for i, block in enumerate(blocks_of(plan.graph, names)):
        for n in block:
            block_of.setdefault(plan.unit[n], i)
    groups: dict[object, list[str]] = {}
    for uid in plan.order:
        groups.setdefault(uid if uid in plan.reps else block_of[uid], []).append(uid)
    return list(groups.values())


def _fold(plan: Plan, names: list[str]) -> None:
    graph = plan.graph
    blocks = blocks_of(graph, names)
    runs = find_runs(graph, blocks)
    if not runs:
        raise RenderError(f"no repeated structure to fold: no {MIN_REPEAT} or more "
                          "identical layers or nodes in a row")
    for k, (kind, run) in enumerate(runs):
        middle = [n for i in run[1:-1] for n in blocks[i]]
        rid = f"rep_{k}"
        lead = [blocks[i][-1] for i in run[1:-1]]  # a block's last member is its output
        plan.reps[rid] = Rep(rid, len(run) - 2, kind, tuple(middle), lead[0], lead[-1])
        for n in middle:
            plan.unit[n] = rid


def _rows(blocks: list[list[str]], per_row: int) -> list[list[str]]:
    """Blocks of units, in flow order, packed into rows of at most ``per_row`` units;
    a block is cut only when it alone is longer than a row."""
    if per_row < MIN_WRAP:
        raise RenderError(f"wrap needs at least {MIN_WRAP} nodes a row, not {per_row}")
    rows: list[list[str]] = [[]]
    for block in blocks:
        if rows[-1] and len(rows[-1]) + len(block) > per_row:
            rows.append([])
        for uid in block:
            if len(rows[-1]) == per_row:
                rows.append([])
            rows[-1].append(uid)
    return rows if len(rows) > 1 else []


# --- drawing -------------------------------------------------------------------------


class ViewOversize(Oversize):
    """A view still past the caps: say which view options bring it further down."""

    def message(self, cli: bool = False) -> str:
        hint = ("fold repeated layers (--repeat), keep fewer nodes (--path-only, "
                "--around NODE --hops K)" if cli else
                "fold repeated layers (repeat=True), keep fewer nodes (path_only=True, "
                "around=NODE, hops=K)")
        text = "--format dot" if cli else "format dot, or .source"
        return (f"view too large to lay out ({self.nodes} nodes, {self.edges} edges; the "
                f"caps are {self.max_nodes} and {self.max_edges}): {hint}, or take the "
                f"DOT text ({text})")


def view_dot(scene: Scene, plan: Plan) -> str:
    """DOT text of a planned view, drawn with the op graph's own boxes and edges."""
    rankdir = _WRAPPED_RANKDIR[scene.rankdir] if plan.rows else scene.rankdir
    extra = [(MUTED, "× N: N more blocks like the ones beside it")] if plan.reps else []
    centre = plan.centre if plan.centre is not None and not scene.highlight else None
    if centre is not None:
        extra.insert(0, (HIGHLIGHT, f"around {graph_name(scene, centre)}"))
    lines = header("gradgraph", rankdir,
                   caption_text(derivation_rows(scene), legend_html(scene, extra)))
    graph = scene.graph
    by_id = {graph[n].id: graph[n] for n in plan.unit if plan.unit[n] == graph[n].id}
    for uid in plan.order:
        if uid in plan.reps:
            lines.append(f"  {uid}" + attrs(id=uid, class_="repeat",
                                            label=rep_box(scene, plan.reps[uid])))
            continue
        node = by_id[uid]
        look = node_look(scene, node)
        if node.name == centre:  # nothing else is lit: frame the node the view is about
            look = replace(look, emphasis="on")
        label = sum_table(scene, node, look) if node.name in plan.sums else \
            node_table(scene, node, look)
        lines.append(f"  {uid}" + attrs(id=uid, class_=f"{node.role} {look.emphasis}",
                                        label=label))
    for (src, dst), under in plan.edges.items():
        lines.append(merged_edge(scene, src, dst, under))
    if plan.rows:
        # Rows read like text, each starting at the left. A boustrophedon snake (every
        # other row right to left) was tried: dot then misaligns the rows, and chain(12)
        # came out 4,258 px wide against 2,678.
        lines += wrap_lines(plan.rows)
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_name(scene: Scene, name: str) -> str:
    return scene.graph[name].unicode


def sum_table(scene: Scene, node: Node, look: NodeLook) -> str:
    """The node's box with "= Σ (40 terms)" where its formula would be."""
    table = node_table(replace(scene, show=scene.show - {"defs"}), node, look)
    if "defs" not in scene.show:
        return table
    terms = len(node.expr.args)
    ink = DIM_TEXT if look.emphasis == "dim" else INK
    row = (f'<HR/><TR><TD COLSPAN="2" BGCOLOR="white"><FONT COLOR="{ink}">'
           f'<FONT POINT-SIZE="14">{esc("= Σ")}</FONT>{esc(f" ({terms} terms)")}'
           f'</FONT></TD></TR>')
    head, sep, rest = table.partition("</TR>")  # after the name row
    return head + sep + row + rest


def rep_box(scene: Scene, rep: Rep) -> str:
    """The "× N" box: the count, and the first and last block it stands for."""
    on = scene.highlight and any(n in scene.path_nodes for n in rep.members)
    border = HIGHLIGHT if on else MUTED
    what = "layers" if layer_tag(rep.first) else "blocks"
    span = f"{unicode_name(rep.first)} … {unicode_name(rep.last)}"
    return (f'<<TABLE BORDER="{2 if on else 1}" STYLE="rounded,dashed" CELLBORDER="0" '
            f'CELLPADDING="6" COLOR="{border}" BGCOLOR="#F7F7F7">'
            f'<TR><TD><FONT POINT-SIZE="20"><B>{esc(f"× {rep.count:,}")}</B></FONT></TD></TR>'
            f'<TR><TD><FONT COLOR="{MUTED}">{esc(f"{rep.count:,} more {what} like these")}'
            f'</FONT></TD></TR><TR><TD>{esc(span)}</TD></TR></TABLE>>')
