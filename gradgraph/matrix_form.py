"""The matrix form of a derivation: δ = ∂C/∂z, ∂C/∂W = δ xᵀ, ∂C/∂x = Wᵀ δ.

Walks each chain-rule path of a :class:`~gradgraph.derivation.Derivation` from the
output down, pulling the adjoint back through each layer op with the registry's
matrix template (``matrix_vjp``) and naming a layer's δ once it is more than a name.
For a graph without layers this is the scalar chain rule again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from .errors import DerivationError
from .graph import Graph, Node
from .notation import (
    latex_name,
    partial_latex,
    partial_unicode,
    split_name,
    to_latex,
    to_unicode,
    unicode_name,
)

if TYPE_CHECKING:
    from .derivation import Derivation, Factor


def matrix_lines(derivation: Derivation, latex: bool) -> list[str]:
    """The lines of :meth:`Derivation.matrix_unicode` (or ``_latex``): one δ per affine
    layer on the way down, then the result."""
    lines: list[str] = []
    chain = _MatrixChain(derivation.graph, lines, derivation.of, latex)
    total = [chain.walk(fs) for fs in derivation.factors]
    head = chain.partial(derivation.of, derivation.wrt)
    lines.append(f"{head} = {' + '.join(total) or '0'}")
    return list(dict.fromkeys(lines))


@dataclass(frozen=True)
class MatrixForm:
    """``d.matrix``: δ = ∂C/∂z, ∂C/∂W = δ xᵀ, printed or shown in a notebook."""

    derivation: Derivation

    def __str__(self) -> str:
        return self.derivation.matrix_unicode()

    def latex(self) -> str:
        return self.derivation.matrix_latex()

    def _repr_latex_(self) -> str:
        return f"$$ {self.latex()} $$"


_LATEX_TEMPLATE = {"ᵀ": r"^{\top}", "−": "-", "diag": r"\operatorname{diag}"}


class _MatrixChain:
    """Builds matrix-form adjoints along one path, naming each layer's δ."""

    def __init__(self, graph: Graph, lines: list[str], of: str, latex: bool = False):
        self.graph = graph
        self.lines = lines
        self.of = of
        self.latex = latex

    def name(self, name: str) -> str:
        return latex_name(name) if self.latex else unicode_name(name)

    def partial(self, of: str, wrt: str) -> str:
        return partial_latex(of, wrt) if self.latex else partial_unicode(of, wrt)

    def show(self, expr: sp.Expr) -> str:
        expr = sp.factor_terms(expr.xreplace(self._tensors(expr)))
        return to_latex(expr, self.graph.order) if self.latex else \
            to_unicode(expr, self.graph.order)

    def _tensors(self, expr: sp.Expr) -> dict[sp.Symbol, sp.Symbol]:
        """Element symbols -> whole tensors, also at a Jacobian's letter (aᵢ -> a)."""
        out = {}
        for s in expr.free_symbols:
            base, sub, tag = split_name(s.name)
            name = base + (f"^({tag})" if tag else "")
            node = self.graph.element_node(s.name)
            if node is not None:
                out[s] = node.symbol
            elif sub and name in self.graph and self.graph[name].letters:
                out[s] = self.graph[name].symbol
        return out

    def _delta(self, parent: Node) -> str:
        r"""δ⁽ᴸ⁾ (``\delta^{(L)}``): the layer's tag on δ."""
        _, _, tag = split_name(parent.name)
        return self.name("delta" + (f"^({tag})" if tag else ""))

    def walk(self, factors: tuple[Factor, ...]) -> str:
        current = ""  # the adjoint of the child, in matrix form ("" = 1)
        for f in reversed(factors):
            child, parent = self.graph[f.child], self.graph[f.parent]
            current = self.pull(child, parent, f, current)
            layer = parent.tspec is not None and parent.tspec.layer_args is not None
            if layer and " " in current.strip():
                delta = self._delta(parent)
                head = self.partial(self.of, parent.name)
                self.lines.append(f"{delta} = {head} = {current}")
                current = delta
        return current or "1"

    def _latex_template(self, text: str) -> str:
        """A filled-in Unicode template (``{W} ᵀ``) in LaTeX, once the names are in."""
        for old, new in _LATEX_TEMPLATE.items():
            text = text.replace(old, new)
        return text

    def pull(self, child: Node, parent: Node, f: Factor, up: str) -> str:
        spec = child.tspec
        if spec is not None and spec.reduces_batch:
            raise DerivationError("the matrix form covers dense layers; batch statistics mix "
                                  "the examples — use the index form or --all")
        if spec is not None and spec.matrix_vjp is not None:
            args = child.tensor_expr.args
            template = spec.matrix_vjp[args.index(parent.symbol)]
            if template == "{up}":
                return up
            if not self.latex:
                names = [self.name(a.name) if isinstance(a, sp.Symbol) else "" for a in args]
                return template.format(*names, up=_wrap(up), out=self.name(child.name))
            # {W^{(L)}}^{\top}: braced, so a transpose never makes a double superscript
            names = ["{" + self.name(a.name) + "}" if isinstance(a, sp.Symbol) else ""
                     for a in args]
            return self._latex_template(template.format(
                *names, up=_wrap(up), out="{" + self.name(child.name) + "}"))
        local = self.show(f.expr)
        if not up:
            return local
        if local == "1":
            return up
        elementwise = bool(parent.shape) and child.kind == "elementwise"
        if self.latex:
            joiner = r" \odot " if elementwise else r" \cdot "
        else:
            joiner = " ⊙ " if elementwise else " · "
        return f"{_wrap(local)}{joiner}{_wrap(up)}"


def _wrap(text: str) -> str:
    """Parenthesise ``text`` if it has a + or − outside any parentheses or braces."""
    depth = 0
    for i, c in enumerate(text):
        depth += (c in "({") - (c in ")}")
        if depth == 0 and text[i:i + 3] in (" + ", " − ", " - "):
            return f"({text})"
    return text
