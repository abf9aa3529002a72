"""The caption: the derivation ∂C/∂w = chain = factors = numbers, aligned on "=".

Long chains and many paths are abbreviated (… and a count): Graphviz refuses an
HTML-like label over 16 kB, and nobody reads a 500-factor product in a caption.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from ..derive import Derivation, Factor, path_sigma
from ..errors import DerivationError
from ..notation import partial_unicode, to_unicode
from .arrays import batch_size, matrix_lines, one_example
from .labels import HIGHLIGHT, MUTED, esc, fmt_number, paren
from .scene import Scene, numeric_value

MAX_CAPTION_PATHS = 4  # paths written out in the caption; the rest are counted
MAX_CAPTION_FACTORS = 8  # factors written out per path; longer chains keep both ends
MAX_CAPTION_CHARS = 400  # a cached sum over many children is cut there


def derivation_rows(scene: Scene) -> list[list[str]]:
    """∂C/∂w = chain = factors (= numbers = value), one aligned row each.

    Long chains and many paths are abbreviated (… and a count): Graphviz refuses an
    HTML-like label over 16 kB, and nobody reads a 500-factor product in a caption.
    """
    d = scene.derivation
    if scene.graph.is_tensor:
        return (_tensor_rows(scene, d) if d is not None else []) + batch_rows(scene)
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


def _sum_of_paths(d: Derivation, text: Callable[[Factor, tuple[Factor, ...]], str],
                  sigma: Callable[[tuple[Factor, ...]], str] | None = None) -> str:
    """Σ over paths of Π factors, each factor written by ``text``; abbreviated.

    ``sigma`` writes a path's index sums in front of it (``Σⱼ ``) in a layer graph.
    """
    if not d.factors:
        return "0"
    paths = [(sigma(fs) if sigma else "") + _product([text(f, fs) for f in fs])
             for fs in d.factors[:MAX_CAPTION_PATHS]]
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
    return _sum_of_paths(d, lambda f, fs: paren(fmt_number(numeric_value(f.expr, values))))



# --- layers ------------------------------------------------------------------------------


def _tensor_rows(scene: Scene, d: Derivation) -> list[list[str]]:
    """Index form with its sums (∂C/∂Wⱼₖ = Σ… ∂zⱼ/∂Wⱼₖ · …), the δ form, the numbers."""
    graph = scene.graph
    try:
        _ = d.factors
    except DerivationError:
        return _cached_rows(scene, d)
    order = graph.order
    several = len(d.factors) > 1
    head = d.head_unicode

    def sigma(fs: tuple[Factor, ...]) -> str:
        # As Derivation writes it: a sum over each index letter on the path that
        # neither end carries (Σⱼ in ∂C/∂aₖ⁽ᴸ⁻¹⁾ = Σⱼ ∂zⱼ/∂aₖ · …).
        return path_sigma(graph, fs, d.wrt, d.of)

    texts = [
        _sum_of_paths(d, lambda f, fs: f.symbol_unicode, sigma),
        _sum_of_paths(d, lambda f, fs: _factor_text(f.expr, order, several or len(fs) > 1),
                      sigma),
    ]
    kept = [_cut(t) for i, t in enumerate(texts) if t != head and (i == 0 or t != texts[0])]
    rows = [[f"<B>{esc(head)}</B>" if i == 0 else "", "=", esc(t)] for i, t in enumerate(kept)]
    matrix = d.matrix_unicode().splitlines()
    if graph[d.wrt].shape:  # a whole layer's gradient: the δ form a student computes with
        rows.append([f'<FONT COLOR="{MUTED}">in matrix form:</FONT>'])
        rows.extend([esc(_cut(line))] for line in matrix[:-1])
        lhs, rhs = matrix[-1].split(" = ", 1)
        rows.append([f"<B>{esc(lhs)}</B>", "=", esc(_cut(rhs))])
    if scene.grads is not None and d.wrt in scene.grads:
        lines = matrix_lines(one_example(graph, d.wrt, scene.grads[d.wrt]))
        blank = '<FONT COLOR="white">=</FONT>'  # keeps a matrix's rows under its first
        rows.extend(["", "=" if i == 0 else blank,
                     f'<FONT COLOR="{HIGHLIGHT}"><B>{esc(line)}</B></FONT>']
                    for i, line in enumerate(lines))
    return rows


def batch_rows(scene: Scene) -> list[list[str]]:
    """Which numbers a layer graph's nodes show when the values hold a batch."""
    n = batch_size(scene)
    if n is None or n == 1:
        return []
    note = f"Numbers: example 1 of {n}; parameter gradients are means over the {n} examples."
    return [[f'<FONT COLOR="{MUTED}">{esc(note)}</FONT>']]


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CAPTION_CHARS else text[:MAX_CAPTION_CHARS] + " …"
