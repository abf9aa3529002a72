"""The network view: neurons as circles in layers, like the slides' 0.48 → 0.66 → 1.00.

Layers are read from the graph's structure, not from names: a *neuron* is an op node
``a = σ(z)`` whose input ``z`` is *affine* in its non-parameter inputs
(``z = Σ wₖ·aₖ + b``, each aₖ an input leaf or another neuron). Input leaves that feed
an affine node form the input layer; a neuron sits one layer after its deepest input.
The other input leaves on the way to the cost (``y``) are drawn as targets. A graph
without that shape gets a :class:`RenderError` that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..errors import RenderError
from ..graph import Graph
from ..parse import symbol
from .dot import (
    DIM,
    DIM_TEXT,
    DONE,
    HIGHLIGHT,
    INK,
    MUTED,
    Scene,
    attrs,
    caption_text,
    derivation_rows,
    esc,
    fmt_number,
    header,
    layer_tag,
    legend,
    numeric_value,
    partial_unicode,
    tag_label,
)

POSITIVE, NEGATIVE = DONE, HIGHLIGHT  # blue / vermillion: a colour-blind-safe pair
ACTIVATION_FILL = (0x56, 0xB4, 0xE9)  # sky blue; white at 0, full at activation 1


@dataclass(frozen=True)
class Synapse:
    """One weighted input of a neuron: ``source`` scaled by ``weight`` (an expression)."""

    source: str
    weight: sp.Expr


@dataclass
class Network:
    """Neurons by layer (layer 0: the input leaves), their synapses, and the targets."""

    layers: list[list[str]] = field(default_factory=list)
    synapses: dict[str, list[Synapse]] = field(default_factory=dict)  # neuron -> inputs
    bias: dict[str, sp.Expr] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(circles, edges) the view draws."""
        circles = sum(len(layer) for layer in self.layers) + len(self.targets)
        return circles, sum(len(s) for s in self.synapses.values()) + len(self.targets)


def detect_network(graph: Graph) -> Network:
    """The layers of ``graph``, or a RenderError saying why it is not a layered network."""
    neurons = {n.name: n.parents[0] for n in graph.nodes
               if n.op is not None and len(n.parents) == 1 and _is_affine_node(graph, n.parents[0])}
    if not neurons:
        raise RenderError("the network view needs neurons, a = σ(z) with z = w·x + b; this "
                          "graph has none (draw it with view 'graph')")
    net = Network()
    layer_of: dict[str, int] = {}
    for node in graph.nodes:  # topological order: a neuron's inputs come first
        if node.name not in neurons:
            continue
        z = neurons[node.name]
        synapses, bias = _split_affine(graph, z, neurons)
        for s in synapses:
            if s.source not in neurons:
                layer_of.setdefault(s.source, 0)
        layer_of[node.name] = 1 + max((layer_of[s.source] for s in synapses), default=0)
        net.synapses[node.name] = synapses
        net.bias[node.name] = bias
    depth = max(layer_of.values())
    net.layers = [[n for n in layer_of if layer_of[n] == k] for k in range(depth + 1)]
    rank = {n.name: i for i, n in enumerate(graph.nodes)}
    net.layers = [sorted(layer, key=rank.__getitem__) for layer in net.layers]
    used = set(layer_of) | set(neurons.values())
    net.targets = [n.name for n in graph.nodes if n.role == "input" and n.name not in used
                   and _feeds(graph, n.name, graph.cost)]
    return net


def _is_affine_node(graph: Graph, name: str) -> bool:
    """``z`` is a polynomial of degree 1 in its non-parameter inputs (w·x + b)."""
    node = graph[name]
    if node.expr is None:
        return False
    inputs = [symbol(p) for p in node.parents if graph[p].role != "param"]
    if not inputs or not node.expr.is_polynomial(*inputs):
        return False
    return sp.Poly(node.expr, *inputs).total_degree() == 1


def _split_affine(graph: Graph, z: str, neurons: dict[str, str]) -> tuple[list[Synapse], Any]:
    """``z = Σ wₖ·aₖ + b`` -> the synapses (aₖ, wₖ) and the bias b."""
    node = graph[z]
    expr = sp.expand(node.expr)
    synapses = []
    for p in node.parents:
        role = graph[p].role
        if role == "param":
            continue
        if p not in neurons and role != "input":
            raise RenderError(f"the network view needs every input of {graph[z].unicode} to be "
                              f"a neuron or an input; {graph[p].unicode} is neither (draw it "
                              "with view 'graph')")
        synapses.append(Synapse(p, expr.coeff(symbol(p))))
    bias = expr.subs({symbol(s.source): 0 for s in synapses})
    return synapses, bias


