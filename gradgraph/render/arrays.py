"""Tensor values in labels: shapes (ℝ²ˣ²), small vectors and matrices, one example of a batch.

A layer graph's values carry a leading batch axis on every node computed from the data
(``x`` of shape (n, 2) gives ``z`` of shape (n, 2)); a diagram shows *one* example, the
first, and says so in the caption. Parameters and their gradients (batch means) have no
batch axis. Up to :data:`MAX_SHOWN` entries a side are written out; a bigger tensor is
summarised by its shape and norm, which is what a reader can take in at a glance.

An edge's partial is an expression in *elements* (∂zⱼ/∂Wⱼₖ = aₖ): :func:`element_value`
evaluates it once per index value by giving every index letter its own numpy axis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from ..graph import Graph
from ..notation import SUBSCRIPT, SUPERSCRIPT
from .labels import INK, esc, fmt_number
from .scene import Scene, numeric_value

MAX_SHOWN = 4  # entries per axis written out; beyond that: shape and norm
MAX_EDGE_ENTRIES = 4  # an edge label's number is a vector or matrix of at most this many
GRID, GRID_FILL = "#D4D4D4", "#FAFAFA"  # the lines and ground of a small matrix
FIGURE_SPACE = "\u2007"  # as wide as a digit: pads columns of numbers in plain text


def shape_text(shape: tuple[int, ...]) -> str:
    """``ℝ²ˣ²`` for (2, 2), ``ℝ³`` for (3,)."""
    return "ℝ" + "ˣ".join(str(d).translate(SUPERSCRIPT) for d in shape)


def batch_size(scene: Scene) -> int | None:
    """How many examples the values hold (``None`` without values or a batch)."""
    if scene.values is None:
        return None
    for node in scene.graph.nodes:
        arr = np.asarray(scene.values.get(node.name))
        if node.role == "input" and arr.ndim == len(node.shape) + 1:
            return int(arr.shape[0])
    return None


def one_example(graph: Graph, name: str, value: Any) -> np.ndarray:
    """The first example of a batched node's value; other values as they are."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == len(graph[name].shape) + 1:
        return arr[0]
    return arr


def is_small(arr: np.ndarray) -> bool:
    return arr.ndim <= 2 and all(d <= MAX_SHOWN for d in arr.shape)


def summary(arr: np.ndarray) -> str:
    """``100×64, ‖·‖ = 3.214``: a tensor too big to write out."""
    dims = "×".join(str(d) for d in arr.shape)
    return f"{dims}, ‖·‖ = {fmt_number(float(np.linalg.norm(arr)))}"


def value_text(arr: np.ndarray) -> str:
    """One line: ``0.5``, ``[0.1, 0.2]``, ``[[1, 2], [3, 4]]``, or the summary."""
    if arr.ndim == 0:
        return fmt_number(float(arr))
    if not is_small(arr):
        return summary(arr)
    if arr.ndim == 1:
        return "[" + ", ".join(fmt_number(v) for v in arr) + "]"
    return "[" + ", ".join(value_text(row) for row in arr) + "]"


def value_html(arr: np.ndarray, ink: str = INK) -> str:
    """A number, a small vector or matrix as a grid of cells, or the summary.

    Vectors stand as columns, as on the slides, so W⁽ᴸ⁾ a⁽ᴸ⁻¹⁾ reads as written. A grid,
    not brackets: Graphviz stretches a nested table to fill its cell, and a grid's
    cells stay tidy when they grow where brackets would drift away from the numbers.
    """
    if arr.ndim == 0 or not is_small(arr):
        return f'<FONT COLOR="{ink}">{esc(value_text(arr))}</FONT>'
    grid = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    body = "".join(
        "<TR>" + "".join(f'<TD ALIGN="RIGHT"><FONT COLOR="{ink}">{esc(fmt_number(v))}</FONT></TD>'
                         for v in row) + "</TR>"
        for row in grid)
    return (f'<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" '
            f'COLOR="{GRID}" BGCOLOR="{GRID_FILL}">{body}</TABLE>')


def matrix_lines(arr: np.ndarray) -> list[str]:
    """A small vector or matrix as bracketed text lines (⎡ ⎢ ⎣), columns padded."""
    if arr.ndim == 0 or not is_small(arr):
        return [value_text(arr)]
    grid = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    texts = [[fmt_number(v) for v in row] for row in grid]
    widths = [max(len(t[c]) for t in texts) for c in range(len(texts[0]))]
    lines = ["  ".join(t.rjust(w, FIGURE_SPACE) for t, w in zip(row, widths, strict=True))
             for row in texts]
    if len(lines) == 1:
        return [f"[{lines[0]}]"]
    left = ["⎡", *["⎢"] * (len(lines) - 2), "⎣"]
    right = ["⎤", *["⎥"] * (len(lines) - 2), "⎦"]
    return [f"{a}{line}{b}" for a, line, b in zip(left, lines, right, strict=True)]


# --- numbers of element expressions ------------------------------------------------------


def element_value(graph: Graph, expr: sp.Expr, values: Mapping[str, Any],
                  first: tuple[str, ...] = ()) -> tuple[np.ndarray, tuple[str, ...]] | None:
    """``expr`` (in element symbols such as ``W_jk^(L)``) at every index value.

    Returns the array and the letters of its axes (those in ``first`` in that order,
    then the rest alphabetically), or ``None`` when a symbol is not an element of the
    graph (a softmax Jacobian's δᵢⱼ, a batch size) or the result has more than
    :data:`MAX_EDGE_ENTRIES` entries.
    """
    symbols = [s for s in expr.free_symbols if isinstance(s, sp.Symbol)]
    nodes = {s.name: graph.element_node(s.name) for s in symbols}  # no scan per edge
    if any(node is None for node in nodes.values()):
        return None
    used = {c for node in nodes.values() for c in node.letters}
    letters = tuple(dict.fromkeys([c for c in first if c in used] + sorted(used)))
    env: dict[str, Any] = {}
    for s in symbols:
        node = nodes[s.name]
        arr = one_example(graph, node.name, values[node.name])
        if arr.ndim != len(node.letters):
            return None
        # Each letter gets its own axis, so Wⱼₖ·xₖ broadcasts to a (j, k) array.
        where = [letters.index(c) for c in node.letters]
        shape = [1] * len(letters)
        for axis, size in zip(where, arr.shape, strict=True):
            shape[axis] = size
        env[s.name] = np.transpose(arr, np.argsort(where)).reshape(shape)
    result = numeric_value(expr, env)
    if result is None:
        return None
    result = np.asarray(result, dtype=float)
    if result.ndim != len(letters) or result.size > MAX_EDGE_ENTRIES:
        return None
    return result, letters


def indexed_text(arr: np.ndarray, letters: tuple[str, ...]) -> str:
    """``[0.48, 0.8]ₖ``: a vector or matrix of an edge, its index letters subscripted."""
    tail = "".join(SUBSCRIPT.get(c, c) for c in letters)
    return value_text(arr) + tail


def short_value(scene: Scene, name: str, value: Any) -> str:
    """One line for a node's value or adjoint: a scalar graph's number as ever
    (batches as ``[0.1, 0.2, …] (n=3)``); a layer graph's first example, compact."""
    if not scene.graph.is_tensor:
        return fmt_number(value)
    return value_text(one_example(scene.graph, name, value))
