"""The op-graph view: a :class:`~gradgraph.graph.Graph` as DOT text.

Every node is an HTML-like table in the manner of micrograd's ``{ label | data | grad }``
records (name with its layer superscript, definition, forward value, adjoint); every edge
carries its local partial ∂child/∂parent as the slides write it, and its number when
values are given. ``wrt`` lights up the edges of the chain for ∂C/∂wrt and dims the rest;
the derivation is the caption. The backward stepper (:func:`step_dots`) draws the same
picture once per edge, in the order reverse mode visits them.

Safety: every string that reaches DOT goes through :func:`esc` — node names are already
restricted by the parser, but op names, expressions and numbers are user-derived too, and
an HTML-like label would otherwise turn ``<TD HREF="javascript:…">`` into a live link
(reliability-security.md §6). No attribute that makes Graphviz write ``<a`` (URL, href,
tooltip) is ever emitted. Ids are the graph's ``n0…nk``, so the same input gives
byte-identical DOT.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from .. import ops
from ..derive import Derivation, Factor, adjoints, derive, local_partial
from ..errors import DerivationError, RenderError
from ..graph import Graph, Node
from ..notation import SUPERSCRIPT, partial_unicode, split_name, to_unicode, unicode_name

SHOW_ALL = ("names", "defs", "values", "grads", "partials")
RANKDIRS = ("LR", "BT", "TB", "RL")
# Graphviz ships no fonts; DejaVu Sans is on nearly every Linux box and has the
# superscripts (ᴸ, ⁻) the names need; SVG viewers fall back through the CSS list.
FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"
MAX_LISTED = 8  # members written inside one collapsed layer box
_DOT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Okabe–Ito, the colour-blind-safe palette: a light tint to fill, the full hue to draw.
ROLE_STYLE: dict[str, tuple[str, str, str]] = {
    "input": ("#D6EBF8", "#3D9AD1", "input"),
    "param": ("#FBE7BE", "#D18E00", "parameter"),
    "const": ("#EEEEEE", "#8C8C8C", "constant"),
    "intermediate": ("#D3EEE5", "#009E73", "intermediate"),
    "cost": ("#F4DCEA", "#B8558F", "output"),
}
INK = "#222222"
MUTED = "#6B6B6B"
HIGHLIGHT = "#D55E00"  # vermillion: the chain being differentiated / the active edge
DONE = "#0072B2"  # blue: edges the backward pass has already used
DIM = "#C4C4C4"
DIM_TEXT = "#8F8F8F"


# --- escaping and numbers ------------------------------------------------------------


def esc(text: object) -> str:
    """``text`` as literal text inside an HTML-like DOT label.

    ``& < > "`` become entities, so user text can never open a tag (``<TD HREF=…>``);
    a backslash is doubled, because Graphviz expands ``\\N``, ``\\G`` and friends even
    inside HTML-like labels (and an entity ``&#92;`` is decoded *before* that
    expansion, so only doubling works). Control characters become spaces.
    """
    s = str(text)
    s = "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in s)
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\\", "\\\\")
    )


def fmt_number(value: Any, digits: int = 4) -> str:
    """A number as a teacher writes it: 0.66, −0.07324, 1.2×10⁻⁵ (batches: [0.1, 0.2, …])."""
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    if arr is not None and arr.ndim == 1:
        head = ", ".join(fmt_number(v, digits) for v in arr[:3])
        return f"[{head}{', …' if arr.size > 3 else ''}] (n={arr.size})"
    x = float(value)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    text = f"{x:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPT)}"
    return text.replace("-", "−")


def parse_show(show: str | Iterable[str] | None) -> frozenset[str]:
    """``"names,values"`` or ``("names", "values")`` -> the set, checked."""
    if show is None:
        return frozenset(SHOW_ALL)
    items = show.replace(",", " ").split() if isinstance(show, str) else list(show)
    bad = [s for s in items if s not in SHOW_ALL]
    if bad:
        raise RenderError(f"cannot show '{bad[0]}'; choose from {', '.join(SHOW_ALL)}")
    return frozenset(items)


def layer_tag(name: str) -> str:
    """The layer superscript of a name: ``a^(L-1)`` -> ``L-1`` ('' when it has none)."""
    return split_name(name)[2]


def tag_label(tag: str) -> str:
    return f"layer {tag.replace('-', '−')}"


# --- numbers on edges ----------------------------------------------------------------

_NUMPY_HEADS = {
    sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.sign: np.sign, sp.Abs: np.abs,
}


def numeric_value(expr: sp.Expr, env: Mapping[str, Any]) -> Any:
    """``expr`` at the node values ``env`` (floats or 1-D batches); ``None`` if unknown.

    A small tree walk over the registry's kernels, so a label's number is computed the
    way the compiled program computes it, without generating code from user text.
    """
    with np.errstate(all="ignore"):
        try:
            return _walk(expr, env)
        except (_Unknown, KeyError, TypeError, ValueError):
            return None


class _Unknown(Exception):
    """An expression head this walker does not evaluate (the label shows no number)."""


def _walk(e: sp.Expr, env: Mapping[str, Any]) -> Any:
    if isinstance(e, sp.Symbol):
        return env[e.name]
    if isinstance(e, sp.Number):
        return float(e)
    if isinstance(e, ops.OpFunction | ops.PrimeFunction):
        return _walk_op(e, env)
    args = [_walk(a, env) for a in e.args]
    if isinstance(e, sp.Add):
        return sum(args[1:], args[0])
    if isinstance(e, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(e, sp.Pow):
        return np.power(np.asarray(args[0], dtype=float), args[1])
    if isinstance(e, sp.Heaviside):
        return np.heaviside(args[0], args[1] if len(args) > 1 else 0.5)
    if isinstance(e, sp.Max | sp.Min):
        pick = np.maximum if isinstance(e, sp.Max) else np.minimum
        out = args[0]
        for a in args[1:]:
            out = pick(out, a)
        return out
    fn = _NUMPY_HEADS.get(e.func)
    if fn is None:
        raise _Unknown(type(e).__name__)
    return fn(*args)


def _walk_op(e: sp.Expr, env: Mapping[str, Any]) -> Any:
    spec = e.spec
    arg = _walk(e.args[0], env)
    if not spec.user_defined:
        kernel = spec.forward if isinstance(e, ops.OpFunction) else spec.backward
        return kernel(np.asarray(arg, dtype=float))
    # A user-defined op has no kernel: evaluate its body (or its derivative) instead.
    param, body = spec.body
    x = sp.Dummy("x")
    inner = body.xreplace({param: x}) if isinstance(e, ops.OpFunction) else \
        ops.prime_definition(spec, x)
    return _walk(inner, {**env, x.name: arg})


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
        scene.values = {k: plain(v) for k, v in graph.evaluate(values).items()}
        scene.grads = {k: plain(v) for k, v in graph.gradients(values, of=target).items()}
    if wrt is not None:
        d = derive(graph, target, wrt)
        scene.derivation = d
        scene.path_nodes, scene.path_edges = chain_between(graph, d.wrt, target)
    return scene


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


# --- DOT assembly ----------------------------------------------------------------------


def attrs(**kw: str | float | None) -> str:
    """``[a="1", label=<…>]``: values starting with '<' are HTML-like labels (already escaped)."""
    parts = []
    for k, v in kw.items():
        if v is None:
            continue
        text = str(v)
        if k == "class_":
            k = "class"
        if not text.startswith("<"):  # internal values, but quote-safe all the same
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(f"{k}={text}")
    return f" [{', '.join(parts)}]" if parts else ""


def header(name: str, rankdir: str, caption: str | None, nodesep: float = 0.35,
           ranksep: float = 0.55) -> list[str]:
    """The opening lines of a digraph with the house style."""
    graph_attrs = attrs(
        rankdir=rankdir, fontname=FONT, fontsize=13, fontcolor=INK, bgcolor="white",
        pad="0.25", nodesep=nodesep, ranksep=ranksep, labelloc="b", labeljust="l",
        label=f"<{caption}>" if caption else None,
    )
    return [
        f"digraph {name} {{",
        f"  graph{graph_attrs}",
        f"  node{attrs(shape='plain', fontname=FONT, fontsize=12, fontcolor=INK)}",
        f"  edge{attrs(fontname=FONT, fontsize=11, color=MUTED, fontcolor=INK, arrowsize=0.7, penwidth=1.2)}",  # noqa: E501
    ]


def legend(roles: Iterable[str], extra: Iterable[tuple[str, str]] = ()) -> str:
    """One caption line: a coloured square per role, then line swatches (the lit path)."""
    items = [f'<FONT COLOR="{ROLE_STYLE[r][1]}" POINT-SIZE="14">■</FONT> {esc(ROLE_STYLE[r][2])}'
             for r in roles]
    items += [f'<FONT COLOR="{colour}"><B>⟶</B></FONT> {esc(word)}' for colour, word in extra]
    return "    ".join(items)


def caption_text(rows: list[list[str]], legend_line: str | None) -> str:
    """The caption as left-aligned lines of HTML-like text (cells are already escaped).

    A row ``[lhs, "=", rhs]`` is one equation line; an empty ``lhs`` repeats the one
    above in white, so every "=" lines up exactly whatever the font. (Plain text,
    not a nested table: Graphviz stretches a nested table's columns to the widest row.)
    """
    lines: list[str] = []
    lhs_above = ""
    for row in rows:
        if len(row) == 1:
            lines.append(row[0])
            continue
        lhs, sign, rhs = row
        if lhs:
            lhs_above = lhs
            lines.append(f"{lhs} {sign} {rhs}")
        else:
            lines.append(f'<FONT COLOR="white">{lhs_above}</FONT> {sign} {rhs}')
    if legend_line:
        if lines:
            lines.append("")
        lines.append(legend_line)
    return "".join(f'{line}<BR ALIGN="LEFT"/>' for line in lines)


# --- nodes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeLook:
    """How one node is drawn in one frame."""

    emphasis: str = "normal"  # normal | on | dim
    grad: Any = None  # the adjoint to print (None: no row)
    grad_pending: bool = False  # stepper: not reached yet, print "?"


def node_table(scene: Scene, node: Node, look: NodeLook) -> str:
    """The HTML-like table of one node: name / definition / value / adjoint."""
    fill, line, _ = ROLE_STYLE[node.role]
    dim = look.emphasis == "dim"
    border, width = (HIGHLIGHT, 2) if look.emphasis == "on" else (DIM if dim else line, 1)
    text = DIM_TEXT if dim else INK
    rows: list[str] = []
    show = scene.show
    if "names" in show:
        rows.append(f'<TD COLSPAN="2" BGCOLOR="{fill}"><FONT POINT-SIZE="14" COLOR="{text}">'
                    f"<B>{esc(node.unicode)}</B></FONT></TD>")
    if "defs" in show and node.expr is not None:
        rhs = scene.unicode(node.expr)
        body = f"= {rhs}" if "names" in show else f"{node.unicode} = {rhs}"
        rows.append(f'<TD COLSPAN="2" BGCOLOR="{"white" if rows else fill}">'
                    f'<FONT COLOR="{text}">{esc(body)}</FONT></TD>')
    if not rows:  # neither name nor definition: at least say which node this is
        rows.append(f'<TD COLSPAN="2" BGCOLOR="{fill}"><FONT COLOR="{text}">'
                    f"{esc(node.unicode)}</FONT></TD>")
    if "values" in show and scene.values is not None:
        rows.append(_number_row("value", fmt_number(scene.values[node.name]), dim))
    if "grads" in show and (look.grad is not None or look.grad_pending):
        number = "?" if look.grad_pending else fmt_number(look.grad)
        rows.append(_number_row(partial_unicode(scene.of, node.name), number, dim))
    body = "<HR/>".join(f"<TR>{r}</TR>" for r in rows)
    return (f'<<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" '
            f'COLOR="{border}" BGCOLOR="white">{body}</TABLE>>')


def _number_row(label: str, number: str, dim: bool) -> str:
    colour = DIM_TEXT if dim else MUTED
    ink = DIM_TEXT if dim else INK
    return (f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{colour}">{esc(label)}</FONT></TD>'
            f'<TD ALIGN="RIGHT"><FONT COLOR="{ink}">{esc(number)}</FONT></TD>')


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


_EDGE_STYLE = {  # state -> (line colour, text colour, pen width, bold label)
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
    lines = [f"{partial_unicode(child, parent)} = {scene.unicode(expr)}"]
    numbers = "values" in scene.show and not expr.is_Number  # "∂z/∂b = 1 = 1" says nothing
    value = scene.edge_value(parent, child) if numbers else None
    if value is not None:
        lines.append(f"= {fmt_number(value)}")
    body = "<BR/>".join(esc(line) for line in lines)
    return f"<<B>{body}</B>>" if bold else f"<{body}>"


def edge_line(scene: Scene, parent: str, child: str, look: EdgeLook) -> str:
    colour, text, width, bold = _EDGE_STYLE[look.state]
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


# --- the caption -----------------------------------------------------------------------


MAX_CAPTION_PATHS = 4  # paths written out in the caption; the rest are counted
MAX_CAPTION_FACTORS = 8  # factors written out per path; longer chains keep both ends
MAX_CAPTION_CHARS = 400  # a cached sum over many children is cut there


def derivation_rows(scene: Scene) -> list[list[str]]:
    """∂C/∂w = chain = factors (= numbers = value), one aligned row each.

    Long chains and many paths are abbreviated (… and a count): Graphviz refuses an
    HTML-like label over 16 kB, and nobody reads a 500-factor product in a caption.
    """
    d = scene.derivation
    if d is None:
        return []
    try:
        _ = d.factors
    except DerivationError:  # too many paths to list: the cached form and the number
        return _cached_rows(scene, d)
    order = scene.graph.order
    several = len(d.factors) > 1
    head = partial_unicode(d.of, d.wrt)
    texts = [
        _sum_of_paths(d, lambda f, fs: f.symbol_unicode),
        _sum_of_paths(d, lambda f, fs: _factor_text(f.expr, order, several or len(fs) > 1)),
    ]
    total = None
    if scene.values is not None and scene.grads is not None:
        texts.append(_factor_numbers(scene, d) or "")
        total = scene.grads.get(d.wrt)
    kept: list[str] = []
    for t in texts:  # "∂C/∂w = ∂C/∂w" or "= 3 = 3" would say nothing
        if t and t != head and (not kept or kept[-1] != t):
            kept.append(t)
    cells = [esc(t) for t in kept]
    if total is not None:
        number = fmt_number(total)
        if kept and kept[-1] == number:
            cells.pop()
        cells.append(f'<FONT COLOR="{HIGHLIGHT}"><B>{esc(number)}</B></FONT>')
    return [[f"<B>{esc(head)}</B>" if i == 0 else "", "=", c] for i, c in enumerate(cells)]


def _cached_rows(scene: Scene, d: Derivation) -> list[list[str]]:
    cached = d.cached_unicode().split(" = ", 1)[1]
    if len(cached) > MAX_CAPTION_CHARS:
        cached = cached[:MAX_CAPTION_CHARS] + " …"
    rows = [[f"<B>{esc(partial_unicode(d.of, d.wrt))}</B>", "=", esc(cached)]]
    if scene.grads is not None and d.wrt in scene.grads:
        rows.append(["", "=", f'<FONT COLOR="{HIGHLIGHT}"><B>'
                              f"{esc(fmt_number(scene.grads[d.wrt]))}</B></FONT>"])
    return rows


def _sum_of_paths(d: Derivation, text: Callable[[Factor, tuple[Factor, ...]], str]) -> str:
    """Σ over paths of Π factors, each factor written by ``text``; abbreviated."""
    if not d.factors:
        return "0"
    paths = [_product([text(f, fs) for f in fs]) for fs in d.factors[:MAX_CAPTION_PATHS]]
    more = len(d.factors) - MAX_CAPTION_PATHS
    return " + ".join(paths) + (f" + … ({more} more paths)" if more > 0 else "")


def _product(texts: list[str]) -> str:
    if not texts:
        return "1"
    if len(texts) > MAX_CAPTION_FACTORS:
        k = MAX_CAPTION_FACTORS // 2
        skipped = len(texts) - 2 * k
        texts = [*texts[:k], f"…({skipped} factors)…", *texts[-k:]]
    return " · ".join(texts)


def _factor_text(expr: sp.Expr, order: Mapping[str, int], grouped: bool) -> str:
    text = to_unicode(expr, order)
    return f"({text})" if grouped and isinstance(expr, sp.Add) else text


def _factor_numbers(scene: Scene, d: Derivation) -> str | None:
    """``0.48 · 0.2244 · (−0.68)``: each factor of each path at the values."""
    assert scene.values is not None
    for fs in d.factors:
        nums = [numeric_value(f.expr, scene.values) for f in fs]
        if any(n is None or np.ndim(n) for n in nums):
            return None  # batches: the per-path products would be per example
    values = scene.values
    return _sum_of_paths(d, lambda f, fs: _paren(fmt_number(numeric_value(f.expr, values))))


def legend_html(scene: Scene, extra: Iterable[tuple[str, str]] = ()) -> str:
    roles = [r for r in ROLE_STYLE if any(n.role == r for n in scene.graph.nodes)]
    path = []
    if scene.derivation is not None:
        path = [(HIGHLIGHT, f"chain for {partial_unicode(scene.of, scene.derivation.wrt)}")]
    return legend(roles, [*path, *extra])


# --- the whole op graph ----------------------------------------------------------------


def op_graph_dot(scene: Scene, collapse: bool = False) -> str:
    """DOT text of the op-graph view (``collapse``: one box per layer tag)."""
    if collapse:
        return collapsed_dot(scene)
    caption = caption_text(derivation_rows(scene), legend_html(scene))
    looks = {n.name: node_look(scene, n) for n in scene.graph.nodes}
    edges = [edge_line(scene, p, c, edge_look(scene, p, c)) for p, c in edges_of(scene.graph)]
    return assemble(scene, caption, looks, edges)


def assemble(scene: Scene, caption: str, looks: Mapping[str, NodeLook],
             edge_lines: list[str]) -> str:
    """Header, nodes (inside their layer clusters), edges, closing brace."""
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
                label=node_table(scene, node, look)))
        if tag and use_clusters:
            lines.append("  }")
    lines.extend(edge_lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


def layer_groups(graph: Graph) -> dict[str, list[Node]]:
    """Nodes by layer tag, in order of first appearance ('' holds the untagged)."""
    groups: dict[str, list[Node]] = {}
    for node in graph.nodes:
        groups.setdefault(layer_tag(node.name), []).append(node)
    return groups


# --- collapsed layers --------------------------------------------------------------------


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
    lines = header("gradgraph", scene.rankdir,
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
    lines.append("}")
    return "\n".join(lines) + "\n"


def layer_box(scene: Scene, tag: str, members: list[Node]) -> str:
    """A layer as one table: its name, then its first members (and their values)."""
    on = scene.highlight and any(n.name in scene.path_nodes for n in members)
    border = HIGHLIGHT if on else MUTED
    rows = [f'<TD COLSPAN="2" BGCOLOR="#F2F2F2"><B>'
            f'{esc(tag_label(tag))}</B> <FONT POINT-SIZE="10" COLOR="{MUTED}">'
            f"({len(members)} nodes)</FONT></TD>"]
    for node in members[:MAX_LISTED]:
        text = node.definition(scene.graph.order) if "defs" in scene.show else node.unicode
        value = fmt_number(scene.values[node.name]) if scene.values is not None \
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
    colour, text, width, bold = _EDGE_STYLE[state]
    if len(under) == 1:
        label = edge_label(scene, *under[0], bold)
    else:
        label = f"<{esc(f'{len(under)} edges')}>"
    return f"  {src} -> {dst}" + attrs(id=f"e_{src}_{dst}", class_=state, color=colour,
                                        fontcolor=text, penwidth=width, label=label)


# --- the backward stepper ----------------------------------------------------------------


def backward_edges(graph: Graph, of: str) -> list[tuple[str, str]]:
    """Edges that carry ∂(of)/∂·, in the order reverse mode uses them.

    Children in reverse topological order (a child's adjoint is complete before it is
    passed on), each child's parents in the order the definition names them.
    """
    relevant = adjoints(graph, of).adjoints
    return [(p, n.name) for n in reversed(graph.nodes) if n.name in relevant
            for p in n.parents]


def step_dots(scene: Scene) -> list[str]:
    """One DOT text per backward edge: the active edge lit, its adjoint shown."""
    graph, of = scene.graph, scene.of
    order = backward_edges(graph, of)
    fan_in = {p: sum(1 for q, _ in order if q == p) for p, _ in order}
    sums: dict[str, Any] = {of: 1.0}
    frames = []
    for k, (parent, child) in enumerate(order, start=1):
        contribution = None
        if scene.values is not None:
            local = scene.edge_value(parent, child)
            if local is not None and sums.get(child) is not None:
                contribution = plain(np.asarray(sums[child]) * local)
        previous = sums.get(parent)
        if contribution is not None:
            sums[parent] = contribution if previous is None else plain(previous + contribution)
        elif parent not in sums:
            sums[parent] = None
        done = set(order[:k - 1])
        frames.append(_frame(scene, order, k, done, sums, contribution, fan_in[parent] > 1,
                             previous is not None))
    return frames


def _frame(scene: Scene, order: list[tuple[str, str]], k: int, done: set[tuple[str, str]],
           sums: Mapping[str, Any], contribution: Any, accumulates: bool,
           has_previous: bool) -> str:
    parent, child = order[k - 1]
    graph, of = scene.graph, scene.of
    reached = {of} | {p for p, _ in order[:k]}
    receives = {p for p, _ in order}
    looks = {}
    for node in graph.nodes:
        emphasis = "on" if node.name in (parent, child) else "normal"
        if node.name in reached and scene.values is not None:
            looks[node.name] = NodeLook(emphasis, sums.get(node.name))
        else:  # "?" marks an adjoint the backward pass has not reached yet
            pending = scene.values is not None and node.name in receives
            looks[node.name] = NodeLook(emphasis, None, grad_pending=pending)
    edges = []
    for p, c in edges_of(graph):
        state = "active" if (p, c) == (parent, child) else "done" if (p, c) in done else "dim"
        edges.append(edge_line(scene, p, c, EdgeLook(state)))
    caption = caption_text(
        _step_rows(scene, k, len(order), parent, child, sums, contribution, accumulates,
                   has_previous),
        legend(
            [r for r in ROLE_STYLE if any(n.role == r for n in graph.nodes)],
            [(HIGHLIGHT, "this step"), (DONE, "done")],
        ),
    )
    return assemble(scene, caption, looks, edges)


def _step_rows(scene: Scene, k: int, total: int, parent: str, child: str,
               sums: Mapping[str, Any], contribution: Any, accumulates: bool,
               has_previous: bool) -> list[list[str]]:
    of = scene.of
    title = (f"<B>Backward pass, step {k} of {total}:</B> edge "
             f"{esc(unicode_name(parent))} → {esc(unicode_name(child))}")
    head = partial_unicode(of, parent)
    local = partial_unicode(child, parent)
    rule = local if child == of else f"{partial_unicode(of, child)} · {local}"
    sign = "+=" if accumulates and has_previous else "="
    rows = [[title], [f"<B>{esc(head)}</B>", sign, esc(rule)]]
    rows.append(["", "=", esc(scene.unicode(scene.partial(parent, child)) if child == of
                              else f"{partial_unicode(of, child)} · "
                                   f"{scene.unicode(scene.partial(parent, child))}")])
    if contribution is not None:
        local_value = scene.edge_value(parent, child)
        upstream = sums.get(child)
        numbers = fmt_number(local_value) if child == of else \
            f"{_paren(fmt_number(upstream))} · {_paren(fmt_number(local_value))}"
        rows.append(["", "=", f"{esc(numbers)} = <FONT COLOR=\"{HIGHLIGHT}\"><B>"
                              f"{esc(fmt_number(contribution))}</B></FONT>"])
        if accumulates and has_previous:
            rows.append([esc(f"so far {head}"), "=", esc(fmt_number(sums[parent]))])
    return rows


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("−") else text
