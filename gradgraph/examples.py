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
