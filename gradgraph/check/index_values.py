"""Index notation in answers: element names, their letters, and their scalar instances.

A layered graph's element ``W_jk^(L)`` is the tensor ``W^(L)`` at letters j, k; at
j = 0, k = 1 it is the scalar graph's node ``W_01^(L)``. An indexed answer is judged by
instantiating its free letters at index values and expanding each ``sum_j`` over the
units j runs over: the result is a formula in the scalar graph's names, which the
numbers of a graph of scalars can judge.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from ..errors import CheckError
from ..graph import Graph
from ..notation import split_name, unicode_name
from ..parse import IndexSum, symbol
from ..shapes import element_name, scalar_name

Ref = tuple[str, str]  # (tensor node, one index character per axis: a letter or a digit)


class Elements:
    """The element names of a layered graph and the scalar graph's names for them."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._refs: dict[str, Ref | None] = {}

    def matches(self, name: str, loose: bool = False) -> list[Ref]:
        """Tensors ``name`` can be an element of: ``W_jk^(L)`` -> [(W^(L), jk)].

        ``loose``: a name without its layer tag (``z_j``) matches any layer's tensor
        when none is written without a tag.
        """
        base, sub, tag = split_name(name)
        if not sub:
            return []
        exact, other = [], []
        for node in self.graph.nodes:
            if not node.shape or (loose and node.generated):
                continue
            nbase, nsub, ntag = split_name(node.name)
            chars = sub[len(nsub):]
            if nbase != base or not sub.startswith(nsub) or len(chars) != len(node.shape):
                continue
            if all(c.isascii() and c.isalnum() for c in chars):
                (exact if ntag == tag else other).append((node.name, chars))
        return exact or (other if loose and not tag else [])

    def ref(self, name: str) -> Ref | None:
        """(tensor, index characters) for an element name written exactly, else None."""
        if name not in self._refs:
            found = self.matches(name)
            self._refs[name] = found[0] if len(found) == 1 else None
        return self._refs[name]

    def check_range(self, ref: Ref) -> None:
        """An error for a written-out index past the end of its axis (W_05 of a 2×2 W)."""
        tensor, chars = ref
        shape = self.graph[tensor].shape
        for c, size in zip(chars, shape, strict=True):
            if c.isdigit() and int(c) >= size:
                raise CheckError(f"{unicode_name(element_name(tensor, tuple(chars)))}: index "
                                 f"{c} is past the end ({unicode_name(tensor)} has {size} "
                                 f"units on that axis; they count from 0)")

    def element(self, ref: Ref) -> sp.Symbol:
        return symbol(element_name(ref[0], tuple(ref[1])))

    # --- letters ---------------------------------------------------------------------------

    def _refs_in(self, expr: sp.Expr) -> list[Ref]:
        found = (self.ref(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol))
        return [r for r in found if r is not None]

    def free_letters(self, expr: sp.Expr) -> set[str]:
        """Index letters not bound by a ``sum_j`` around them."""
        if isinstance(expr, IndexSum):
            return self.free_letters(expr.args[0]) - {str(expr.args[1])}
        if isinstance(expr, sp.Symbol):
            ref = self.ref(expr.name)
            return {c for c in ref[1] if c.isalpha()} if ref else set()
        return set().union(*(self.free_letters(a) for a in expr.args))

    def extents(self, expr: sp.Expr) -> dict[str, int]:
        """How many units each letter runs over, from the axes it indexes."""
        out: dict[str, tuple[int, str]] = {}
        for tensor, chars in sorted(self._refs_in(expr)):
            shape = self.graph[tensor].shape
            for c, size in zip(chars, shape, strict=True):
                if not c.isalpha():
                    continue
                seen = out.setdefault(c, (size, tensor))
                if seen[0] != size:
                    raise CheckError(f"the index {c} runs over {seen[0]} units in "
                                     f"{unicode_name(seen[1])} but {size} in "
                                     f"{unicode_name(tensor)}")
        return {c: size for c, (size, _) in out.items()}

    def tensors_with(self, expr: sp.Expr, letter: str) -> list[str]:
        """The tensors that ``letter`` indexes in ``expr``, in graph order."""
        names = {t for t, chars in self._refs_in(expr) if letter in chars}
        return [n.name for n in self.graph.nodes if n.name in names]

    # --- rewriting -------------------------------------------------------------------------

    def rename(self, expr: sp.Expr, letters: Mapping[str, str]) -> sp.Expr:
        """``expr`` with index letters replaced all at once (``sum_j`` letters too)."""
        def element(ref: Ref) -> sp.Expr:
            return self.element((ref[0], "".join(letters.get(c, c) for c in ref[1])))

        def summed(e: IndexSum) -> sp.Expr:
            bound = str(e.args[1])
            return IndexSum(self.rename(e.args[0], letters), sp.Symbol(letters.get(bound, bound)))

        return self._rewrite(expr, element, summed)

    def instantiate(self, expr: sp.Expr, values: Mapping[str, int],
                    extents: Mapping[str, int]) -> sp.Expr:
        """``expr`` at index ``values``, every ``sum_j`` expanded: scalar graph names."""
        def element(ref: Ref) -> sp.Expr:
            return symbol(scalar_name(ref[0], index_of(ref[1], values)))

        def summed(e: IndexSum) -> sp.Expr:
            letter = str(e.args[1])
            if letter not in extents:
                raise unbound_sum(letter)
            return sp.Add(*(self.instantiate(e.args[0], {**values, letter: i}, extents)
                            for i in range(extents[letter])))

        return self._rewrite(expr, element, summed)

    def _rewrite(self, expr: sp.Expr, element: Callable[[Ref], sp.Expr],
                 summed: Callable[[IndexSum], sp.Expr]) -> sp.Expr:
        """``expr`` with each element name and each ``sum_j`` rewritten."""
        if isinstance(expr, IndexSum):
            return summed(expr)
        if expr.has(IndexSum):
            return expr.func(*(self._rewrite(a, element, summed) for a in expr.args))
        swap = {s: element(ref) for s in expr.free_symbols
                if isinstance(s, sp.Symbol) and (ref := self.ref(s.name)) is not None}
        return expr.xreplace(swap)


def unbound_sum(letter: str) -> CheckError:
    """The error for ``sum_j`` over a term in which no name carries j."""
    return CheckError(f"in the answer: 'sum_{letter}' sums over {letter}, but no name in its "
                      f"term carries the index {letter}")


def index_of(chars: str, values: Mapping[str, int]) -> tuple[int, ...]:
    """``"j1"`` at j = 0 -> (0, 1)."""
    try:
        return tuple(values[c] if c.isalpha() else int(c) for c in chars)
    except KeyError as e:
        raise CheckError(f"the index {e.args[0]} has no value here") from None


def index_values(extents: Mapping[str, int], limit: int, seed: int) -> list[dict[str, int]]:
    """Every combination of values for the letters, or ``limit`` of them (the first,
    the last and a random sample) when there are more."""
    letters = list(extents)
    sizes = [extents[c] for c in letters]
    total = int(np.prod(sizes)) if sizes else 1
    if total <= limit:
        combos = list(itertools.product(*(range(s) for s in sizes)))
    else:
        rng = np.random.default_rng(seed)
        picks = {0, total - 1, *rng.choice(total, limit - 2, replace=False).tolist()}
        combos = [tuple(int(i) for i in np.unravel_index(p, sizes)) for p in sorted(picks)]
    return [dict(zip(letters, combo, strict=True)) for combo in combos[:limit]]