def _feeds(graph: Graph, name: str, target: str) -> bool:
    stack, seen = [name], {name}
    while stack:
        current = stack.pop()
        if current == target:
            return True
        for child in graph.children(current):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return False


# --- drawing -----------------------------------------------------------------------------


def network_dot(scene: Scene, net: Network | None = None) -> str:
    """DOT text of the network view."""
    net = net or detect_network(scene.graph)
    graph = scene.graph
    caption = caption_text(_caption_rows(scene), _legend(scene))
    # Wide ranks leave room for the weight labels between the layers.
    lines = header("network", scene.rankdir, caption, nodesep=0.6, ranksep=1.4)
    weights = [_number(s.weight, scene) for ss in net.synapses.values() for s in ss]
    scale = max([abs(w) for w in weights if w is not None] + [1e-12])
    for k, layer in enumerate(net.layers):
        lines.append(f"  subgraph cluster_layer{k} {{")
        lines.append("    graph" + attrs(label=f"<{esc(_layer_title(layer, k))}>",
                                         style="rounded,dashed", color="#C8C8C8",
                                         fontcolor=MUTED, fontsize=11, labelloc="t"))
        for name in layer:
            lines.append("    " + _neuron(scene, net, name))
        lines.append("  }")
    if net.targets:
        lines.append("  subgraph cluster_targets {")
        lines.append("    graph" + attrs(label="<target>", style="rounded,dashed",
                                         color="#C8C8C8", fontcolor=MUTED, fontsize=11,
                                         labelloc="t"))
        for name in net.targets:
            lines.append("    " + _neuron(scene, net, name, target=True))
        lines.append("  }")
    for neuron, synapses in net.synapses.items():
        for s in synapses:
            lines.append(_synapse(scene, s, neuron, scale))
    for t in net.targets:
        for o in _compared_with(graph, t, net.layers[-1]):
            lines.append(f"  {graph[o].id} -> {graph[t].id}" + attrs(
                id=f"e_{graph[o].id}_{graph[t].id}", class_="target", style="dashed",
                color=MUTED, arrowhead="none", constraint="true"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _compared_with(graph: Graph, target: str, outputs: list[str]) -> list[str]:
    """The output neurons a target is compared with: those in the smallest part of the
    target's first use that holds both (``(o₁ − t₁)²`` pairs t₁ with o₁), else all."""
    t = symbol(target)
    for child in graph.children(target):
        expr = graph[child].expr
        best: list[str] = []
        for sub in sp.preorder_traversal(expr):
            names = {s.name for s in sub.free_symbols}
            found = [o for o in outputs if o in names]
            if t in sub.free_symbols and found:
                best = found  # preorder: later hits are smaller subexpressions
        if best:
            return best
    return outputs


def _layer_title(layer: list[str], k: int) -> str:
    tags = {layer_tag(n) for n in layer}
    if len(tags) == 1 and "" not in tags:
        return tag_label(tags.pop())
    return "input layer" if k == 0 else f"layer {k}"


def _number(expr: sp.Expr, scene: Scene) -> float | None:
    if scene.values is None:
        return None
    value = numeric_value(expr, scene.values)
    if value is None or np.ndim(value):
        return None
    return float(value)


def _activation_text(value: Any) -> str:
    """Two decimals, as the slides write activations (0.48, 0.66, 1.00)."""
    if np.ndim(value):
        return fmt_number(np.mean(value), 2) + " (mean)"
    return f"{float(value):.2f}".replace("-", "−")


def _fill(value: Any) -> str:
    if value is None or np.ndim(value):
        return "white"
    t = min(max(float(value), 0.0), 1.0)
    r, g, b = (round(255 + (c - 255) * t) for c in ACTIVATION_FILL)
    return f"#{r:02X}{g:02X}{b:02X}"


def _neuron(scene: Scene, net: Network, name: str, target: bool = False) -> str:
    """A circle: name, activation (two decimals, as the slides), bias, gradient overlay."""
    node = scene.graph[name]
    value = scene.values.get(name) if scene.values is not None and "values" in scene.show \
        else None
    rows = []
    if "names" in scene.show or value is None:
        rows.append(f'<FONT POINT-SIZE="12">{esc(node.unicode)}</FONT>')
    if value is not None:
        rows.append(f'<FONT POINT-SIZE="17"><B>{esc(_activation_text(value))}</B></FONT>')
    rows.extend(f'<FONT POINT-SIZE="9" COLOR="{MUTED}">{esc(t)}</FONT>'
                for t in ([] if target else _small_lines(scene, net, name)))
    on = scene.highlight and name in scene.path_nodes
    dim = scene.highlight and not on
    return f"{node.id}" + attrs(
        id=node.id, class_="target" if target else "neuron", shape="circle", width=1.0,
        margin="0.02", style="filled,dashed" if target else "filled",
        fillcolor="white" if target else _fill(value),
        color=HIGHLIGHT if on else (DIM if dim else INK), penwidth=2.5 if on else 1.2,
        label="<" + "<BR/>".join(rows) + ">",
    )


def _small_lines(scene: Scene, net: Network, name: str) -> list[str]:
    """The neuron's bias (with ``defs``) and, as the gradient overlay, ∂C/∂a."""
    lines = []
    bias = net.bias.get(name)
    if bias is not None and bias != 0 and "defs" in scene.show:
        number = _number(bias, scene)
        text = scene.unicode(bias)
        lines.append(f"b = {text}" if number is None else
                     f"{text} = {fmt_number(number, 3)}" if isinstance(bias, sp.Symbol)
                     else f"b = {fmt_number(number, 3)}")
    grads = scene.grads or {}
    if "grads" in scene.show and name in grads:
        lines.append(f"{partial_unicode(scene.of, name)} = {fmt_number(grads[name], 3)}")
    return lines


def _synapse(scene: Scene, s: Synapse, neuron: str, scale: float) -> str:
    graph = scene.graph
    weight = _number(s.weight, scene)
    src, dst = graph[s.source].id, graph[neuron].id
    colour, width = MUTED, 1.5
    if weight is not None:
        colour = POSITIVE if weight >= 0 else NEGATIVE
        width = 1.0 + 5.0 * abs(weight) / scale
    on = scene.highlight and (_weight_name(s) in scene.path_nodes
                              or {s.source, neuron} <= scene.path_nodes)
    dim = scene.highlight and not on
    if scene.highlight:  # the chain's colour wins; the label still gives the sign
        colour = HIGHLIGHT if on else DIM
    lines = [scene.unicode(s.weight) + (f" = {fmt_number(weight, 3)}" if weight is not None
                                         else "")]
    wname = _weight_name(s)
    grads = scene.grads or {}
    if "grads" in scene.show and wname in grads:
        lines.append(f"{partial_unicode(scene.of, wname)} = {fmt_number(grads[wname], 3)}")
    body = "<BR/>".join(esc(x) for x in lines)
    if on:
        body = f"<B>{body}</B>"
    # A table with empty space under the text lifts it clear of a thick edge.
    label = (f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR><TD>{body}</TD></TR>'
             f'<TR><TD HEIGHT="{round(width * 2 + 4)}"></TD></TR></TABLE>>')
    return f"  {src} -> {dst}" + attrs(
        id=f"e_{src}_{dst}", class_="on" if on else ("dim" if dim else "synapse"),
        color=colour, fontcolor=DIM_TEXT if dim else (HIGHLIGHT if on else INK),
        penwidth=f"{width:.2f}", label=label, arrowsize=0.6,
    )


def _weight_name(s: Synapse) -> str:
    return s.weight.name if isinstance(s.weight, sp.Symbol) else ""


def _caption_rows(scene: Scene) -> list[list[str]]:
    rows = derivation_rows(scene)
    cost = scene.graph[scene.of]
    if cost.expr is not None and "defs" in scene.show:
        text = cost.definition(scene.graph.order)
        if scene.values is not None and "values" in scene.show:
            text += f" = {fmt_number(scene.values[cost.name])}"
        rows = [[esc(text)], *rows]
    return rows


def _legend(scene: Scene) -> str:
    extra = []
    if scene.values is not None and scene.derivation is None:
        extra = [(POSITIVE, "positive weight"), (NEGATIVE, "negative weight")]
    if scene.derivation is not None:
        extra.append((HIGHLIGHT, f"chain for {partial_unicode(scene.of, scene.derivation.wrt)}"))
    return legend([], extra)
