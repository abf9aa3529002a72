"""Ready-made graphs from the deck, for lessons, tests and benchmarks."""

from __future__ import annotations

from .graph import Graph

# The slides' one-neuron network: z⁽ᴸ⁾ = w⁽ᴸ⁾a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾, a⁽ᴸ⁾ = σ(z⁽ᴸ⁾), C₀ = (a⁽ᴸ⁾ − y)².
SLIDES = "z^(L) = w^(L) a^(L-1) + b^(L)\na^(L) = sigma(z^(L))\nC_0 = (a^(L) - y)^2\n"

# Values that reproduce the slides' picture: a⁽ᴸ⁻¹⁾ = 0.48 → a⁽ᴸ⁾ ≈ 0.66, target 1.00.
SLIDES_VALUES = {"a^(L-1)": 0.48, "w^(L)": 2.0, "b^(L)": -0.2967, "y": 1.0}


def layer_tag(i: int, depth: int, tags: str = "L") -> str:
    """Superscript of layer ``i`` of ``depth``: ``L``, ``L-1``, … or ``1``, ``2``, …."""
    if tags == "numbers":
        return str(i)
    return "L" if i == depth else f"L-{depth - i}"


def chain_text(depth: int, tags: str = "L", activation: str = "sigma") -> str:
    """Text of a chain of ``depth`` one-neuron layers (the slides' network)."""
    if depth < 1:
        raise ValueError("depth must be at least 1")
    if tags not in ("L", "numbers"):
        raise ValueError("tags is 'L' (a⁽ᴸ⁻¹⁾) or 'numbers' (a⁽¹⁾)")
    lines = []
    for i in range(1, depth + 1):
        t, prev = layer_tag(i, depth, tags), layer_tag(i - 1, depth, tags)
        lines.append(f"z^({t}) = w^({t}) a^({prev}) + b^({t})")
        lines.append(f"a^({t}) = {activation}(z^({t}))")
    last = layer_tag(depth, depth, tags)
    lines.append(f"C_0 = (a^({last}) - y)^2")
    return "\n".join(lines) + "\n"


def chain(depth: int, tags: str = "L", activation: str = "sigma") -> Graph:
    """The slides' one-neuron-per-layer network of ``depth`` layers.

    Layer superscripts count back from the output, as in the slides (``tags="L"``:
    a⁽ᴸ⁻¹⁾ feeds z⁽ᴸ⁾), or forward from the input (``tags="numbers"``: a⁽⁰⁾, a⁽¹⁾, …).
    Inputs are a⁽ᴸ⁻ᴸ⁾ (or a⁽⁰⁾) and y; the parameters are every w and b.
    """
    return Graph.from_text(chain_text(depth, tags, activation))


def mlp_text(sizes: list[int], activation: str = "tanh", output: str = "softmax",
             loss: str = "cross_entropy") -> str:
    """Text of a dense network, e.g. ``mlp_text([64, 100, 10])`` — the deck's Keras model.

    Layers are tagged a⁽¹⁾, a⁽²⁾, …; ``output`` is ``softmax`` (then ``loss`` is
    ``cross_entropy``) or any element-wise op with squared error (``loss="squared"``).
    """
    if len(sizes) < 2:
        raise ValueError("an MLP needs at least an input and an output size")
    lines = [f"x: input({sizes[0]}); y: input({sizes[-1]})"]
    prev = "x"
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
        last = i == len(sizes) - 1
        lines.append(f"W^({i}): param({n_out}, {n_in}); b^({i}): param({n_out})")
        lines.append(f"z^({i}) = W^({i}) {prev} + b^({i})")
        lines.append(f"a^({i}) = {output if last else activation}(z^({i}))")
        prev = f"a^({i})"
    if loss == "cross_entropy":
        lines.append(f"C = cross_entropy({prev}, y)")
    else:
        lines.append(f"C = sum(({prev} - y)^2) / 2")
    return "\n".join(lines) + "\n"


def mlp(sizes: list[int], activation: str = "tanh", output: str = "softmax",
        loss: str = "cross_entropy") -> Graph:
    """The graph of :func:`mlp_text`."""
    return Graph.from_text(mlp_text(sizes, activation, output, loss))


def mazur() -> tuple[Graph, dict]:
    """Matt Mazur's "step by step backpropagation example": a 2-2-2 logistic network.

    Returns the graph (squared error ½Σ(a − y)²) and his numbers: weights w1…w8 =
    0.15…0.55, biases 0.35 and 0.60 (shared within a layer), inputs 0.05, 0.10,
    targets 0.01, 0.99. His total error is 0.298371109.
    """
    import numpy as np

    graph = mlp([2, 2, 2], activation="sigma", output="sigma", loss="squared")
    values = {
        "W^(1)": np.array([[0.15, 0.20], [0.25, 0.30]]),
        "b^(1)": np.array([0.35, 0.35]),
        "W^(2)": np.array([[0.40, 0.45], [0.50, 0.55]]),
        "b^(2)": np.array([0.60, 0.60]),
        "x": np.array([[0.05, 0.10]]),
        "y": np.array([[0.01, 0.99]]),
    }
    return graph, values
