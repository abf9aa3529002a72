"""The network view of a layer graph: Dense layers drawn unit by unit.

A *dense layer* is ``z = affine(W, x, b)`` (or ``matvec(W, x)``), usually followed by an
activation ``a = f(z)`` of the same shape; the network is a chain of them from an input
tensor. Unit j of a layer is ``a_j`` (named as :func:`gradgraph.expand_to_scalars` names
it, ``a_0^(1)``), the synapse from unit k below is ``W_jk``, and every number is read
straight from the layer's arrays: the same numbers the scalar graph of the same network
shows. A layer wider than :data:`MAX_UNITS` draws its first :data:`FIRST_UNITS` units and
a "⋮ n more" mark, so a 100-unit layer stays a picture. One example of a batch is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RenderError
from ..graph import Graph, Node
from ..notation import partial_unicode, to_unicode, unicode_name
from ..shapes import scalar_name
from .arrays import batch_size, one_example
from .caption import derivation_rows
from .labels import MUTED, caption_text, esc, fmt_number, layer_tag, tag_label
from .network import network_legend
from .picture import Circle, Link, Picture, picture_dot
from .scene import Scene

MAX_UNITS = 12  # a layer up to this wide is drawn whole
FIRST_UNITS = 5  # a wider one: these first units, then "⋮ n more"
MAX_LABELLED_LINKS = 12  # more synapses than this: colour and width only (labels tangle them)


@dataclass(frozen=True)
class DenseLayer:
    """One layer: its drawn node (``a``, or ``z`` with no activation) and its parts."""

    node: str
    affine: str
    weight: str
    bias: str | None
    source: str  # the layer below's drawn node (the input tensor for the first)


@dataclass
class Dense:
    """The input tensor, the layers in order, and the targets the output is compared with."""

    inputs: str
    layers: list[DenseLayer]
    targets: list[str]


def detect_dense(graph: Graph) -> Dense:
    """The Dense layers of a layer graph, or a RenderError saying what is missing."""
    layers: list[DenseLayer] = []
    for node in graph.nodes:
        if node.tspec is None or node.tspec.layer_args is None:
            continue
        args = node.tensor_expr.args
        wi, xi, bi = node.tspec.layer_args
        w, x = args[wi].name, args[xi].name
        bias = args[bi].name if bi is not None and graph[args[bi].name].shape else None
        below = layers[-1].node if layers else None
        if below is not None and x != below:
            raise RenderError(f"the network view needs a chain of dense layers; "
                              f"{node.unicode} takes {graph[x].unicode}, not the layer "
                              f"below ({graph[below].unicode}) (draw it with view 'graph')")
        if below is None and graph[x].role != "input":
            raise RenderError(f"the network view needs the first layer to take an input; "
                              f"{node.unicode} takes {graph[x].unicode} (draw it with "
                              "view 'graph')")
        layers.append(DenseLayer(_activation_of(graph, node) or node.name, node.name, w,
                                 bias, x))
    if not layers:
        raise RenderError("the network view needs dense layers, z = W x + b; this graph "
                          "has none (draw it with view 'graph')")
    for layer in layers:
        if len(graph[layer.node].shape) != 1:
            raise RenderError(f"the network view draws layers of units; "
                              f"{graph[layer.node].unicode} has shape "
                              f"{graph[layer.node].shape}")
    out = graph[layers[-1].node]
    first = layers[0].source
    targets = [n.name for n in graph.nodes if n.role == "input" and n.name != first
               and n.shape == out.shape]
    return Dense(first, layers, targets)


def _activation_of(graph: Graph, z: Node) -> str | None:
    """The node that applies one op to ``z`` alone and keeps its shape (σ, tanh, softmax)."""
    for child in graph.children(z.name):
        node = graph[child]
        if node.parents == (z.name,) and node.op is not None and node.shape == z.shape:
            return child
    return None


def _shown(n: int) -> int:
    return n if n <= MAX_UNITS else FIRST_UNITS


def dense_size(graph: Graph, net: Dense) -> tuple[int, int]:
    """(circles, edges) the view draws, before anything is computed."""
    widths = [_shown(graph[net.inputs].shape[0])]
    widths += [_shown(graph[layer.node].shape[0]) for layer in net.layers]
    marks = sum(1 for n in [net.inputs, *(la.node for la in net.layers)]
                if graph[n].shape[0] > MAX_UNITS)
    links = sum(a * b for a, b in zip(widths, widths[1:], strict=False))
    targets = len(net.targets) * widths[-1]
    return sum(widths) + marks + targets, links + targets


# --- the picture -------------------------------------------------------------------------


def dense_dot(scene: Scene, net: Dense | None = None) -> str:
    """DOT text of the network view of a layer graph."""
    return picture_dot(dense_picture(scene, net), scene.rankdir, "names" in scene.show)


def dense_picture(scene: Scene, net: Dense | None = None) -> Picture:
    graph = scene.graph
    net = net or detect_dense(graph)
    drawn = [net.inputs, *(layer.node for layer in net.layers)]
    layers = []
    for k, name in enumerate(drawn):
        bias = net.layers[k - 1].bias if k else None
        circles = [_unit(scene, name, j, bias) for j in range(_shown(graph[name].shape[0]))]
        more = graph[name].shape[0] - len(circles)
        if more:
            mark = f"{graph[name].id}_more"
            circles.append(Circle(mark, f"{more} more", kind="more"))
        layers.append((_title(graph, name, k), circles))
    links = [link for layer in net.layers for link in _links(scene, layer)]
    rows = _caption_rows(scene, net)
    if len(links) > MAX_LABELLED_LINKS:
        links = [Link(x.src, x.dst, x.weight, (), x.state) for x in links]
        rows.append([f'<FONT COLOR="{MUTED}">' + esc(
            f"{len(links)} synapses: too many to label; each one's colour gives its "
            "weight's sign, its width the weight's size.") + "</FONT>"])
    out = graph[drawn[-1]]
    targets, comparisons = [], []
    for t in net.targets:
        for j in range(_shown(out.shape[0])):
            circle = _unit(scene, t, j, None, target=True)
            targets.append(circle)
            comparisons.append((f"{out.id}_{j}", circle.id))
    caption = caption_text(rows, network_legend(scene))
    return Picture(layers, targets, links, comparisons, caption, ordered=True)


def _title(graph: Graph, name: str, k: int) -> str:
    tag = layer_tag(name)
    title = tag_label(tag) if tag else ("input layer" if k == 0 else f"layer {k}")
    node = graph[name]
    if node.op is None:
        return title
    op = node.tspec.label if node.tspec else to_unicode(node.expr).split("(")[0]
    return f"{title} · {op}"


def _state(scene: Scene, on: bool) -> str:
    return ("on" if on else "dim") if scene.highlight else "normal"


def _unit(scene: Scene, name: str, j: int, bias: str | None, target: bool = False) -> Circle:
    """Unit j of ``name``: its activation in the first example, bias and ∂C/∂a under it."""
    graph = scene.graph
    unit = scalar_name(name, (j,))
    value = None
    if scene.values is not None and "values" in scene.show:
        value = float(one_example(graph, name, scene.values[name])[j])
    notes = []
    if bias is not None and "defs" in scene.show and not target:
        b = unicode_name(scalar_name(bias, (j,)))
        notes.append(f"{b} = {fmt_number(scene.values[bias][j], 3)}"
                     if scene.values is not None else f"b = {b}")
    grads = scene.grads or {}
    if "grads" in scene.show and name in grads and not target:
        g = one_example(graph, name, grads[name])[j]
        notes.append(f"{partial_unicode(scene.of, unit)} = {fmt_number(g, 3)}")
    on = scene.highlight and name in scene.path_nodes
    return Circle(f"{graph[name].id}_{j}", unicode_name(unit), value, tuple(notes),
                  _state(scene, on), "target" if target else "neuron")


def _links(scene: Scene, layer: DenseLayer) -> list[Link]:
    """Synapse k → j of a layer, weight ``W_jk``, for the drawn units."""
    graph = scene.graph
    below, above = graph[layer.source], graph[layer.node]
    weights = scene.values.get(layer.weight) if scene.values is not None else None
    grads = (scene.grads or {}).get(layer.weight) if "grads" in scene.show else None
    on = scene.highlight and (layer.weight in scene.path_nodes
                              or {layer.source, layer.node} <= scene.path_nodes)
    links = []
    for j in range(_shown(above.shape[0])):
        for k in range(_shown(below.shape[0])):
            w = float(weights[j, k]) if weights is not None else None
            name = scalar_name(layer.weight, (j, k))
            lines = [unicode_name(name) + (f" = {fmt_number(w, 3)}" if w is not None else "")]
            if grads is not None:
                lines.append(f"{partial_unicode(scene.of, name)} = "
                             f"{fmt_number(grads[j, k], 3)}")
            links.append(Link(f"{below.id}_{k}", f"{above.id}_{j}", w, tuple(lines),
                              _state(scene, on)))
    return links


def _caption_rows(scene: Scene, net: Dense) -> list[list[str]]:
    """The loss as defined after the last layer (with its value), then the derivation."""
    rows = derivation_rows(scene)
    graph = scene.graph
    if "defs" not in scene.show:
        return rows
    after = {net.layers[-1].node}  # the nodes computed from the output: the loss
    for n in graph.nodes:
        if any(p in after for p in n.parents):
            after.add(n.name)
    loss = [n for n in graph.nodes if n.name in after and n.name != net.layers[-1].node]
    if not loss:
        return rows
    text = ";  ".join(n.definition(graph.order) for n in loss)
    if scene.values is not None and "values" in scene.show:
        value = one_example(graph, scene.of, scene.values[scene.of])
        text += f" = {fmt_number(float(value))}"
        n = batch_size(scene)
        if n is not None and n > 1:
            text += " (example 1)"
    return [[esc(text)], *rows]

