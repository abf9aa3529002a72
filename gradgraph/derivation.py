"""One derivation ∂(of)/∂(wrt) and how it reads: chain-rule paths, products of local
partials, Σ over summed index letters, the matrix form (δ = ∂C/∂z, ∂C/∂W = δ xᵀ).

:mod:`gradgraph.derive` computes the partials and adjoints; this module holds the
:class:`Factor` on each edge and everything that prints them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp

from .errors import DerivationError
from .graph import Graph, Node, checked_expansion
from .notation import (
    FROM_SUBSCRIPT,
    SUBSCRIPT,
    partial_latex,
    partial_unicode,
    split_name,
    to_latex,
    to_unicode,
    unicode_name,
)

if TYPE_CHECKING:
    from .derive import Adjoints


@dataclass(frozen=True)
class Factor:
    """One local partial ∂child/∂parent on an edge of the graph.

    For layers the partial is between elements (∂zⱼ/∂Wⱼₖ = xₖ); ``child_el`` and
    ``parent_el`` name them. ``via`` names a node the edge passes over when two ops
    are taken together (softmax then cross-entropy: ∂C/∂zⱼ = aⱼ − yⱼ).
    """

    child: str
    parent: str
    expr: sp.Expr
    child_el: str = ""
    parent_el: str = ""
    via: str = ""
    sums: tuple[str, ...] = ()  # letters the partial itself sums over (a Jacobian's i)

    @property
    def symbol_unicode(self) -> str:
        return partial_unicode(self.child_el or self.child, self.parent_el or self.parent)

    @property
    def symbol_latex(self) -> str:
        return partial_latex(self.child_el or self.child, self.parent_el or self.parent)


@dataclass
class Derivation:
    """∂(of)/∂(wrt) by the chain rule, path by path.

    ``paths`` are node-name tuples from ``wrt`` up to ``of``; ``factors`` the local
    partials along each path in the slides' order (∂z/∂w, ∂a/∂z, ∂C/∂a); ``expr`` the
    sum over paths of their products in named intermediates; ``expanded`` the same in
    the leaves only.
    """

    graph: Graph = field(repr=False)
    of: str
    wrt: str
    _all: Adjoints = field(repr=False)

    def __repr__(self) -> str:
        return f"<Derivation {self.head_unicode}: {len(self.factors)} path(s)>"

    @property
    def factors(self) -> tuple[tuple[Factor, ...], ...]:
        return tuple(self._all.factor_lists(self.wrt))

    @property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        return tuple((self.wrt, *(f.child for f in fs)) for fs in self.factors)

    @cached_property
    def expr(self) -> sp.Expr:
        return sp.Add(*(sp.Mul(*(f.expr for f in fs)) for fs in self.factors))

    @cached_property
    def expanded(self) -> sp.Expr:
        """``expr`` with intermediates replaced by their definitions (leaves only).

        In layered graphs only element-wise definitions are substituted (aⱼ = σ(zⱼ));
        a layer's sum over k stays named (zⱼ), as a teacher would leave it. Past
        :data:`gradgraph.graph.MAX_EXPANDED` nodes it raises :class:`GraphError`.
        """
        return checked_expansion(self.expr.xreplace(self._definitions),
                                 f"{self.head_unicode} in the leaves")

    @cached_property
    def _definitions(self) -> dict[sp.Symbol, sp.Expr]:
        memo: dict[sp.Symbol, sp.Expr] = {}
        for node in self.graph.nodes:
            if node.expr is None or (self.graph.is_tensor and node.tspec is not None):
                continue
            memo[node.element_symbol] = node.expr.xreplace(memo)
        return memo

    @property
    def reuses(self) -> tuple[str, ...]:
        """Cached adjoints this derivation reuses (the slides' "caching")."""
        adj = self._all.adjoints.get(self.wrt)
        return adj.reuses if adj else ()

    def value(self, values: Mapping[str, Any]) -> Any:
        """The derivative's number(s) at ``values``, from the compiled graph."""
        return self.graph.gradients(values, of=self.of)[self.wrt]

    # --- display --------------------------------------------------------------------

    def _order(self) -> Mapping[str, int]:
        return self.graph.order

    def _sigma(self, fs: tuple[Factor, ...]) -> str:
        return path_sigma(self.graph, fs, self.wrt, self.of)

    @property
    def head_unicode(self) -> str:
        """``∂C/∂w``; for layers, between elements: ``∂C/∂Wⱼₖ``."""
        return partial_unicode(self.graph[self.of].element, self.graph[self.wrt].element)

    def chain_unicode(self) -> str:
        """``∂z/∂w · ∂a/∂z · ∂C/∂a`` (+ … for several paths; Σⱼ where an index is summed)."""
        if not self.factors:
            return "0"
        return " + ".join(self._sigma(fs) + (" · ".join(f.symbol_unicode for f in fs) or "1")
                          for fs in self.factors)

    def factors_unicode(self) -> str:
        """``x · σ′(z) · 2(a − y)``."""
        if not self.factors:
            return "0"
        order = self._order()
        return _join_terms([
            self._sigma(fs) + (" · ".join(
                _unicode_factor(f.expr, order, len(fs) > 1 or len(self.factors) > 1)
                for f in fs) or "1")
            for fs in self.factors
        ])

    def __str__(self) -> str:
        head = self.head_unicode
        pad = " " * len(head)
        if self.chain_unicode() == head:  # one edge straight into the output
            return f"{head} = {self.factors_unicode()}"
        lines = [f"{head} = {self.chain_unicode()}"]
        factors = self.factors_unicode()
        if factors != lines[0].split(" = ", 1)[1]:
            lines.append(f"{pad} = {factors}")
        return "\n".join(lines)

    def expanded_unicode(self) -> str:
        """``expanded`` in Unicode; for layers each path keeps its Σ over summed indices."""
        expanded = self.expanded  # checks the size before anything is printed
        if not self.graph.is_tensor:
            return to_unicode(expanded, self._order())
        return _join_terms([
            self._sigma(fs) + to_unicode(sp.Mul(*(f.expr for f in fs)).xreplace(
                self._definitions), self._order()) for fs in self.factors] or ["0"])

    def cached_unicode(self) -> str:
        """``∂C/∂b = ∂z/∂b · ∂C/∂z``: the form that reuses a child's adjoint."""
        adj = self._all.adjoints.get(self.wrt)
        rhs = adj.cached_unicode() if adj else "0"
        return f"{self.head_unicode} = {rhs}"

    def latex(self) -> str:
        head = partial_latex(self.graph[self.of].element, self.graph[self.wrt].element)
        if not self.factors:
            return f"{head} = 0"
        order = self._order()
        sums = [_sigma_latex(self._sigma(fs)) for fs in self.factors]
        chain = " + ".join(s + (" ".join(f.symbol_latex for f in fs) or "1")
                           for s, fs in zip(sums, self.factors, strict=True))
        prod = " + ".join(
            s + (r" \cdot ".join(_latex_factor(f.expr, order) for f in fs) or "1")
            for s, fs in zip(sums, self.factors, strict=True)
        )
        return f"{head} = {chain} = {prod}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def matrix_unicode(self) -> str:
        """The same derivative for whole layers: δ = ∂C/∂z, ∂C/∂W = δ xᵀ, ∂C/∂x = Wᵀ δ.

        One line per affine layer on the way down (its δ), then the result. For a
        graph without layers this is the scalar chain rule again.
        """
        lines: list[str] = []
        total = [_MatrixChain(self.graph, lines, self.of).walk(fs) for fs in self.factors]
        head = partial_unicode(self.of, self.wrt)
        lines.append(f"{head} = {' + '.join(total) or '0'}")
        return "\n".join(dict.fromkeys(lines))


class _MatrixChain:
    """Builds matrix-form adjoints along one path, naming each layer's δ."""

    def __init__(self, graph: Graph, lines: list[str], of: str):
        self.graph = graph
        self.lines = lines
        self.of = of
        self.tensor = {n.element_symbol: n.symbol for n in graph.nodes}

    def show(self, expr: sp.Expr) -> str:
        return to_unicode(sp.factor_terms(expr.xreplace(self._tensors(expr))), self.graph.order)

    def _tensors(self, expr: sp.Expr) -> dict[sp.Symbol, sp.Symbol]:
        """Element symbols -> whole tensors, also at a Jacobian's letter (aᵢ -> a)."""
        out = {}
        for s in expr.free_symbols:
            base, sub, tag = split_name(s.name)
            name = base + (f"^({tag})" if tag else "")
            if s in self.tensor:
                out[s] = self.tensor[s]
            elif sub and name in self.graph and self.graph[name].letters:
                out[s] = self.graph[name].symbol
        return out

    def walk(self, factors: tuple[Factor, ...]) -> str:
        current = ""  # the adjoint of the child, in matrix form ("" = 1)
        for f in reversed(factors):
            child, parent = self.graph[f.child], self.graph[f.parent]
            current = self.pull(child, parent, f, current)
            layer = parent.tspec is not None and parent.tspec.layer_args is not None
            if layer and " " in current.strip():
                delta = "δ" + unicode_name(parent.name)[len(unicode_name(
                    parent.name.split("^")[0])):]
                head = partial_unicode(self.of, parent.name)
                self.lines.append(f"{delta} = {head} = {current}")
                current = delta
        return current or "1"

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
            names = [unicode_name(a.name) if isinstance(a, sp.Symbol) else "" for a in args]
            return template.format(*names, up=_wrap(up), out=unicode_name(child.name))
        local = self.show(f.expr)
        if not up:
            return local
        if local == "1":
            return up
        elementwise = bool(parent.shape) and child.kind == "elementwise"
        joiner = " ⊙ " if elementwise else " · "
        return f"{_wrap(local)}{joiner}{_wrap(up)}"


def _wrap(text: str) -> str:
    """Parenthesise ``text`` if it has a + or − outside any parentheses."""
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and text[i:i + 3] in (" + ", " − "):
            return f"({text})"
    return text


def path_sigma(graph: Graph, fs: tuple[Factor, ...], wrt: str, of: str) -> str:
    """``Σⱼ `` for one chain-rule path: the letters it sums over (see _sigma_prefix)."""
    names = tuple(f.child for f in fs) + tuple(f.via for f in fs if f.via)
    return _sigma_prefix(graph, names, wrt, of, tuple(c for f in fs for c in f.sums))


def _sigma_prefix(graph: Graph, names: tuple[str, ...], wrt: str, of: str,
                  extra: tuple[str, ...] = ()) -> str:
    """``Σⱼ `` for the index letters on a path that ``wrt`` and ``of`` do not carry,
    and for ``extra`` letters its partials sum over themselves (a Jacobian's i)."""
    free = set(graph[wrt].letters) | set(graph[of].letters)
    summed = sorted(({c for n in names for c in graph[n].letters} | set(extra)) - free)
    return "".join(f"Σ{SUBSCRIPT.get(c, '_' + c)} " for c in summed)


def _sigma_latex(prefix: str) -> str:
    letters = [FROM_SUBSCRIPT.get(part[1:], part[2:]) for part in prefix.split()]
    return "".join(rf"\sum_{{{c}}} " for c in letters)


def _join_terms(terms: list[str]) -> str:
    """``a + b`` but ``a − b`` for a term that starts with a minus sign."""
    out = terms[0]
    for t in terms[1:]:
        out += f" − {t[1:]}" if t.startswith("−") else f" + {t}"
    return out


def _unicode_factor(expr: sp.Expr, order: Mapping[str, int], grouped: bool) -> str:
    text = to_unicode(expr, order)
    return f"({text})" if grouped and isinstance(expr, sp.Add) else text


def _latex_factor(expr: sp.Expr, order: Mapping[str, int]) -> str:
    text = to_latex(expr, order)
    return f"\\left({text}\\right)" if isinstance(expr, sp.Add) else text
