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
from ..notation import partial_unicode
from ..parse import symbol
from .caption import derivation_rows
from .labels import (
    HIGHLIGHT,
    caption_text,
    esc,
    fmt_number,
    layer_tag,
    legend,
    tag_label,
)
from .picture import NEGATIVE, POSITIVE, Circle, Link, Picture, picture_dot
from .scene import Scene, numeric_value


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
    return picture_dot(network_picture(scene, net), scene.rankdir, "names" in scene.show)


def network_picture(scene: Scene, net: Network | None = None) -> Picture:
    """The circles and synapses of a scalar graph's network."""
    net = net or detect_network(scene.graph)
    graph = scene.graph
    layers = [(_layer_title(layer, k), [_neuron(scene, net, name) for name in layer])
              for k, layer in enumerate(net.layers)]
    targets = [_neuron(scene, net, name, target=True) for name in net.targets]
    links = [_synapse(scene, s, neuron) for neuron, synapses in net.synapses.items()
             for s in synapses]
    comparisons = [(graph[o].id, graph[t].id) for t in net.targets
                   for o in _compared_with(graph, t, net.layers[-1])]
    caption = caption_text(_caption_rows(scene), network_legend(scene))
    return Picture(layers, targets, links, comparisons, caption)


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


def _neuron(scene: Scene, net: Network, name: str, target: bool = False) -> Circle:
    node = scene.graph[name]
    value = scene.values.get(name) if scene.values is not None and "values" in scene.show \
        else None
    on = scene.highlight and name in scene.path_nodes
    state = ("on" if on else "dim") if scene.highlight else "normal"
    notes = () if target else tuple(_small_lines(scene, net, name))
    return Circle(node.id, node.unicode, value, notes, state, "target" if target else "neuron")


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


def _synapse(scene: Scene, s: Synapse, neuron: str) -> Link:
    graph = scene.graph
    weight = _number(s.weight, scene)
    on = scene.highlight and (_weight_name(s) in scene.path_nodes
                              or {s.source, neuron} <= scene.path_nodes)
    lines = [scene.unicode(s.weight) + (f" = {fmt_number(weight, 3)}" if weight is not None
                                         else "")]
    wname = _weight_name(s)
    grads = scene.grads or {}
    if "grads" in scene.show and wname in grads:
        lines.append(f"{partial_unicode(scene.of, wname)} = {fmt_number(grads[wname], 3)}")
    state = ("on" if on else "dim") if scene.highlight else "normal"
    return Link(graph[s.source].id, graph[neuron].id, weight, tuple(lines), state)


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


def network_legend(scene: Scene) -> str:
    """Weight colours without a chain; the chain's colour with one."""
    extra = []
    if scene.values is not None and scene.derivation is None:
        extra = [(POSITIVE, "positive weight"), (NEGATIVE, "negative weight")]
    if scene.derivation is not None:
        extra.append((HIGHLIGHT, f"chain for {partial_unicode(scene.of, scene.derivation.wrt)}"))
    return legend([], extra)
