"""A node of the graph IR: a leaf or one assignment, with its name's printed forms.

Kept apart from :mod:`gradgraph.graph` (the graph and its lookups) because every layer
above reads nodes, and a node needs only the op registry, the notation and the shapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from . import ops
from .notation import SUBSCRIPT, latex_name, split_name, to_latex, to_unicode, unicode_name
from .parse import symbol
from .shapes import element_name


@dataclass(frozen=True)
class Node:
    """One node of the graph.

    ``expr`` is the definition in the symbols of ``parents`` (``None`` for leaves);
    ``op`` names the op when the node is one op application (``a = σ(z)``).
    """

    id: str
    name: str
    role: str
    expr: sp.Expr | None = None
    parents: tuple[str, ...] = ()
    op: str | None = None
    generated: bool = False
    shape: tuple[int, ...] = ()
    letters: tuple[str, ...] = ()  # index letters of a tensor node: (j,) for z_j
    sums: tuple[str, ...] = ()  # letters its definition sums over: (k,) in Σ_k W_jk x_k
    tensor_expr: sp.Expr | None = None  # node-level form (affine(W, x, b)); scalars: expr

    @property
    def kind(self) -> str:
        """``elementwise`` or the tensor op that defines the node (affine, sum, …)."""
        return self.op if self.op in ops.TENSOR_OPS else "elementwise"

    @property
    def tspec(self) -> ops.TensorOpSpec | None:
        """The registry entry of the tensor op that defines the node, else ``None``."""
        return ops.TENSOR_OPS.get(self.op) if self.op else None

    # The names and symbols below are asked for per edge and per frame by the renderer
    # and the derivation; each is worked out once per node (a frozen node never changes).

    @cached_property
    def element(self) -> str:
        """Name of the node's element: ``a_j^(L)`` for a tensor, the name for a scalar."""
        return element_name(self.name, self.letters)

    @cached_property
    def element_symbol(self) -> sp.Symbol:
        return symbol(self.element)

    @cached_property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)

    @property
    def is_leaf(self) -> bool:
        return self.expr is None

    @cached_property
    def unicode(self) -> str:
        return unicode_name(self.name)

    @property
    def latex(self) -> str:
        return latex_name(self.name)

    def definition(self, order: Mapping[str, int] | None = None) -> str:
        """``z = w·x + b`` in Unicode; tensors in index form, ``zⱼ = Σₖ Wⱼₖ·xₖ + bⱼ``.

        A batch mean reads ``μⱼ = (1/m) Σ_B zⱼ``: the sum over the m examples of the
        mini-batch B, as in Ioffe & Szegedy's Algorithm 1.
        """
        if self.expr is None:
            return unicode_name(self.element)
        if self.tspec is not None and self.tspec.display.mean_over_batch:
            inner = self.expr * ops.BATCH_SIZE
            body = to_unicode(inner, order)
            body = f"({body})" if isinstance(inner, sp.Add) else body
            return f"{unicode_name(self.element)} = (1/m) Σ_B {body}"
        return f"{unicode_name(self.element)} = {self._summed_unicode(order)}" \
               f"{self._softmax_tail()}"

    def definition_latex(self, order: Mapping[str, int] | None = None) -> str:
        if self.expr is None:
            return latex_name(self.element)
        if self.tspec is not None and self.tspec.display.mean_over_batch:
            inner = self.expr * ops.BATCH_SIZE
            body = to_latex(inner, order)
            body = rf"\left({body}\right)" if isinstance(inner, sp.Add) else body
            return rf"{latex_name(self.element)} = \frac{{1}}{{m}} \sum_{{\mathcal{{B}}}} {body}"
        sums = "".join(rf"\sum_{{{c}}} " for c in self.sums)
        return f"{latex_name(self.element)} = {sums}{to_latex(self.expr, order)}"

    def _summed_unicode(self, order: Mapping[str, int] | None) -> str:
        """``Σₖ Wⱼₖ·xₖ + bⱼ``: the Σ covers the terms that carry its letter."""
        if not self.sums:
            return to_unicode(self.expr, order)
        terms = self.expr.args if isinstance(self.expr, sp.Add) else (self.expr,)
        inner = [t for t in terms if _has_letters(t, self.sums)]
        outer = [t for t in terms if t not in inner]
        summed = sp.Add(*inner)
        sign = "−" if len(inner) == 1 and summed.could_extract_minus_sign() else ""
        body = to_unicode(-summed if sign else summed, order)
        if len(inner) > 1:
            body = f"({body})"
        sigma = sign + "".join(f"Σ{SUBSCRIPT.get(c, '_' + c)} " for c in self.sums)
        rest = "".join(f" + {to_unicode(t, order)}" for t in outer)
        return f"{sigma}{body}{rest}"

    def _softmax_tail(self) -> str:
        normaliser = self.tspec.display.normaliser if self.tspec is not None else None
        if normaliser is None:
            return ""
        z = element_name(self.tensor_expr.args[0].name, ("i",))
        return f" / Σᵢ {normaliser}({unicode_name(z)})"


def _has_letters(term: sp.Expr, letters: tuple[str, ...]) -> bool:
    return any(c in split_name(s.name)[1] for s in term.free_symbols for c in letters)
